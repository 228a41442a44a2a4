// The session lifecycle (DESIGN.md §5): creating → ready → dead, or failed with a reason. A create
// claims a warm sandbox when the pool has one and starts a cold one otherwise; either way the
// session's credentials go to the vault and its config to the agent only at claim time.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { AgentEvent } from '../../sandbox-agent/protocol.ts';
import { ApiError } from '../api/errors.ts';
import type { Metrics } from '../metrics.ts';
import type { SandboxHandle } from '../runtime/types.ts';
import type { AgentRecord, ApiKeyRecord, SessionFilter, SessionRecord, SessionStatus, Store } from '../store/types.ts';
import { agentControl, vaultControl, type VaultCredentialInput } from './control-client.ts';
import type { SessionEventLog } from './event-log.ts';
import type { EventPump } from './event-pump.ts';
import type { Sandboxes } from './sandboxes.ts';
import { claimRequest, egressPolicy, vaultCredentials } from './session-config.ts';
import type { WarmPool } from './warm-pool.ts';

export interface SessionServiceDeps {
  store: Store;
  sandboxes: Sandboxes;
  pool: WarmPool;
  events: SessionEventLog;
  pump: EventPump;
  metrics: Metrics;
  log: Logger;
  /** How long a sandbox whose harness exited is kept for a restart before it is removed. */
  exitedGraceMs: number;
  /** Live sessions (creating or ready) this gateway runs at most (LAP_MAX_SESSIONS). */
  maxLiveSessions: number;
}

export interface CreateInput {
  title?: string | null;
  env_vars?: Record<string, string>;
  cols?: number;
  rows?: number;
}

const LIVE: ReadonlySet<SessionStatus> = new Set(['creating', 'ready']);

export class SessionService {
  readonly #d: SessionServiceDeps;
  readonly #starting = new Map<string, Promise<void>>();
  readonly #exitTimers = new Map<string, NodeJS.Timeout>();
  readonly #activity = new Map<string, number>();

  constructor(deps: SessionServiceDeps) {
    this.#d = deps;
  }

  /** Validates, stores the session as `creating` and starts it in the background. */
  create(key: ApiKeyRecord, agentRef: string, input: CreateInput): SessionRecord {
    const { store, events } = this.#d;
    const agent = store.agents.get(agentRef);
    if (!agent) throw new ApiError(404, 'not_found', `no agent ${agentRef}`);
    const envVars = input.env_vars ?? {};
    const credentials = vaultCredentials(store, agent, envVars);
    this.#checkCapacity();
    const session = store.sessions.create({ agentId: agent.id, ownerKeyId: key.id, title: input.title ?? null, harness: agent.harness }, envVars);
    events.append(session.id, 'session.status', { status: 'creating' });
    const size = input.cols && input.rows ? { cols: input.cols, rows: input.rows } : undefined;
    const started = this.#start(session, agent, credentials, size).finally(() => this.#starting.delete(session.id));
    this.#starting.set(session.id, started);
    return session;
  }

  /** Every session holds a sandbox (≈ 120 MiB, processes, a netns): past the limit a create is refused, not queued. */
  #checkCapacity(): void {
    const { store, maxLiveSessions } = this.#d;
    if (store.sessions.live().length < maxLiveSessions) return;
    throw new ApiError(429, 'too_many_sessions', `this gateway already runs ${maxLiveSessions} live sessions, its limit (LAP_MAX_SESSIONS); delete one you no longer need, or raise the limit`);
  }

  /** Resolves when the session has left `creating` (or at the deadline), with its record. */
  async settled(id: string, timeoutMs: number): Promise<SessionRecord> {
    const starting = this.#starting.get(id);
    if (starting) await Promise.race([starting, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    return this.#d.store.sessions.get(id)!;
  }

  /** The session if this key may see it; 404 otherwise (another key's session does not exist for it). */
  get(key: ApiKeyRecord, id: string): SessionRecord {
    const session = this.#d.store.sessions.get(id);
    if (!session || (!key.admin && session.ownerKeyId !== key.id)) throw new ApiError(404, 'not_found', `no session ${id}`);
    return session;
  }

  list(key: ApiKeyRecord, filter: Omit<SessionFilter, 'ownerKeyId'>) {
    return this.#d.store.sessions.list({ ...filter, ownerKeyId: key.admin ? undefined : key.id });
  }

  /** Stops the sandbox; the session stays, `dead`, with its events and audit trail. Idempotent. */
  async delete(key: ApiKeyRecord, id: string): Promise<SessionRecord> {
    const session = this.get(key, id);
    if (LIVE.has(session.status)) this.#setStatus(id, 'dead', 'deleted');
    await this.#release(id);
    return this.#d.store.sessions.get(id)!;
  }

  /** Restarts the harness in the same sandbox (after it exited, or to start over). */
  async restart(key: ApiKeyRecord, id: string): Promise<SessionRecord> {
    const session = this.get(key, id);
    const handle = this.handleOf(session);
    if (!handle || session.status === 'creating') {
      throw new ApiError(409, 'conflict', `session ${id} is ${session.status} and has no sandbox to restart in; create a new session`);
    }
    clearTimeout(this.#exitTimers.get(id));
    this.#exitTimers.delete(id);
    await agentControl.restartHarness(handle);
    this.#setStatus(id, 'ready');
    return this.#d.store.sessions.get(id)!;
  }

  /** The session and its sandbox, for a call that needs the harness running (exec, messages); 409 otherwise. */
  readySandbox(key: ApiKeyRecord, id: string, purpose: string): { session: SessionRecord; handle: SandboxHandle } {
    const session = this.get(key, id);
    const handle = session.status === 'ready' ? this.handleOf(session) : undefined;
    if (!handle) throw new ApiError(409, 'conflict', `session ${session.id} is ${session.status}; ${purpose} needs a ready session`);
    return { session, handle };
  }

  /** The sandbox of a session that still has one. */
  handleOf(session: SessionRecord): SandboxHandle | undefined {
    return session.sandboxId ? this.#d.sandboxes.handle(session.sandboxId) : undefined;
  }

  isLive(id: string): boolean {
    const status = this.#d.store.sessions.get(id)?.status;
    return status !== undefined && LIVE.has(status);
  }

  touch(id: string): void {
    this.#activity.set(id, Date.now());
  }

  /** Activity noted in memory since the last flush (TTY bytes, messages); the reconciler stores it. */
  takeActivity(): Map<string, number> {
    const taken = new Map(this.#activity);
    this.#activity.clear();
    return taken;
  }

  /** An ended session's record is final, so activity not yet flushed goes into it now. */
  #takeActivityOf(id: string): { lastActivityAt?: string } {
    const at = this.#activity.get(id);
    this.#activity.delete(id);
    const stored = this.#d.store.sessions.get(id);
    if (at === undefined || !stored || Date.parse(stored.lastActivityAt) >= at) return {};
    return { lastActivityAt: new Date(at).toISOString() };
  }

  /** The reconciler's verdict: a part of the sandbox died, or the session sat idle. */
  async end(id: string, status: 'failed' | 'dead', reason: string): Promise<void> {
    const session = this.#d.store.sessions.get(id);
    if (!session || !LIVE.has(session.status)) return;
    this.#setStatus(id, status, reason);
    await this.#release(id);
  }

  onAgentEvent(sessionId: string, event: AgentEvent): void {
    if (event.type === 'activity') this.touch(sessionId);
    if (event.type === 'harness.started') this.#harnessStarted(sessionId);
    if (event.type === 'harness.exited') this.#harnessExited(sessionId, event.data as { code: number | null; signal: string | null });
  }

  async shutdown(): Promise<void> {
    this.#d.pump.stopAll();
    for (const timer of this.#exitTimers.values()) clearTimeout(timer);
    await Promise.allSettled([...this.#starting.values()]);
  }

  async #start(session: SessionRecord, agent: AgentRecord, credentials: VaultCredentialInput[], size?: { cols: number; rows: number }): Promise<void> {
    const { store, pool, sandboxes, pump, metrics, log } = this.#d;
    const began = performance.now();
    const id = session.id;
    try {
      this.#phase(id, 'sandbox', 'started');
      const warmRecord = pool.take(session.harness, id);
      const record = warmRecord ?? (await sandboxes.start(session.harness, 'claimed', id));
      store.sessions.update(id, { sandboxId: record.id, warm: Boolean(warmRecord) });
      if (!this.#wanted(id)) return void (await this.#release(id));
      this.#phase(id, 'sandbox', 'done', { warm: Boolean(warmRecord), sandbox: record.id });
      const handle = sandboxes.handle(record.id)!;
      this.#phase(id, 'credentials', 'started');
      const [stubs] = await Promise.all([vaultControl.putCredentials(handle, credentials), vaultControl.putPolicy(handle, egressPolicy(agent))]);
      this.#phase(id, 'credentials', 'done', { names: stubs.map((s) => s.name) });
      // The claim goes out first: the pump's two event streams then do not queue ahead of it at the
      // agent. They miss nothing, as they read from the stored cursor.
      const claimed = agentControl.claim(handle, claimRequest(session, agent, handle, stubs, size));
      pump.start(id, handle);
      await claimed;
      if (!this.#wanted(id)) return void (await this.#release(id));
      this.#setStatus(id, 'ready');
      metrics.createSeconds.observe({ start: warmRecord ? 'warm' : 'cold' }, (performance.now() - began) / 1000);
    } catch (err) {
      const reason = (err as Error).message;
      log.warn({ session: id, reason }, 'session failed to start');
      if (this.#wanted(id)) this.#setStatus(id, 'failed', reason);
      await this.#release(id);
    } finally {
      // After this turn: the answer to the create request goes out before the refill's synchronous start.
      setImmediate(() => pool.refill());
    }
  }

  #wanted(id: string): boolean {
    return this.#d.store.sessions.get(id)?.status === 'creating';
  }

  async #release(id: string): Promise<void> {
    const { store, pump, sandboxes } = this.#d;
    clearTimeout(this.#exitTimers.get(id));
    this.#exitTimers.delete(id);
    pump.stop(id);
    const sandboxId = store.sessions.get(id)?.sandboxId;
    if (sandboxId && store.sandboxes.get(sandboxId)) await sandboxes.stop(sandboxId);
  }

  #harnessStarted(id: string): void {
    const session = this.#d.store.sessions.get(id);
    if (session && !LIVE.has(session.status) && this.#exitTimers.has(id)) {
      clearTimeout(this.#exitTimers.get(id));
      this.#exitTimers.delete(id);
      this.#setStatus(id, 'ready');
    }
  }

  #harnessExited(id: string, exit: { code: number | null; signal: string | null }): void {
    const session = this.#d.store.sessions.get(id);
    if (!session || session.status !== 'ready') return;
    const clean = exit.code === 0 && !exit.signal;
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    this.#setStatus(id, clean ? 'dead' : 'failed', `the harness exited with ${how}; POST …/restart within ${Math.round(this.#d.exitedGraceMs / 1000)} s to start it again`);
    const timer = setTimeout(() => void this.#release(id), this.#d.exitedGraceMs);
    timer.unref();
    this.#exitTimers.set(id, timer);
  }

  #phase(id: string, phase: string, status: 'started' | 'done', detail?: Record<string, unknown>): void {
    this.#d.events.append(id, 'phase', { phase, status, ...(detail ? { detail } : {}) });
  }

  #setStatus(id: string, status: SessionStatus, reason?: string): void {
    const now = new Date().toISOString();
    const ended = status === 'dead' || status === 'failed';
    this.#d.store.sessions.update(id, {
      status,
      failureReason: status === 'failed' || (status === 'dead' && reason) ? (reason ?? null) : null,
      ...(status === 'ready' ? { readyAt: now, endedAt: null } : {}),
      ...(ended ? { endedAt: now, ...this.#takeActivityOf(id) } : {}),
    });
    this.#d.events.append(id, 'session.status', reason ? { status, reason } : { status });
    this.#d.metrics.statusChanges.inc({ status });
  }
}

// Keeps the store honest about what runs: every tick it probes each live session's sandbox (a dead
// agent or vault fails the session with the reason), stores activity noted in memory, reaps idle
// sessions, and replaces dead warm sandboxes. One tick at a time; a slow probe delays, never piles up.
import type { Logger } from 'pino';
import type { Store } from '../store/types.ts';
import { agentControl } from './control-client.ts';
import type { Sandboxes } from './sandboxes.ts';
import type { SessionService } from './service.ts';
import type { WarmPool } from './warm-pool.ts';

export interface ReconcilerDeps {
  store: Store;
  service: SessionService;
  sandboxes: Sandboxes;
  pool: WarmPool;
  log: Logger;
  intervalMs: number;
}

/** A probe can fail once on a loaded machine (a health answer later than 1 s): act on a streak. */
const FAILED_PROBES_TO_ACT = 3;

export class Reconciler {
  readonly #d: ReconcilerDeps;
  readonly #failedProbes = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#tick ??= this.tick().finally(() => (this.#tick = undefined));
    }, this.#d.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#tick;
  }

  async tick(): Promise<void> {
    try {
      this.#storeActivity();
      await Promise.all(this.#d.store.sessions.live().map((s) => this.#checkSession(s.id)));
      await this.#checkWarm();
    } catch (err) {
      this.#d.log.error({ err: (err as Error).message }, 'reconciler tick failed; retrying next tick');
    }
  }

  #storeActivity(): void {
    for (const [id, at] of this.#d.service.takeActivity()) this.#storeLastActivity(id, at);
  }

  #storeLastActivity(id: string, at: number): void {
    const session = this.#d.store.sessions.get(id);
    // An ended session's record is final: bytes that trail its end are not activity.
    if (session && !session.endedAt && Date.parse(session.lastActivityAt) < at) this.#d.store.sessions.update(id, { lastActivityAt: new Date(at).toISOString() });
  }

  async #checkSession(id: string): Promise<void> {
    const { store, service, sandboxes } = this.#d;
    const session = store.sessions.get(id);
    if (!session || session.status !== 'ready') return; // creating: the starter owns it
    const handle = service.handleOf(session);
    if (!handle) return void (await service.end(id, 'failed', 'the sandbox record is gone'));
    const probe = await sandboxes.runtime.probe(handle);
    if (!probe.alive) {
      if (this.#confirmedDead(handle.id, false)) await service.end(id, 'failed', `the ${probe.part} died: ${probe.reason}`);
      return;
    }
    this.#confirmedDead(handle.id, true);
    const agent = store.agents.get(session.agentId);
    const idleMs = (agent?.idleTimeoutSeconds ?? 86_400) * 1000;
    if (Date.now() - Date.parse(session.lastActivityAt) < idleMs) return;
    // Stored activity lags (agent events come at most every 10 s): ask the agent for the exact time.
    const last = Math.max(Date.parse(session.lastActivityAt), await agentControl.lastActivity(handle).catch(() => 0));
    if (Date.now() - last < idleMs) return this.#storeLastActivity(id, last);
    await service.end(id, 'dead', `idle for ${Math.round((Date.now() - last) / 1000)} s (idle timeout ${idleMs / 1000} s)`);
  }

  /** True once the sandbox failed FAILED_PROBES_TO_ACT probes in a row; an answer resets the count. */
  #confirmedDead(sandboxId: string, alive: boolean): boolean {
    if (alive) {
      this.#failedProbes.delete(sandboxId);
      return false;
    }
    const failures = (this.#failedProbes.get(sandboxId) ?? 0) + 1;
    this.#failedProbes.set(sandboxId, failures);
    if (failures < FAILED_PROBES_TO_ACT) return false;
    this.#failedProbes.delete(sandboxId);
    return true;
  }

  async #checkWarm(): Promise<void> {
    const { store, sandboxes, pool, log } = this.#d;
    const warm = store.sandboxes.list().filter((s) => s.state === 'warm');
    for (const record of warm) {
      const handle = sandboxes.handle(record.id);
      const probe = handle ? await sandboxes.runtime.probe(handle) : ({ alive: false, part: 'sandbox', reason: 'no handle' } as const);
      if (probe.alive || !this.#confirmedDead(record.id, false)) {
        if (probe.alive) this.#confirmedDead(record.id, true);
        continue;
      }
      if (store.sandboxes.get(record.id)?.state !== 'warm') continue; // claimed meanwhile: its session's checks take over
      log.warn({ sandbox: record.id, part: probe.part, reason: probe.reason }, 'a warm sandbox died; replacing it');
      await sandboxes.stop(record.id);
    }
    pool.refill();
  }
}

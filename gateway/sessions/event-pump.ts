// Copies a live session's agent events and vault audit events into the session's event log. Each
// source is followed over SSE from a stored cursor, so a gateway restart resumes without gaps or
// repeats, and a dropped stream is reopened with backoff until the pump is stopped.
import { setTimeout as sleep } from 'node:timers/promises';
import { AGENT_EVENT_TYPES, type AgentEvent } from '../../sandbox-agent/protocol.ts';
import type { AuditEvent } from '../../vault/types.ts';
import type { SandboxHandle } from '../runtime/types.ts';
import type { Store } from '../store/types.ts';
import { agentControl, vaultControl } from './control-client.ts';
import type { SessionEventLog } from './event-log.ts';
import { readSse } from './sse-reader.ts';

export interface PumpHooks {
  onAgentEvent(sessionId: string, event: AgentEvent): void;
  onAuditEvent(sessionId: string, event: AuditEvent): void;
  /** The session's log holds `limit` events: the pump has stopped following it. */
  onEventLimit(sessionId: string, limit: number): void;
}

export interface PumpOptions {
  store: Store;
  events: SessionEventLog;
  hooks: PumpHooks;
  warn: (details: object, message: string) => void;
  /** A session's log stops growing here, however fast its sandbox makes events (LAP_MAX_EVENTS_PER_SESSION). */
  maxEventsPerSession: number;
}

type Source = 'agent' | 'vault';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;

export class EventPump {
  readonly #o: PumpOptions;
  readonly #running = new Map<string, AbortController>();

  constructor(options: PumpOptions) {
    this.#o = options;
  }

  start(sessionId: string, handle: SandboxHandle): void {
    if (this.#running.has(sessionId)) return;
    const controller = new AbortController();
    this.#running.set(sessionId, controller);
    void this.#follow(sessionId, 'agent', (after, signal) => agentControl.eventStream(handle, after, signal), controller.signal);
    void this.#follow(sessionId, 'vault', (after, signal) => vaultControl.auditStream(handle, after, signal), controller.signal);
  }

  stop(sessionId: string): void {
    this.#running.get(sessionId)?.abort();
    this.#running.delete(sessionId);
  }

  stopAll(): void {
    for (const id of [...this.#running.keys()]) this.stop(id);
  }

  async #follow(sessionId: string, source: Source, open: (after: number, signal: AbortSignal) => Promise<Response>, signal: AbortSignal): Promise<void> {
    let delay = RETRY_MIN_MS;
    while (!signal.aborted) {
      try {
        const response = await open(this.#o.store.events.cursor(sessionId, source), signal);
        for await (const message of readSse(response.body!)) {
          this.#take(sessionId, source, JSON.parse(message.data) as AgentEvent | AuditEvent);
          delay = RETRY_MIN_MS;
        }
      } catch {
        // The sandbox is restarting, dying or gone: the reconciler decides which; we just retry.
      }
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }

  #take(sessionId: string, source: Source, event: AgentEvent | AuditEvent): void {
    const { store, events, hooks, warn, maxEventsPerSession } = this.#o;
    if (!(Number.isSafeInteger(event?.seq) && event.seq > 0)) throw new Error(`the ${source} sent an event without a seq`);
    if (event.seq <= store.events.cursor(sessionId, source) || !this.#running.has(sessionId)) return;
    let stored: { seq: number } | undefined;
    if (source === 'vault') {
      const { seq, session: _sandbox, ...audit } = event as AuditEvent;
      stored = events.append(sessionId, audit.decision === 'block' ? 'vault.blocked' : 'vault.request', { ...audit, vault_seq: seq }, audit.ts);
      hooks.onAuditEvent(sessionId, event as AuditEvent);
    } else if (isAgentEvent(event as AgentEvent)) {
      stored = events.append(sessionId, (event as AgentEvent).type, (event as AgentEvent).data, event.ts);
      hooks.onAgentEvent(sessionId, event as AgentEvent);
    } else {
      const type = String((event as { type?: unknown }).type).slice(0, 64);
      warn({ session: sessionId, seq: event.seq, type }, "dropped an event a sandbox's agent may not send; if the sandbox runs untrusted code it may have replaced its agent: delete the session");
    }
    store.events.setCursor(sessionId, source, event.seq);
    if (stored && stored.seq >= maxEventsPerSession) {
      this.stop(sessionId);
      hooks.onEventLimit(sessionId, maxEventsPerSession);
    }
  }
}

/**
 * What the gateway stores from an agent: a known type (vault.* and session.* are written by the vault
 * and the gateway only, so a replaced agent cannot forge the audit), a time, and an object of data.
 */
function isAgentEvent(event: AgentEvent): boolean {
  const { ts, type, data } = event as Partial<AgentEvent>;
  return AGENT_EVENT_TYPES.has(type as string) && typeof ts === 'string' && !Number.isNaN(Date.parse(ts)) && typeof data === 'object' && data !== null && !Array.isArray(data);
}

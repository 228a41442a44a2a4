// Copies a live session's agent events and vault audit events into the session's event log. Each
// source is followed over SSE from a stored cursor, so a gateway restart resumes without gaps or
// repeats, and a dropped stream is reopened with backoff until the pump is stopped.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentEvent } from '../../sandbox-agent/protocol.ts';
import type { AuditEvent } from '../../vault/types.ts';
import type { SandboxHandle } from '../runtime/types.ts';
import type { Store } from '../store/types.ts';
import { agentControl, vaultControl } from './control-client.ts';
import type { SessionEventLog } from './event-log.ts';
import { readSse } from './sse-reader.ts';

export interface PumpHooks {
  onAgentEvent(sessionId: string, event: AgentEvent): void;
  onAuditEvent(sessionId: string, event: AuditEvent): void;
}

type Source = 'agent' | 'vault';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;

export class EventPump {
  readonly #store: Store;
  readonly #log: SessionEventLog;
  readonly #hooks: PumpHooks;
  readonly #running = new Map<string, AbortController>();

  constructor(store: Store, log: SessionEventLog, hooks: PumpHooks) {
    this.#store = store;
    this.#log = log;
    this.#hooks = hooks;
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
        const response = await open(this.#store.events.cursor(sessionId, source), signal);
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
    if (event.seq <= this.#store.events.cursor(sessionId, source)) return;
    if (source === 'agent') {
      const agentEvent = event as AgentEvent;
      this.#log.append(sessionId, agentEvent.type, agentEvent.data, agentEvent.ts);
      this.#hooks.onAgentEvent(sessionId, agentEvent);
    } else {
      const { seq, session: _sandbox, ...audit } = event as AuditEvent;
      this.#log.append(sessionId, audit.decision === 'block' ? 'vault.blocked' : 'vault.request', { ...audit, vault_seq: seq }, audit.ts);
      this.#hooks.onAuditEvent(sessionId, event as AuditEvent);
    }
    this.#store.events.setCursor(sessionId, source, event.seq);
  }
}

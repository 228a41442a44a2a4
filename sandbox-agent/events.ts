import { ACTIVITY_EVENT_INTERVAL_MS, type AgentEvent, type AgentEventType } from './protocol.ts';

type Listener = (event: AgentEvent) => void;

/**
 * The session's append-only event log with monotonic sequence numbers. Bounded: the gateway drains it
 * into its store, so the agent keeps only enough to cover a reconnect. Activity is rate-limited per
 * kind so a busy terminal does not flood the log; lastActivity always has the exact time.
 */
export class EventLog {
  readonly #capacity: number;
  readonly #events: AgentEvent[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #lastActivityEvent = new Map<string, number>();
  #nextSeq = 1;
  lastActivity = Date.now();

  constructor(capacity = 50_000) {
    this.#capacity = capacity;
  }

  append(type: AgentEventType, data: Record<string, unknown> = {}): AgentEvent {
    const event: AgentEvent = { seq: this.#nextSeq++, ts: new Date().toISOString(), type, data };
    this.#events.push(event);
    if (this.#events.length > this.#capacity) this.#events.shift();
    for (const listener of this.#listeners) listener(event);
    return event;
  }

  /** Notes activity of a kind (input, output, exec, files); logs an event at most once per interval. */
  touch(kind: string): void {
    const now = Date.now();
    this.lastActivity = now;
    if (now - (this.#lastActivityEvent.get(kind) ?? 0) < ACTIVITY_EVENT_INTERVAL_MS) return;
    this.#lastActivityEvent.set(kind, now);
    this.append('activity', { kind });
  }

  since(afterSeq: number): AgentEvent[] {
    const first = this.#events.findIndex((e) => e.seq > afterSeq);
    return first === -1 ? [] : this.#events.slice(first);
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

// The session event log (DESIGN.md §4): stored in SQLite with a per-session monotonic seq, and
// pushed to in-process listeners (the SSE route) as it is appended.
import type { SessionEvent, Store } from '../store/types.ts';

type Listener = (event: SessionEvent) => void;

export class SessionEventLog {
  readonly #store: Store;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(store: Store) {
    this.#store = store;
  }

  append(sessionId: string, type: string, data: Record<string, unknown>, ts?: string): SessionEvent {
    const event = this.#store.events.append(sessionId, type, data, ts);
    for (const listener of this.#listeners.get(sessionId) ?? []) listener(event);
    return event;
  }

  since(sessionId: string, after: number, limit: number, typePrefix?: string): SessionEvent[] {
    return this.#store.events.since(sessionId, after, limit, typePrefix);
  }

  subscribe(sessionId: string, listener: Listener): () => void {
    let set = this.#listeners.get(sessionId);
    if (!set) this.#listeners.set(sessionId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(sessionId);
    };
  }
}

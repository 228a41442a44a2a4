import type { AuditEvent } from './types.ts';

type Listener = (event: AuditEvent) => void;

/**
 * The vault's audit trail: a bounded ring of recent events plus live subscribers. The gateway drains
 * it over SSE into its store, so the ring only has to cover a reconnect gap, not history.
 */
export class AuditLog {
  readonly #capacity: number;
  readonly #ring: AuditEvent[] = [];
  readonly #listeners = new Set<Listener>();
  #nextSeq = 1;

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  record(event: Omit<AuditEvent, 'seq'>): AuditEvent {
    const full: AuditEvent = { seq: this.#nextSeq++, ...event };
    this.#ring.push(full);
    if (this.#ring.length > this.#capacity) this.#ring.shift();
    for (const listener of this.#listeners) listener(full);
    return full;
  }

  /** Events with seq > afterSeq still in the ring, oldest first. */
  since(afterSeq: number): AuditEvent[] {
    const first = this.#ring.findIndex((e) => e.seq > afterSeq);
    return first === -1 ? [] : this.#ring.slice(first);
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get lastSeq(): number {
    return this.#nextSeq - 1;
  }
}

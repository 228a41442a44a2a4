// Pre-started sandboxes per harness (DESIGN.md §2): they hold no secrets and no agent config, so any
// session of that harness can claim one. Taking one schedules a refill in the background, after the
// claim: starting a sandbox (namespaces, rules, two Node processes) takes the CPU a claim needs.
import type { Logger } from 'pino';
import type { SandboxRecord, Store } from '../store/types.ts';
import type { Sandboxes } from './sandboxes.ts';

export interface PoolStats {
  harness: string;
  target: number;
  warm: number;
  starting: number;
}

const REFILL_RETRY_MS = 5_000;
/** A claim normally calls refill() itself when it is done; this bounds the wait for a slow one (a big git clone). */
const CLAIM_HEADSTART_MS = 2_000;

export class WarmPool {
  readonly #store: Store;
  readonly #sandboxes: Sandboxes;
  readonly #targets: Record<string, number>;
  readonly #log: Logger;
  readonly #starting = new Map<string, number>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(store: Store, sandboxes: Sandboxes, targets: Record<string, number>, log: Logger) {
    this.#store = store;
    this.#sandboxes = sandboxes;
    this.#targets = targets;
    this.#log = log;
  }

  /**
   * Claims a warm sandbox of the harness for the session, or undefined when none is ready. The
   * caller calls refill() when its claim is done; the pool refills by itself after CLAIM_HEADSTART_MS.
   */
  take(harness: string, sessionId: string): SandboxRecord | undefined {
    const record = this.#store.sandboxes.claimWarm(harness, sessionId);
    setTimeout(() => this.refill(), CLAIM_HEADSTART_MS).unref();
    return record;
  }

  refill(): void {
    if (this.#closed) return;
    for (const [harness, target] of Object.entries(this.#targets)) {
      const missing = target - this.#warmCount(harness) - (this.#starting.get(harness) ?? 0);
      for (let i = 0; i < missing; i++) this.#startOne(harness);
    }
  }

  stats(): PoolStats[] {
    return Object.entries(this.#targets).map(([harness, target]) => ({
      harness,
      target,
      warm: this.#warmCount(harness),
      starting: this.#starting.get(harness) ?? 0,
    }));
  }

  /** Stops refilling and waits for sandboxes being started (they stay warm, for the next start to adopt). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
  }

  #warmCount(harness: string): number {
    return this.#store.sandboxes.list().filter((s) => s.harness === harness && s.state === 'warm').length;
  }

  #startOne(harness: string): void {
    this.#starting.set(harness, (this.#starting.get(harness) ?? 0) + 1);
    const started = this.#sandboxes
      .start(harness, 'warm')
      .catch((err: Error) => {
        this.#log.error({ harness, err: err.message }, 'could not start a warm sandbox; sessions start cold until this is fixed');
        setTimeout(() => this.refill(), REFILL_RETRY_MS).unref();
      })
      .finally(() => {
        this.#starting.set(harness, (this.#starting.get(harness) ?? 1) - 1);
        this.#inFlight.delete(started);
      });
    this.#inFlight.add(started);
  }
}

// Starts and stops sandboxes through the runtime and keeps their records and handles: a record is
// written before the runtime starts anything, so a gateway that dies mid-create leaves a record
// that the next start finds unadoptable and reaps.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Runtime, SandboxHandle } from '../runtime/types.ts';
import type { SandboxRecord, SandboxState, Store } from '../store/types.ts';

export class Sandboxes {
  readonly runtime: Runtime;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #handles = new Map<string, SandboxHandle>();

  constructor(store: Store, runtime: Runtime, log: Logger) {
    this.#store = store;
    this.runtime = runtime;
    this.#log = log;
  }

  /** Creates a sandbox whose record ends in `state` (warm for the pool, claimed for a cold session). */
  async start(harness: string, state: Extract<SandboxState, 'warm' | 'claimed'>, sessionId: string | null = null): Promise<SandboxRecord> {
    const id = `sb${randomBytes(5).toString('hex')}`;
    this.#store.sandboxes.put({ id, harness, state: 'starting', sessionId, handle: null, createdAt: new Date().toISOString() });
    try {
      const handle = await this.runtime.create({ id });
      this.#handles.set(id, handle);
      this.#store.sandboxes.update(id, { state, handle });
    } catch (err) {
      this.#store.sandboxes.delete(id);
      throw err;
    }
    return this.#store.sandboxes.get(id)!;
  }

  handle(id: string): SandboxHandle | undefined {
    const cached = this.#handles.get(id);
    if (cached) return cached;
    const stored = this.#store.sandboxes.get(id)?.handle as SandboxHandle | null | undefined;
    if (stored) this.#handles.set(id, stored);
    return stored ?? undefined;
  }

  /** Stops the sandbox and forgets it. Never throws: a failure is logged and left to the restart reaper. */
  async stop(id: string): Promise<void> {
    const handle = this.handle(id);
    this.#store.sandboxes.update(id, { state: 'stopping' });
    try {
      if (handle) await this.runtime.destroy(handle);
      this.#store.sandboxes.delete(id);
      this.#handles.delete(id);
    } catch (err) {
      this.#log.error({ sandbox: id, err: (err as Error).message }, 'could not remove a sandbox; the next gateway start will reap it, or remove it by hand (docs/operations.md)');
    }
  }
}

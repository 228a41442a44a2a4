// After a gateway (re)start: every sandbox in the store whose processes still answer is taken back
// (warm ones into the pool, claimed ones with their event pumps resumed from the stored cursors);
// everything else is removed, and live sessions that lost their sandbox fail with the reason.
import type { Logger } from 'pino';
import type { SandboxHandle } from '../runtime/types.ts';
import type { SandboxRecord, Store } from '../store/types.ts';
import type { EventPump } from './event-pump.ts';
import type { Sandboxes } from './sandboxes.ts';
import type { SessionService } from './service.ts';

export interface AdoptDeps {
  store: Store;
  sandboxes: Sandboxes;
  service: SessionService;
  pump: EventPump;
  log: Logger;
}

export async function adoptSandboxes(deps: AdoptDeps): Promise<{ adopted: string[]; reaped: string[] }> {
  const { store, sandboxes, service, log } = deps;
  const kept = new Set<string>();
  for (const record of store.sandboxes.list()) {
    const reason = await adoptOne(deps, record);
    if (reason === null) kept.add(record.id);
    else log.info({ sandbox: record.id, reason }, 'not adopting a sandbox; it is removed');
  }
  for (const session of store.sessions.live()) {
    if (session.sandboxId && kept.has(session.sandboxId)) continue;
    const why = session.status === 'creating' ? 'the gateway restarted while the session was being created' : 'the gateway restarted and the sandbox was gone';
    await service.end(session.id, 'failed', `${why}; create a new session`);
  }
  for (const record of store.sandboxes.list()) if (!kept.has(record.id)) store.sandboxes.delete(record.id);
  const reaped = await sandboxes.runtime.reapExcept(kept);
  return { adopted: [...kept], reaped };
}

/** null when adopted, else why not. */
async function adoptOne({ store, sandboxes, pump }: AdoptDeps, record: SandboxRecord): Promise<string | null> {
  if (record.state !== 'warm' && record.state !== 'claimed') return `it was ${record.state}`;
  const handle = record.handle as SandboxHandle | null;
  if (!handle) return 'no handle was stored';
  const probe = await sandboxes.runtime.probe(handle);
  if (!probe.alive) return `the ${probe.part} is not answering: ${probe.reason}`;
  if (record.state === 'warm') return null;
  const session = record.sessionId ? store.sessions.get(record.sessionId) : undefined;
  if (session?.status !== 'ready') return `its session is ${session?.status ?? 'gone'}`;
  pump.start(session.id, handle);
  return null;
}

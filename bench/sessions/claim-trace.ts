// Where one warm claim's time goes: starts a gateway with a warm pool of one `shell` sandbox, waits
// until the pool is full and the machine quiet, claims it, and prints every event of the session with
// its time since the request. Run as root: `node bench/sessions/claim-trace.ts [claims]`.
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway } from '../../tests/support/gateway.ts';

const CLAIMS = Number(process.argv[2] ?? 3);
const SETTLE_MS = 3_000;

interface SessionEvent {
  seq: number;
  type: string;
  ts: string;
  data: Record<string, unknown>;
}

const gw = await startTestGateway({ warmPool: 'shell=1' });
try {
  await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
  for (let i = 0; i < CLAIMS; i++) {
    while (gw.gateway.pool.stats()[0]!.warm < 1) await sleep(20);
    await sleep(SETTLE_MS);
    const began = Date.now();
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    const readyMs = Date.now() - began;
    const { data } = (await gw.json('GET', `/api/v1/managed_agents/sessions/${session.id}/events`, undefined, 200)) as { data: SessionEvent[] };
    console.log(`claim ${i + 1}: ready after ${readyMs} ms (warm: ${session.warm})`);
    for (const event of data) {
      const detail = [event.data.phase, event.data.state, event.data.status].filter(Boolean).join(' ');
      console.log(`  +${String(Date.parse(event.ts) - began).padStart(4)} ms  ${event.type} ${detail}`);
    }
    await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
  }
} finally {
  await gw.close();
}

// Run by http.test.ts as a CommonJS bundle in a fresh Node process, the form the agent and the vault
// ship in (an ESM `import` of node:http reads every export, WebSocket included, and so loads fetch by
// itself). Serves the sandbox agent's API and the vault's control API, sends each a few requests over
// node:http (not fetch, which would load what is being checked for), and prints the statuses and
// whether Node's fetch implementation (undici) was loaded.
import { type Server, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../sandbox-agent/events.ts';
import { createAgentServer } from '../../sandbox-agent/server.ts';
import { DEFAULT_LIMITS } from '../../sandbox-agent/state.ts';
import { AuditLog } from '../../vault/audit.ts';
import { createCertificateAuthority } from '../../vault/ca.ts';
import { createControlServer } from '../../vault/control/app.ts';
import { DEFAULT_POLICY } from '../../vault/policy.ts';
import { createResolver } from '../../vault/resolve.ts';

const TOKEN = 'k'.repeat(40);

function send(server: Server, method: string, path: string, body?: string, token: string | null = TOKEN): Promise<number> {
  const { port } = server.address() as AddressInfo;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      res.resume().once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject).end(body);
  });
}

const listening = (server: Server) => new Promise<Server>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));

async function main() {
  const workspace = mkdtempSync(join(tmpdir(), 'lap-fetch-free-'));
  const agent = await listening(createAgentServer({ workspace, events: new EventLog(), limits: DEFAULT_LIMITS, claim: null, terminal: null }, TOKEN));
  const vault = await listening(
    createControlServer(
      {
        session: 'fetch-free',
        ca: await createCertificateAuthority({ commonName: 'fetch-free test CA' }),
        audit: new AuditLog(),
        resolve: createResolver({ hosts: {} }),
        upstreamTls: () => {
          throw new Error('no upstream in this test');
        },
        credentials: [],
        policy: DEFAULT_POLICY,
      },
      TOKEN,
    ),
  );

  const statuses = [
    await send(agent, 'GET', '/healthz'),
    await send(agent, 'GET', '/readyz'),
    await send(agent, 'POST', '/v1/harness/restart'),
    await send(agent, 'GET', '/v1/files/list?path=/'),
    await send(agent, 'GET', '/v1/events', undefined, null),
    await send(vault, 'GET', '/v1/health', undefined, null),
    await send(vault, 'PUT', '/v1/credentials', JSON.stringify({ credentials: [] })),
    await send(vault, 'PUT', '/v1/policy', JSON.stringify({ default: 'sometimes' })),
  ];
  // moduleLoadList: Node's own list of the internal modules this process has loaded (not in @types/node).
  const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  const fetchLoaded = loaded.some((name) => name.includes('internal/deps/undici'));
  process.stdout.write(JSON.stringify({ statuses, fetchLoaded }));
  agent.close();
  vault.close();
  rmSync(workspace, { recursive: true, force: true });
}

void main();

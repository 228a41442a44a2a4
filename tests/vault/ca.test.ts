import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCertificateAuthority, type CertificateAuthority } from '../../vault/ca.ts';

const run = promisify(execFile);
const DAY_S = 24 * 60 * 60;

let ca: CertificateAuthority;
let dir: string;
let caPath: string;
let server: https.Server;
let port: number;

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'LAP test sandbox CA' });
  dir = await mkdtemp(join(tmpdir(), 'lap-ca-test-'));
  caPath = join(dir, 'ca.pem');
  await writeFile(caPath, ca.certificatePem);
  server = https.createServer({ SNICallback: sniCallbackFor(ca) }, (req, res) => {
    res.end(`hello from ${req.headers.host}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function sniCallbackFor(authority: CertificateAuthority, fixedHost?: string) {
  return (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => {
    authority.secureContextFor(fixedHost ?? servername).then((ctx) => cb(null, ctx), cb);
  };
}

async function openssl(...args: string[]): Promise<string> {
  return (await run('openssl', args)).stdout;
}

/** Connects like a client would and returns what it saw: the served leaf and whether it was trusted. */
function handshake(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function servedLeafPem(host: string): Promise<string> {
  const socket = await handshake({ servername: host, ca: ca.certificatePem });
  const pem = new X509Certificate(socket.getPeerCertificate().raw).toString();
  socket.destroy();
  return pem;
}

function field(text: string, pattern: RegExp): string {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`no ${pattern} in openssl output:\n${text}`);
  return match[1];
}

async function validity(pemPath: string): Promise<{ notBefore: number; notAfter: number }> {
  const text = await openssl('x509', '-noout', '-startdate', '-enddate', '-in', pemPath);
  return {
    notBefore: Date.parse(field(text, /notBefore=(.+)/)) / 1000,
    notAfter: Date.parse(field(text, /notAfter=(.+)/)) / 1000,
  };
}

describe('CA certificate', () => {
  it('is a P-256 CA restricted to signing certificates, valid for a year', async () => {
    const text = await openssl('x509', '-noout', '-text', '-in', caPath);
    expect(text).toMatch(/Subject: CN ?= ?LAP test sandbox CA/);
    expect(text).toContain('NIST CURVE: P-256');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    expect(text).toMatch(/Subject Key Identifier:\s*\n\s*[0-9A-F:]{59}/);
    const serial = field(text, /Serial Number:\s*\n\s*([0-9a-f:]+)/).replaceAll(':', '');
    expect(BigInt(`0x${serial}`)).toBeGreaterThanOrEqual(2n ** 63n);
    const { notBefore, notAfter } = await validity(caPath);
    expect(notAfter - notBefore).toBe(365 * DAY_S + 3600);
    expect(notBefore).toBeLessThan(Date.now() / 1000);
  });

  it('exposes the certificate and nothing that holds a private key', () => {
    expect(Object.keys(ca).sort()).toEqual(['cachedLeafCount', 'certificatePem', 'secureContextFor']);
    expect(ca.certificatePem.match(/-----BEGIN /g)).toEqual(['-----BEGIN ']);
    expect(ca.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n?$/);
    expect(JSON.stringify(ca)).not.toMatch(/PRIVATE/);
  });
});

describe('leaf certificates', () => {
  const hosts = ['api.github.com', 'api.anthropic.com', 'internal_service.corp-1.example'];

  it.each(hosts)('leaf for %s has the fields a TLS client checks', async (host) => {
    const leafPath = join(dir, `${host}.pem`);
    await writeFile(leafPath, await servedLeafPem(host));
    const leaf = await openssl('x509', '-noout', '-text', '-in', leafPath);
    const caText = await openssl('x509', '-noout', '-text', '-in', caPath);

    expect(leaf).toContain(`Subject: CN = ${host}`);
    expect(leaf).toMatch(new RegExp(`Subject Alternative Name:\\s*\\n\\s*DNS:${host.replaceAll('.', '\\.')}\\n`));
    expect(leaf).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Server Authentication\n/);
    expect(leaf).toMatch(/Basic Constraints:\s*\n\s*CA:FALSE/);
    expect(leaf).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(leaf).toContain('NIST CURVE: P-256');
    const caSki = field(caText, /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/);
    const aki = field(leaf, /Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/);
    const leafSki = field(leaf, /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/);
    expect(aki).toBe(caSki);
    expect(leafSki).not.toBe(caSki);

    const { notBefore, notAfter } = await validity(leafPath);
    expect(notAfter - notBefore).toBe(7 * DAY_S + 3600);
    expect(notBefore).toBeLessThan(Date.now() / 1000);

    const verified = await openssl('verify', '-CAfile', caPath, '-purpose', 'sslserver', '-verify_hostname', host, leafPath);
    expect(verified.trim()).toBe(`${leafPath}: OK`);
  });

  it('openssl refuses the leaf for another host name', async () => {
    const leafPath = join(dir, 'mismatch.pem');
    await writeFile(leafPath, await servedLeafPem('api.github.com'));
    await expect(
      openssl('verify', '-CAfile', caPath, '-verify_hostname', 'evil.example', leafPath),
    ).rejects.toThrow(/hostname mismatch/);
  });
});

describe('TLS clients that trust only the CA', () => {
  it('Node completes the handshake and the server identity checks out', async () => {
    const socket = await handshake({ servername: 'api.github.com', ca: ca.certificatePem });
    expect(socket.authorized).toBe(true);
    expect(tls.checkServerIdentity('api.github.com', socket.getPeerCertificate())).toBeUndefined();
    socket.destroy();
  });

  it('Node refuses a certificate minted for a different host', async () => {
    const fixed = tls.createServer({ SNICallback: sniCallbackFor(ca, 'api.github.com') });
    await new Promise<void>((resolve) => fixed.listen(0, '127.0.0.1', resolve));
    const fixedPort = (fixed.address() as AddressInfo).port;
    try {
      await expect(
        handshake({ port: fixedPort, servername: 'gitlab.com', ca: ca.certificatePem }),
      ).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    } finally {
      fixed.close();
    }
  });

  it('Node refuses the leaf when it does not trust the CA', async () => {
    await expect(handshake({ servername: 'api.github.com' })).rejects.toMatchObject({
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
  });

  it('curl fetches over HTTPS with --cacert, and refuses without it', async () => {
    const resolveArgs = ['--resolve', `api.github.com:${port}:127.0.0.1`, `https://api.github.com:${port}/`];
    const common = ['--silent', '--show-error', '--noproxy', '*', '--max-time', '10'];
    const { stdout } = await run('curl', [...common, '--cacert', caPath, ...resolveArgs]);
    expect(stdout).toBe(`hello from api.github.com:${port}`);
    await expect(run('curl', [...common, ...resolveArgs])).rejects.toMatchObject({ code: 60 });
  });

  it('Python urllib with an SSLContext loading the CA fetches over HTTPS', async () => {
    // getaddrinfo is pinned to loopback for this one name so no real DNS lookup can happen.
    const script = `
import socket, ssl, sys, urllib.request
port, cafile = int(sys.argv[1]), sys.argv[2]
real_getaddrinfo = socket.getaddrinfo
def loopback_only(host, *args, **kwargs):
    if host != 'api.github.com':
        raise OSError('this test resolves only api.github.com')
    return real_getaddrinfo('127.0.0.1', *args, **kwargs)
socket.getaddrinfo = loopback_only
context = ssl.create_default_context(cafile=cafile)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
print(opener.open(f'https://api.github.com:{port}/', timeout=10).read().decode(), end='')
`;
    const { stdout } = await run('python3', ['-c', script, String(port), caPath]);
    expect(stdout).toBe(`hello from api.github.com:${port}`);
  });
});

describe('leaf cache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns the cached context for a host it has minted', async () => {
    const authority = await createCertificateAuthority({ commonName: 'cache test' });
    const first = await authority.secureContextFor('api.github.com');
    expect(await authority.secureContextFor('api.github.com')).toBe(first);
    expect(authority.cachedLeafCount).toBe(1);
  });

  it('mints once for concurrent calls for one host', async () => {
    const authority = await createCertificateAuthority({ commonName: 'concurrency test' });
    const contexts = await Promise.all(Array.from({ length: 8 }, () => authority.secureContextFor('api.github.com')));
    expect(new Set(contexts).size).toBe(1);
    expect(authority.cachedLeafCount).toBe(1);
  });

  it('evicts the least recently used leaf beyond leafCacheSize', async () => {
    const authority = await createCertificateAuthority({ commonName: 'lru test', leafCacheSize: 2 });
    const a = await authority.secureContextFor('a.example');
    const b = await authority.secureContextFor('b.example');
    expect(await authority.secureContextFor('a.example')).toBe(a);
    await authority.secureContextFor('c.example');
    expect(authority.cachedLeafCount).toBe(2);
    expect(await authority.secureContextFor('a.example')).toBe(a);
    expect(await authority.secureContextFor('b.example')).not.toBe(b);
    expect(authority.cachedLeafCount).toBe(2);
  });

  it('re-mints a leaf within a day of its expiry', async () => {
    const authority = await createCertificateAuthority({ commonName: 'renewal test' });
    const start = Date.now();
    const first = await authority.secureContextFor('api.github.com');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start + 5 * DAY_S * 1000);
    expect(await authority.secureContextFor('api.github.com')).toBe(first);
    vi.setSystemTime(start + 6 * DAY_S * 1000 + 60_000);
    expect(await authority.secureContextFor('api.github.com')).not.toBe(first);
    expect(authority.cachedLeafCount).toBe(1);
  });
});

describe('input checks', () => {
  it.each([
    ['API.github.com', /lowercase/],
    ['api.github.com.', /trailing dot/],
    ['', /1 to 253/],
    ['a..b', /DNS name/],
    ['*.github.com', /DNS name/],
    ['api.github.com:443', /DNS name/],
    ['exa mple.com', /DNS name/],
    [`${'a'.repeat(64)}.com`, /DNS name/],
    [`${'a.'.repeat(127)}ab`, /1 to 253/],
  ])('refuses host %j', async (host, message) => {
    await expect(ca.secureContextFor(host)).rejects.toThrow(message);
    await expect(ca.secureContextFor(host)).rejects.toThrow(/host/);
  });

  it('refuses a bad commonName or leafCacheSize, naming the field', async () => {
    await expect(createCertificateAuthority({ commonName: '' })).rejects.toThrow(/commonName/);
    await expect(createCertificateAuthority({ commonName: 'x', leafCacheSize: 0 })).rejects.toThrow(/leafCacheSize/);
    await expect(createCertificateAuthority({ commonName: 'x', leafCacheSize: 1.5 })).rejects.toThrow(/leafCacheSize/);
  });
});

describe('key confinement', () => {
  it('writes no file while creating a CA and minting leaves', async () => {
    // A separate process with its own empty working and temp directories: any file written shows up.
    const cwd = await mkdtemp(join(tmpdir(), 'lap-ca-cwd-'));
    const tmp = await mkdtemp(join(tmpdir(), 'lap-ca-tmp-'));
    try {
      const caModule = new URL('../../vault/ca.ts', import.meta.url).href;
      const script = `
        const { createCertificateAuthority } = await import(${JSON.stringify(caModule)});
        const ca = await createCertificateAuthority({ commonName: 'no files' });
        await ca.secureContextFor('api.github.com');
        process.stdout.write(ca.certificatePem);
      `;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd,
        env: { ...process.env, TMPDIR: tmp, HOME: cwd },
      });
      expect(stdout).toContain('-----BEGIN CERTIFICATE-----');
      expect(stdout).not.toContain('PRIVATE KEY');
      expect(await readdir(cwd)).toEqual([]);
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

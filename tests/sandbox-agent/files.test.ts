// The files and archive API against the real agent process: round trips, `..` and symlink escapes
// refused with 403 while nothing outside is read or written, size limits, a tar round trip that keeps
// contents and modes, and malicious archives that write nothing. Small limits are checked on the same
// routes mounted in-process with a tiny AgentState.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../sandbox-agent/events.ts';
import { fileRoutes } from '../../sandbox-agent/routes/files.ts';
import { DEFAULT_LIMITS } from '../../sandbox-agent/state.ts';
import { Router, createRouterServer } from '../../vault/http/router.ts';
import { type RunningAgent, startAgent } from '../support/agent.ts';

let agent: RunningAgent;
let ws: string;
/** Beside the workspace, so an escape would land here. */
let outside: string;
const SECRET = 'outside secret\n';

beforeAll(async () => {
  agent = await startAgent();
  ws = agent.workspace;
  outside = join(dirname(ws), 'outside');
});

afterAll(async () => {
  await agent?.close();
});

beforeEach(() => {
  for (const name of readdirSync(ws)) rmSync(join(ws, name), { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), SECRET);
});

const q = (path: string) => encodeURIComponent(path);
const get = (route: string, path: string) => agent.fetch(`/v1/${route}?path=${q(path)}`);
const put = (route: string, path: string, body: string | Uint8Array, query = '') =>
  agent.fetch(`/v1/${route}?path=${q(path)}${query}`, { method: 'PUT', body: typeof body === 'string' ? body : new Uint8Array(body) });
const del = (path: string, query = '') => agent.fetch(`/v1/files?path=${q(path)}${query}`, { method: 'DELETE' });

async function errorOf(response: Response) {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

async function expectForbidden(response: Response) {
  expect(response.status).toBe(403);
  expect((await errorOf(response)).code).toBe('forbidden');
}

/** Nothing outside the workspace changed: the parent holds only workspace/ and outside/, outside only the secret. */
function expectOutsideUntouched() {
  expect(readdirSync(dirname(ws)).sort()).toEqual(['outside', 'workspace']);
  expect(readdirSync(outside)).toEqual(['secret.txt']);
  expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
}

describe('files', () => {
  it('writes, reads, stats, lists, replaces and deletes a file', async () => {
    const content = randomBytes(100_000);
    const created = await put('files', 'dir/sub/data.bin', content, '&mode=0750');
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ type: 'file', size: content.length, mode: '0750' });
    expect(readFileSync(join(ws, 'dir/sub/data.bin')).equals(content)).toBe(true);
    expect(statSync(join(ws, 'dir/sub/data.bin')).mode & 0o777).toBe(0o750);

    const read = await get('files', '/dir/sub/data.bin');
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await read.arrayBuffer()).equals(content)).toBe(true);

    expect(await (await get('files/stat', 'dir/sub/data.bin')).json()).toMatchObject({ type: 'file', size: content.length, mode: '0750' });
    const replaced = await put('files', 'dir/sub/data.bin', 'short');
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ size: 5, mode: '0750' });
    expect(await (await get('files', 'dir/sub/data.bin')).text()).toBe('short');

    symlinkSync('sub/data.bin', join(ws, 'dir/link'));
    const listing = (await (await get('files/list', 'dir')).json()) as { entries: { name: string; type: string; mode: string; mtime: string }[]; truncated: boolean };
    expect(listing.truncated).toBe(false);
    expect(listing.entries.map((e) => [e.name, e.type])).toEqual([['link', 'symlink'], ['sub', 'dir']]);
    expect(Number.isNaN(Date.parse(listing.entries[1]!.mtime))).toBe(false);

    expect((await del('dir/sub/data.bin')).status).toBe(204);
    expect((await get('files', 'dir/sub/data.bin')).status).toBe(404);
    expect(readdirSync(join(ws, 'dir/sub'))).toEqual([]);
  });

  it('reads and writes through symlinks that stay inside the workspace', async () => {
    mkdirSync(join(ws, 'real'));
    symlinkSync('real', join(ws, 'alias'));
    symlinkSync(join(ws, 'real', 'target.txt'), join(ws, 'absolute-alias'));
    expect((await put('files', 'alias/target.txt', 'via relative link')).status).toBe(201);
    expect(readFileSync(join(ws, 'real/target.txt'), 'utf8')).toBe('via relative link');
    expect(await (await get('files', 'absolute-alias')).text()).toBe('via relative link');
    expect((await put('files', 'absolute-alias', 'via absolute link')).status).toBe(200);
    expect(lstatSync(join(ws, 'absolute-alias')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(ws, 'real/target.txt'), 'utf8')).toBe('via absolute link');
  });

  it('answers 404 for missing paths, 400 for directories and bad parameters', async () => {
    mkdirSync(join(ws, 'dir/inner'), { recursive: true });
    expect((await get('files', 'missing.txt')).status).toBe(404);
    expect((await get('files/stat', 'missing.txt')).status).toBe(404);
    expect((await get('files/list', 'missing')).status).toBe(404);
    expect((await get('files', 'dir')).status).toBe(400);
    expect((await put('files', 'dir', 'x')).status).toBe(400);
    expect((await put('files', 'x.txt', 'x', '&mode=999')).status).toBe(400);
    expect((await errorOf(await put('files', 'x.txt', 'x', '&mode=rwx'))).message).toMatch(/^mode: /);
    expect((await agent.fetch('/v1/files')).status).toBe(400);
    expect((await errorOf(await agent.fetch('/v1/files'))).message).toMatch(/^path: /);
    expect((await errorOf(await del('dir', '&recursive=yes'))).message).toMatch(/^recursive: /);
    expect(existsSync(join(ws, 'x.txt'))).toBe(false);
  });

  it('deletes directories only with recursive=true and never the workspace root', async () => {
    mkdirSync(join(ws, 'dir/inner'), { recursive: true });
    writeFileSync(join(ws, 'dir/inner/f'), 'f');
    expect((await del('dir')).status).toBe(400);
    expect(existsSync(join(ws, 'dir/inner/f'))).toBe(true);
    expect((await del('dir', '&recursive=true')).status).toBe(204);
    expect(existsSync(join(ws, 'dir'))).toBe(false);
    for (const root of ['/', '.', '', 'a/..']) await expectForbidden(await del(root, '&recursive=true'));
    expect(existsSync(ws)).toBe(true);
  });

  it('logs file activity for idle reaping', async () => {
    await get('files/list', '/');
    const { events } = (await (await agent.fetch('/v1/events')).json()) as { events: { type: string; data: { kind?: string } }[] };
    expect(events.some((e) => e.type === 'activity' && e.data.kind === 'files')).toBe(true);
  });
});

describe('escapes are refused with 403', () => {
  const traversals = ['..', '../outside/secret.txt', 'a/../../outside/secret.txt', '/../outside/secret.txt', './../outside'];

  it.each(traversals)('%s', async (path) => {
    for (const response of [
      await get('files', path),
      await get('files/stat', path),
      await get('files/list', path),
      await get('archive', path),
      await put('files', path, 'pwned'),
      await put('archive', path, Buffer.alloc(1024)),
      await del(path, '&recursive=true'),
    ]) await expectForbidden(response);
    expectOutsideUntouched();
  });

  it('treats an absolute path as relative to the workspace, never the host root', async () => {
    expect((await get('files', '/etc/passwd')).status).toBe(404);
    expect((await get('files', join(outside, 'secret.txt'))).status).toBe(404);
    expect((await put('files', join(outside, 'secret.txt'), 'inside')).status).toBe(201);
    expect(readFileSync(join(ws, outside, 'secret.txt'), 'utf8')).toBe('inside');
    expectOutsideUntouched();
  });

  it('refuses a directory symlink to /etc', async () => {
    symlinkSync('/etc', join(ws, 'etc'));
    await expectForbidden(await get('files', 'etc/passwd'));
    await expectForbidden(await get('files/list', 'etc'));
    await expectForbidden(await get('files/stat', 'etc/passwd'));
    await expectForbidden(await get('archive', 'etc'));
    await expectForbidden(await put('files', 'etc/lap-escape-test', 'pwned'));
    await expectForbidden(await del('etc/lap-escape-test'));
    expect(existsSync('/etc/lap-escape-test')).toBe(false);
  });

  it('refuses a file symlink to /etc/passwd for reading and one to a file outside for writing', async () => {
    symlinkSync('/etc/passwd', join(ws, 'passwd'));
    symlinkSync(join(outside, 'secret.txt'), join(ws, 'secret-link'));
    symlinkSync('../outside/secret.txt', join(ws, 'relative-secret-link'));
    symlinkSync(join(outside, 'new.txt'), join(ws, 'dangling-link'));
    const read = await get('files', 'passwd');
    expect(await read.text()).not.toContain('root:');
    expect(read.status).toBe(403);
    for (const link of ['secret-link', 'relative-secret-link', 'dangling-link']) {
      await expectForbidden(await get('files', link));
      await expectForbidden(await put('files', link, 'pwned'));
    }
    expectOutsideUntouched();
  });

  it('refuses a symlink in the middle of the path, relative or absolute', async () => {
    mkdirSync(join(ws, 'a/b'), { recursive: true });
    symlinkSync('../../..', join(ws, 'a/b/up'));
    symlinkSync(dirname(ws), join(ws, 'a/parent'));
    for (const path of ['a/b/up/outside/secret.txt', 'a/parent/outside/secret.txt']) {
      await expectForbidden(await get('files', path));
      await expectForbidden(await put('files', path, 'pwned'));
      await expectForbidden(await put('files', path.replace('secret.txt', 'new/deeper.txt'), 'pwned'));
      await expectForbidden(await del(path));
    }
    await expectForbidden(await put('archive', 'a/b/up/outside', Buffer.alloc(1024)));
    expectOutsideUntouched();
  });

  it('deletes a symlink itself, never what it points to', async () => {
    symlinkSync(join(outside, 'secret.txt'), join(ws, 'secret-link'));
    symlinkSync(outside, join(ws, 'outside-dir-link'));
    expect(await (await get('files/stat', 'secret-link')).json()).toMatchObject({ type: 'symlink' });
    expect((await del('secret-link')).status).toBe(204);
    expect((await del('outside-dir-link', '&recursive=true')).status).toBe(204);
    expect(readdirSync(ws)).toEqual([]);
    expectOutsideUntouched();
  });
});

describe('size limit (real agent, default 64 MiB)', () => {
  it('refuses a file over maxFileBytes with 413 and leaves nothing behind', async () => {
    writeFileSync(join(ws, 'kept.bin'), 'old content');
    const response = await put('files', 'kept.bin', Buffer.alloc(DEFAULT_LIMITS.maxFileBytes + 1));
    expect(response.status).toBe(413);
    expect((await errorOf(response)).code).toBe('too_large');
    expect(readdirSync(ws)).toEqual(['kept.bin']);
    expect(readFileSync(join(ws, 'kept.bin'), 'utf8')).toBe('old content');
  });
});

describe('archives', () => {
  function makeTree(root: string) {
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'private'), { mode: 0o700 });
    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, 'README.md'), '# hello\n', { mode: 0o644 });
    writeFileSync(join(root, 'bin/run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
    writeFileSync(join(root, 'private/key'), randomBytes(5000), { mode: 0o600 });
    writeFileSync(join(root, 'bin/data'), randomBytes(70_000), { mode: 0o640 });
    symlinkSync('bin/run.sh', join(root, 'run'));
    execFileSync('chmod', ['0755', join(root, 'bin/run.sh')]);
  }

  /** Every entry under root: relative path → type, mode, content or link target. */
  function snapshot(root: string, prefix = ''): Record<string, string> {
    const result: Record<string, string> = {};
    for (const name of readdirSync(join(root, prefix)).sort()) {
      const rel = join(prefix, name);
      const stats = lstatSync(join(root, rel));
      const mode = (stats.mode & 0o7777).toString(8);
      if (stats.isSymbolicLink()) result[rel] = `link ${readlinkSync(join(root, rel))}`;
      else if (stats.isDirectory()) Object.assign(result, { [rel]: `dir ${mode}` }, snapshot(root, rel));
      else result[rel] = `file ${mode} ${readFileSync(join(root, rel)).toString('base64')}`;
    }
    return result;
  }

  it('round-trips a folder: contents, modes (executables too) and symlinks', async () => {
    makeTree(join(ws, 'src'));
    const download = await get('archive', 'src');
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/x-tar');
    const tarball = Buffer.from(await download.arrayBuffer());
    // A real tar reads it too.
    const listed = execFileSync('tar', ['-tvf', '-'], { input: tarball }).toString();
    expect(listed).toMatch(/^-rwxr-xr-x .* \.\/bin\/run\.sh$/m);

    const upload = await put('archive', 'copies/dst', tarball);
    expect(upload.status).toBe(200);
    expect(((await upload.json()) as { entries: number }).entries).toBe(Object.keys(snapshot(join(ws, 'src'))).length + 1);
    expect(snapshot(join(ws, 'copies/dst'))).toEqual(snapshot(join(ws, 'src')));
    expect(snapshot(join(ws, 'copies/dst'))['bin/run.sh']).toMatch(/^file 755 /);
    expect((await put('archive', 'src/README.md', tarball)).status).toBe(400);
  });

  it('extracts archives made by the system tar, gzipped or not', async () => {
    const source = mkdtempSync(join(tmpdir(), 'lap-tar-src-'));
    try {
      makeTree(source);
      const plain = execFileSync('tar', ['-C', source, '-cf', '-', '.']);
      expect((await put('archive', 'plain', plain)).status).toBe(200);
      expect((await put('archive', 'gzipped', gzipSync(plain))).status).toBe(200);
      expect(snapshot(join(ws, 'plain'))).toEqual(snapshot(source));
      expect(snapshot(join(ws, 'gzipped'))).toEqual(snapshot(source));
    } finally {
      rmSync(source, { recursive: true, force: true });
    }
  });

  const escapeTarget = () => join(outside, 'evil');
  const malicious: [string, () => TarEntry[]][] = [
    ['a ../ entry', () => [file('ok.txt'), file('../outside/evil')]],
    ['an absolute entry', () => [file('ok.txt'), file(escapeTarget())]],
    ['a symlink to / then a file through it', () => [{ path: 'root', type: 'symlink', link: '/' }, file(`root${escapeTarget()}`)]],
    ['a relative symlink out then a file through it', () => [{ path: 'up', type: 'symlink', link: '../..' }, file('up/outside/evil')]],
    ['a hard link to a file outside', () => [{ path: 'hard', type: 'hardlink', link: '../outside/secret.txt' }]],
    ['a hard link to an absolute path', () => [{ path: 'hard', type: 'hardlink', link: join(outside, 'secret.txt') }]],
    ['a character device', () => [file('ok.txt'), { path: 'null', type: 'chardev' }]],
  ];

  it.each(malicious)('refuses %s and extracts nothing', async (_name, entries) => {
    const response = await put('archive', 'dst', tar(entries()));
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.code).toBe('invalid_archive');
    expect(error.message).toContain('nothing was extracted');
    expect(readdirSync(join(ws, 'dst'))).toEqual([]);
    expectOutsideUntouched();
  });

  it('will not extract through a symlink already on disk', async () => {
    mkdirSync(join(ws, 'dst'));
    symlinkSync(outside, join(ws, 'dst/escape'));
    const response = await put('archive', 'dst', tar([file('escape/evil')]));
    expect(response.status).toBe(403);
    expectOutsideUntouched();
  });

  it('keeps symlinks that stay inside and drops set-id bits', async () => {
    const response = await put('archive', 'dst', tar([{ path: 'sub/', type: 'dir' }, file('sub/tool', 0o4755), { path: 'sub/alias', type: 'symlink', link: '../sub/tool' }]));
    expect(response.status).toBe(200);
    expect(statSync(join(ws, 'dst/sub/tool')).mode & 0o7777).toBe(0o755);
    expect(readlinkSync(join(ws, 'dst/sub/alias'))).toBe('../sub/tool');
  });

  it('refuses a corrupt archive with 400', async () => {
    const response = await put('archive', 'dst', Buffer.from('this is not a tar archive at all'.repeat(40)));
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('invalid_archive');
  });
});

describe('small limits (routes mounted in-process)', () => {
  let workspace: string;
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'lap-files-limits-'));
    const routes = new Router().mount('/v1', fileRoutes({ workspace, events: new EventLog(), limits: { ...DEFAULT_LIMITS, maxFileBytes: 1000, maxArchiveBytes: 10_000 }, claim: null, terminal: null }));
    const server = createRouterServer(routes);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });

  afterAll(() => {
    close?.();
    rmSync(workspace, { recursive: true, force: true });
  });

  /** A body sent chunked, without content-length, so only the streaming check can catch it. */
  function chunked(bytes: Buffer): RequestInit {
    return { method: 'PUT', body: new Blob([new Uint8Array(bytes)]).stream(), duplex: 'half' } as RequestInit;
  }

  it('accepts a file at the limit and refuses one byte more, announced or streamed', async () => {
    expect((await fetch(`${url}/v1/files?path=at-limit`, { method: 'PUT', body: Buffer.alloc(1000) })).status).toBe(201);
    expect((await fetch(`${url}/v1/files?path=over`, { method: 'PUT', body: Buffer.alloc(1001) })).status).toBe(413);
    expect((await fetch(`${url}/v1/files?path=over`, chunked(Buffer.alloc(5000)))).status).toBe(413);
    expect(readdirSync(workspace)).toEqual(['at-limit']);
  });

  it('refuses an archive over the limit, and one whose content would exceed it (gzip bomb)', async () => {
    const big = tar([file('big', 0o644, Buffer.alloc(20_000))]);
    expect((await fetch(`${url}/v1/archive?path=a`, { method: 'PUT', body: new Uint8Array(big) })).status).toBe(413);
    expect((await fetch(`${url}/v1/archive?path=b`, chunked(big))).status).toBe(413);
    const bomb = gzipSync(big);
    expect(bomb.length).toBeLessThan(10_000);
    expect((await fetch(`${url}/v1/archive?path=c`, { method: 'PUT', body: new Uint8Array(bomb) })).status).toBe(413);
    expect(readdirSync(workspace).filter((n) => n !== 'at-limit').flatMap((d) => readdirSync(join(workspace, d)))).toEqual([]);
  });
});

// ---- a minimal ustar writer, so tests can build archives no well-behaved tool would make ----------

interface TarEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev';
  mode?: number;
  content?: Buffer;
  link?: string;
}

function file(path: string, mode = 0o644, content = Buffer.from(`content of ${path}\n`)): TarEntry {
  return { path, type: 'file', mode, content };
}

const TYPE_FLAGS = { file: '0', hardlink: '1', symlink: '2', chardev: '3', dir: '5' } as const;

function tar(entries: TarEntry[]): Buffer {
  const blocks = entries.flatMap((entry) => {
    const content = entry.content ?? Buffer.alloc(0);
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string) => header.write(value, offset, length, 'utf8');
    const octal = (offset: number, length: number, value: number) => field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
    field(0, 100, entry.path);
    octal(100, 8, entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, content.length);
    octal(136, 12, Math.floor(Date.now() / 1000));
    field(148, 8, ' '.repeat(8));
    field(156, 1, TYPE_FLAGS[entry.type]);
    field(157, 100, entry.link ?? '');
    field(257, 8, 'ustar\x0000');
    const checksum = header.reduce((sum, byte) => sum + byte, 0);
    field(148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
    const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
    return [header, content, padding];
  });
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

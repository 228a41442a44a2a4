// The gateway's SQLite store, on a real database file in a temp dir: every method, encryption at rest
// (checked against the raw file bytes), the key's sources, migrations, and concurrent warm claims.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DecryptError, loadSecretKey } from '../../gateway/store/crypto.ts';
import { newId, newSandboxId } from '../../gateway/store/ids.ts';
import { migrate, migrations, userVersion } from '../../gateway/store/migrations.ts';
import { openStore } from '../../gateway/store/sqlite.ts';
import { StoreConflict, StoreInvalidInput, type AgentInput, type Store } from '../../gateway/store/types.ts';

const SQLITE_MODULE = new URL('../../gateway/store/sqlite.ts', import.meta.url).pathname;

const cleanups: (() => void)[] = [];
afterEach(() => {
  vi.useRealTimers();
  while (cleanups.length > 0) cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lap-store-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dataDir = join(tempDir(), 'data'), secretKey = randomBytes(32)) {
  const store = openStore({ dataDir, secretKey });
  cleanups.push(() => store.close());
  return { store, dataDir, secretKey, dbPath: join(dataDir, 'lap.db') };
}

/** A second, plain connection to the same file, for looking under the store. */
function raw(dbPath: string): DatabaseSync {
  const db = new DatabaseSync(dbPath, { timeout: 5_000 });
  cleanups.push(() => db.isOpen && db.close());
  return db;
}

/** Everything on disk: the database file and its write-ahead log. */
function fileBytes(dbPath: string): Buffer {
  const parts = [dbPath, `${dbPath}-wal`].filter(existsSync).map((path) => readFileSync(path));
  return Buffer.concat(parts);
}

function agentInput(name: string, overrides: Partial<AgentInput> = {}): AgentInput {
  return {
    name,
    harness: 'shell',
    model: 'claude-sonnet',
    prompt: 'fix the bug',
    repository: 'https://github.com/example/repo',
    branch: 'main',
    envVars: { LOG_LEVEL: 'debug' },
    credentials: [{ name: 'GITHUB_TOKEN', secret: 'github', hosts: ['api.github.com'], places: ['header'] }],
    egressPolicy: { default: 'deny', allow: ['github.com'], deny: [], allowPrivate: [] },
    idleTimeoutSeconds: 3600,
    ...overrides,
  };
}

function newSession(store: Store, overrides: { agentId?: string; ownerKeyId?: string } = {}, envVars: Record<string, string> = {}) {
  return store.sessions.create(
    { agentId: overrides.agentId ?? 'agt_0000000000000001', ownerKeyId: overrides.ownerKeyId ?? 'key_0000000000000001', title: 'a title', harness: 'shell' },
    envVars,
  );
}

function putWarm(store: Store, harness: string, createdAt: string) {
  const id = newSandboxId();
  store.sandboxes.put({ id, harness, state: 'warm', sessionId: null, handle: { token: `tok-${id}` }, createdAt });
  return id;
}

describe('ids', () => {
  it('have the documented shapes', () => {
    expect(newId('key')).toMatch(/^key_[0-9a-f]{16}$/);
    expect(newId('ses')).toMatch(/^ses_[0-9a-f]{16}$/);
    expect(newSandboxId()).toMatch(/^sb[0-9a-f]{10}$/);
  });
});

describe('opening', () => {
  it('creates the data dir 0700 and a 0600 database in WAL mode with foreign keys on', () => {
    const { dbPath, dataDir } = open(join(tempDir(), 'nested', 'data'));
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(dbPath).mode & 0o777).toBe(0o600);
    const db = raw(dbPath);
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(userVersion(db)).toBe(migrations.length);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => openStore({ dataDir: tempDir(), secretKey: randomBytes(16) })).toThrow(/secretKey must be 32 bytes/);
  });
});

describe('apiKeys', () => {
  it('creates a key whose token is shown once and stored only as a SHA-256', () => {
    const { store, dbPath } = open();
    const { record, token } = store.apiKeys.create('ci', false);
    expect(token).toMatch(/^lap_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ name: 'ci', admin: false, prefix: token.slice(4, 12), revokedAt: null, lastUsedAt: null });
    expect(record.id).toMatch(/^key_[0-9a-f]{16}$/);
    expect(store.apiKeys.get(record.id)).toEqual(record);
    expect(store.apiKeys.list()).toEqual([record]);
    expect(fileBytes(dbPath).includes(token)).toBe(false);
    expect(fileBytes(dbPath).includes(token.slice(4))).toBe(false);
  });

  it('authenticates a token and ignores unknown, malformed and revoked ones', () => {
    const { store } = open();
    const admin = store.apiKeys.create('admin', true);
    const other = store.apiKeys.create('other', false);
    expect(store.apiKeys.authenticate(admin.token)).toMatchObject({ id: admin.record.id, admin: true });
    expect(store.apiKeys.authenticate(`lap_${randomBytes(32).toString('base64url')}`)).toBeUndefined();
    expect(store.apiKeys.authenticate('lap_short')).toBeUndefined();
    expect(store.apiKeys.authenticate(admin.token.toUpperCase())).toBeUndefined();
    expect(store.apiKeys.authenticate('')).toBeUndefined();

    expect(store.apiKeys.revoke(other.record.id)).toBe(true);
    expect(store.apiKeys.authenticate(other.token)).toBeUndefined();
    const revoked = store.apiKeys.get(other.record.id)!;
    expect(revoked.revokedAt).not.toBeNull();
    expect(store.apiKeys.revoke(other.record.id)).toBe(true);
    expect(store.apiKeys.get(other.record.id)!.revokedAt).toBe(revoked.revokedAt);
    expect(store.apiKeys.revoke('key_ffffffffffffffff')).toBe(false);
    expect(store.apiKeys.authenticate(admin.token)).toBeDefined();
  });

  it('records last use at most once a minute', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00.000Z'));
    const { store } = open();
    const { record, token } = store.apiKeys.create('ci', false);
    expect(store.apiKeys.authenticate(token)!.lastUsedAt).toBe('2030-01-01T00:00:00.000Z');
    vi.setSystemTime(new Date('2030-01-01T00:00:59.000Z'));
    expect(store.apiKeys.authenticate(token)!.lastUsedAt).toBe('2030-01-01T00:00:00.000Z');
    vi.setSystemTime(new Date('2030-01-01T00:01:00.000Z'));
    expect(store.apiKeys.authenticate(token)!.lastUsedAt).toBe('2030-01-01T00:01:00.000Z');
    expect(store.apiKeys.get(record.id)!.lastUsedAt).toBe('2030-01-01T00:01:00.000Z');
  });
});

describe('secrets', () => {
  it('puts, gets, reveals, lists and deletes', () => {
    const { store } = open();
    const github = store.secrets.put('github', 'ghp_first');
    expect(github.id).toMatch(/^sec_[0-9a-f]{16}$/);
    expect(github).toMatchObject({ name: 'github' });
    expect(github).not.toHaveProperty('value');
    store.secrets.put('anthropic', 'sk-ant-x');
    expect(store.secrets.get('github')).toEqual(github);
    expect(store.secrets.reveal('github')).toBe('ghp_first');
    expect(store.secrets.list().map((s) => s.name)).toEqual(['anthropic', 'github']);
    expect(store.secrets.reveal('missing')).toBeUndefined();
    expect(store.secrets.get('missing')).toBeUndefined();
    expect(store.secrets.delete('anthropic')).toBe(true);
    expect(store.secrets.delete('anthropic')).toBe(false);
    expect(store.secrets.list().map((s) => s.name)).toEqual(['github']);
  });

  it('put on an existing name replaces the value and keeps the record', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00.000Z'));
    const { store } = open();
    const first = store.secrets.put('github', 'ghp_first');
    vi.setSystemTime(new Date('2030-01-02T00:00:00.000Z'));
    const second = store.secrets.put('github', 'ghp_second');
    expect(second).toEqual({ ...first, updatedAt: '2030-01-02T00:00:00.000Z' });
    expect(store.secrets.reveal('github')).toBe('ghp_second');
    expect(store.secrets.list()).toHaveLength(1);
  });

  it('round-trips any string value', () => {
    const { store } = open();
    const anyUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 300 });
    const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), anyUtf16, fc.constantFrom('', '\0', 'a\0b', '🔑🦀👩‍👩‍👧', '\ud800'));
    fc.assert(
      fc.property(value, (secret) => {
        store.secrets.put('prop', secret);
        expect(store.secrets.reveal('prop')).toBe(secret);
      }),
      { numRuns: 300 },
    );
    const big = randomBytes(48 * 1024).toString('base64'); // 64 KiB of text
    store.secrets.put('big', big);
    expect(store.secrets.reveal('big')).toBe(big);
    const bigUnicode = '🔑\0é'.repeat(16 * 1024);
    store.secrets.put('big', bigUnicode);
    expect(store.secrets.reveal('big')).toBe(bigUnicode);
  });
});

describe('agents', () => {
  it('creates, gets by id or name, lists, updates and deletes', () => {
    const { store } = open();
    const agent = store.agents.create(agentInput('reviewer'));
    expect(agent.id).toMatch(/^agt_[0-9a-f]{16}$/);
    expect(agent).toMatchObject(agentInput('reviewer'));
    expect(store.agents.get(agent.id)).toEqual(agent);
    expect(store.agents.get('reviewer')).toEqual(agent);
    expect(store.agents.get('nobody')).toBeUndefined();

    const plain = store.agents.create(agentInput('plain', { model: null, prompt: null, repository: null, branch: null, egressPolicy: null, envVars: {}, credentials: [] }));
    expect(store.agents.get('plain')).toEqual(plain);
    expect(store.agents.list().map((a) => a.name)).toEqual(['reviewer', 'plain']);

    const updated = store.agents.update(agent.id, agentInput('reviewer-2', { idleTimeoutSeconds: 60, model: null }));
    expect(updated).toMatchObject({ id: agent.id, name: 'reviewer-2', idleTimeoutSeconds: 60, model: null, createdAt: agent.createdAt });
    expect(store.agents.get('reviewer')).toBeUndefined();
    expect(store.agents.update('agt_ffffffffffffffff', agentInput('x'))).toBeUndefined();

    expect(store.agents.delete(plain.id)).toBe(true);
    expect(store.agents.delete(plain.id)).toBe(false);
    expect(store.agents.list().map((a) => a.id)).toEqual([agent.id]);
  });

  it('refuses a duplicate name with StoreConflict on the name field', () => {
    const { store } = open();
    store.agents.create(agentInput('taken'));
    const other = store.agents.create(agentInput('free'));
    const conflict = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const error of [conflict(() => store.agents.create(agentInput('taken'))), conflict(() => store.agents.update(other.id, agentInput('taken')))]) {
      expect(error).toBeInstanceOf(StoreConflict);
      expect(error).toMatchObject({ field: 'name', message: expect.stringContaining('"taken"') });
    }
    expect(store.agents.get(other.id)!.name).toBe('free');
  });

  it('prefers an id over a name that spells it', () => {
    const { store } = open();
    const target = store.agents.create(agentInput('target'));
    store.agents.create(agentInput(target.id));
    expect(store.agents.get(target.id)!.name).toBe('target');
  });

  it('can be deleted while its sessions keep its id', () => {
    const { store } = open();
    const agent = store.agents.create(agentInput('gone'));
    const session = newSession(store, { agentId: agent.id });
    expect(store.agents.delete(agent.id)).toBe(true);
    expect(store.sessions.get(session.id)!.agentId).toBe(agent.id);
  });
});

describe('sessions', () => {
  it('creates in creating, gets, updates, reports live ones and counts by status', () => {
    const { store } = open();
    const session = newSession(store, {}, { GITHUB_TOKEN: 'ghp_x' });
    expect(session).toMatchObject({ status: 'creating', warm: false, sandboxId: null, failureReason: null, readyAt: null, endedAt: null, title: 'a title', harness: 'shell' });
    expect(session.id).toMatch(/^ses_[0-9a-f]{16}$/);
    expect(session.lastActivityAt).toBe(session.createdAt);
    expect(store.sessions.get(session.id)).toEqual(session);
    expect(store.sessions.get('ses_ffffffffffffffff')).toBeUndefined();
    expect(store.sessions.revealEnvVars(session.id)).toEqual({ GITHUB_TOKEN: 'ghp_x' });
    expect(() => store.sessions.revealEnvVars('ses_ffffffffffffffff')).toThrow(StoreInvalidInput);

    const ready = store.sessions.update(session.id, { status: 'ready', warm: true, sandboxId: 'sb0123456789', readyAt: '2030-01-01T00:00:00.000Z' });
    expect(ready).toMatchObject({ status: 'ready', warm: true, sandboxId: 'sb0123456789', readyAt: '2030-01-01T00:00:00.000Z', failureReason: null });
    const failed = newSession(store);
    store.sessions.update(failed.id, { status: 'failed', failureReason: 'vault died', endedAt: '2030-01-01T00:00:01.000Z' });
    expect(store.sessions.get(failed.id)).toMatchObject({ status: 'failed', failureReason: 'vault died', endedAt: '2030-01-01T00:00:01.000Z' });
    const creating = newSession(store);
    expect(store.sessions.update(creating.id, { lastActivityAt: '2030-01-01T00:00:02.000Z' })!.lastActivityAt).toBe('2030-01-01T00:00:02.000Z');
    expect(store.sessions.update(creating.id, { sandboxId: null })!.sandboxId).toBeNull();
    expect(store.sessions.update('ses_ffffffffffffffff', { status: 'dead' })).toBeUndefined();

    expect(store.sessions.live().map((s) => s.id).sort()).toEqual([session.id, creating.id].sort());
    expect(store.sessions.countByStatus()).toEqual({ ready: 1, failed: 1, creating: 1 });
  });

  it('deleting a session deletes its events and cursors', () => {
    const { store, dbPath } = open();
    const session = newSession(store);
    const kept = newSession(store);
    store.events.append(session.id, 'status', { status: 'ready' });
    store.events.append(kept.id, 'status', { status: 'ready' });
    store.events.setCursor(session.id, 'vault', 7);
    expect(store.sessions.delete(session.id)).toBe(true);
    expect(store.sessions.delete(session.id)).toBe(false);
    const db = raw(dbPath);
    expect(db.prepare('SELECT session_id FROM session_events').all()).toEqual([{ session_id: kept.id }]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM event_cursors').get()).toEqual({ n: 0 });
    expect(store.events.lastSeq(session.id)).toBe(0);
  });

  it('lists newest first with filters', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { store } = open();
    const made = ['key_a', 'key_b', 'key_a', 'key_b'].map((owner, index) => {
      vi.setSystemTime(new Date(Date.UTC(2030, 0, 1, 0, 0, index)));
      return newSession(store, { ownerKeyId: owner, agentId: index < 2 ? 'agt_one' : 'agt_two' });
    });
    store.sessions.update(made[0]!.id, { status: 'ready' });
    const ids = (filter: Parameters<Store['sessions']['list']>[0]) => store.sessions.list(filter).sessions.map((s) => s.id);
    expect(ids({ limit: 10 })).toEqual([made[3]!.id, made[2]!.id, made[1]!.id, made[0]!.id]);
    expect(ids({ limit: 10, ownerKeyId: 'key_a' })).toEqual([made[2]!.id, made[0]!.id]);
    expect(ids({ limit: 10, agentId: 'agt_two' })).toEqual([made[3]!.id, made[2]!.id]);
    expect(ids({ limit: 10, status: 'ready' })).toEqual([made[0]!.id]);
    expect(ids({ limit: 10, ownerKeyId: 'key_b', agentId: 'agt_one', status: 'creating' })).toEqual([made[1]!.id]);
    expect(store.sessions.list({ limit: 4 }).next).toBeNull();
  });

  it('paging walks every session exactly once, also when many share a timestamp', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { store } = open();
    const all = new Set<string>();
    for (let index = 0; index < 53; index++) {
      vi.setSystemTime(new Date(Date.UTC(2030, 0, 1, 0, 0, Math.floor(index / 10)))); // ten per second
      all.add(newSession(store, { ownerKeyId: index % 2 === 0 ? 'key_even' : 'key_odd' }).id);
    }
    for (const [filter, expected] of [[{}, 53], [{ ownerKeyId: 'key_even' }, 27]] as const) {
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 100; page++) {
        const { sessions, next } = store.sessions.list({ ...filter, limit: 7, after });
        seen.push(...sessions.map((s) => s.id));
        if (next === null) break;
        expect(next).toBe(sessions.at(-1)!.id);
        after = next;
      }
      expect(seen).toHaveLength(expected);
      expect(new Set(seen).size).toBe(expected);
      const newestFirst = seen
        .map((id) => store.sessions.get(id)!)
        .sort((a, b) => (a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt)))
        .map((s) => s.id);
      expect(seen).toEqual(newestFirst);
    }
  });

  it('names the field for a bad limit or an unknown cursor', () => {
    const { store } = open();
    newSession(store);
    expect(() => store.sessions.list({ limit: 0 })).toThrow(expect.objectContaining({ field: 'limit' }));
    expect(() => store.sessions.list({ limit: 1.5 })).toThrow(StoreInvalidInput);
    expect(() => store.sessions.list({ limit: 5, after: 'ses_ffffffffffffffff' })).toThrow(expect.objectContaining({ field: 'after' }));
  });
});

describe('events', () => {
  it('appends with consecutive seqs per session and reads them back', () => {
    const { store } = open();
    const one = newSession(store);
    const two = newSession(store);
    expect(store.events.lastSeq(one.id)).toBe(0);
    const first = store.events.append(one.id, 'status', { status: 'creating' }, '2030-01-01T00:00:00.000Z');
    expect(first).toEqual({ sessionId: one.id, seq: 1, ts: '2030-01-01T00:00:00.000Z', type: 'status', data: { status: 'creating' } });
    expect(store.events.append(two.id, 'status', {}).seq).toBe(1);
    for (let index = 2; index <= 10; index++) expect(store.events.append(one.id, 'message', { index }).seq).toBe(index);
    expect(store.events.lastSeq(one.id)).toBe(10);
    expect(store.events.since(one.id, 0, 3, undefined).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(store.events.since(one.id, 8, 100).map((e) => e.data)).toEqual([{ index: 9 }, { index: 10 }]);
    expect(store.events.since(one.id, 10, 100)).toEqual([]);
    expect(store.events.append(one.id, 'ts', {}).ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('filters by a literal, case-sensitive type prefix', () => {
    const { store } = open();
    const { id } = newSession(store);
    for (const type of ['vault.request', 'vault_block', 'vaultXblock', 'Vault.request', 'vault%x', 'message.delta', 'vault.block']) {
      store.events.append(id, type, {});
    }
    const types = (prefix: string) => store.events.since(id, 0, 100, prefix).map((e) => e.type);
    expect(types('vault.')).toEqual(['vault.request', 'vault.block']);
    expect(types('vault_')).toEqual(['vault_block']);
    expect(types('vault%')).toEqual(['vault%x']);
    expect(types('message')).toEqual(['message.delta']);
    expect(types('vault.').length + types('Vault').length).toBe(3);
    expect(store.events.since(id, 1, 1, 'vault.').map((e) => e.seq)).toEqual([7]);
  });

  it('keeps per-source cursors', () => {
    const { store } = open();
    const { id } = newSession(store);
    expect(store.events.cursor(id, 'agent')).toBe(0);
    store.events.setCursor(id, 'agent', 5);
    store.events.setCursor(id, 'vault', 9);
    store.events.setCursor(id, 'agent', 6);
    expect(store.events.cursor(id, 'agent')).toBe(6);
    expect(store.events.cursor(id, 'vault')).toBe(9);
  });

  it('refuses events and cursors for an unknown session, naming it', () => {
    const { store } = open();
    expect(() => store.events.append('ses_ffffffffffffffff', 'x', {})).toThrow(/no session ses_ffffffffffffffff/);
    expect(() => store.events.setCursor('ses_ffffffffffffffff', 'agent', 1)).toThrow(StoreInvalidInput);
  });

  it('two store instances appending to one session never reuse a seq', () => {
    const { store, dataDir, secretKey } = open();
    const other = open(dataDir, secretKey).store;
    const { id } = newSession(store);
    const seqs = Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? store : other).events.append(id, 'tick', { index }).seq);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
  });
});

describe('sandboxes', () => {
  it('puts, gets, lists, updates and deletes, with the handle round-tripping', () => {
    const { store } = open();
    const handle = { pid: 42, agentToken: 'a'.repeat(64), nested: { ports: [1, 2] } };
    store.sandboxes.put({ id: 'sb0000000001', harness: 'shell', state: 'starting', sessionId: null, handle, createdAt: '2030-01-01T00:00:00.000Z' });
    expect(store.sandboxes.get('sb0000000001')).toEqual({ id: 'sb0000000001', harness: 'shell', state: 'starting', sessionId: null, handle, createdAt: '2030-01-01T00:00:00.000Z' });
    store.sandboxes.update('sb0000000001', { state: 'warm' });
    expect(store.sandboxes.get('sb0000000001')).toMatchObject({ state: 'warm', handle });
    store.sandboxes.update('sb0000000001', { handle: { pid: 43 }, sessionId: 'ses_0000000000000001', state: 'claimed' });
    expect(store.sandboxes.get('sb0000000001')).toMatchObject({ state: 'claimed', sessionId: 'ses_0000000000000001', handle: { pid: 43 } });
    store.sandboxes.update('sb0000000001', { sessionId: null });
    expect(store.sandboxes.get('sb0000000001')!.sessionId).toBeNull();
    store.sandboxes.put({ id: 'sb0000000002', harness: 'codex', state: 'warm', sessionId: null, handle: null, createdAt: '2030-01-01T00:00:01.000Z' });
    expect(store.sandboxes.list().map((s) => s.id)).toEqual(['sb0000000001', 'sb0000000002']);
    expect(store.sandboxes.delete('sb0000000001')).toBe(true);
    expect(store.sandboxes.delete('sb0000000001')).toBe(false);
    expect(store.sandboxes.get('sb0000000001')).toBeUndefined();
  });

  it('claimWarm takes the oldest warm sandbox of that harness and never the same one twice', () => {
    const { store } = open();
    const shells = Array.from({ length: 30 }, (_, index) => putWarm(store, 'shell', new Date(Date.UTC(2030, 0, 1, 0, 0, 30 - index)).toISOString()));
    putWarm(store, 'codex', '2029-01-01T00:00:00.000Z');
    store.sandboxes.put({ id: 'sbstarting01', harness: 'shell', state: 'starting', sessionId: null, handle: null, createdAt: '2000-01-01T00:00:00.000Z' });
    const claimed: string[] = [];
    for (let index = 0; index < 40; index++) {
      const sandbox = store.sandboxes.claimWarm('shell', `ses_${index}`);
      if (!sandbox) break;
      expect(sandbox).toMatchObject({ state: 'claimed', sessionId: `ses_${index}`, handle: { token: `tok-${sandbox.id}` } });
      claimed.push(sandbox.id);
    }
    expect(claimed).toEqual([...shells].reverse());
    expect(store.sandboxes.claimWarm('shell', 'ses_late')).toBeUndefined();
    expect(store.sandboxes.get('sbstarting01')!.state).toBe('starting');
    expect(store.sandboxes.claimWarm('codex', 'ses_codex')!.harness).toBe('codex');
  });

  it('two store instances on one file never claim the same sandbox', () => {
    const { store, dataDir, secretKey } = open();
    const other = open(dataDir, secretKey).store;
    const warm = Array.from({ length: 50 }, () => putWarm(store, 'shell', new Date().toISOString()));
    const claimed: string[] = [];
    for (let index = 0; index < 60; index++) {
      const sandbox = (index % 2 === 0 ? store : other).sandboxes.claimWarm('shell', `ses_${index}`);
      if (sandbox) claimed.push(sandbox.id);
    }
    expect(claimed.sort()).toEqual([...warm].sort());
  });

  it('concurrent processes claiming from one pool each get distinct sandboxes, all of them', async () => {
    const { store, dataDir, secretKey } = open();
    const warm = Array.from({ length: 1000 }, () => putWarm(store, 'shell', new Date().toISOString()));
    const results = await runClaimers(4, dataDir, secretKey);
    const everyClaim = results.flatMap((r) => r.claimed);
    expect(everyClaim).toHaveLength(warm.length);
    expect(new Set(everyClaim)).toEqual(new Set(warm));
    for (const { pid, claimed } of results) {
      for (const id of claimed) expect(store.sandboxes.get(id)).toMatchObject({ state: 'claimed', sessionId: `ses_${pid}` });
    }
  });
});

interface ClaimerResult {
  pid: number;
  claimed: string[];
}

/** Processes that each open the store and, once all of them have, claim warm sandboxes until none is left. */
async function runClaimers(count: number, dataDir: string, secretKey: Buffer): Promise<ClaimerResult[]> {
  const script = `
    const { openStore } = await import(${JSON.stringify(SQLITE_MODULE)});
    const store = openStore({ dataDir: process.argv[1], secretKey: Buffer.from(process.argv[2], 'hex') });
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    const claimed = [];
    for (let sandbox; (sandbox = store.sandboxes.claimWarm('shell', 'ses_' + process.pid)); ) claimed.push(sandbox.id);
    store.close();
    process.stdout.write(JSON.stringify({ pid: process.pid, claimed }));
    process.exit(0);`;
  const claimers = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, dataDir, secretKey.toString('hex')], { timeout: 60_000 });
    cleanups.push(() => child.exitCode === null && child.kill());
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.startsWith('ready\n')) resolve();
      }),
    );
    const done = new Promise<ClaimerResult>((resolve, reject) =>
      child.on('close', (code) =>
        code === 0 ? resolve(JSON.parse(stdout.slice('ready\n'.length))) : reject(new Error(`claimer exited with ${code}: ${stderr}`)),
      ),
    );
    return { child, ready, done };
  });
  // A claimer that dies before it is ready fails the test at once instead of leaving the others waiting.
  await Promise.race([Promise.all(claimers.map((c) => c.ready)), ...claimers.map((c) => c.done)]);
  for (const { child } of claimers) child.stdin.end('go\n');
  return Promise.all(claimers.map((c) => c.done));
}

describe('encryption at rest', () => {
  it('secret values, session env_vars and sandbox handles are not in the database files', () => {
    const { store, dbPath } = open();
    const secretValue = `ghp_${randomBytes(16).toString('hex')}`;
    const envValue = `sk-ant-${randomBytes(16).toString('hex')}`;
    const handleToken = `tok_${randomBytes(16).toString('hex')}`;
    store.secrets.put('visible-secret-name', secretValue);
    const session = newSession(store, {}, { VISIBLE_ENV_NAME: envValue });
    store.sandboxes.put({ id: 'sb00000000aa', harness: 'shell', state: 'warm', sessionId: null, handle: { token: handleToken }, createdAt: new Date().toISOString() });
    const check = () => {
      const bytes = fileBytes(dbPath);
      // The search works: the plain names are found...
      expect(bytes.includes('visible-secret-name')).toBe(true);
      expect(bytes.includes(session.id)).toBe(true);
      // ...and the values are not, in UTF-8 or UTF-16.
      for (const value of [secretValue, envValue, handleToken, 'VISIBLE_ENV_NAME']) {
        expect(bytes.includes(value)).toBe(false);
        expect(bytes.includes(Buffer.from(value, 'utf16le'))).toBe(false);
      }
    };
    check();
    store.close(); // checkpoints the log into the main file
    check();
  });

  it('a ciphertext copied to another row fails to decrypt with a clear error', () => {
    const { store, dbPath } = open();
    store.secrets.put('source', 'value-of-source');
    const target = store.secrets.put('target', 'value-of-target');
    const from = newSession(store, {}, { A: 'one' });
    const to = newSession(store, {}, { B: 'two' });
    const db = raw(dbPath);
    db.prepare("UPDATE secrets SET value_sealed = (SELECT value_sealed FROM secrets WHERE name = 'source') WHERE name = 'target'").run();
    db.prepare('UPDATE sessions SET env_vars_sealed = (SELECT env_vars_sealed FROM sessions WHERE id = ?) WHERE id = ?').run(from.id, to.id);
    expect(() => store.secrets.reveal('target')).toThrow(DecryptError);
    expect(() => store.secrets.reveal('target')).toThrow(`cannot decrypt secrets.value/${target.id}`);
    expect(() => store.sessions.revealEnvVars(to.id)).toThrow(/cannot decrypt sessions\.env_vars\/ses_.*copied from another record/);
    expect(store.secrets.reveal('source')).toBe('value-of-source');
    expect(store.sessions.revealEnvVars(from.id)).toEqual({ A: 'one' });
  });

  it('round-trips session env_vars of any content', () => {
    const { store } = open();
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 200 }), { maxKeys: 8 }), (envVars) => {
        const { id } = newSession(store, {}, envVars);
        expect(store.sessions.revealEnvVars(id)).toEqual(envVars);
      }),
      { numRuns: 100 },
    );
  });
});

describe('reopening', () => {
  it('with the same key reads everything back', () => {
    const first = open();
    const { store } = first;
    const key = store.apiKeys.create('ci', true);
    store.secrets.put('github', 'ghp_kept');
    const agent = store.agents.create(agentInput('kept'));
    const session = newSession(store, { agentId: agent.id }, { TOKEN: 'env-kept' });
    store.events.append(session.id, 'status', { status: 'ready' });
    store.events.setCursor(session.id, 'agent', 3);
    store.sandboxes.put({ id: 'sb00000000bb', harness: 'shell', state: 'warm', sessionId: null, handle: { token: 't' }, createdAt: new Date().toISOString() });
    store.close();

    const again = openStore({ dataDir: first.dataDir, secretKey: first.secretKey });
    cleanups.push(() => again.close());
    expect(again.apiKeys.authenticate(key.token)!.id).toBe(key.record.id);
    expect(again.secrets.reveal('github')).toBe('ghp_kept');
    expect(again.agents.get('kept')).toEqual(agent);
    expect(again.sessions.get(session.id)).toEqual(session);
    expect(again.sessions.revealEnvVars(session.id)).toEqual({ TOKEN: 'env-kept' });
    expect(again.events.since(session.id, 0, 10)).toHaveLength(1);
    expect(again.events.cursor(session.id, 'agent')).toBe(3);
    expect(again.sandboxes.get('sb00000000bb')!.handle).toEqual({ token: 't' });
    expect(userVersion(raw(first.dbPath))).toBe(migrations.length);
  });

  it('with a different key is refused at open, saying so', () => {
    const { store, dataDir } = open();
    store.secrets.put('github', 'ghp_x');
    store.close();
    expect(() => openStore({ dataDir, secretKey: randomBytes(32) })).toThrow(/secret key does not match the one .*lap\.db was created with/);
  });
});

describe('migrations', () => {
  it('run once: a reopen keeps user_version and an added migration applies exactly once', () => {
    const { store, dbPath, dataDir, secretKey } = open();
    store.secrets.put('kept', 'value');
    store.close();
    const withExtra = [...migrations, { name: 'test only', sql: "INSERT INTO meta (key, value) VALUES ('test-only', x'01')" }];
    const db = raw(dbPath);
    migrate(db, dbPath, withExtra);
    migrate(db, dbPath, withExtra); // a second insert would violate the primary key
    expect(userVersion(db)).toBe(migrations.length + 1);
    expect(db.prepare("SELECT COUNT(*) AS n FROM meta WHERE key = 'test-only'").get()).toEqual({ n: 1 });
    db.close();
    expect(() => open(dataDir, secretKey)).toThrow(/has schema version 2, but this LAP knows versions up to 1/);
  });

  it('refuses a database from a newer LAP without touching it', () => {
    const { store, dbPath, dataDir, secretKey } = open();
    store.secrets.put('kept', 'value');
    store.close();
    const db = raw(dbPath);
    db.exec('PRAGMA user_version = 99');
    db.close();
    expect(() => openStore({ dataDir, secretKey })).toThrow(/schema version 99.*newer LAP/);
    expect(userVersion(raw(dbPath))).toBe(99);
  });

  it('a failed migration leaves the version and schema as they were', () => {
    const { store, dbPath } = open();
    store.close();
    const db = raw(dbPath);
    const broken = [...migrations, { name: 'broken', sql: 'CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);' }];
    expect(() => migrate(db, dbPath, broken)).toThrow(/nowhere/);
    expect(userVersion(db)).toBe(migrations.length);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
  });
});

describe('loadSecretKey', () => {
  it('creates a 0600 key file on first use and reads the same key afterwards', () => {
    const keyFile = join(tempDir(), 'fresh', 'secret.key');
    const first = loadSecretKey({ keyFile });
    expect(first.created).toBe(true);
    expect(first.key).toHaveLength(32);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const second = loadSecretKey({ keyFile });
    expect(second).toEqual({ key: first.key, created: false });
  });

  it('refuses a key file that group or others can read, naming chmod 600', () => {
    const keyFile = join(tempDir(), 'secret.key');
    loadSecretKey({ keyFile });
    chmodSync(keyFile, 0o644);
    expect(() => loadSecretKey({ keyFile })).toThrow(`key file ${keyFile} is accessible by group or others (mode 0644); run: chmod 600 ${keyFile}`);
  });

  it('refuses a key file that does not hold a key', () => {
    const keyFile = join(tempDir(), 'secret.key');
    writeFileSync(keyFile, 'not a key\n', { mode: 0o600 });
    expect(() => loadSecretKey({ keyFile })).toThrow(`key file ${keyFile}: expected 32 bytes as base64 or hex; make one with: openssl rand -base64 32`);
  });

  it('takes the environment value as base64 or hex, before any key file', () => {
    const keyFile = join(tempDir(), 'never.key');
    const bytes = randomBytes(32);
    expect(loadSecretKey({ env: bytes.toString('base64'), keyFile })).toEqual({ key: bytes, created: false });
    expect(loadSecretKey({ env: `${bytes.toString('hex')}\n`, keyFile }).key).toEqual(bytes);
    expect(loadSecretKey({ env: bytes.toString('base64url'), keyFile }).key).toEqual(bytes);
    expect(existsSync(keyFile)).toBe(false);
  });

  it('refuses a malformed environment value, saying how to make one', () => {
    const keyFile = join(tempDir(), 'never.key');
    for (const env of ['hunter2', randomBytes(16).toString('base64'), randomBytes(31).toString('hex')]) {
      expect(() => loadSecretKey({ env, keyFile, envName: 'LAP_SECRET_KEY' })).toThrow(
        'LAP_SECRET_KEY: expected 32 bytes as base64 or hex; make one with: openssl rand -base64 32',
      );
    }
  });
});

// The schema, as an ordered list of migrations. PRAGMA user_version holds how many have been applied;
// each one runs in its own transaction together with the version bump, so a crash never leaves half a
// migration. Append new migrations at the end; never edit one that has shipped.
import type { DatabaseSync } from 'node:sqlite';
import { immediateTransaction } from './sql.ts';

export interface Migration {
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    name: 'initial schema',
    sql: `
      -- Small facts about the database itself, e.g. a sealed check value that proves the key matches.
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL
      ) STRICT;

      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        token_sha256 TEXT NOT NULL UNIQUE,
        admin INTEGER NOT NULL CHECK (admin IN (0, 1)),
        created_at TEXT NOT NULL,
        revoked_at TEXT,
        last_used_at TEXT
      ) STRICT;

      CREATE TABLE secrets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        value_sealed BLOB NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        harness TEXT NOT NULL,
        model TEXT,
        prompt TEXT,
        repository TEXT,
        branch TEXT,
        env_vars_json TEXT NOT NULL,
        credentials_json TEXT NOT NULL,
        egress_policy_json TEXT,
        idle_timeout_seconds INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      -- agent_id and owner_key_id carry no foreign key on purpose: deleting an agent or revoking a
      -- key keeps the ids on past sessions so their history stays readable.
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        owner_key_id TEXT NOT NULL,
        title TEXT,
        harness TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('creating', 'ready', 'failed', 'dead')),
        failure_reason TEXT,
        warm INTEGER NOT NULL CHECK (warm IN (0, 1)),
        sandbox_id TEXT,
        env_vars_sealed BLOB NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        ready_at TEXT,
        ended_at TEXT,
        last_activity_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX sessions_by_created ON sessions (created_at, id);
      CREATE INDEX sessions_by_owner ON sessions (owner_key_id, created_at, id);
      CREATE INDEX sessions_by_agent ON sessions (agent_id, created_at, id);
      CREATE INDEX sessions_by_status ON sessions (status, created_at, id);

      CREATE TABLE session_events (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        ts TEXT NOT NULL,
        type TEXT NOT NULL,
        data_json TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE event_cursors (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        source TEXT NOT NULL CHECK (source IN ('agent', 'vault')),
        seq INTEGER NOT NULL,
        PRIMARY KEY (session_id, source)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE sandboxes (
        id TEXT PRIMARY KEY,
        harness TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('starting', 'warm', 'claimed', 'stopping')),
        session_id TEXT,
        handle_sealed BLOB NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX sandboxes_by_pool ON sandboxes (harness, state, created_at, id);
    `,
  },
];

/** Brings the schema up to date; refuses a database written by a newer LAP. */
export function migrate(db: DatabaseSync, dbPath: string, list: readonly Migration[] = migrations): void {
  refuseNewerSchema(db, dbPath, list.length);
  list.forEach((migration, index) => {
    const target = index + 1;
    immediateTransaction(db, () => {
      // Re-read inside the write lock: another process may have applied it meanwhile.
      if (userVersion(db) >= target) return;
      db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${target}`);
    });
  });
}

export function userVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get();
  return Number(row?.user_version ?? 0);
}

function refuseNewerSchema(db: DatabaseSync, dbPath: string, known: number): void {
  const found = userVersion(db);
  if (found > known) {
    throw new Error(
      `${dbPath} has schema version ${found}, but this LAP knows versions up to ${known}: ` +
        'it was written by a newer LAP. Run that version, or point LAP at another data directory.',
    );
  }
}

// The Store on node:sqlite: one file, <dataDir>/lap.db, in WAL mode so readers never block the writer.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Store } from './types.ts';
import { agentTable } from './agents.ts';
import { apiKeyTable } from './api-keys.ts';
import { DecryptError, KEY_BYTES, seal, unseal } from './crypto.ts';
import { eventTable } from './events.ts';
import { migrate } from './migrations.ts';
import { sandboxTable } from './sandboxes.ts';
import { secretTable } from './secrets.ts';
import { sessionTable } from './sessions.ts';
import { bytes, immediateTransaction, statementCache, type TableContext } from './sql.ts';

const BUSY_TIMEOUT_MS = 5_000;
const KEY_CHECK = 'key_check';

export function openStore(opts: { dataDir: string; secretKey: Buffer }): Store {
  if (!Buffer.isBuffer(opts.secretKey) || opts.secretKey.length !== KEY_BYTES) {
    throw new Error(`secretKey must be ${KEY_BYTES} bytes`);
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const dbPath = join(opts.dataDir, 'lap.db');
  const db = new DatabaseSync(dbPath, { enableForeignKeyConstraints: true, timeout: BUSY_TIMEOUT_MS });
  try {
    chmodSync(dbPath, 0o600);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    migrate(db, dbPath);
    checkKey(db, dbPath, opts.secretKey);
  } catch (error) {
    db.close();
    throw error;
  }
  return composeStore({ db, sql: statementCache(db), key: opts.secretKey });
}

function composeStore(context: TableContext): Store {
  return {
    apiKeys: apiKeyTable(context),
    secrets: secretTable(context),
    agents: agentTable(context),
    sessions: sessionTable(context),
    events: eventTable(context),
    sandboxes: sandboxTable(context),
    close() {
      if (context.db.isOpen) context.db.close();
    },
  };
}

/** A sealed marker written on first open: a wrong key is refused at start, not at the first reveal. */
function checkKey(db: DatabaseSync, dbPath: string, key: Buffer): void {
  immediateTransaction(db, () => {
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(KEY_CHECK);
    if (!row) {
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(KEY_CHECK, seal(key, `meta/${KEY_CHECK}`, 'lap'));
      return;
    }
    try {
      unseal(key, `meta/${KEY_CHECK}`, bytes(row, 'value'));
    } catch (error) {
      if (!(error instanceof DecryptError)) throw error;
      throw new Error(
        `the secret key does not match the one ${dbPath} was created with: start with the original key ` +
          '(the same environment value or key file), or use a new data directory',
      );
    }
  });
}

// Running sandboxes (warm or claimed). The runtime's handle holds control tokens, so it is sealed.
import type { SQLInputValue } from 'node:sqlite';
import type { SandboxRecord, SandboxState, Store } from './types.ts';
import { sealJson, unsealJson } from './crypto.ts';
import { bytes, immediateTransaction, text, textOrNull, type Row, type TableContext } from './sql.ts';

const sealContext = (id: string) => `sandboxes.handle/${id}`;

export function sandboxTable({ db, sql, key }: TableContext): Store['sandboxes'] {
  const toSandbox = (row: Row): SandboxRecord => {
    const id = text(row, 'id');
    return {
      id,
      harness: text(row, 'harness'),
      state: text(row, 'state') as SandboxState,
      sessionId: textOrNull(row, 'session_id'),
      handle: unsealJson(key, sealContext(id), bytes(row, 'handle_sealed')),
      createdAt: text(row, 'created_at'),
    };
  };

  return {
    put(record) {
      sql(`INSERT INTO sandboxes (id, harness, state, session_id, handle_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET harness = excluded.harness, state = excluded.state,
             session_id = excluded.session_id, handle_sealed = excluded.handle_sealed, created_at = excluded.created_at`)
        .run(record.id, record.harness, record.state, record.sessionId,
          sealJson(key, sealContext(record.id), record.handle), record.createdAt);
    },

    get(id) {
      const row = sql('SELECT * FROM sandboxes WHERE id = ?').get(id);
      return row ? toSandbox(row) : undefined;
    },

    list() {
      return sql('SELECT * FROM sandboxes ORDER BY created_at, id').all().map(toSandbox);
    },

    update(id, fields) {
      const assignments: string[] = [];
      const params: Record<string, SQLInputValue> = { id };
      if (fields.state !== undefined) {
        assignments.push('state = $state');
        params.state = fields.state;
      }
      if (fields.sessionId !== undefined) {
        assignments.push('session_id = $session_id');
        params.session_id = fields.sessionId;
      }
      if (fields.handle !== undefined) {
        assignments.push('handle_sealed = $handle_sealed');
        params.handle_sealed = sealJson(key, sealContext(id), fields.handle);
      }
      if (assignments.length === 0) return;
      sql(`UPDATE sandboxes SET ${assignments.join(', ')} WHERE id = $id`).run(params);
    },

    delete(id) {
      return sql('DELETE FROM sandboxes WHERE id = ?').run(id).changes > 0;
    },

    claimWarm(harness, sessionId) {
      // One UPDATE under the write lock: two claimers (even in two processes) never get the same sandbox.
      const row = immediateTransaction(db, () =>
        sql(`UPDATE sandboxes SET state = 'claimed', session_id = $session_id
             WHERE id = (SELECT id FROM sandboxes WHERE harness = $harness AND state = 'warm'
                         ORDER BY created_at, id LIMIT 1)
             RETURNING *`).get({ harness, session_id: sessionId }),
      );
      return row ? toSandbox(row) : undefined;
    },
  };
}

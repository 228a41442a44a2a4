// Sessions: the record plus its env_vars, which are sealed because they hold real credential values.
import type { SQLInputValue } from 'node:sqlite';
import { type SessionFilter, type SessionRecord, type SessionStatus, type Store, StoreInvalidInput } from './types.ts';
import { sealJson, unsealJson } from './crypto.ts';
import { newId } from './ids.ts';
import { bytes, integer, now, text, textOrNull, type Row, type TableContext } from './sql.ts';

type SessionUpdate = Parameters<Store['sessions']['update']>[1];

const sealContext = (id: string) => `sessions.env_vars/${id}`;

const UPDATABLE_COLUMNS: Record<keyof SessionUpdate, string> = {
  status: 'status',
  failureReason: 'failure_reason',
  warm: 'warm',
  sandboxId: 'sandbox_id',
  readyAt: 'ready_at',
  endedAt: 'ended_at',
  lastActivityAt: 'last_activity_at',
};

export function sessionTable(context: TableContext): Store['sessions'] {
  const { sql, key } = context;
  const get = (id: string) => {
    const row = sql('SELECT * FROM sessions WHERE id = ?').get(id);
    return row ? toSession(row) : undefined;
  };

  return {
    create(fields, envVars) {
      const id = newId('ses');
      const at = now();
      sql(`INSERT INTO sessions (id, agent_id, owner_key_id, title, harness, status, warm, env_vars_sealed,
             created_at, updated_at, last_activity_at)
           VALUES (?, ?, ?, ?, ?, 'creating', 0, ?, ?, ?, ?)`)
        .run(id, fields.agentId, fields.ownerKeyId, fields.title, fields.harness,
          sealJson(key, sealContext(id), envVars), at, at, at);
      return get(id)!;
    },

    get,

    list: (filter) => listSessions(context, filter),

    live() {
      return sql("SELECT * FROM sessions WHERE status IN ('creating', 'ready') ORDER BY created_at, id").all().map(toSession);
    },

    update(id, fields) {
      const assignments = ['updated_at = $updated_at'];
      const params: Record<string, SQLInputValue> = { id, updated_at: now() };
      for (const [field, column] of Object.entries(UPDATABLE_COLUMNS)) {
        const value = fields[field as keyof SessionUpdate];
        if (value === undefined) continue;
        assignments.push(`${column} = $${column}`);
        params[column] = typeof value === 'boolean' ? Number(value) : value;
      }
      const { changes } = sql(`UPDATE sessions SET ${assignments.join(', ')} WHERE id = $id`).run(params);
      return changes > 0 ? get(id) : undefined;
    },

    revealEnvVars(id) {
      const row = sql('SELECT env_vars_sealed FROM sessions WHERE id = ?').get(id);
      if (!row) throw new StoreInvalidInput('id', `no session ${id}`);
      return unsealJson(key, sealContext(id), bytes(row, 'env_vars_sealed')) as Record<string, string>;
    },

    countByStatus() {
      const rows = sql('SELECT status, COUNT(*) AS count FROM sessions GROUP BY status').all();
      return Object.fromEntries(rows.map((row) => [text(row, 'status'), integer(row, 'count')]));
    },

    delete(id) {
      return sql('DELETE FROM sessions WHERE id = ?').run(id).changes > 0;
    },
  };
}

/** Newest first; `after` is the last id of the previous page, and `next` is set only when more rows exist. */
function listSessions({ sql }: TableContext, filter: SessionFilter): { sessions: SessionRecord[]; next: string | null } {
  if (!Number.isSafeInteger(filter.limit) || filter.limit < 1) {
    throw new StoreInvalidInput('limit', 'limit must be a positive integer');
  }
  const conditions: string[] = [];
  const params: Record<string, SQLInputValue> = { limit: filter.limit + 1 };
  const match = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    conditions.push(`${column} = $${column}`);
    params[column] = value;
  };
  match('owner_key_id', filter.ownerKeyId);
  match('agent_id', filter.agentId);
  match('status', filter.status);
  if (filter.after !== undefined) {
    const anchor = sql('SELECT created_at, id FROM sessions WHERE id = ?').get(filter.after);
    if (!anchor) throw new StoreInvalidInput('after', `unknown cursor ${filter.after}: no such session (it may have been deleted)`);
    conditions.push('(created_at, id) < ($after_created_at, $after_id)');
    params.after_created_at = text(anchor, 'created_at');
    params.after_id = text(anchor, 'id');
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const rows = sql(`SELECT * FROM sessions ${where} ORDER BY created_at DESC, id DESC LIMIT $limit`).all(params);
  const sessions = rows.slice(0, filter.limit).map(toSession);
  const more = rows.length > filter.limit;
  return { sessions, next: more ? sessions[sessions.length - 1]!.id : null };
}

function toSession(row: Row): SessionRecord {
  return {
    id: text(row, 'id'),
    agentId: text(row, 'agent_id'),
    ownerKeyId: text(row, 'owner_key_id'),
    title: textOrNull(row, 'title'),
    harness: text(row, 'harness'),
    status: text(row, 'status') as SessionStatus,
    failureReason: textOrNull(row, 'failure_reason'),
    warm: integer(row, 'warm') === 1,
    sandboxId: textOrNull(row, 'sandbox_id'),
    createdAt: text(row, 'created_at'),
    updatedAt: text(row, 'updated_at'),
    readyAt: textOrNull(row, 'ready_at'),
    endedAt: textOrNull(row, 'ended_at'),
    lastActivityAt: text(row, 'last_activity_at'),
  };
}

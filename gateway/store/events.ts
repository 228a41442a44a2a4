// The per-session event log (append-only, seq 1, 2, ...) and the cursors of the sources copied into it.
import { type SessionEvent, type Store, StoreInvalidInput } from './types.ts';
import { immediateTransaction, integer, isForeignKeyViolation, now, text, type Row, type TableContext } from './sql.ts';

export function eventTable({ db, sql }: TableContext): Store['events'] {
  return {
    append(sessionId, type, data, ts = now()) {
      const row = onlyForSessions(sessionId, () =>
        immediateTransaction(db, () =>
          sql(`INSERT INTO session_events (session_id, seq, ts, type, data_json)
               SELECT $session_id, COALESCE(MAX(seq), 0) + 1, $ts, $type, $data_json
               FROM session_events WHERE session_id = $session_id
               RETURNING *`).get({ session_id: sessionId, ts, type, data_json: JSON.stringify(data) }),
        ),
      );
      return toEvent(row!);
    },

    since(sessionId, after, limit, typePrefix) {
      // An exact prefix compare, not LIKE: LIKE ignores ASCII case, so 'vault.' would match 'Vault.x'.
      const byType = typePrefix === undefined ? '' : 'AND substr(type, 1, length($prefix)) = $prefix';
      const params = { session_id: sessionId, after, limit, ...(typePrefix === undefined ? {} : { prefix: typePrefix }) };
      return sql(`SELECT * FROM session_events WHERE session_id = $session_id AND seq > $after ${byType}
                  ORDER BY seq LIMIT $limit`).all(params).map(toEvent);
    },

    lastSeq(sessionId) {
      const row = sql('SELECT COALESCE(MAX(seq), 0) AS seq FROM session_events WHERE session_id = ?').get(sessionId);
      return row ? integer(row, 'seq') : 0;
    },

    cursor(sessionId, source) {
      const row = sql('SELECT seq FROM event_cursors WHERE session_id = ? AND source = ?').get(sessionId, source);
      return row ? integer(row, 'seq') : 0;
    },

    setCursor(sessionId, source, seq) {
      onlyForSessions(sessionId, () =>
        sql(`INSERT INTO event_cursors (session_id, source, seq) VALUES (?, ?, ?)
             ON CONFLICT (session_id, source) DO UPDATE SET seq = excluded.seq`).run(sessionId, source, seq),
      );
    },
  };
}

function onlyForSessions<T>(sessionId: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new StoreInvalidInput('sessionId', `no session ${sessionId}`);
    throw error;
  }
}

function toEvent(row: Row): SessionEvent {
  return {
    sessionId: text(row, 'session_id'),
    seq: integer(row, 'seq'),
    ts: text(row, 'ts'),
    type: text(row, 'type'),
    data: JSON.parse(text(row, 'data_json')),
  };
}

// API keys: only a SHA-256 of each token is stored; the token itself is shown once, at creation.
import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyRecord, Store } from './types.ts';
import { newId } from './ids.ts';
import { integer, now, text, textOrNull, type Row, type TableContext } from './sql.ts';

const TOKEN_PATTERN = /^lap_[A-Za-z0-9_-]{43}$/;
const LAST_USED_RESOLUTION_MS = 60_000;

// Tokens carry 256 random bits, so a fast unsalted hash is right: there is nothing to brute-force,
// and the lookup by hash (indexed) means no stored value is compared byte by byte with the input.
function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function apiKeyTable({ sql }: TableContext): Store['apiKeys'] {
  const get = (id: string) => {
    const row = sql('SELECT * FROM api_keys WHERE id = ?').get(id);
    return row ? toApiKey(row) : undefined;
  };

  return {
    create(name, admin) {
      const token = `lap_${randomBytes(32).toString('base64url')}`;
      const id = newId('key');
      sql(`INSERT INTO api_keys (id, name, prefix, token_sha256, admin, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`).run(id, name, token.slice(4, 12), tokenDigest(token), admin ? 1 : 0, now());
      return { record: get(id)!, token };
    },

    authenticate(token) {
      if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return undefined;
      const row = sql('SELECT id FROM api_keys WHERE token_sha256 = ? AND revoked_at IS NULL').get(tokenDigest(token));
      if (!row) return undefined;
      const id = text(row, 'id');
      const usedAt = new Date();
      // Writes at most once a minute per key, so a busy client does not turn every request into a write.
      sql(`UPDATE api_keys SET last_used_at = ?
           WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`)
        .run(usedAt.toISOString(), id, new Date(usedAt.getTime() - LAST_USED_RESOLUTION_MS).toISOString());
      return get(id);
    },

    list() {
      return sql('SELECT * FROM api_keys ORDER BY created_at, id').all().map(toApiKey);
    },

    get,

    revoke(id) {
      // Idempotent: revoking twice keeps the first time and still reports that the key exists.
      sql('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now(), id);
      return get(id) !== undefined;
    },
  };
}

function toApiKey(row: Row): ApiKeyRecord {
  return {
    id: text(row, 'id'),
    name: text(row, 'name'),
    prefix: text(row, 'prefix'),
    admin: integer(row, 'admin') === 1,
    createdAt: text(row, 'created_at'),
    revokedAt: textOrNull(row, 'revoked_at'),
    lastUsedAt: textOrNull(row, 'last_used_at'),
  };
}

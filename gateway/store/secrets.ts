// Named secrets: the value is sealed with the record's id bound in, and only `reveal` opens it.
import type { SecretRecord, Store } from './types.ts';
import { sealJson, unsealJson } from './crypto.ts';
import { newId } from './ids.ts';
import { bytes, immediateTransaction, now, text, type Row, type TableContext } from './sql.ts';

const sealContext = (id: string) => `secrets.value/${id}`;

export function secretTable({ db, sql, key }: TableContext): Store['secrets'] {
  const get = (name: string) => {
    const row = sql('SELECT id, name, created_at, updated_at FROM secrets WHERE name = ?').get(name);
    return row ? toSecret(row) : undefined;
  };

  return {
    put(name, value) {
      return immediateTransaction(db, () => {
        const id = get(name)?.id ?? newId('sec');
        const at = now();
        // A replaced value keeps its record id (and so its created_at); only the sealed value changes.
        sql(`INSERT INTO secrets (id, name, value_sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET value_sealed = excluded.value_sealed, updated_at = excluded.updated_at`)
          .run(id, name, sealJson(key, sealContext(id), value), at, at);
        return get(name)!;
      });
    },

    get,

    reveal(name) {
      const row = sql('SELECT id, value_sealed FROM secrets WHERE name = ?').get(name);
      if (!row) return undefined;
      return unsealJson(key, sealContext(text(row, 'id')), bytes(row, 'value_sealed')) as string;
    },

    list() {
      return sql('SELECT id, name, created_at, updated_at FROM secrets ORDER BY name').all().map(toSecret);
    },

    delete(name) {
      return sql('DELETE FROM secrets WHERE name = ?').run(name).changes > 0;
    },
  };
}

function toSecret(row: Row): SecretRecord {
  return {
    id: text(row, 'id'),
    name: text(row, 'name'),
    createdAt: text(row, 'created_at'),
    updatedAt: text(row, 'updated_at'),
  };
}

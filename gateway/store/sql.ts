// Small helpers shared by the table modules: transactions, a statement cache and typed row access.
import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';

export type Row = Record<string, SQLOutputValue>;

/** BEGIN IMMEDIATE takes the write lock up front (waiting out busy_timeout), so a read-then-write can never race another connection. */
export function immediateTransaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = body();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** Prepares each distinct SQL text once per connection. */
export function statementCache(db: DatabaseSync): (sql: string) => StatementSync {
  const cache = new Map<string, StatementSync>();
  return (sql) => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
}

export function isUniqueViolation(error: unknown): boolean {
  return (error as { errcode?: number } | null)?.errcode === 2067; // SQLITE_CONSTRAINT_UNIQUE
}

export function isForeignKeyViolation(error: unknown): boolean {
  return (error as { errcode?: number } | null)?.errcode === 787; // SQLITE_CONSTRAINT_FOREIGNKEY
}

export function now(): string {
  return new Date().toISOString();
}

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`store: column ${column} is not text`);
  return value;
}

export function textOrNull(row: Row, column: string): string | null {
  return row[column] === null ? null : text(row, column);
}

export function integer(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new Error(`store: column ${column} is not an integer`);
  return value;
}

export function bytes(row: Row, column: string): Uint8Array {
  const value = row[column];
  if (!(value instanceof Uint8Array)) throw new Error(`store: column ${column} is not a blob`);
  return value;
}

/** What each table module is built from: the connection, its statement cache and the at-rest key. */
export interface TableContext {
  db: DatabaseSync;
  sql: (text: string) => StatementSync;
  key: Buffer;
}

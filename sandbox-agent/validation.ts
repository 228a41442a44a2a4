// Request-body checks shared by the claim and exec parsers. Both read with the vault's hand-written
// Reader rather than zod: zod alone costs every idle agent (one per sandbox) ~12 MiB.
import type { Context } from 'hono';
import type { Issue } from '../vault/validate.ts';
import { errorJson } from './errors.ts';

export { type Issue, Reader } from '../vault/validate.ts';

/** Field paths as the Reader builds them. */
export type FieldPath = readonly (string | number)[];

/** The issues as the API reports them: a problem with the body as a whole names the field `body`. */
export function fieldProblems(issues: readonly Issue[]): Issue[] {
  return issues.map((issue) => (issue.field ? issue : { ...issue, field: 'body' }));
}

/** 400 whose message names the first bad field; details list every {field, message}. */
export function invalidRequest(c: Context, issues: readonly Issue[]): Response {
  const details = fieldProblems(issues);
  const first = details[0];
  return errorJson(c, 400, 'invalid_request', first ? `${first.field}: ${first.message}` : 'invalid request', details);
}

/** The object's keys that are not among `known`, in the order the client sent them. */
export function unknownKeys(object: Record<string, unknown>, known: readonly string[]): string[] {
  return Object.keys(object).filter((key) => !known.includes(key));
}

/** A Reader `check` for text handed to the kernel (argv, env, paths), where NUL would cut it short. */
export function withoutNul(value: string): string | null {
  return value.includes('\0') ? 'must not contain NUL' : null;
}

/** Padded standard base64 (RFC 4648 §4), the form Buffer.toString('base64') writes. */
export function isBase64(value: string): boolean {
  return value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value);
}

/** `read(value)` when the optional field is present; undefined (and no issue) when it is absent. */
export function optional<T>(value: unknown, read: (value: unknown) => T | undefined): T | undefined {
  return value === undefined ? undefined : read(value);
}

/** The object without its undefined members, so absent optional fields stay absent. */
export function definedOnly<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

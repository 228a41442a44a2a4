// Request-body checks shared by the claim and exec parsers. Both read with the vault's hand-written
// Reader rather than zod: zod alone costs every idle agent (one per sandbox) ~12 MiB.
export { type Issue, Reader, fieldProblems, invalidRequest } from '../vault/validate.ts';

/** Field paths as the Reader builds them. */
export type FieldPath = readonly (string | number)[];

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

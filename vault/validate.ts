// Input checks for the vault's config file and control API bodies. Hand-written rather than zod: zod
// alone adds ~14 MiB to every idle vault (one per sandbox), and these few shapes need little.
import { isIP } from 'node:net';
import { HttpError } from './http/reply.ts';

/** One problem with the input: the dotted path to the field (`credentials.0.hosts`) and what is wrong. */
export interface Issue {
  field: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

type Path = readonly (string | number)[];

export interface StringRules {
  min?: number;
  max?: number;
  /** The value must match; the message says what a valid one looks like. */
  pattern?: readonly [RegExp, string];
  /** null when the value is acceptable, otherwise what is wrong with it. */
  check?: (value: string) => string | null;
}

export interface IntegerRules {
  min?: number;
  max?: number;
}

export interface ArrayRules {
  /** The fewest items, with the message for too few. */
  min?: readonly [number, string];
  max?: number;
}

/**
 * Reads untrusted JSON field by field, collecting every issue instead of stopping at the first. Each
 * reader returns undefined for a value it refused; `done` turns the result into Parsed.
 */
export class Reader {
  readonly issues: Issue[] = [];

  fail(path: Path, message: string): undefined {
    this.issues.push({ field: path.join('.'), message });
    return undefined;
  }

  done<T>(value: T): Parsed<T> {
    return this.issues.length === 0 ? { ok: true, value } : { ok: false, issues: this.issues };
  }

  object(value: unknown, path: Path): Record<string, unknown> | undefined {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    return this.fail(path, expected('object', value));
  }

  string(value: unknown, path: Path, rules: StringRules = {}): string | undefined {
    if (typeof value !== 'string') return this.fail(path, expected('string', value));
    if (rules.min !== undefined && value.length < rules.min) return this.fail(path, `Too small: expected string to have >=${rules.min} characters`);
    if (rules.max !== undefined && value.length > rules.max) return this.fail(path, `Too big: expected string to have <=${rules.max} characters`);
    if (rules.pattern && !rules.pattern[0].test(value)) return this.fail(path, rules.pattern[1]);
    const problem = rules.check?.(value);
    return problem ? this.fail(path, problem) : value;
  }

  integer(value: unknown, path: Path, rules: IntegerRules = {}): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(path, expected('number', value));
    if (!Number.isInteger(value)) return this.fail(path, 'Invalid input: expected int, received number');
    if (rules.min !== undefined && value < rules.min) return this.fail(path, `Too small: expected number to be >=${rules.min}`);
    if (rules.max !== undefined && value > rules.max) return this.fail(path, `Too big: expected number to be <=${rules.max}`);
    return value;
  }

  boolean(value: unknown, path: Path): boolean | undefined {
    return typeof value === 'boolean' ? value : this.fail(path, expected('boolean', value));
  }

  oneOf<T extends string>(value: unknown, path: Path, options: readonly T[]): T | undefined {
    if (options.includes(value as T)) return value as T;
    return this.fail(path, `Invalid option: expected one of ${options.map((o) => JSON.stringify(o)).join('|')}`);
  }

  ipv4(value: unknown, path: Path): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    return isIP(text) === 4 ? text : this.fail(path, 'Invalid IPv4 address');
  }

  array<T>(value: unknown, path: Path, item: (value: unknown, path: Path) => T | undefined, rules: ArrayRules = {}): T[] | undefined {
    if (!Array.isArray(value)) return this.fail(path, expected('array', value));
    if (rules.min && value.length < rules.min[0]) return this.fail(path, rules.min[1]);
    if (rules.max !== undefined && value.length > rules.max) return this.fail(path, `Too big: expected array to have <=${rules.max} items`);
    const before = this.issues.length;
    const items = value.map((v, i) => item(v, [...path, i]));
    return this.issues.length === before ? (items as T[]) : undefined;
  }

  record(value: unknown, path: Path): Record<string, string> | undefined {
    const object = this.object(value, path);
    if (!object) return undefined;
    for (const [key, v] of Object.entries(object)) this.string(v, [...path, key]);
    return object as Record<string, string>;
  }
}

/** `fallback` when the field is absent, else what `read` makes of it. */
export function withDefault<T>(value: unknown, fallback: T, read: (value: unknown) => T | undefined): T | undefined {
  return value === undefined ? fallback : read(value);
}

function expected(type: string, value: unknown): string {
  const received = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `Invalid input: expected ${type}, received ${received}`;
}

/** The issues as the APIs report them: a problem with the body as a whole names the field `body`. */
export function fieldProblems(issues: readonly Issue[]): Issue[] {
  return issues.map((issue) => (issue.field ? issue : { ...issue, field: 'body' }));
}

/** 400 `invalid_request` whose message names the first bad field; details list every {field, message}. */
export function invalidRequest(issues: readonly Issue[]): HttpError {
  const details = fieldProblems(issues);
  const first = details[0];
  return new HttpError(400, 'invalid_request', first ? `${first.field}: ${first.message}` : 'invalid request', details);
}

// The POST /v1/exec body, checked field by field; every problem is reported with the field it names.
import type { ExecRequest } from './protocol.ts';
import type { AgentLimits } from './state.ts';
import { definedOnly, type FieldPath, type Issue, isBase64, optional, Reader, unknownKeys, withoutNul } from './validation.ts';

const EXEC_FIELDS = ['argv', 'env', 'cwd', 'timeoutMs', 'stdin'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The request, or every issue found in it (the first names the field the 400's message starts with). */
export function parseExecRequest(body: unknown, limits: AgentLimits): { ok: true; request: ExecRequest } | { ok: false; issues: Issue[] } {
  const r = new Reader();
  const object = r.object(body, []);
  if (!object) return { ok: false, issues: r.issues };
  const request = definedOnly({
    argv: readArgv(r, object.argv),
    env: optional(object.env, (value) => readEnv(r, value, ['env'])),
    cwd: optional(object.cwd, (value) => r.string(value, ['cwd'], { check: withoutNul })),
    timeoutMs: optional(object.timeoutMs, (value) => readTimeout(r, value, limits.maxExecTimeoutMs)),
    stdin: optional(object.stdin, (value) => (typeof value === 'string' && isBase64(value) ? value : r.fail(['stdin'], 'must be base64'))),
  });
  const unknown = unknownKeys(object, EXEC_FIELDS);
  if (unknown.length > 0) r.fail([], `Unrecognized key${unknown.length > 1 ? 's' : ''}: ${unknown.map((key) => JSON.stringify(key)).join(', ')}`);
  return r.issues.length === 0 ? { ok: true, request: request as ExecRequest } : { ok: false, issues: r.issues };
}

function readArgv(r: Reader, value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return r.fail(['argv'], 'must be a non-empty array of strings');
  const argv = r.array(value, ['argv'], (item, path) => r.string(item, path, { check: withoutNul }));
  if (argv?.[0] === '') return r.fail(['argv'], 'the program (argv[0]) must not be empty');
  return argv;
}

function readEnv(r: Reader, value: unknown, path: FieldPath): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return r.fail(path, 'must be an object of string values');
  const before = r.issues.length;
  for (const [name, text] of Object.entries(value)) {
    if (!ENV_NAME.test(name)) r.fail([...path, name], `variable names must match ${ENV_NAME.source}`);
    else r.string(text, [...path, name], { check: withoutNul });
  }
  return r.issues.length === before ? (value as Record<string, string>) : undefined;
}

function readTimeout(r: Reader, value: unknown, max: number): number | undefined {
  const path = ['timeoutMs'];
  if (typeof value !== 'number' || !Number.isFinite(value)) return r.fail(path, 'must be a number of milliseconds');
  if (!Number.isInteger(value)) return r.fail(path, 'must be a whole number of milliseconds');
  if (value <= 0) return r.fail(path, 'must be positive');
  if (value > max) return r.fail(path, `must be at most ${max}`);
  return value;
}

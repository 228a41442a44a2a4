// The claim's schema: every refusal names the field at fault. Nothing here touches the disk, so a
// refused claim changes nothing.
import { z } from 'zod';
import { findHarness, harnessNames } from '../harnesses/index.ts';
import { type ClaimRequest, TTY_SIZE_LIMITS } from '../protocol.ts';
import type { AgentLimits } from '../state.ts';
import { ClaimError, type FieldProblem } from './claim-error.ts';
import { normalizeWorkspacePath } from './paths.ts';

/** The same limits the REST API puts on a session's env_vars (DESIGN.md §5). */
export const CLAIM_ENV_LIMITS = { maxKeys: 50, maxBytes: 16 * 1024 } as const;
export const MAX_CLAIM_FILES = 1000;
export const MAX_GIT_CREDENTIALS = 64;

/** Variables the claim may not set: the screen mirror emulates xterm, HOME holds the git setup, node-pty sets PWD. */
const AGENT_SET_ENV: Record<string, string> = { HOME: "the harness's home beside the workspace", TERM: 'xterm-256color', PWD: 'the workspace, by the PTY' };
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SESSION_ID = /^[\x21-\x7e]{1,256}$/;
/** A DNS name in lowercase, optionally `*.suffix` (the vault's host patterns), without a port. */
const HOST_PATTERN = /^(\*\.)?[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/;
/** The credential helper is a shell script: these charsets need no escaping inside single quotes. */
const STUB = /^[A-Za-z0-9_-]{1,1024}$/;
const USERNAME = /^[A-Za-z0-9._@+-]{1,256}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const sessionSchema = z.string().regex(SESSION_ID, 'must be 1-256 printable ASCII characters without spaces');

const harnessSchema = z.string().superRefine((name, ctx) => {
  if (!findHarness(name)) ctx.addIssue({ code: 'custom', message: `unknown harness ${name}; known: ${harnessNames().join(', ')}` });
});

const envSchema = z
  .record(z.string(), z.string().refine((v) => !v.includes('\0'), 'must not contain NUL'))
  .superRefine((env, ctx) => {
    const keys = Object.keys(env);
    for (const key of keys) {
      if (!ENV_KEY.test(key)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(key)} is not a variable name: keys must match ^[A-Za-z_][A-Za-z0-9_]*$`, path: [key] });
      else if (Object.hasOwn(AGENT_SET_ENV, key)) ctx.addIssue({ code: 'custom', message: `is set by the agent (${AGENT_SET_ENV[key]})`, path: [key] });
    }
    if (keys.length > CLAIM_ENV_LIMITS.maxKeys) ctx.addIssue({ code: 'custom', message: `at most ${CLAIM_ENV_LIMITS.maxKeys} keys, got ${keys.length}` });
    const bytes = keys.reduce((sum, k) => sum + Buffer.byteLength(k) + Buffer.byteLength(env[k] ?? ''), 0);
    if (bytes > CLAIM_ENV_LIMITS.maxBytes) ctx.addIssue({ code: 'custom', message: `at most ${CLAIM_ENV_LIMITS.maxBytes} bytes of keys and values, got ${bytes}` });
  });

const repositorySchema = z.string().max(2048).superRefine((value, ctx) => {
  const problem = repositoryProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const branchSchema = z.string().superRefine((value, ctx) => {
  const problem = branchProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const workspaceSchema = z
  .strictObject({ repository: repositorySchema.optional(), branch: branchSchema.optional() })
  .refine((w) => w.branch === undefined || w.repository !== undefined, { message: 'a branch needs a repository', path: ['branch'] });

const gitCredentialsSchema = z
  .array(
    z.strictObject({
      host: z.string().regex(HOST_PATTERN, 'must be a lowercase DNS name or *.suffix, without a port'),
      username: z.string().regex(USERNAME, 'must be 1-256 of A-Z a-z 0-9 . _ @ + -').optional(),
      stub: z.string().regex(STUB, 'must be 1-1024 URL-safe characters (A-Z a-z 0-9 _ -)'),
    }),
  )
  .max(MAX_GIT_CREDENTIALS)
  .superRefine((creds, ctx) => {
    const seen = new Set<string>();
    creds.forEach((c, i) => {
      if (seen.has(c.host)) ctx.addIssue({ code: 'custom', message: `duplicate host ${c.host}`, path: [i, 'host'] });
      seen.add(c.host);
    });
  });

function filesSchema(limits: AgentLimits) {
  const file = z.strictObject({
    path: z.string().min(1).max(4096).superRefine((path, ctx) => {
      const normalized = normalizeWorkspacePath(path);
      if ('problem' in normalized) ctx.addIssue({ code: 'custom', message: `${path} ${normalized.problem}` });
    }),
    content: z.string().superRefine((content, ctx) => {
      if (content.length % 4 !== 0 || !BASE64.test(content)) return void ctx.addIssue({ code: 'custom', message: 'must be base64' });
      const bytes = decodedLength(content);
      if (bytes > limits.maxFileBytes) ctx.addIssue({ code: 'custom', message: `the file has ${bytes} bytes, more than the limit of ${limits.maxFileBytes}` });
    }),
    mode: z.int().min(0).max(0o777, 'must be a permission mode from 0 to 0o777 (511)').optional(),
  });
  return z
    .array(file)
    .max(MAX_CLAIM_FILES)
    .superRefine((files, ctx) => {
      const seen = new Map<string, number>();
      files.forEach((f, i) => {
        const normalized = normalizeWorkspacePath(f.path);
        const key = 'relative' in normalized ? normalized.relative : f.path;
        const first = seen.get(key);
        if (first !== undefined) ctx.addIssue({ code: 'custom', message: `same file as files.${first}.path`, path: [i, 'path'] });
        seen.set(key, i);
      });
    });
}

function claimSchema(limits: AgentLimits) {
  return z.strictObject({
    session: sessionSchema,
    harness: harnessSchema,
    env: envSchema,
    workspace: workspaceSchema.optional(),
    gitCredentials: gitCredentialsSchema.optional(),
    files: filesSchema(limits).optional(),
    cols: z.int().min(1).max(TTY_SIZE_LIMITS.maxCols).optional(),
    rows: z.int().min(1).max(TTY_SIZE_LIMITS.maxRows).optional(),
  });
}

/** The claim, checked; throws a 400 ClaimError listing every problem, the first in its message. */
export function parseClaim(body: unknown, limits: AgentLimits): ClaimRequest {
  const parsed = claimSchema(limits).safeParse(body);
  if (parsed.success) return parsed.data;
  throw ClaimError.invalid(parsed.error.issues.flatMap(fieldProblems));
}

function fieldProblems(issue: z.core.$ZodIssue): FieldProblem[] {
  const field = (path: PropertyKey[]) => path.map(String).join('.') || 'body';
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: field([...issue.path, key]), message: 'is not a claim field' }));
  return [{ field: field(issue.path), message: issue.message }];
}

/** The largest request body a claim may have: one file at the limit, base64-encoded, plus the rest. */
export function maxClaimBodyBytes(limits: AgentLimits): number {
  return Math.ceil(limits.maxFileBytes / 3) * 4 + 1024 * 1024;
}

function decodedLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

function repositoryProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an https:// URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an https:// or http:// URL, got ${url.protocol}`;
  if (url.username || url.password) return 'must not carry credentials; give them in gitCredentials';
  if (/[\s\0-\x1f\x7f]/.test(value)) return 'must not contain whitespace or control characters';
  return null;
}

/** git's own rules for branch names (git check-ref-format --branch), without spawning git. */
function branchProblem(name: string): string | null {
  if (name.length === 0 || name.length > 255) return 'must be 1-255 characters';
  if (/[\s\0-\x1f\x7f~^:?*[\\]/.test(name)) return 'must not contain spaces, control characters or any of ~ ^ : ? * [ \\';
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.endsWith('.lock')) {
    return 'must not start with - or /, nor end with /, . or .lock';
  }
  if (name.includes('..') || name.includes('//') || name.includes('@{') || name === '@' || name.split('/').some((p) => p.startsWith('.'))) {
    return 'must not contain .., //, @{, or a component starting with .';
  }
  return null;
}

// The claim, checked field by field: every refusal names the field at fault. Nothing here touches the
// disk, so a refused claim changes nothing.
import { findHarness, harnessNames } from '../harnesses/index.ts';
import { type ClaimFile, type ClaimRequest, TTY_SIZE_LIMITS } from '../protocol.ts';
import type { AgentLimits } from '../state.ts';
import { definedOnly, type FieldPath, fieldProblems, isBase64, optional, Reader, unknownKeys, withoutNul } from '../validation.ts';
import { ClaimError } from './claim-error.ts';
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

/** Every field a claim may have (the keys); typed so that a new ClaimRequest field must be added here. */
const CLAIM_FIELDS: Record<keyof ClaimRequest, true> = { session: true, harness: true, env: true, workspace: true, gitCredentials: true, files: true, cols: true, rows: true };

type GitCredential = NonNullable<ClaimRequest['gitCredentials']>[number];

/** The claim, checked; throws a 400 ClaimError listing every problem, the first in its message. */
export function parseClaim(body: unknown, limits: AgentLimits): ClaimRequest {
  const r = new Reader();
  const claim = readClaim(r, body, limits);
  if (claim && r.issues.length === 0) return claim;
  throw ClaimError.invalid(fieldProblems(r.issues));
}

function readClaim(r: Reader, body: unknown, limits: AgentLimits): ClaimRequest | undefined {
  const claim = r.object(body, []);
  if (!claim) return undefined;
  const size = (field: 'cols' | 'rows', max: number) => optional(claim[field], (value) => r.integer(value, [field], { min: 1, max }));
  const parsed = definedOnly({
    session: r.string(claim.session, ['session'], { pattern: [SESSION_ID, 'must be 1-256 printable ASCII characters without spaces'] }),
    harness: r.string(claim.harness, ['harness'], { check: (name) => (findHarness(name) ? null : `unknown harness ${name}; known: ${harnessNames().join(', ')}`) }),
    env: readEnv(r, claim.env),
    workspace: optional(claim.workspace, (value) => readWorkspace(r, value)),
    gitCredentials: optional(claim.gitCredentials, (value) => readGitCredentials(r, value)),
    files: optional(claim.files, (value) => readFiles(r, value, limits)),
    cols: size('cols', TTY_SIZE_LIMITS.maxCols),
    rows: size('rows', TTY_SIZE_LIMITS.maxRows),
  });
  refuseUnknownFields(r, claim, [], Object.keys(CLAIM_FIELDS));
  return parsed as ClaimRequest;
}

function refuseUnknownFields(r: Reader, object: Record<string, unknown>, path: FieldPath, known: readonly string[]): void {
  for (const key of unknownKeys(object, known)) r.fail([...path, key], 'is not a claim field');
}

function readEnv(r: Reader, value: unknown): Record<string, string> | undefined {
  const env = r.object(value, ['env']);
  if (!env) return undefined;
  const before = r.issues.length;
  const keys = Object.keys(env);
  for (const key of keys) {
    if (!ENV_KEY.test(key)) r.fail(['env', key], `${JSON.stringify(key)} is not a variable name: keys must match ^[A-Za-z_][A-Za-z0-9_]*$`);
    else if (Object.hasOwn(AGENT_SET_ENV, key)) r.fail(['env', key], `is set by the agent (${AGENT_SET_ENV[key]})`);
    else r.string(env[key], ['env', key], { check: withoutNul });
  }
  if (keys.length > CLAIM_ENV_LIMITS.maxKeys) r.fail(['env'], `at most ${CLAIM_ENV_LIMITS.maxKeys} keys, got ${keys.length}`);
  if (r.issues.length > before) return undefined;
  const bytes = keys.reduce((sum, k) => sum + Buffer.byteLength(k) + Buffer.byteLength(env[k] as string), 0);
  if (bytes > CLAIM_ENV_LIMITS.maxBytes) return r.fail(['env'], `at most ${CLAIM_ENV_LIMITS.maxBytes} bytes of keys and values, got ${bytes}`);
  return env as Record<string, string>;
}

function readWorkspace(r: Reader, value: unknown): ClaimRequest['workspace'] {
  const workspace = r.object(value, ['workspace']);
  if (!workspace) return undefined;
  const before = r.issues.length;
  const repository = optional(workspace.repository, (v) => r.string(v, ['workspace', 'repository'], { max: 2048, check: repositoryProblem }));
  const branch = optional(workspace.branch, (v) => r.string(v, ['workspace', 'branch'], { check: branchProblem }));
  refuseUnknownFields(r, workspace, ['workspace'], ['repository', 'branch']);
  if (r.issues.length === before && branch !== undefined && repository === undefined) r.fail(['workspace', 'branch'], 'a branch needs a repository');
  return definedOnly({ repository, branch });
}

function readGitCredentials(r: Reader, value: unknown): GitCredential[] | undefined {
  const credentials = r.array(value, ['gitCredentials'], (item, path) => readGitCredential(r, item, path), { max: MAX_GIT_CREDENTIALS });
  const seen = new Set<string>();
  credentials?.forEach((c, i) => {
    if (seen.has(c.host)) r.fail(['gitCredentials', i, 'host'], `duplicate host ${c.host}`);
    seen.add(c.host);
  });
  return credentials;
}

function readGitCredential(r: Reader, value: unknown, path: FieldPath): GitCredential | undefined {
  const credential = r.object(value, path);
  if (!credential) return undefined;
  const parsed = definedOnly({
    host: r.string(credential.host, [...path, 'host'], { pattern: [HOST_PATTERN, 'must be a lowercase DNS name or *.suffix, without a port'] }),
    username: optional(credential.username, (v) => r.string(v, [...path, 'username'], { pattern: [USERNAME, 'must be 1-256 of A-Z a-z 0-9 . _ @ + -'] })),
    stub: r.string(credential.stub, [...path, 'stub'], { pattern: [STUB, 'must be 1-1024 URL-safe characters (A-Z a-z 0-9 _ -)'] }),
  });
  refuseUnknownFields(r, credential, path, ['host', 'username', 'stub']);
  return parsed as GitCredential;
}

function readFiles(r: Reader, value: unknown, limits: AgentLimits): ClaimFile[] | undefined {
  const files = r.array(value, ['files'], (item, path) => readFile(r, item, path, limits), { max: MAX_CLAIM_FILES });
  const seen = new Map<string, number>();
  files?.forEach((f, i) => {
    const normalized = normalizeWorkspacePath(f.path);
    const key = 'relative' in normalized ? normalized.relative : f.path;
    const first = seen.get(key);
    if (first !== undefined) r.fail(['files', i, 'path'], `same file as files.${first}.path`);
    seen.set(key, i);
  });
  return files;
}

function readFile(r: Reader, value: unknown, path: FieldPath, limits: AgentLimits): ClaimFile | undefined {
  const file = r.object(value, path);
  if (!file) return undefined;
  const parsed = definedOnly({
    path: r.string(file.path, [...path, 'path'], { min: 1, max: 4096, check: workspacePathProblem }),
    content: r.string(file.content, [...path, 'content'], { check: (content) => contentProblem(content, limits) }),
    mode: optional(file.mode, (v) => readMode(r, v, [...path, 'mode'])),
  });
  refuseUnknownFields(r, file, path, ['path', 'content', 'mode']);
  return parsed as ClaimFile;
}

function readMode(r: Reader, value: unknown, path: FieldPath): number | undefined {
  const mode = r.integer(value, path);
  if (mode !== undefined && (mode < 0 || mode > 0o777)) return r.fail(path, 'must be a permission mode from 0 to 0o777 (511)');
  return mode;
}

function workspacePathProblem(path: string): string | null {
  const normalized = normalizeWorkspacePath(path);
  return 'problem' in normalized ? `${path} ${normalized.problem}` : null;
}

function contentProblem(content: string, limits: AgentLimits): string | null {
  if (!isBase64(content)) return 'must be base64';
  const bytes = decodedLength(content);
  return bytes > limits.maxFileBytes ? `the file has ${bytes} bytes, more than the limit of ${limits.maxFileBytes}` : null;
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

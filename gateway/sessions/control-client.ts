// HTTP+JSON to a sandbox's two control APIs (DESIGN.md §4): the agent's and the vault's, each with
// its own per-sandbox bearer token. Errors carry what the other side said, never a token.
import type { ClaimRequest, ExecRequest, MessageRequest } from '../../sandbox-agent/protocol.ts';
import type { CredentialView, EgressPolicy, SwapPlace } from '../../vault/types.ts';
import { ApiError, type ApiErrorStatus } from '../api/errors.ts';
import type { SandboxHandle } from '../runtime/types.ts';

const CONTROL_TIMEOUT_MS = 30_000;
/** Control answers are a few hundred bytes; a sandbox (its agent runs as the sandbox's user) may send anything. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export class ControlError extends Error {
  readonly status: number;
  /** What the other side said: its error code and message (without the "agent /path answered" prefix). */
  readonly remote: { code?: string; message: string };
  constructor(status: number, message: string, remote: { code?: string; message: string } = { message }) {
    super(message);
    this.name = 'ControlError';
    this.status = status;
    this.remote = remote;
  }
}

/** Refusals of the agent a user can act on keep their status and code; anything else is a 503. */
const PASSED_ON: ReadonlySet<number> = new Set([400, 403, 409, 413]);
const DEFAULT_CODES: Record<number, string> = { 400: 'invalid_request', 403: 'forbidden', 409: 'conflict', 413: 'too_large' };

/** A failed call to a sandbox's agent as the API answers it; other errors pass through unchanged. */
export function agentApiError(err: unknown): unknown {
  if (!(err instanceof ControlError)) return err;
  if (PASSED_ON.has(err.status)) return new ApiError(err.status as ApiErrorStatus, err.remote.code ?? DEFAULT_CODES[err.status]!, err.remote.message);
  return new ApiError(503, 'unavailable', `${err.message}; the reconciler marks the session failed if this lasts`);
}

export interface VaultCredentialInput {
  name: string;
  value: string;
  hosts: string[];
  places: SwapPlace[];
}

async function call(base: string, token: string, what: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, { ...init, headers, signal: init.signal ?? AbortSignal.timeout(CONTROL_TIMEOUT_MS) });
  } catch (err) {
    throw new ControlError(0, `${what} ${path} did not answer: ${(err as Error).message}`);
  }
  if (response.ok) return response;
  const remote = readError(await readAnswer(response).catch(() => ''));
  throw new ControlError(response.status, `${what} ${path} answered ${response.status}: ${remote.message}`, remote);
}

/** The body as text, refused past MAX_ANSWER_BYTES (the rest is not read). */
async function readAnswer(response: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) throw new ControlError(0, `the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson<T>(response: Response, what: string, path: string): Promise<T> {
  try {
    return JSON.parse(await readAnswer(response)) as T;
  } catch (err) {
    throw new ControlError(0, `${what} ${path} answered something unreadable: ${(err as Error).message}`);
  }
}

/** The other side's error code and message, as short strings whatever it sent: API errors quote them. */
function readError(body: string): { code?: string; message: string } {
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(body) as { error?: typeof error } | null)?.error;
  } catch {}
  const code = typeof error?.code === 'string' && /^[a-z_]{1,64}$/.test(error.code) ? error.code : undefined;
  return { code, message: (typeof error?.message === 'string' ? error.message : body).slice(0, 1000) };
}

export const vaultControl = {
  /** Sets the session's credentials; the vault mints the stubs and answers with them (never a value). */
  async putCredentials(handle: SandboxHandle, credentials: VaultCredentialInput[]): Promise<CredentialView[]> {
    const response = await call(handle.vaultUrl, handle.vaultToken, 'vault', '/v1/credentials', { method: 'PUT', body: JSON.stringify({ credentials }) });
    return (await readJson<{ credentials: CredentialView[] }>(response, 'vault', '/v1/credentials')).credentials;
  },
  async putPolicy(handle: SandboxHandle, policy: EgressPolicy): Promise<void> {
    await call(handle.vaultUrl, handle.vaultToken, 'vault', '/v1/policy', { method: 'PUT', body: JSON.stringify(policy) });
  },
  auditStream(handle: SandboxHandle, after: number, signal: AbortSignal): Promise<Response> {
    return call(handle.vaultUrl, handle.vaultToken, 'vault', '/v1/audit/stream', { headers: { 'last-event-id': String(after) }, signal });
  },
};

export const agentControl = {
  async claim(handle: SandboxHandle, claim: ClaimRequest): Promise<{ pid: number }> {
    const response = await call(handle.agentUrl, handle.agentToken, 'agent', '/v1/claim', { method: 'POST', body: JSON.stringify(claim) });
    return readJson(response, 'agent', '/v1/claim');
  },
  async restartHarness(handle: SandboxHandle): Promise<{ pid: number }> {
    const response = await call(handle.agentUrl, handle.agentToken, 'agent', '/v1/harness/restart', { method: 'POST' });
    return readJson(response, 'agent', '/v1/harness/restart');
  },
  /** The agent's exact last activity (its events only carry it at most every 10 s). */
  async lastActivity(handle: SandboxHandle): Promise<number> {
    const response = await call(handle.agentUrl, handle.agentToken, 'agent', `/v1/events?after=${Number.MAX_SAFE_INTEGER}`);
    return Date.parse((await readJson<{ lastActivity: string }>(response, 'agent', '/v1/events')).lastActivity);
  },
  eventStream(handle: SandboxHandle, after: number, signal: AbortSignal): Promise<Response> {
    return call(handle.agentUrl, handle.agentToken, 'agent', '/v1/events/stream', { headers: { 'last-event-id': String(after) }, signal });
  },
  /** The NDJSON stream of ExecFrames; `signal` is the caller's connection (an exec has its own timeout). */
  exec(handle: SandboxHandle, request: ExecRequest, signal: AbortSignal): Promise<Response> {
    return call(handle.agentUrl, handle.agentToken, 'agent', '/v1/exec', { method: 'POST', body: JSON.stringify(request), signal });
  },
  /** One turn's NDJSON TurnEvents; `signal` is the caller's connection (a turn has no deadline). */
  message(handle: SandboxHandle, request: MessageRequest, signal: AbortSignal): Promise<Response> {
    return call(handle.agentUrl, handle.agentToken, 'agent', '/v1/message', { method: 'POST', body: JSON.stringify(request), signal });
  },
  async abortTurn(handle: SandboxHandle): Promise<{ aborted: boolean; turn: string | null }> {
    const response = await call(handle.agentUrl, handle.agentToken, 'agent', '/v1/message/abort', { method: 'POST' });
    return readJson(response, 'agent', '/v1/message/abort');
  },
};

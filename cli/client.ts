// The REST API from lap's side: JSON in and out, the server's errors turned into one line and a hint.
import type { Connection } from './config.ts';
import { CliError, EXIT } from './errors.ts';

export const API = '/api/v1';
export const MANAGED = `${API}/managed_agents`;

interface ServerError {
  error?: { code?: string; message?: string; details?: { field?: string; message?: string }[] };
}

export class Client {
  readonly connection: Connection;
  constructor(connection: Connection) {
    this.connection = connection;
  }

  /** JSON request; a non-2xx answer throws a CliError built from the server's error body. */
  async json<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.#notLap(response);
    }
  }

  /** Any request; answers only 2xx (errors throw), the body unread. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.connection.api_key}` };
    let response: Response;
    try {
      response = await fetch(`${this.connection.url}${path}`, { ...init, headers });
    } catch (err) {
      throw unreachable(this.connection.url, err);
    }
    if (!response.ok) throw await this.#failure(response);
    return response;
  }

  async #failure(response: Response): Promise<CliError> {
    const text = await response.text().catch(() => '');
    let parsed: ServerError = {};
    try {
      parsed = JSON.parse(text) as ServerError;
    } catch {}
    if (typeof parsed.error?.message !== 'string') return this.#notLap(response);
    const detail = parsed.error.details?.[0];
    const message = parsed.error.message;
    const full = detail?.field && !message.includes(detail.field) ? `${message} (${detail.field}: ${detail.message})` : message;
    if (response.status === 401) {
      return new CliError(`the server refused the API key (${this.connection.source === 'env' ? 'LAP_API_KEY' : `profile ${this.connection.source}`})`, { hint: 'run `lap login` with a valid key', exitCode: EXIT.auth });
    }
    if (response.status === 404) return new CliError(full, { hint: 'check the name or id: `lap ls` lists sessions, `lap agents` agents, `lap secrets ls` secrets', exitCode: EXIT.notFound });
    if (response.status >= 500) return new CliError(`the server failed (${response.status}): ${full}`, { hint: "this is a server bug or outage; the gateway's log says more" });
    const hint = HINTS_BY_CODE[parsed.error?.code ?? ''] ?? HINTS_BY_STATUS[response.status] ?? `the server refused the request (${response.status})`;
    return new CliError(full, { hint });
  }

  /** An answer without LAP's JSON (an HTML error page, another server): the URL is likely wrong. */
  #notLap(response: Response): CliError {
    const type = response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
    return new CliError(`${this.connection.url} answered ${response.status} ${response.statusText} (${type}), which is not LAP's API`, {
      hint: `is ${this.connection.source === 'env' ? 'LAP_URL' : `profile ${this.connection.source}'s URL`} a LAP gateway? \`lap login --url <url>\` sets it; \`npm start\` prints it`,
      exitCode: EXIT.unreachable,
    });
  }
}

/** What to do about a refusal, by the API's error code where one says more than its status. */
const HINTS_BY_CODE: Record<string, string> = {
  not_a_message_harness: 'this session is a terminal: `lap attach <session>` reaches it',
  secret_missing: 'set the secret first: `lap secrets set <name>`',
  too_many_sessions: 'end sessions you no longer need: `lap ls`, then `lap rm <session>`',
};

const FIX_THE_VALUE = 'fix the value named above; `lap <command> --help` shows what each option takes';

const HINTS_BY_STATUS: Record<number, string> = {
  400: FIX_THE_VALUE,
  403: 'this API key may not do that; ask for a key that may, or use the master key',
  409: 'the message above says what is in the way; `lap ls` and `lap agents` show the current state',
  410: 'it has ended; `lap ls` shows the live sessions',
  413: 'the request is larger than the server takes; send less at once',
  422: FIX_THE_VALUE,
  429: 'too many requests at once; wait a moment and retry',
};

export function unreachable(url: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  if (why === 'bad port') {
    return new CliError(`cannot reach ${url}: fetch refuses that port (the Fetch standard's blocked ports)`, { hint: 'run the gateway on another port (LAP_PORT, e.g. 8080) and `lap login` with that URL', exitCode: EXIT.unreachable });
  }
  return new CliError(`cannot reach ${url}: ${why}`, { hint: 'is the gateway running (`npm start` prints its URL)? check the URL with `lap login`', exitCode: EXIT.unreachable });
}

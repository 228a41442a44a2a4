// fetch with a deadline, answering status, headers and the body as text and (when it parses) JSON.
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface RequestOptions {
  key?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  timeoutMs?: number;
}

export async function send(base: string, method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined && typeof options.body !== 'string') headers['content-type'] = 'application/json';
  Object.assign(headers, options.headers);
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const response = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** `/a/{id}` with params filled in, each encoded as one path segment. */
export function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${path}`);
    return encodeURIComponent(value);
  });
}

/** True when the body is the documented error shape: {"error":{"code","message","details"}}. */
export function isErrorShape(json: any): boolean {
  const error = json?.error;
  return typeof error === 'object' && error !== null && typeof error.code === 'string' && error.code !== '' && typeof error.message === 'string' && 'details' in error && Object.keys(json).length === 1;
}

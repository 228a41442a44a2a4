import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type Reply, HttpError, errorReply, sendReply } from './reply.ts';
import { HttpRequest } from './request.ts';

export type Handler = (req: HttpRequest) => Reply | Promise<Reply>;
/** Runs before every route; a Reply answers the request instead of the route (auth, for one). */
export type Guard = (req: HttpRequest) => Reply | undefined;

/**
 * Routes by exact method and path: the in-sandbox APIs have no path parameters. Kept on node:http
 * without the Web Request/Response classes, whose first use loads Node's fetch (~15 MiB per process).
 */
export class Router {
  readonly #routes = new Map<string, Handler>();

  on(method: string, path: string, handler: Handler): this {
    this.#routes.set(`${method} ${path}`, handler);
    return this;
  }

  get(path: string, handler: Handler): this {
    return this.on('GET', path, handler);
  }

  post(path: string, handler: Handler): this {
    return this.on('POST', path, handler);
  }

  put(path: string, handler: Handler): this {
    return this.on('PUT', path, handler);
  }

  delete(path: string, handler: Handler): this {
    return this.on('DELETE', path, handler);
  }

  /** Every route of `routes`, under `prefix`. */
  mount(prefix: string, routes: Router): this {
    for (const [key, handler] of routes.#routes) {
      const space = key.indexOf(' ');
      this.on(key.slice(0, space), prefix + key.slice(space + 1), handler);
    }
    return this;
  }

  find(method: string, path: string): Handler | undefined {
    return this.#routes.get(`${method} ${path}`);
  }
}

export interface ServeOptions {
  /** Guards in order; a route is reached only when none answers. */
  guards?: readonly Guard[];
}

/** A node:http server for `router`: unknown routes are 404, HttpErrors their own reply, anything else a 500. */
export function createRouterServer(router: Router, options: ServeOptions = {}): Server {
  return createServer((raw, res) => void answer(router, options, raw, res));
}

async function answer(router: Router, { guards = [] }: ServeOptions, raw: IncomingMessage, res: ServerResponse): Promise<void> {
  const req = new HttpRequest(raw);
  let reply: Reply;
  try {
    reply = guards.reduce<Reply | undefined>((found, guard) => found ?? guard(req), undefined) ?? (await route(router, req));
  } catch (err) {
    reply = err instanceof HttpError ? err.toReply() : errorReply(500, 'internal', (err as Error).message);
  }
  if (!raw.complete) discardRest(raw);
  if (!res.destroyed) sendReply(res, reply);
}

/** How long a client may go on sending a body that was refused before the connection is cut. */
const DISCARD_MS = 5_000;

/**
 * A body refused early (413) is read to its end and dropped: the client, still uploading, then gets the
 * reply instead of a reset (EPIPE), and the rest is never taken for a request. One that keeps sending
 * past DISCARD_MS is cut off.
 */
function discardRest(raw: IncomingMessage): void {
  const timer = setTimeout(() => raw.socket.destroy(), DISCARD_MS);
  const stop = () => clearTimeout(timer);
  raw.once('end', stop).once('close', stop).resume();
}

function route(router: Router, req: HttpRequest): Reply | Promise<Reply> {
  // HEAD runs the GET route; node:http leaves the body out of the answer.
  const handler = router.find(req.method, req.path) ?? (req.method === 'HEAD' ? router.find('GET', req.path) : undefined);
  return handler ? handler(req) : errorReply(404, 'not_found', `no route ${req.method} ${req.path}`);
}

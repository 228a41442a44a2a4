// The route registry: one RouteSpec per operation validates requests, documents itself in OpenAPI and
// is mounted on Hono by mountRoutes, so the document and the checks cannot drift apart.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { StoreConflict, StoreInvalidInput, type Store } from '../store/types.ts';
import { authenticate } from './auth.ts';
import type { GatewayEnv } from './env.ts';
import { ApiError, apiErrorResponse, errorResponse, type FieldIssue, invalidRequest } from './errors.ts';
import { checkJsonContentType, DEFAULT_BODY_LIMIT, fieldIssues, parseJsonBody, readBodyText } from './request.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** application/json when a schema is given and this is not. */
  contentType?: string;
}

export interface RouteInput {
  params: any;
  query: any;
  body: any;
}

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI style: '/api/v1/managed_agents/agents/{id}'. */
  path: string;
  summary: string;
  tag: string;
  /** 'key': any valid key; 'admin': an admin key or the master key; 'none': public. */
  auth: 'key' | 'admin' | 'none';
  operationId?: string;
  description?: string;
  params?: z.ZodObject<any>;
  query?: z.ZodObject<any>;
  body?: z.ZodType;
  /** Bytes; DEFAULT_BODY_LIMIT (1 MiB) when absent. */
  bodyLimit?: number;
  responses: Record<number, ResponseSpec>;
  handler: (c: Context<GatewayEnv>, input: RouteInput) => Response | Promise<Response>;
}

type Parsed<S, Absent> = S extends z.ZodType ? z.output<S> : Absent;

export interface RouteDefinition<
  P extends z.ZodObject<any> | undefined,
  Q extends z.ZodObject<any> | undefined,
  B extends z.ZodType | undefined,
> extends Omit<RouteSpec, 'params' | 'query' | 'body' | 'handler'> {
  params?: P;
  query?: Q;
  body?: B;
  handler: (
    c: Context<GatewayEnv>,
    input: { params: Parsed<P, Record<string, never>>; query: Parsed<Q, Record<string, never>>; body: Parsed<B, undefined> },
  ) => Response | Promise<Response>;
}

/** Identity at runtime; at compile time the handler's input is inferred from the zod schemas. */
export function defineRoute<
  P extends z.ZodObject<any> | undefined = undefined,
  Q extends z.ZodObject<any> | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteDefinition<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** Where a 500 (always a bug) is reported. A pino logger fits. */
export interface ErrorLog {
  error(details: object, message: string): void;
}

export interface MountDeps {
  store: Store;
  /** The master key; when absent only stored API keys authenticate. */
  masterKey?: string;
  log?: ErrorLog;
}

/** '/agents/{id}' → '/agents/:id'. */
export function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

export function mountRoutes(app: Hono<GatewayEnv>, routes: RouteSpec[], deps: MountDeps): void {
  for (const route of routes) {
    app.on(route.method.toUpperCase(), honoPath(route.path), (c) => answer(route, c, deps));
  }
}

async function answer(route: RouteSpec, c: Context<GatewayEnv>, deps: MountDeps): Promise<Response> {
  c.set('store', deps.store);
  try {
    if (route.auth !== 'none') c.set('key', authenticate(deps.store, deps.masterKey ?? '', c.req.header('authorization')));
    if (route.auth === 'admin' && !c.get('key').admin) throw new ApiError(403, 'forbidden', 'this route needs an admin API key');
    return await route.handler(c, await readInput(route, c));
  } catch (error) {
    return errorToResponse(error, route, c, deps.log);
  }
}

async function readInput(route: RouteSpec, c: Context<GatewayEnv>): Promise<RouteInput> {
  let rawBody: unknown;
  if (route.body) {
    checkJsonContentType(c.req.header('content-type'));
    rawBody = parseJsonBody(await readBodyText(c.req.raw, route.bodyLimit ?? DEFAULT_BODY_LIMIT));
  }
  const issues: FieldIssue[] = [];
  const params = parsePart(route.params, c.req.param(), 'path', issues) ?? {};
  // Strict like bodies: a misspelt filter (?agent= for ?agent_id=) must not quietly list everything.
  const query = parsePart((route.query ?? NO_QUERY).strict(), c.req.query(), 'query', issues) ?? {};
  const body = parsePart(route.body, rawBody, 'body', issues);
  if (issues.length > 0) throw invalidRequest(issues);
  return { params, query, body };
}

const NO_QUERY = z.object({});

/** Validates one part, adding its problems to `issues` so one 400 lists everything wrong. */
function parsePart(schema: z.ZodType | undefined, value: unknown, where: 'body' | 'path' | 'query', issues: FieldIssue[]): any {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  issues.push(...fieldIssues(result.error.issues, where));
  return undefined;
}

function errorToResponse(error: unknown, route: RouteSpec, c: Context<GatewayEnv>, log: ErrorLog | undefined): Response {
  if (error instanceof ApiError) return apiErrorResponse(error);
  if (error instanceof StoreConflict) {
    return errorResponse(409, 'conflict', error.message, [{ field: error.field, message: error.message }]);
  }
  if (error instanceof StoreInvalidInput) {
    return errorResponse(400, 'invalid_request', `invalid ${error.field}: ${error.message}`, [{ field: error.field, message: error.message }]);
  }
  log?.error({ err: error, method: c.req.method, route: route.path }, 'unhandled error in an API route');
  return errorResponse(500, 'internal', 'internal error: this is a bug, and it has been logged');
}

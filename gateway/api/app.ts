// The REST API as one Hono app: the routes of this folder, the routes the caller adds (sessions),
// the OpenAPI document and /docs built from all of them, and the error shape for what matches nothing.
import { Hono } from 'hono';
import { z } from 'zod';
import type { Store } from '../store/types.ts';
import { docsPage } from './docs.ts';
import type { GatewayEnv } from './env.ts';
import { errorResponse } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { defineRoute, type ErrorLog, honoPath, mountRoutes, type RouteSpec } from './route.ts';
import { agentRoutes } from './routes/agents.ts';
import { keyRoutes } from './routes/keys.ts';
import { secretRoutes } from './routes/secrets.ts';

/** The routes this folder owns. */
export const apiRoutes: RouteSpec[] = [...keyRoutes, ...secretRoutes, ...agentRoutes];

export const OPENAPI_PATH = '/api/v1/openapi.json';
export const DOCS_PATH = '/docs';

const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface ApiAppDeps {
  store: Store;
  masterKey: string;
  /** More routes (the session routes), mounted and documented like the built-in ones. */
  routes: RouteSpec[];
  log: ErrorLog;
  info?: { title: string; version: string; description?: string };
}

function documentRoutes(document: () => object): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: OPENAPI_PATH,
      operationId: 'getOpenApiDocument',
      summary: 'This OpenAPI 3.1 document',
      tag: 'Documentation',
      auth: 'none',
      responses: { 200: { description: 'The document', schema: z.record(z.string(), z.unknown()) } },
      handler: (c) => c.json(document()),
    }),
    defineRoute({
      method: 'get',
      path: DOCS_PATH,
      operationId: 'getDocs',
      summary: 'These docs as an HTML page',
      tag: 'Documentation',
      auth: 'none',
      responses: { 200: { description: 'A self-contained HTML page', contentType: 'text/html' } },
      handler: (c) => {
        c.header('content-security-policy', DOCS_CSP);
        return c.html(docsPage(document()));
      },
    }),
  ];
}

export function createApiApp(deps: ApiAppDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  let document: object | undefined;
  const routes: RouteSpec[] = [...apiRoutes, ...deps.routes];
  routes.push(...documentRoutes(() => (document ??= openApiDocument(routes, deps.info ?? { title: 'LAP API', version: '1.0.0' }))));
  app.use('*', async (c, next) => {
    await next();
    c.header('x-content-type-options', 'nosniff');
  });
  mountRoutes(app, routes, deps);
  mountMethodNotAllowed(app, routes);
  app.notFound((c) => errorResponse(404, 'not_found', `no route ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    deps.log.error({ err: error, method: c.req.method, path: c.req.path }, 'unhandled error in the API');
    return errorResponse(500, 'internal', 'internal error: this is a bug, and it has been logged');
  });
  return app;
}

/** A known path with another method answers 405 and says which methods it has. Mounted last. */
function mountMethodNotAllowed(app: Hono<GatewayEnv>, routes: RouteSpec[]): void {
  const methodsByPath = new Map<string, string[]>();
  for (const route of routes) {
    const methods = methodsByPath.get(route.path) ?? [];
    methods.push(route.method.toUpperCase(), ...(route.method === 'get' ? ['HEAD'] : []));
    methodsByPath.set(route.path, methods);
  }
  for (const [path, methods] of methodsByPath) {
    const allow = methods.join(', ');
    app.all(honoPath(path), (c) =>
      errorResponse(405, 'method_not_allowed', `${c.req.method} is not allowed on ${path}: use ${allow}`, [], { allow }),
    );
  }
}

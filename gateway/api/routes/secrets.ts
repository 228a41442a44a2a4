// Secrets: write-only values (encrypted at rest by the store), readable metadata.
import type { Context } from 'hono';
import type { SecretRecord } from '../../store/types.ts';
import type { GatewayEnv } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { defineRoute, type RouteSpec } from '../route.ts';
import { MAX_SECRET_BYTES, putSecretBody, secretListSchema, secretNameParams, secretSchema, secretView } from '../schemas/secrets.ts';

const BASE = '/api/v1/secrets';
const tag = 'Secrets';

function findSecret(c: Context<GatewayEnv>, name: string): SecretRecord {
  const record = c.var.store.secrets.get(name);
  if (!record) throw notFound('secret', name);
  return record;
}

/** Names of the agents with a credential drawn from this secret. */
function agentsUsing(c: Context<GatewayEnv>, secret: string): string[] {
  return c.var.store.agents
    .list()
    .filter((agent) => agent.credentials.some((credential) => credential.secret === secret))
    .map((agent) => agent.name);
}

export const secretRoutes: RouteSpec[] = [
  defineRoute({
    method: 'put',
    path: `${BASE}/{name}`,
    operationId: 'putSecret',
    summary: 'Create or replace a secret',
    description: 'The value is encrypted at rest and never returned by any route. Sessions started later use the new value.',
    tag,
    auth: 'key',
    params: secretNameParams,
    body: putSecretBody,
    // The value's own limit plus room for JSON escaping (\uXXXX is 6 bytes per character at worst).
    bodyLimit: MAX_SECRET_BYTES * 6 + 1024,
    responses: {
      200: { description: 'Replaced', schema: secretSchema },
      201: { description: 'Created', schema: secretSchema },
    },
    handler: (c, { params, body }) => {
      const existed = c.var.store.secrets.get(params.name) !== undefined;
      return c.json(secretView(c.var.store.secrets.put(params.name, body.value)), existed ? 200 : 201);
    },
  }),
  defineRoute({
    method: 'get',
    path: BASE,
    operationId: 'listSecrets',
    summary: 'List secrets (names and dates, never values)',
    tag,
    auth: 'key',
    responses: { 200: { description: 'Every secret', schema: secretListSchema } },
    handler: (c) => c.json({ data: c.var.store.secrets.list().map(secretView) }),
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/{name}`,
    operationId: 'getSecret',
    summary: 'Get a secret (without its value)',
    tag,
    auth: 'key',
    params: secretNameParams,
    responses: { 200: { description: 'The secret', schema: secretSchema }, 404: { description: 'No such secret' } },
    handler: (c, { params }) => c.json(secretView(findSecret(c, params.name))),
  }),
  defineRoute({
    method: 'delete',
    path: `${BASE}/{name}`,
    operationId: 'deleteSecret',
    summary: 'Delete a secret',
    description: 'Refused with 409 while an agent has a credential drawn from it.',
    tag,
    auth: 'key',
    params: secretNameParams,
    responses: {
      204: { description: 'Deleted' },
      404: { description: 'No such secret' },
      409: { description: 'An agent uses the secret: details name the agents' },
    },
    handler: (c, { params }) => {
      const record = findSecret(c, params.name);
      const users = agentsUsing(c, record.name);
      if (users.length > 0) {
        throw new ApiError(409, 'conflict', `secret ${record.name} is used by agent ${users.join(', ')}: change those agents first`, users.map((agent) => ({ field: 'name', message: `used by agent ${agent}` })));
      }
      c.var.store.secrets.delete(record.name);
      return c.body(null, 204);
    },
  }),
];

// Named API keys (admin only): create (the token is shown once), list, get, revoke.
import type { Context } from 'hono';
import type { ApiKeyRecord } from '../../store/types.ts';
import type { GatewayEnv } from '../env.ts';
import { notFound } from '../errors.ts';
import { defineRoute, type RouteSpec } from '../route.ts';
import { apiKeyIdParams, apiKeyListSchema, apiKeySchema, apiKeyView, createApiKeyBody, createdApiKeySchema } from '../schemas/keys.ts';

const BASE = '/api/v1/api_keys';
const tag = 'API keys';

function findKey(c: Context<GatewayEnv>, id: string): ApiKeyRecord {
  const record = c.var.store.apiKeys.get(id);
  if (!record) throw notFound('API key', id);
  return record;
}

export const keyRoutes: RouteSpec[] = [
  defineRoute({
    method: 'post',
    path: BASE,
    operationId: 'createApiKey',
    summary: 'Create an API key',
    description: 'The answer carries the key once; only its hash is stored.',
    tag,
    auth: 'admin',
    body: createApiKeyBody,
    responses: { 201: { description: 'Created; `key` is shown only here', schema: createdApiKeySchema } },
    handler: (c, { body }) => {
      const { record, token } = c.var.store.apiKeys.create(body.name, body.admin);
      return c.json({ ...apiKeyView(record), key: token }, 201);
    },
  }),
  defineRoute({
    method: 'get',
    path: BASE,
    operationId: 'listApiKeys',
    summary: 'List API keys, revoked ones included',
    tag,
    auth: 'admin',
    responses: { 200: { description: 'Every key, without tokens', schema: apiKeyListSchema } },
    handler: (c) => c.json({ data: c.var.store.apiKeys.list().map(apiKeyView) }),
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/{id}`,
    operationId: 'getApiKey',
    summary: 'Get an API key',
    tag,
    auth: 'admin',
    params: apiKeyIdParams,
    responses: { 200: { description: 'The key, without its token', schema: apiKeySchema }, 404: { description: 'No such key' } },
    handler: (c, { params }) => c.json(apiKeyView(findKey(c, params.id))),
  }),
  defineRoute({
    method: 'delete',
    path: `${BASE}/{id}`,
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    description: 'The key stops working at once. The record stays, with revoked_at set; revoking twice is harmless.',
    tag,
    auth: 'admin',
    params: apiKeyIdParams,
    responses: { 200: { description: 'The revoked key', schema: apiKeySchema }, 404: { description: 'No such key' } },
    handler: (c, { params }) => {
      const record = findKey(c, params.id);
      if (record.revokedAt === null) c.var.store.apiKeys.revoke(record.id);
      return c.json(apiKeyView(findKey(c, params.id)));
    },
  }),
];

// Agents: what a session runs (harness, model, prompt, repository, env vars, credentials, egress).
import type { Context } from 'hono';
import type { AgentRecord } from '../../store/types.ts';
import { agentInputFromCreate, agentInputFromPatch } from '../agent-input.ts';
import type { GatewayEnv } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { defineRoute, type RouteSpec } from '../route.ts';
import { agentIdParams, agentListSchema, agentSchema, agentView, createAgentBody, updateAgentBody } from '../schemas/agents.ts';

const BASE = '/api/v1/managed_agents/agents';
const tag = 'Agents';

function findAgent(c: Context<GatewayEnv>, idOrName: string): AgentRecord {
  const record = c.var.store.agents.get(idOrName);
  if (!record) throw notFound('agent', idOrName);
  return record;
}

const invalidOrConflict = {
  400: { description: 'Invalid fields, an unknown secret, or a credential without hosts: details name each field' },
  409: { description: 'Another agent has this name' },
};

export const agentRoutes: RouteSpec[] = [
  defineRoute({
    method: 'post',
    path: BASE,
    operationId: 'createAgent',
    summary: 'Create an agent',
    tag,
    auth: 'key',
    body: createAgentBody,
    responses: { 201: { description: 'Created', schema: agentSchema }, ...invalidOrConflict },
    handler: (c, { body }) => {
      const record = c.var.store.agents.create(agentInputFromCreate(body, c.var.store));
      c.header('location', `${BASE}/${record.id}`);
      return c.json(agentView(record), 201);
    },
  }),
  defineRoute({
    method: 'get',
    path: BASE,
    operationId: 'listAgents',
    summary: 'List agents',
    tag,
    auth: 'key',
    responses: { 200: { description: 'Every agent', schema: agentListSchema } },
    handler: (c) => c.json({ data: c.var.store.agents.list().map(agentView) }),
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/{id}`,
    operationId: 'getAgent',
    summary: 'Get an agent by id or name',
    tag,
    auth: 'key',
    params: agentIdParams,
    responses: { 200: { description: 'The agent', schema: agentSchema }, 404: { description: 'No such agent' } },
    handler: (c, { params }) => c.json(agentView(findAgent(c, params.id))),
  }),
  defineRoute({
    method: 'patch',
    path: `${BASE}/{id}`,
    operationId: 'updateAgent',
    summary: 'Update some fields of an agent',
    description:
      'Each field given replaces the stored one whole (env_vars, credentials and egress_policy included); null clears a nullable field. ' +
      'Known credentials get their default hosts when the credentials are given again.',
    tag,
    auth: 'key',
    params: agentIdParams,
    body: updateAgentBody,
    responses: { 200: { description: 'The updated agent', schema: agentSchema }, 404: { description: 'No such agent' }, ...invalidOrConflict },
    handler: (c, { params, body }) => {
      const record = findAgent(c, params.id);
      const updated = c.var.store.agents.update(record.id, agentInputFromPatch(record, body, c.var.store));
      if (!updated) throw notFound('agent', params.id);
      return c.json(agentView(updated));
    },
  }),
  defineRoute({
    method: 'delete',
    path: `${BASE}/{id}`,
    operationId: 'deleteAgent',
    summary: 'Delete an agent',
    description: 'Refused with 409 while the agent has live (creating or ready) sessions.',
    tag,
    auth: 'key',
    params: agentIdParams,
    responses: {
      204: { description: 'Deleted' },
      404: { description: 'No such agent' },
      409: { description: 'The agent has live sessions' },
    },
    handler: (c, { params }) => {
      const record = findAgent(c, params.id);
      const live = c.var.store.sessions.live().filter((session) => session.agentId === record.id);
      if (live.length > 0) {
        throw new ApiError(409, 'conflict', `agent ${record.name} has ${live.length} live session(s): delete them first`, live.map((s) => ({ field: 'id', message: `live session ${s.id}` })));
      }
      c.var.store.agents.delete(record.id);
      return c.body(null, 204);
    },
  }),
];

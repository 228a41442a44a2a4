// A valid request for every operation this folder documents, keyed by operationId, with the records it
// needs created once up front (so running a fixture twice never creates anything by itself).
import type { Store } from '../../../gateway/store/types.ts';

export interface ValidRequest {
  params?: Record<string, string>;
  body?: unknown;
}

export const WALK_SECRET_VALUE = 'walk-secret-value-0f3c9a';

export function prepareValidRequests(store: Store): Record<string, ValidRequest> {
  store.secrets.put('WALK_SECRET', WALK_SECRET_VALUE);
  store.secrets.put('WALK_SECRET_DOOMED', `${WALK_SECRET_VALUE}-doomed`);
  const agent = store.agents.create(agentInput('walk-agent'));
  const doomedAgent = store.agents.create(agentInput('walk-agent-doomed'));
  const key = store.apiKeys.create('walk-key', false).record;
  const doomedKey = store.apiKeys.create('walk-key-doomed', false).record;
  return {
    createApiKey: { body: { name: 'walk-created-key' } },
    listApiKeys: {},
    getApiKey: { params: { id: key.id } },
    revokeApiKey: { params: { id: doomedKey.id } },
    putSecret: { params: { name: 'WALK_SECRET_NEW' }, body: { value: `${WALK_SECRET_VALUE}-new` } },
    listSecrets: {},
    getSecret: { params: { name: 'WALK_SECRET' } },
    deleteSecret: { params: { name: 'WALK_SECRET_DOOMED' } },
    createAgent: {
      body: { name: 'walk-agent-new', harness: 'claude-code', model: 'claude-sonnet', credentials: [{ name: 'GITHUB_TOKEN', secret: 'WALK_SECRET' }] },
    },
    listAgents: {},
    getAgent: { params: { id: agent.id } },
    updateAgent: { params: { id: agent.id }, body: { model: 'gpt-5', prompt: null } },
    deleteAgent: { params: { id: doomedAgent.id } },
    getOpenApiDocument: {},
    getDocs: {},
  };
}

function agentInput(name: string) {
  return {
    name,
    harness: 'shell',
    model: null,
    prompt: 'say hi',
    repository: null,
    branch: null,
    envVars: { FOO: 'bar' },
    credentials: [{ name: 'GITHUB_TOKEN', secret: 'WALK_SECRET', hosts: ['github.com'], places: ['header' as const] }],
    egressPolicy: null,
    idleTimeoutSeconds: 3600,
  };
}

// What a claim pushes into a sandbox: the vault's credentials (real values) and the agent's claim
// (stubs only). Built from the agent record, its stored secrets and the session's env_vars.
import type { ClaimRequest } from '../../sandbox-agent/protocol.ts';
import type { CredentialView, EgressPolicy, SwapPlace } from '../../vault/types.ts';
import { defaultHostsFor } from '../api/known-credentials.ts';
import { ApiError } from '../api/errors.ts';
import type { SandboxHandle } from '../runtime/types.ts';
import type { AgentRecord, SessionRecord, Store } from '../store/types.ts';
import type { VaultCredentialInput } from './control-client.ts';

/** Every variable that names the CA file: each program reads its own (DESIGN.md §6). */
const CA_VARIABLES = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'GIT_SSL_CAINFO', 'CODEX_CA_CERTIFICATE'];
const DEFAULT_POLICY: EgressPolicy = { default: 'allow', allow: [], deny: [], allowPrivate: [] };
/** Git hosts whose HTTPS remotes take a token as the password of this user name. */
const GIT_TOKEN_USERS: Record<string, { host: string; username: string }> = {
  GITHUB_TOKEN: { host: 'github.com', username: 'x-access-token' },
};

/**
 * The real values for the vault: the agent's credentials (from stored secrets) and every per-session
 * env var. Throws a 400/409 ApiError before anything starts when a value or a host is missing.
 */
export function vaultCredentials(store: Store, agent: AgentRecord, envVars: Record<string, string>): VaultCredentialInput[] {
  const byName = new Map<string, VaultCredentialInput>();
  for (const credential of agent.credentials) {
    const value = store.secrets.reveal(credential.secret);
    if (value === undefined) {
      throw new ApiError(409, 'secret_missing', `agent ${agent.name}: credential ${credential.name} uses secret ${credential.secret}, which does not exist; set it with PUT /api/v1/secrets/${credential.secret}`);
    }
    byName.set(credential.name, { name: credential.name, value, hosts: credential.hosts, places: credential.places });
  }
  for (const [name, value] of Object.entries(envVars)) {
    const fromAgent = byName.get(name);
    const hosts = fromAgent?.hosts ?? defaultHostsFor(name, agent.envVars);
    if (!hosts || hosts.length === 0) {
      throw new ApiError(400, 'invalid_request', `env_vars.${name}: no hosts known for this credential; add a credential named ${name} with its hosts to the agent`, [
        { field: `env_vars.${name}`, message: 'no hosts known for this credential' },
      ]);
    }
    const places: SwapPlace[] = fromAgent?.places ?? ['header'];
    byName.set(name, { name, value, hosts, places });
  }
  return [...byName.values()];
}

export function egressPolicy(agent: AgentRecord): EgressPolicy {
  return agent.egressPolicy ?? DEFAULT_POLICY;
}

/** The agent's claim: plain env vars, the stubs the vault minted, the CA variables; never a real value. */
export function claimRequest(session: SessionRecord, agent: AgentRecord, handle: SandboxHandle, stubs: CredentialView[], size?: { cols: number; rows: number }): ClaimRequest {
  const env: Record<string, string> = { ...agent.envVars };
  for (const variable of CA_VARIABLES) env[variable] = handle.paths.caFile;
  for (const stub of stubs) env[stub.name] = stub.stub;
  env.LAP_SESSION_ID = session.id;
  if (handle.paths.harnessDir) env.LAP_HARNESS_DIR = handle.paths.harnessDir;
  if (agent.model) env.LAP_MODEL = agent.model;
  const claim: ClaimRequest = { session: session.id, harness: session.harness, env, ...size };
  if (agent.repository) claim.workspace = { repository: agent.repository, ...(agent.branch ? { branch: agent.branch } : {}) };
  const gitCredentials = stubs.flatMap((s) => {
    const git = GIT_TOKEN_USERS[s.name];
    return git && s.hosts.includes(git.host) ? [{ host: git.host, username: git.username, stub: s.stub }] : [];
  });
  if (gitCredentials.length > 0) claim.gitCredentials = gitCredentials;
  return claim;
}

// From a validated POST or PATCH body to the store's AgentInput: defaults, and the checks that span
// fields or need the store (a credential's secret must exist, its hosts must be known).
import type { AgentCredential, AgentInput, AgentRecord, Store } from '../store/types.ts';
import type { EgressPolicy } from '../../vault/types.ts';
import { type FieldIssue, invalidRequest } from './errors.ts';
import { defaultHostsFor, missingHostsReason } from './known-credentials.ts';
import type { CreateAgentBody, CredentialInput, EgressPolicyInput, UpdateAgentBody } from './schemas/agents.ts';
import { IDLE_TIMEOUT } from './schemas/agents.ts';
import { hostPatternSchema } from './schemas/common.ts';

export function agentInputFromCreate(body: CreateAgentBody, store: Store): AgentInput {
  const envVars = body.env_vars ?? {};
  return checked(store, {
    name: body.name,
    harness: body.harness,
    model: body.model ?? null,
    prompt: body.prompt ?? null,
    repository: body.repository ?? null,
    branch: body.branch ?? null,
    envVars,
    credentials: body.credentials ?? [],
    egressPolicy: body.egress_policy ? egressPolicy(body.egress_policy) : null,
    idleTimeoutSeconds: body.idle_timeout_seconds ?? IDLE_TIMEOUT.default,
  });
}

/** A PATCH replaces each field it names, whole; credentials not named keep their resolved hosts. */
export function agentInputFromPatch(record: AgentRecord, patch: UpdateAgentBody, store: Store): AgentInput {
  return checked(store, {
    name: patch.name ?? record.name,
    harness: patch.harness ?? record.harness,
    model: patch.model !== undefined ? patch.model : record.model,
    prompt: patch.prompt !== undefined ? patch.prompt : record.prompt,
    repository: patch.repository !== undefined ? patch.repository : record.repository,
    branch: patch.branch !== undefined ? patch.branch : record.branch,
    envVars: patch.env_vars ?? record.envVars,
    credentials: patch.credentials ?? record.credentials,
    egressPolicy: patch.egress_policy !== undefined ? patch.egress_policy && egressPolicy(patch.egress_policy) : record.egressPolicy,
    idleTimeoutSeconds: patch.idle_timeout_seconds ?? record.idleTimeoutSeconds,
  });
}

type Draft = Omit<AgentInput, 'credentials'> & { credentials: (CredentialInput | AgentCredential)[] };

function checked(store: Store, draft: Draft): AgentInput {
  const issues: FieldIssue[] = [];
  const credentials = draft.credentials.map((credential, index) => resolveCredential(credential, index, draft.envVars, issues));
  const seen = new Set<string>();
  draft.credentials.forEach((credential, index) => {
    const field = `credentials.${index}`;
    if (seen.has(credential.name)) issues.push({ field: `${field}.name`, message: `${credential.name} appears twice` });
    seen.add(credential.name);
    if (Object.hasOwn(draft.envVars, credential.name)) {
      issues.push({ field: `${field}.name`, message: `${credential.name} is also in env_vars: a variable is either plain or a credential` });
    }
    if (!store.secrets.get(credential.secret)) {
      issues.push({ field: `${field}.secret`, message: `no secret named ${credential.secret}: PUT /api/v1/secrets/${credential.secret} first` });
    }
  });
  if (draft.branch !== null && draft.repository === null) issues.push({ field: 'branch', message: 'a branch needs a repository' });
  if (issues.length > 0) throw invalidRequest(issues);
  return { ...draft, credentials };
}

function resolveCredential(credential: CredentialInput | AgentCredential, index: number, envVars: Record<string, string>, issues: FieldIssue[]): AgentCredential {
  const hosts = credential.hosts ?? defaultHostsFor(credential.name, envVars);
  const field = `credentials.${index}.hosts`;
  if (hosts === undefined) issues.push({ field, message: missingHostsReason(credential.name) });
  // A default taken from a URL in env_vars is checked like hosts the caller gave.
  const refused = hosts?.find((host) => !hostPatternSchema.safeParse(host).success);
  if (refused !== undefined) issues.push({ field, message: `the default host ${JSON.stringify(refused)} is not a usable host pattern: give hosts` });
  return { name: credential.name, secret: credential.secret, hosts: hosts ?? [], places: credential.places ?? ['header'] };
}

function egressPolicy(input: EgressPolicyInput): EgressPolicy {
  return { default: input.default, allow: input.allow, deny: input.deny, allowPrivate: input.allow_private };
}

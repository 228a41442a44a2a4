// Agents on the wire (snake_case, as the reference platform) and their mapping to store records.
import { z } from 'zod';
import type { AgentCredential, AgentRecord } from '../../store/types.ts';
import { hostPatternSchema, listOf, timestampSchema } from './common.ts';
import { envNameSchema, envVarsSchema } from './env.ts';
import { secretNameSchema } from './secrets.ts';

export const HARNESSES = ['claude-code', 'codex', 'opencode', 'claude-agent-sdk', 'shell'] as const;
export const IDLE_TIMEOUT = { min: 1, max: 30 * 24 * 3600, default: 24 * 3600 } as const;
export const MAX_CREDENTIALS = 50;
export const MAX_PROMPT_CHARACTERS = 100_000;

const AGENT_ID = /^agt_[0-9a-f]{16}$/;
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/;

export const agentNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, . _ -, starting with a letter or digit')
  .refine((name) => !AGENT_ID.test(name), 'must not look like an agent id (agt_ + 16 hex)')
  .meta({ description: 'Unique; usable in place of the id in paths', examples: ['pr-fixer'] });

const repositorySchema = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    const problem = repositoryProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'An https:// git URL, without credentials in it', examples: ['https://github.com/acme/app.git'] });

const branchSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = branchProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'A git branch name (git check-ref-format --branch rules)', examples: ['main'] });

const placesSchema = z
  .array(z.enum(['header', 'query', 'body']))
  .min(1)
  .max(3)
  .refine((places) => new Set(places).size === places.length, 'must not repeat a place')
  .meta({ description: 'Where the stub is swapped for the value; body is opt-in. Default ["header"]' });

export const credentialInputSchema = z.strictObject({
  name: envNameSchema.meta({ description: 'The environment variable the sandbox sees (holding a stub)', examples: ['GITHUB_TOKEN'] }),
  secret: secretNameSchema.meta({ description: 'The stored secret holding the real value' }),
  hosts: z
    .array(hostPatternSchema)
    .min(1, 'a credential needs at least one host it may be sent to')
    .max(64)
    .optional()
    .meta({ description: 'Hosts the real value may go to. Defaults exist for GITHUB_TOKEN, ANTHROPIC_API_KEY, OPENAI_API_KEY and LITELLM_API_KEY (the host of env_vars.LITELLM_API_BASE)' }),
  places: placesSchema.optional(),
});

const hostList = z.array(hostPatternSchema).max(1024);

export const egressPolicyInputSchema = z.strictObject({
  default: z.enum(['allow', 'deny']).default('allow').meta({ description: 'For hosts on neither list' }),
  allow: hostList.default([]),
  deny: hostList.default([]).meta({ description: 'Wins over allow' }),
  allow_private: hostList.default([]).meta({ description: 'Hosts that may resolve to loopback, private, link-local or metadata addresses' }),
});

/** Every field of an agent, each optional: PATCH takes this as is, POST adds requirements and defaults. */
const agentFields = {
  name: agentNameSchema,
  harness: z.enum(HARNESSES),
  model: z.string().min(1).max(200).regex(NO_CONTROL_CHARACTERS, 'must not contain control characters').nullable(),
  prompt: z.string().max(MAX_PROMPT_CHARACTERS).nullable().meta({ description: 'The first instruction for the harness' }),
  repository: repositorySchema.nullable(),
  branch: branchSchema.nullable(),
  env_vars: envVarsSchema,
  credentials: z.array(credentialInputSchema).max(MAX_CREDENTIALS),
  egress_policy: egressPolicyInputSchema.nullable().meta({ description: 'null: the gateway default' }),
  idle_timeout_seconds: z
    .int()
    .min(IDLE_TIMEOUT.min)
    .max(IDLE_TIMEOUT.max)
    .meta({ description: `A session with no activity for this long is reaped (${IDLE_TIMEOUT.min} s to 30 days)` }),
};

/** PATCH: every field optional; a field given replaces the stored one. */
export const updateAgentBody = z.strictObject(agentFields).partial();

/** POST: name and harness required, the rest optional, the idle timeout defaulted. */
export const createAgentBody = updateAgentBody.required({ name: true, harness: true }).extend({
  idle_timeout_seconds: agentFields.idle_timeout_seconds.default(IDLE_TIMEOUT.default),
});

export type CreateAgentBody = z.output<typeof createAgentBody>;
export type UpdateAgentBody = z.output<typeof updateAgentBody>;
export type CredentialInput = z.output<typeof credentialInputSchema>;
export type EgressPolicyInput = z.output<typeof egressPolicyInputSchema>;

export const agentIdParams = z.object({ id: z.string().min(1).max(128).meta({ description: 'The agent id (agt_...) or its name' }) });

const credentialSchema = z
  .object({ name: z.string(), secret: z.string(), hosts: z.array(z.string()), places: z.array(z.enum(['header', 'query', 'body'])) })
  .meta({ id: 'AgentCredential' });

const egressPolicySchema = z
  .object({ default: z.enum(['allow', 'deny']), allow: z.array(z.string()), deny: z.array(z.string()), allow_private: z.array(z.string()) })
  .meta({ id: 'EgressPolicy' });

export const agentSchema = z
  .object({
    id: z.string().meta({ examples: ['agt_0123456789abcdef'] }),
    name: z.string(),
    harness: z.enum(HARNESSES),
    model: z.string().nullable(),
    prompt: z.string().nullable(),
    repository: z.string().nullable(),
    branch: z.string().nullable(),
    env_vars: z.record(z.string(), z.string()),
    credentials: z.array(credentialSchema),
    egress_policy: egressPolicySchema.nullable(),
    idle_timeout_seconds: z.int(),
    created_at: timestampSchema,
    updated_at: timestampSchema,
  })
  .meta({ id: 'Agent' });

export const agentListSchema = listOf(agentSchema, 'AgentList');

export function agentView(record: AgentRecord): z.output<typeof agentSchema> {
  const policy = record.egressPolicy;
  return {
    id: record.id,
    name: record.name,
    harness: record.harness as (typeof HARNESSES)[number],
    model: record.model,
    prompt: record.prompt,
    repository: record.repository,
    branch: record.branch,
    env_vars: record.envVars,
    credentials: record.credentials.map((c: AgentCredential) => ({ name: c.name, secret: c.secret, hosts: c.hosts, places: c.places })),
    egress_policy: policy && { default: policy.default, allow: policy.allow, deny: policy.deny, allow_private: policy.allowPrivate },
    idle_timeout_seconds: record.idleTimeoutSeconds,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function repositoryProblem(value: string): string | null {
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return 'must not contain whitespace or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an https:// URL';
  }
  if (url.protocol !== 'https:') return `must be an https:// URL, got ${url.protocol}`;
  if (url.username || url.password) return 'must not carry credentials: give a GITHUB_TOKEN credential instead';
  return null;
}

/** git's rules for branch names (git check-ref-format --branch), as the sandbox agent checks them. */
function branchProblem(name: string): string | null {
  if (name.length === 0 || name.length > 255) return 'must be 1-255 characters';
  if (/[\s\u0000-\u001f\u007f~^:?*[\\]/.test(name)) return 'must not contain spaces, control characters or any of ~ ^ : ? * [ \\';
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.endsWith('.lock')) {
    return 'must not start with - or /, nor end with /, . or .lock';
  }
  if (name.includes('..') || name.includes('//') || name.includes('@{') || name === '@' || name.split('/').some((part) => part.startsWith('.'))) {
    return 'must not contain .., //, @{, or a component starting with .';
  }
  return null;
}

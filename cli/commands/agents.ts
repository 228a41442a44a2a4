import { readFileSync } from 'node:fs';
import { defineCommand } from 'citty';
import { MANAGED } from '../client.ts';
import { clientFor, jsonArgs } from '../context.ts';
import { usageError } from '../errors.ts';
import { age, printJson, printTable } from '../output.ts';
import type { Agent } from '../sessions.ts';

const agentPath = (ref: string) => `${MANAGED}/agents/${encodeURIComponent(ref)}`;

const ls = defineCommand({
  meta: { name: 'ls', description: 'List agents' },
  args: jsonArgs,
  async run({ args }) {
    const agents: Agent[] = (await clientFor(args).json('GET', `${MANAGED}/agents`)).data;
    if (args.json) return printJson(agents);
    printTable(['id', 'name', 'harness', 'model', 'age'], agents.map((a) => [a.id, a.name, a.harness, String(a.model ?? '-'), age(a.created_at as string)]));
  },
});

const create = defineCommand({
  meta: { name: 'create', description: 'Create an agent from flags, or from a JSON file (the API body; flags override its fields)' },
  args: {
    ...jsonArgs,
    name: { type: 'string', description: 'Unique name, used in place of the id', valueHint: 'name' },
    harness: { type: 'enum', options: ['claude-code', 'codex', 'opencode', 'claude-agent-sdk', 'shell'], description: 'What runs in the sandbox' },
    model: { type: 'string', description: 'Model name passed to the harness', valueHint: 'model' },
    repository: { type: 'string', description: 'https:// git URL cloned into the workspace', valueHint: 'url' },
    env: { type: 'string', description: 'Plain environment variable NAME=value (repeatable)', valueHint: 'NAME=value' },
    file: { type: 'string', alias: 'f', description: 'JSON file with the whole agent (- for stdin)', valueHint: 'path' },
  },
  async run({ args }) {
    const body: Record<string, unknown> = args.file ? readAgentFile(args.file) : {};
    for (const field of ['name', 'harness', 'model', 'repository'] as const) if (args[field]) body[field] = args[field];
    const env = ([] as string[]).concat((args.env as string | string[] | undefined) ?? []);
    if (env.length > 0) body.env_vars = { ...(body.env_vars as object), ...Object.fromEntries(env.map(parseAssignment)) };
    if (!body.name || !body.harness) throw usageError('an agent needs --name and --harness (or a --file with both)');
    const agent: Agent = await clientFor(args).json('POST', `${MANAGED}/agents`, body);
    if (args.json) printJson(agent);
    else process.stdout.write(`${agent.id}\n`);
  },
});

const show = defineCommand({
  meta: { name: 'show', description: 'Show one agent (name or id) as JSON' },
  args: { ...jsonArgs, agent: { type: 'positional', required: true, description: 'Agent name or id', valueHint: 'agent' } },
  async run({ args }) {
    printJson(await clientFor(args).json('GET', agentPath(args.agent)));
  },
});

const rm = defineCommand({
  meta: { name: 'rm', description: 'Delete an agent (name or id)' },
  args: { ...jsonArgs, agent: { type: 'positional', required: true, description: 'Agent name or id', valueHint: 'agent' } },
  async run({ args }) {
    const client = clientFor(args);
    const agent: Agent = await client.json('GET', agentPath(args.agent));
    await client.fetch(agentPath(agent.id), { method: 'DELETE' });
    if (args.json) printJson(agent);
    else process.stdout.write(`${agent.id}\n`);
  },
});

export default defineCommand({
  meta: { name: 'agents', description: 'List, create, show and delete agents (`lap agents` lists them)' },
  subCommands: { ls, create, show, rm },
  default: 'ls',
});

function readAgentFile(path: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path === '-' ? 0 : path, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw usageError(`cannot read ${path}: ${(err as Error).message}`, 'check the path; `-f -` reads the agent from standard input');
  }
  throw usageError(`${path} is not a JSON object`, 'the file holds the same body as POST /api/v1/managed_agents/agents');
}

function parseAssignment(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at < 1) throw usageError(`--env ${text}: expected NAME=value`);
  return [text.slice(0, at), text.slice(at + 1)];
}

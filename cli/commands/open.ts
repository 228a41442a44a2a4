// `lap <agent>` (and `lap` alone on a terminal, which asks for the agent first): attach to the agent's
// newest ready session, or start one.
import { defineCommand } from 'citty';
import { attachSession } from '../attach/attach.ts';
import { MANAGED } from '../client.ts';
import { clientFor, serverArgs } from '../context.ts';
import { CliError, usageError } from '../errors.ts';
import { choose } from '../prompt.ts';
import { type Agent, createSession, newestReadySession } from '../sessions.ts';

export default defineCommand({
  meta: { name: 'open', description: "Attach to an agent's newest ready session, or start one (this is `lap <agent>`)", hidden: true },
  args: {
    ...serverArgs,
    agent: { type: 'positional', required: false, description: 'Agent name or id (asked for when missing, on a terminal)', valueHint: 'agent' },
    new: { type: 'boolean', description: 'Always start a new session' },
  },
  async run({ args }) {
    const client = clientFor(args);
    const agent = args.agent ? await client.json<Agent>('GET', `${MANAGED}/agents/${encodeURIComponent(args.agent)}`) : await pickAgent(client);
    const existing = args.new ? undefined : await newestReadySession(client, agent);
    const size = { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
    const session = existing ?? (await createSession(client, agent, size));
    process.exitCode = await attachSession(client, session.id);
  },
});

async function pickAgent(client: ReturnType<typeof clientFor>): Promise<Agent> {
  if (!process.stdin.isTTY) throw usageError('no agent given', 'lap <agent>; `lap agents` lists them');
  const agents: Agent[] = (await client.json('GET', `${MANAGED}/agents`)).data;
  if (agents.length === 0) throw new CliError('there are no agents yet', { hint: 'create one: lap agents create --name sh --harness shell' });
  return choose('Agents:', agents, (a) => `${a.name}  (${a.harness})`);
}

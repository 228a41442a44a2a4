import { defineCommand } from 'citty';
import { MANAGED } from '../client.ts';
import { clientFor, jsonArgs } from '../context.ts';
import { age, printJson, printTable } from '../output.ts';
import { type Agent, listSessions } from '../sessions.ts';

export default defineCommand({
  meta: { name: 'ls', description: 'List sessions, newest first: id, agent, harness, status, age, last activity' },
  args: {
    ...jsonArgs,
    all: { type: 'boolean', alias: 'a', description: 'Include ended sessions (dead, failed)' },
    agent: { type: 'string', description: 'Only the sessions of this agent (name or id)', valueHint: 'agent' },
  },
  async run({ args }) {
    const client = clientFor(args);
    const agents: Agent[] = (await client.json('GET', `${MANAGED}/agents`)).data;
    const agentFilter = args.agent ? agents.find((a) => a.name === args.agent || a.id === args.agent)?.id ?? args.agent : undefined;
    const sessions = (await listSessions(client, agentFilter ? { agent_id: agentFilter } : {})).filter((s) => args.all || s.status === 'ready' || s.status === 'creating');
    if (args.json) return printJson(sessions);
    const names = new Map(agents.map((a) => [a.id, a.name]));
    printTable(
      ['id', 'agent', 'harness', 'status', 'age', 'active'],
      sessions.map((s) => [s.id, names.get(s.agent_id) ?? s.agent_id, s.harness, s.status, age(s.created_at), `${age(s.last_activity_at)} ago`]),
    );
  },
});

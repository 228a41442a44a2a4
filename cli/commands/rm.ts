import { defineCommand } from 'citty';
import { MANAGED } from '../client.ts';
import { clientFor, jsonArgs } from '../context.ts';
import { printJson } from '../output.ts';
import { resolveSession } from '../sessions.ts';

export default defineCommand({
  meta: { name: 'rm', description: 'End sessions and remove their sandboxes (their events and audit trail stay)' },
  args: { ...jsonArgs, session: { type: 'positional', required: true, description: 'Session id, or a unique prefix of one', valueHint: 'session' } },
  async run({ args }) {
    const client = clientFor(args);
    const ended = [];
    for (const ref of args._) {
      const session = await resolveSession(client, ref);
      ended.push(await client.json('DELETE', `${MANAGED}/sessions/${session.id}`));
      if (!args.json) process.stdout.write(`${session.id}\n`);
    }
    if (args.json) printJson(ended);
  },
});

import { defineCommand } from 'citty';
import { clientFor, jsonArgs } from '../context.ts';
import { printEvents } from '../events.ts';
import { resolveSession } from '../sessions.ts';

export const eventArgs = {
  ...jsonArgs,
  session: { type: 'positional', required: true, description: 'Session id, or a unique prefix of one', valueHint: 'session' },
  follow: { type: 'boolean', alias: 'f', description: 'Keep printing new events until the session ends (with --json: one JSON object per line)' },
} as const;

export default defineCommand({
  meta: { name: 'logs', description: "A session's event log: status, phases, harness start and exit, activity, vault requests" },
  args: eventArgs,
  async run({ args }) {
    const client = clientFor(args);
    const session = await resolveSession(client, args.session);
    await printEvents(client, session.id, { follow: Boolean(args.follow), json: Boolean(args.json), log: 'events' });
  },
});

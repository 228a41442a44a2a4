import { defineCommand } from 'citty';
import { clientFor } from '../context.ts';
import { printEvents } from '../events.ts';
import { resolveSession } from '../sessions.ts';
import { eventArgs } from './logs.ts';

export default defineCommand({
  meta: { name: 'vault', description: "A session's vault audit trail: every outbound request, the credentials swapped in, and every block" },
  args: eventArgs,
  async run({ args }) {
    const client = clientFor(args);
    const session = await resolveSession(client, args.session);
    await printEvents(client, session.id, { follow: Boolean(args.follow), json: Boolean(args.json), log: 'audit' });
  },
});

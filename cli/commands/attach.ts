import { defineCommand } from 'citty';
import { attachSession } from '../attach/attach.ts';
import { clientFor, serverArgs } from '../context.ts';
import { resolveSession } from '../sessions.ts';

export default defineCommand({
  meta: { name: 'attach', description: "Attach this terminal to a session's terminal. Detach with Enter ~. (the session keeps running); ~? lists escapes" },
  args: { ...serverArgs, session: { type: 'positional', required: true, description: 'Session id, or a unique prefix of one', valueHint: 'session' } },
  async run({ args }) {
    const client = clientFor(args);
    const session = await resolveSession(client, args.session);
    process.exitCode = await attachSession(client, session.id);
  },
});

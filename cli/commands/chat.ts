import { createInterface } from 'node:readline/promises';
import { defineCommand } from 'citty';
import { clientFor, serverArgs } from '../context.ts';
import { sendMessage } from '../messages.ts';
import { resolveSession } from '../sessions.ts';

export default defineCommand({
  meta: { name: 'chat', description: 'Talk to a message-harness session line by line; an empty line or Ctrl-D ends' },
  args: { ...serverArgs, session: { type: 'positional', required: true, description: 'Session id, or a unique prefix of one', valueHint: 'session' } },
  async run({ args }) {
    const client = clientFor(args);
    const session = await resolveSession(client, args.session);
    const lines = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
    try {
      for (;;) {
        const text = await lines.question('you> ').catch(() => '');
        if (!text.trim()) return;
        await sendMessage(client, session.id, text, (delta) => process.stdout.write(delta));
        process.stdout.write('\n');
      }
    } finally {
      lines.close();
    }
  },
});

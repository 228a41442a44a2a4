import { createInterface } from 'node:readline';
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
    const lines = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY), prompt: 'you> ' });
    // The iterator keeps the lines that arrive while a reply streams (a pipe delivers them all at
    // once) and ends at end of input; a prompt after that would throw.
    const next = lines[Symbol.asyncIterator]();
    let inputEnded = false;
    lines.once('close', () => (inputEnded = true));
    try {
      for (;;) {
        if (!inputEnded) lines.prompt();
        const line = await next.next();
        if (line.done || !line.value.trim()) return;
        await sendMessage(client, session.id, line.value, (delta) => process.stdout.write(delta));
        process.stdout.write('\n');
      }
    } finally {
      lines.close();
    }
  },
});

import { defineCommand } from 'citty';
import { clientFor, jsonArgs } from '../context.ts';
import { usageError } from '../errors.ts';
import { sendMessage } from '../messages.ts';
import { resolveSession } from '../sessions.ts';

export default defineCommand({
  meta: { name: 'send', description: 'Send one message to a message-harness session (opencode, claude-agent-sdk) and print the reply as it streams' },
  args: {
    ...jsonArgs,
    session: { type: 'positional', required: true, description: 'Session id, or a unique prefix of one', valueHint: 'session' },
    text: { type: 'positional', required: true, description: 'The message (quote it)', valueHint: 'text' },
  },
  async run({ args }) {
    const text = args._.slice(1).join(' ');
    if (!text.trim()) throw usageError('the message is empty');
    const client = clientFor(args);
    const session = await resolveSession(client, args.session);
    if (args.json) {
      await sendMessage(client, session.id, text, () => {}, (event) => process.stdout.write(`${JSON.stringify(event)}\n`));
      return;
    }
    await sendMessage(client, session.id, text, (delta) => process.stdout.write(delta));
    process.stdout.write('\n');
  },
});

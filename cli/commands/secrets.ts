import { defineCommand } from 'citty';
import { clientFor, jsonArgs } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { age, printJson, printTable } from '../output.ts';
import { ask, readStdin } from '../prompt.ts';

const secretPath = (name: string) => `/api/v1/secrets/${encodeURIComponent(name)}`;
const nameArg = { name: { type: 'positional', required: true, description: 'Secret name, e.g. GITHUB_TOKEN', valueHint: 'name' } } as const;

const set = defineCommand({
  meta: { name: 'set', description: 'Set a secret. The value is read from a hidden prompt, or from stdin when piped; never from the command line' },
  args: { ...jsonArgs, ...nameArg },
  async run({ args }) {
    const raw = process.stdin.isTTY ? await ask(`value of ${args.name} (hidden): `, { hidden: true }) : (await readStdin()).toString('utf8');
    const value = raw.replace(/\r?\n$/, '');
    if (!value) throw new CliError('the value is empty', { hint: `type it at the prompt, or: printf %s "$VALUE" | lap secrets set ${args.name}`, exitCode: EXIT.usage });
    const secret = await clientFor(args).json('PUT', secretPath(args.name), { value });
    if (args.json) printJson(secret);
    else process.stderr.write(`lap: secret ${args.name} set\n`);
  },
});

const ls = defineCommand({
  meta: { name: 'ls', description: 'List secret names (values are write-only)' },
  args: jsonArgs,
  async run({ args }) {
    const secrets: { name: string; updated_at: string }[] = (await clientFor(args).json('GET', '/api/v1/secrets')).data;
    if (args.json) return printJson(secrets);
    printTable(['name', 'updated'], secrets.map((s) => [s.name, `${age(s.updated_at)} ago`]));
  },
});

const rm = defineCommand({
  meta: { name: 'rm', description: 'Delete a secret' },
  args: { ...jsonArgs, ...nameArg },
  async run({ args }) {
    await clientFor(args).fetch(secretPath(args.name), { method: 'DELETE' });
    if (args.json) printJson({ name: args.name, deleted: true });
    else process.stderr.write(`lap: secret ${args.name} deleted\n`);
  },
});

export default defineCommand({
  meta: { name: 'secrets', description: 'Set, list and delete secrets' },
  subCommands: { set, ls, rm },
  default: 'ls',
});

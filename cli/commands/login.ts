import { defineCommand } from 'citty';
import { Client } from '../client.ts';
import { configPath, readConfig, saveProfile } from '../config.ts';
import { CliError, EXIT } from '../errors.ts';
import { ask, readStdin } from '../prompt.ts';

const DEFAULT_URL = 'http://127.0.0.1:8080';

export default defineCommand({
  meta: { name: 'login', description: 'Save a server URL and API key as a profile, after checking them against the server' },
  args: {
    url: { type: 'string', description: `Server URL (asked when missing; default ${DEFAULT_URL})`, valueHint: 'url' },
    profile: { type: 'string', description: 'Profile name', default: 'default', valueHint: 'name' },
  },
  async run({ args }) {
    const current = readConfig().profiles[args.profile];
    const url = normalizeUrl(args.url ?? ((await ask(`Server URL [${current?.url ?? DEFAULT_URL}]: `)).trim() || current?.url || DEFAULT_URL));
    const apiKey = (process.stdin.isTTY ? await ask('API key (hidden): ', { hidden: true }) : (await readStdin()).toString('utf8')).trim();
    if (!apiKey) throw new CliError('no API key given', { hint: 'the key is printed by `npm start` (the master key file) or made with POST /api/v1/api_keys', exitCode: EXIT.usage });
    const client = new Client({ url, api_key: apiKey, source: args.profile });
    await client.json('GET', '/api/v1/managed_agents/sessions?limit=1');
    saveProfile(args.profile, { url, api_key: apiKey });
    process.stderr.write(`lap: logged in to ${url}; saved as profile ${args.profile} in ${configPath()}\n`);
  },
});

function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new CliError(`${raw} is not a URL`, { hint: `for example ${DEFAULT_URL}`, exitCode: EXIT.usage });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`${raw}: the URL must start with http:// or https://`, { exitCode: EXIT.usage });
  return url.origin + url.pathname.replace(/\/+$/, '');
}

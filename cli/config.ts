// Where lap keeps its servers: $XDG_CONFIG_HOME/lap/config.json (0600, folder 0700), one entry per
// named profile. LAP_URL and LAP_API_KEY override the file; --profile or LAP_PROFILE pick the entry.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './errors.ts';

export interface Profile {
  url: string;
  api_key: string;
}

export interface ConfigFile {
  current: string;
  profiles: Record<string, Profile>;
}

export interface Connection extends Profile {
  /** Where the values came from, for error messages: 'env' or the profile's name. */
  source: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'lap', 'config.json');
}

export function readConfig(path = configPath()): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { current: 'default', profiles: {} };
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, { hint: 'lap keeps its profiles there: fix its permissions, or set LAP_URL and LAP_API_KEY instead' });
  }
  try {
    const parsed = JSON.parse(text) as Partial<ConfigFile>;
    return { current: parsed.current ?? 'default', profiles: parsed.profiles ?? {} };
  } catch {
    throw new CliError(`${path} is not valid JSON`, { hint: 'fix it by hand, or delete it and run `lap login` again' });
  }
}

/** Written to a temp file then renamed, so a crash never leaves half a file; 0600 from the start. */
export function saveProfile(name: string, profile: Profile, path = configPath()): void {
  const config = readConfig(path);
  config.profiles[name] = profile;
  config.current = name;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/** The server to talk to: env overrides, else the chosen profile; a clear error when there is none. */
export function resolveConnection(profileName?: string, env: NodeJS.ProcessEnv = process.env): Connection {
  const config = readConfig(configPath(env));
  const name = profileName || env.LAP_PROFILE || config.current;
  const profile = config.profiles[name];
  if (profileName && !profile) throw new CliError(`no profile named ${profileName} in ${configPath(env)}`, { hint: `lap login --profile ${profileName}`, exitCode: EXIT.auth });
  const url = env.LAP_URL || profile?.url;
  const apiKey = env.LAP_API_KEY || profile?.api_key;
  if (!url || !apiKey) {
    throw new CliError('not logged in: no server URL and API key', { hint: 'run `lap login`, or set LAP_URL and LAP_API_KEY', exitCode: EXIT.auth });
  }
  return { url: url.replace(/\/+$/, ''), api_key: apiKey, source: env.LAP_URL || env.LAP_API_KEY ? 'env' : name };
}

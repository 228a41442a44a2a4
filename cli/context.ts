// What most commands share: the flags that pick a server and ask for JSON, and the client they give.
import { Client } from './client.ts';
import { resolveConnection } from './config.ts';

export const serverArgs = {
  profile: { type: 'string', description: 'Profile from the config file (default: the current one, or LAP_PROFILE)', valueHint: 'name' },
} as const;

export const jsonArgs = {
  ...serverArgs,
  json: { type: 'boolean', description: "Print the API's data as JSON" },
} as const;

export function clientFor(args: { profile?: string }): Client {
  return new Client(resolveConnection(args.profile));
}

import type { SystemUser } from '../../../vault/host/users.ts';

export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** setpriv arguments that make the rest of the command `user` for good: no capabilities in any set, no_new_privs. */
export function dropTo(user: SystemUser): string[] {
  return ['setpriv', '--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups',
    '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
}

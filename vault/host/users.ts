import { setTimeout as sleep } from 'node:timers/promises';
import { runTool } from '../run-tool.ts';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

// useradd exit codes: 9 = the name exists (another process won the race), 10 = /etc/passwd is locked.
const USERADD_NAME_EXISTS = 9;
const USERADD_LOCKED = 10;
const USERADD_ATTEMPTS = 20;

/** Returns the system user `name`, creating it (no home, no login shell) if it does not exist yet. */
export async function ensureSystemUser(name: string): Promise<SystemUser> {
  for (let attempt = 1; attempt <= USERADD_ATTEMPTS; attempt++) {
    const existing = await lookupUser(name);
    if (existing) return existing;
    const added = await runTool(['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
    if (added.code === 0 || added.code === USERADD_NAME_EXISTS) continue;
    if (added.code !== USERADD_LOCKED) throw new Error(`useradd ${name} failed (exit ${added.code}): ${added.stderr.trim()}`);
    await sleep(50 * attempt);
  }
  throw new Error(`could not create system user ${name}: /etc/passwd stayed locked`);
}

async function lookupUser(name: string): Promise<SystemUser | undefined> {
  const result = await runTool(['getent', 'passwd', name]);
  if (result.code !== 0) return undefined;
  const [, , uid, gid] = result.stdout.trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

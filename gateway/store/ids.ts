// Record ids: a short type prefix plus random hex, so an id says what it names and cannot be guessed.
import { randomBytes } from 'node:crypto';

export type IdKind = 'key' | 'sec' | 'agt' | 'ses';

/** "key_", "sec_", "agt_" or "ses_" + 16 lowercase hex (64 random bits). */
export function newId(kind: IdKind): string {
  return `${kind}_${randomBytes(8).toString('hex')}`;
}

/** "sb" + 10 lowercase hex: short because it names a netns and veth pair (interface names are ≤ 15 bytes). */
export function newSandboxId(): string {
  return `sb${randomBytes(5).toString('hex')}`;
}

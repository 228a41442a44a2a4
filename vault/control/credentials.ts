import { generateStub } from '../stubs.ts';
import type { Credential, CredentialView } from '../types.ts';
import type { CredentialInput } from './schemas.ts';

/**
 * Turns validated input into credentials, minting stubs where none was given. Returns an error
 * message instead when two credentials would be confused with each other on the wire.
 */
export function buildCredentials(inputs: readonly CredentialInput[]): Credential[] | string {
  const credentials = inputs.map((c) => ({ ...c, stub: c.stub ?? generateStub(c.value) }));
  const names = new Set<string>();
  for (const c of credentials) {
    if (names.has(c.name)) return `credentials: duplicate name ${c.name}`;
    names.add(c.name);
    if (c.stub.includes(c.value) || c.value.includes(c.stub)) {
      return `credentials.${c.name}.stub: stub and value must not contain one another`;
    }
    const clash = credentials.find((o) => o !== c && (o.stub.includes(c.stub) || o.value.includes(c.stub)));
    if (clash) return `credentials.${c.name}.stub: overlaps credential ${clash.name}`;
  }
  return credentials;
}

export function viewCredential({ name, stub, hosts, places }: Credential): CredentialView {
  return { name, stub, hosts, places };
}

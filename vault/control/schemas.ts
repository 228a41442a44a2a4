import { validateHostPattern } from '../hosts.ts';
import type { EgressPolicy, SwapPlace } from '../types.ts';
import { type Parsed, Reader, withDefault } from '../validate.ts';

export interface CredentialInput {
  name: string;
  value: string;
  stub?: string;
  hosts: string[];
  places: SwapPlace[];
}

type Path = readonly (string | number)[];

const PLACES: readonly SwapPlace[] = ['header', 'query', 'body'];
const NAME = [/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, 'must be 1-128 letters, digits, _ . -, not starting with a digit'] as const;
const STUB = [/^[A-Za-z0-9_-]{22,512}$/, 'must be 22-512 URL-safe characters (A-Z a-z 0-9 _ -)'] as const;

// A value is inserted into header lines and query strings: control characters would let it split them.
const noControlCharacters = (v: string) => (/[\u0000-\u001f\u007f]/.test(v) ? 'must not contain control characters (CR, LF, NUL, ...)' : null);

function hostPatterns(r: Reader, value: unknown, path: Path, max: number): string[] | undefined {
  return r.array(value, path, (v, p) => r.string(v, p, { check: validateHostPattern }), { max });
}

function credentialInput(r: Reader, value: unknown, path: Path): CredentialInput | undefined {
  const c = r.object(value, path);
  if (!c) return undefined;
  const name = r.string(c.name, [...path, 'name'], { pattern: NAME });
  const secret = r.string(c.value, [...path, 'value'], { min: 1, max: 16 * 1024, check: noControlCharacters });
  const stub = c.stub === undefined ? undefined : r.string(c.stub, [...path, 'stub'], { pattern: STUB });
  const hosts = r.array(c.hosts, [...path, 'hosts'], (v, p) => r.string(v, p, { check: validateHostPattern }), {
    min: [1, 'a credential needs at least one host it may be sent to'],
  });
  const places = withDefault<SwapPlace[]>(c.places, ['header'], (v) =>
    r.array(v, [...path, 'places'], (item, p) => r.oneOf(item, p, PLACES), { min: [1, 'Too small: expected array to have >=1 items'] }),
  );
  if (name === undefined || secret === undefined || hosts === undefined || places === undefined) return undefined;
  return stub === undefined ? { name, value: secret, hosts, places } : { name, value: secret, stub, hosts, places };
}

/** PUT /v1/credentials: `{ credentials: [...] }`, at most 256. */
export function parseCredentialsBody(raw: unknown): Parsed<{ credentials: CredentialInput[] }> {
  const r = new Reader();
  const body = r.object(raw, []);
  const credentials = body && r.array(body.credentials, ['credentials'], (v, p) => credentialInput(r, v, p), { max: 256 });
  return r.done({ credentials: credentials ?? [] });
}

/** PUT /v1/policy: every field optional, an absent list is empty and the default is allow. */
export function parseEgressPolicy(raw: unknown): Parsed<EgressPolicy> {
  const r = new Reader();
  const body = r.object(raw, []) ?? {};
  const list = (field: keyof EgressPolicy) => withDefault(body[field], [], (v) => hostPatterns(r, v, [field], 1024)) ?? [];
  const policy: EgressPolicy = {
    default: withDefault(body.default, 'allow' as const, (v) => r.oneOf(v, ['default'], ['allow', 'deny'] as const)) ?? 'allow',
    allow: list('allow'),
    deny: list('deny'),
    allowPrivate: list('allowPrivate'),
  };
  return r.done(policy);
}

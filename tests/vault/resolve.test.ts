// Never touches real DNS: every resolver gets a `hosts` map or a fake `lookup`.
import { describe, expect, it } from 'vitest';
import { createResolver, EgressRefusedError } from '../../vault/resolve.ts';
import type { ResolverOptions } from '../../vault/resolve.ts';
import type { EgressPolicy } from '../../vault/types.ts';

function policy(overrides: Partial<EgressPolicy> = {}): EgressPolicy {
  return { default: 'allow', allow: [], deny: [], allowPrivate: [], ...overrides };
}

/** A lookup that answers from a table and records every name it was asked. */
function fakeLookup(table: Record<string, string[]>): { lookup: NonNullable<ResolverOptions['lookup']>; asked: string[] } {
  const asked: string[] = [];
  const lookup = async (host: string) => {
    asked.push(host);
    return (table[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { lookup, asked };
}

const noDns: NonNullable<ResolverOptions['lookup']> = async (host) => {
  throw new Error(`the test asked DNS for ${host}`);
};

async function refusal(promise: Promise<unknown>): Promise<EgressRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EgressRefusedError);
  return error as EgressRefusedError;
}

describe('createResolver with a hosts map', () => {
  it('uses the mapped address and port and never asks DNS', async () => {
    const resolve = createResolver({ hosts: { 'API.Example.com': '93.184.216.34:8443' }, lookup: noDns });
    await expect(resolve('api.example.com', 443, policy())).resolves.toEqual({
      host: 'api.example.com',
      address: '93.184.216.34',
      family: 4,
      port: 8443,
    });
  });

  it('uses the default port when the map gives none, and reads [v6]:port', async () => {
    const resolve = createResolver({
      hosts: { 'a.example': '93.184.216.34', 'b.example': '[2606:4700::1111]:8443', 'c.example': '2606:4700::1111' },
      lookup: noDns,
    });
    await expect(resolve('a.example', 443, policy())).resolves.toMatchObject({ address: '93.184.216.34', port: 443 });
    await expect(resolve('b.example', 443, policy())).resolves.toMatchObject({
      address: '2606:4700::1111',
      family: 6,
      port: 8443,
    });
    await expect(resolve('c.example', 80, policy())).resolves.toMatchObject({ address: '2606:4700::1111', port: 80 });
  });

  it('refuses a mapped private address unless allowPrivate names the host', async () => {
    const resolve = createResolver({ hosts: { 'upstream.test': '127.0.0.1:9443' }, lookup: noDns });
    const error = await refusal(resolve('upstream.test', 443, policy()));
    expect(error.host).toBe('upstream.test');
    expect(error.reason).toBe(
      'host upstream.test resolves to 127.0.0.1 (loopback), which the egress policy does not allow; ' +
        'add it to allowPrivate to permit',
    );
    await expect(resolve('upstream.test', 443, policy({ allowPrivate: ['*.test'] }))).resolves.toEqual({
      host: 'upstream.test',
      address: '127.0.0.1',
      family: 4,
      port: 9443,
    });
  });

  it('says which field is wrong when a map value cannot be read', () => {
    expect(() => createResolver({ hosts: { 'a.example': 'not-an-ip:443' } })).toThrow(/hosts\["a.example"\]/);
    expect(() => createResolver({ hosts: { 'a.example': '10.0.0.1:99999' } })).toThrow(/hosts\["a.example"\]: port/);
    expect(() => createResolver({ hosts: { 'a.example': '[10.0.0.1]:80' } })).toThrow(TypeError);
  });
});

describe('createResolver with a lookup', () => {
  it('refuses a host that resolves to a private address, naming the address and its class', async () => {
    const { lookup } = fakeLookup({ 'api.x': ['10.0.0.5'] });
    const error = await refusal(createResolver({ lookup })('api.x', 443, policy()));
    expect(error.message).toBe(
      'host api.x resolves to 10.0.0.5 (private), which the egress policy does not allow; add it to allowPrivate to permit',
    );
  });

  it('allows the private address when allowPrivate names the host, and dials exactly that address', async () => {
    const { lookup, asked } = fakeLookup({ 'db.corp.example': ['10.0.0.5'] });
    const resolve = createResolver({ lookup });
    const target = await resolve('db.corp.example', 5432, policy({ allowPrivate: ['db.corp.example'] }));
    expect(target).toEqual({ host: 'db.corp.example', address: '10.0.0.5', family: 4, port: 5432 });
    expect(asked).toEqual(['db.corp.example']);
  });

  it('refuses metadata addresses, including IPv4-mapped IPv6 forms', async () => {
    const { lookup } = fakeLookup({ 'rebind.example': ['::ffff:169.254.169.254'] });
    const error = await refusal(createResolver({ lookup })('rebind.example', 80, policy()));
    expect(error.reason).toContain('resolves to ::ffff:169.254.169.254 (metadata)');
  });

  it('given [private, public] picks the public address, and the dial target is the checked one', async () => {
    const { lookup } = fakeLookup({ 'mixed.example': ['192.168.1.10', '93.184.216.34'] });
    const target = await createResolver({ lookup })('mixed.example', 443, policy());
    expect(target.address).toBe('93.184.216.34');
  });

  it('prefers a public IPv4 address over an earlier public IPv6 one', async () => {
    const { lookup } = fakeLookup({ 'dual.example': ['::1', '2606:4700::1111', '93.184.216.34'] });
    const target = await createResolver({ lookup })('dual.example', 443, policy());
    expect(target).toMatchObject({ address: '93.184.216.34', family: 4 });
  });

  it('falls back to a public IPv6 address when there is no IPv4 one', async () => {
    const { lookup } = fakeLookup({ 'v6.example': ['fd00::1', '2606:4700::1111'] });
    const target = await createResolver({ lookup })('v6.example', 443, policy());
    expect(target).toMatchObject({ address: '2606:4700::1111', family: 6 });
  });

  it('refuses a name with no addresses', async () => {
    const { lookup } = fakeLookup({});
    const error = await refusal(createResolver({ lookup })('nothing.example', 443, policy()));
    expect(error.reason).toBe('host nothing.example did not resolve to any address');
  });

  it('reports a failed lookup as an error that is not a policy refusal', async () => {
    const lookup = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const failure = createResolver({ lookup })('gone.example', 443, policy());
    await expect(failure).rejects.toThrow('resolving host gone.example failed: ENOTFOUND');
    await expect(failure).rejects.not.toBeInstanceOf(EgressRefusedError);
  });
});

describe('createResolver applies the egress policy first', () => {
  it('refuses a denied host without resolving it', async () => {
    const { lookup, asked } = fakeLookup({ 'evil.com': ['93.184.216.34'] });
    const error = await refusal(createResolver({ lookup })('evil.com', 443, policy({ deny: ['evil.com'] })));
    expect(error.reason).toBe('host evil.com is on the deny list');
    expect(asked).toEqual([]);
  });

  it('refuses a host off the allow list under default deny', async () => {
    const { lookup } = fakeLookup({ 'x.example': ['93.184.216.34'] });
    const error = await refusal(createResolver({ lookup })('x.example', 443, policy({ default: 'deny' })));
    expect(error.reason).toBe('host x.example is not on the allow list and the default is deny');
  });

  it.each(['93.184.216.34', '127.0.0.1', '[::1]', '::ffff:10.0.0.1', '127.1', '0x7f000001', '2130706433'])(
    'refuses the IP literal %s: routing is by name only',
    async (literal) => {
      const { lookup, asked } = fakeLookup({});
      const everything = policy({ allow: [literal], allowPrivate: [literal] });
      const error = await refusal(createResolver({ lookup })(literal, 443, everything));
      expect(error.reason).toMatch(/is an IP address; the vault routes by name only$/);
      expect(asked).toEqual([]);
    },
  );

  it('refuses a port that cannot be dialed, naming the argument', async () => {
    const resolve = createResolver({ hosts: { 'a.example': '93.184.216.34' } });
    await expect(resolve('a.example', 0, policy())).rejects.toThrow(/defaultPort/);
  });
});

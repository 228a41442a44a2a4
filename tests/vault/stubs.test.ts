import { describe, expect, it } from 'vitest';
import { KNOWN_PREFIXES, generateStub, knownPrefixOf } from '../../vault/stubs.ts';

const BITS_PER_CHARACTER = Math.log2(62);
const RANDOM_TAIL = 'Q7xk2LmP9vRt4WbN8cYz3HdJ6sGf5EaU1oKi0eTq';

function randomBits(stub: string, prefix: string): number {
  return (stub.length - prefix.length) * BITS_PER_CHARACTER;
}

describe('KNOWN_PREFIXES', () => {
  it('is ordered longest first, so the most specific prefix wins', () => {
    const lengths = KNOWN_PREFIXES.map((prefix) => prefix.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
    expect(knownPrefixOf('sk-ant-api03-abc')).toBe('sk-ant-api03-');
    expect(knownPrefixOf('sk-proj-abc')).toBe('sk-proj-');
    expect(knownPrefixOf('sk-abc')).toBe('sk-');
    expect(knownPrefixOf('github_pat_abc')).toBe('github_pat_');
    expect(knownPrefixOf('plain-secret')).toBe('');
  });
});

describe('generateStub', () => {
  it.each(KNOWN_PREFIXES.map((prefix) => [prefix]))('keeps the prefix %s', (prefix) => {
    const stub = generateStub(prefix + RANDOM_TAIL);
    expect(stub.startsWith(prefix)).toBe(true);
    expect(stub.slice(prefix.length)).toMatch(/^[A-Za-z0-9]+$/);
    expect(randomBits(stub, prefix)).toBeGreaterThanOrEqual(128);
  });

  it('keeps real-world token shapes: same length and the same prefix', () => {
    const samples = [
      'ghp_' + 'a'.repeat(36),
      'github_pat_' + 'B'.repeat(82),
      'sk-ant-api03-' + 'c'.repeat(95),
      'sk-proj-' + 'd'.repeat(120),
      'xoxb-1234567890-1234567890123-' + 'e'.repeat(24),
      'f'.repeat(64),
    ];
    for (const real of samples) {
      const stub = generateStub(real);
      expect(stub).toHaveLength(real.length);
      expect(stub.startsWith(knownPrefixOf(real))).toBe(true);
      expect(stub).not.toBe(real);
    }
  });

  it('gives a short secret a longer stub with 128 bits of randomness', () => {
    for (const real of ['hunter2', 'sk-short', 'ghp_x']) {
      const stub = generateStub(real);
      const prefix = knownPrefixOf(real);
      expect(stub.startsWith(prefix)).toBe(true);
      expect(stub.length).toBeGreaterThan(real.length);
      expect(randomBits(stub, prefix)).toBeGreaterThanOrEqual(128);
    }
  });

  it('uses the shortest length that still has 128 bits when the secret is just too short', () => {
    const stub = generateStub('ghp_' + 'z'.repeat(10));
    expect(stub).toHaveLength('ghp_'.length + 22);
    expect(randomBits(stub, 'ghp_')).toBeGreaterThanOrEqual(128);
    expect(21 * BITS_PER_CHARACTER).toBeLessThan(128);
  });

  it('is URL-safe and needs no escaping in JSON', () => {
    for (const prefix of [...KNOWN_PREFIXES, '']) {
      const stub = generateStub(prefix + RANDOM_TAIL);
      expect(encodeURIComponent(stub)).toBe(stub);
      expect(JSON.stringify(stub)).toBe(`"${stub}"`);
    }
  });

  it('is unique over 10k generations and uses the whole alphabet', () => {
    const stubs = new Set<string>();
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const stub = generateStub('ghp_' + RANDOM_TAIL);
      stubs.add(stub);
      for (const character of stub.slice(4)) seen.add(character);
    }
    expect(stubs.size).toBe(10_000);
    expect(seen.size).toBe(62);
  });

  it('never contains the real value, even a one-character secret', () => {
    for (const real of ['a', 'Z', '7', 'ab']) {
      for (let i = 0; i < 500; i++) {
        const stub = generateStub(real);
        expect(stub.includes(real)).toBe(false);
      }
    }
  });

  it('refuses an empty or non-string value with a clear error', () => {
    expect(() => generateStub('')).toThrow(/realValue must be a non-empty string/);
    expect(() => generateStub(undefined as unknown as string)).toThrow(/realValue/);
  });
});

import { describe, expect, it } from 'vitest';
import { hostMatches, matchesAny, normalizeHost, validateHostPattern } from '../../vault/hosts.ts';

describe('normalizeHost', () => {
  it.each([
    ['API.GitHub.com', 'api.github.com'],
    ['api.github.com.', 'api.github.com'],
    ['api.github.com:443', 'api.github.com'],
    ['API.github.com.:8443', 'api.github.com'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['[::1]', '::1'],
    ['[::1]:443', '::1'],
    ['[2001:DB8::1]:8080', '2001:db8::1'],
    ['::1', '::1'],
    ['example.com..', 'example.com.'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeHost(input)).toBe(expected);
  });

  it('refuses a non-string with a clear error', () => {
    expect(() => normalizeHost(undefined as unknown as string)).toThrow('host must be a string');
  });
});

describe('hostMatches', () => {
  it.each([
    ['api.github.com', 'api.github.com', true],
    ['api.github.com', 'API.GITHUB.COM', true],
    ['API.GitHub.com', 'api.github.com', true],
    ['api.github.com', 'api.github.com.', true],
    ['api.github.com.', 'api.github.com', true],
    ['api.github.com', 'api.github.com:443', true],
    ['api.github.com', 'github.com', false],
    ['api.github.com', 'xapi.github.com', false],
    ['api.github.com', 'api.github.com.evil.com', false],
    ['github.com', 'api.github.com', false],
    ['github.com', 'evilgithub.com', false],
    ['*.github.com', 'api.github.com', true],
    ['*.github.com', 'a.b.github.com', true],
    ['*.github.com', 'API.GitHub.COM.', true],
    ['*.github.com', 'api.github.com:443', true],
    ['*.github.com', 'github.com', false],
    ['*.github.com', 'github.com.', false],
    ['*.github.com', 'evilgithub.com', false],
    ['*.github.com', 'github.com.evil.com', false],
    ['*.github.com', 'api.github.com.evil.com', false],
    ['*.github.com', '.github.com', false],
    ['*.github.com', 'a..github.com', false],
    ['*.github.com', '', false],
    ['127.0.0.1', '127.0.0.1:8080', true],
    ['127.0.0.1', '127.0.0.10', false],
    ['[::1]', '::1', true],
    ['::1', '[::1]:443', true],
  ])('%s vs %s -> %s', (pattern, host, expected) => {
    expect(hostMatches(pattern, host)).toBe(expected);
  });

  it('matchesAny is true when one pattern matches', () => {
    const patterns = ['api.github.com', '*.githubusercontent.com'];
    expect(matchesAny(patterns, 'raw.githubusercontent.com')).toBe(true);
    expect(matchesAny(patterns, 'api.github.com')).toBe(true);
    expect(matchesAny(patterns, 'githubusercontent.com')).toBe(false);
    expect(matchesAny([], 'api.github.com')).toBe(false);
  });
});

describe('validateHostPattern', () => {
  it.each([
    'api.github.com',
    'API.GitHub.com',
    'api.github.com.',
    '*.github.com',
    '*.a.b.example.org',
    'localhost',
    'my_host.internal',
    '127.0.0.1',
    '::1',
    '[2001:db8::1]',
    'xn--bcher-kva.example',
  ])('accepts %s', (pattern) => {
    expect(validateHostPattern(pattern)).toBeNull();
  });

  it.each([
    ['', /is empty/],
    ['*', /would match every host/],
    ['*.', /would match every host/],
    ['*.com', /top-level domain/],
    ['*.com.', /top-level domain/],
    ['api.*.com', /only as the whole first label/],
    ['*api.github.com', /only as the whole first label/],
    ['api.github.*', /only as the whole first label/],
    ['**.github.com', /only as the whole first label/],
    ['a..b.com', /empty label/],
    ['.github.com', /empty label/],
    ['github.com..', /empty label/],
    ['*..github.com', /empty label/],
    ['git hub.com', /illegal character " "/],
    ['github.com/path', /not a URL/],
    ['https://github.com', /not a URL/],
    ['github.com:443', /must not include a port/],
    ['gith@b.com', /illegal character "@"/],
    ['-github.com', /starts or ends with "-"/],
    [`${'a'.repeat(64)}.com`, /longer than 63 characters/],
    [`${'a.'.repeat(130)}com`, /longer than 253 characters/],
    ['999.1.1.1', /numeric label but is not an IP address/],
    ['*.0.0.1', /numeric label/],
  ])('rejects %j', (pattern, message) => {
    const problem = validateHostPattern(pattern);
    expect(problem).toMatch(message);
    if (pattern !== '') expect(problem).toContain(JSON.stringify(pattern));
  });

  it('rejects a non-string', () => {
    expect(validateHostPattern(42 as unknown as string)).toBe('host pattern must be a string');
  });
});

// Host names and host patterns (`name` or `*.suffix`) used by credential scopes and the egress policy.
import { isIP } from 'node:net';

/** Lowercase; strip `:port`, the brackets of an IPv6 literal, and one trailing dot. */
export function normalizeHost(host: string): string {
  if (typeof host !== 'string') throw new TypeError('host must be a string');
  let name = host.trim().toLowerCase();
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close !== -1) name = name.slice(1, close);
  } else if (name.includes(':') && name.indexOf(':') === name.lastIndexOf(':')) {
    // Exactly one colon: `name:port`. Two or more is a bare IPv6 literal, which has no port.
    name = name.slice(0, name.indexOf(':'));
  }
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * `name` matches only itself; `*.suffix` matches any depth of subdomain of suffix but not suffix itself.
 * Purely mechanical: patterns are checked with validateHostPattern when they are configured.
 */
export function hostMatches(pattern: string, host: string): boolean {
  const wanted = normalizeHost(pattern);
  const name = normalizeHost(host);
  if (name === '' || name.startsWith('.') || name.includes('..')) return false;
  if (!wanted.startsWith('*.')) return wanted === name;
  const dotSuffix = wanted.slice(1);
  return name.length > dotSuffix.length && name.endsWith(dotSuffix);
}

export function matchesAny(patterns: readonly string[], host: string): boolean {
  return patterns.some((pattern) => hostMatches(pattern, host));
}

const LABEL_CHARACTER = /^[a-z0-9_-]$/i;

/** null when `pattern` is a usable host pattern, otherwise a message saying what is wrong with it. */
export function validateHostPattern(pattern: string): string | null {
  if (typeof pattern !== 'string') return 'host pattern must be a string';
  if (pattern.length === 0) return 'host pattern is empty';
  const bracketless = pattern.startsWith('[') && pattern.endsWith(']') ? pattern.slice(1, -1) : pattern;
  if (isIP(bracketless) !== 0) return null;
  const problem = describeNameProblem(pattern.endsWith('.') ? pattern.slice(0, -1) : pattern);
  return problem === null ? null : `host pattern "${pattern}" ${problem}`;
}

function describeNameProblem(name: string): string | null {
  if (name === '*') return 'would match every host; list the hosts, or use "*.example.com"';
  if (name.includes('://') || name.includes('/')) return 'must be a host name, not a URL';
  if (name.includes(':')) return 'must not include a port';
  if (name.length > 253) return 'is longer than 253 characters';
  const wildcard = name.startsWith('*.');
  const labels = (wildcard ? name.slice(2) : name).split('.');
  if (labels.some((label) => label.includes('*'))) {
    return 'may use "*" only as the whole first label, as in "*.example.com"';
  }
  for (const label of labels) {
    const problem = describeLabelProblem(label);
    if (problem !== null) return problem;
  }
  if (/^[0-9]+$/.test(labels.at(-1) ?? '')) return 'ends in a numeric label but is not an IP address';
  if (wildcard && labels.length < 2) {
    return 'would match every host under a top-level domain; name at least two labels after "*."';
  }
  return null;
}

function describeLabelProblem(label: string): string | null {
  if (label === '') return 'has an empty label';
  const illegal = [...label].find((character) => !LABEL_CHARACTER.test(character));
  if (illegal !== undefined) return `contains the illegal character ${JSON.stringify(illegal)}`;
  if (label.length > 63) return `has a label longer than 63 characters ("${label}")`;
  if (label.startsWith('-') || label.endsWith('-')) return `has a label that starts or ends with "-" ("${label}")`;
  return null;
}

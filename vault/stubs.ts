// Stub credentials: what the sandbox holds instead of a real secret (DESIGN.md §3.7).
import { randomBytes } from 'node:crypto';

// Letters and digits only: a stub then needs no escaping in a URL, JSON, a header or base64 context.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Random characters needed for 128 bits: ceil(128 / log2(62)) = 22. */
export const MIN_RANDOM_CHARS = Math.ceil(128 / Math.log2(ALPHABET.length));
// The largest multiple of 62 below 256: bytes at or above it are rejected so every character is equally likely.
const UNBIASED_BYTE_LIMIT = 256 - (256 % ALPHABET.length);
// A short secret can turn up inside a random stub by chance; retrying a few times makes that vanish.
const MAX_ATTEMPTS = 64;

/** Well-known secret prefixes a stub keeps so client-side format checks pass; longest first. */
export const KNOWN_PREFIXES: readonly string[] = Object.freeze(
  [
    'github_pat_', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', // GitHub
    'sk-ant-api03-', 'sk-ant-oat01-', 'sk-ant-admin01-', 'sk-ant-', // Anthropic
    'sk-proj-', 'sk-svcacct-', 'sk-admin-', 'sk-', // OpenAI and compatibles
    'xoxb-', 'xoxp-', 'xoxa-', 'xoxe-', 'xapp-', // Slack
    'glpat-', // GitLab
    'sk_live_', 'sk_test_', 'rk_live_', 'rk_test_', // Stripe
    'npm_', 'hf_', 'pypi-', 'AIza', // npm, Hugging Face, PyPI, Google API keys
  ].sort((a, b) => b.length - a.length),
);

/** The longest well-known prefix `value` starts with, or ''. */
export function knownPrefixOf(value: string): string {
  return KNOWN_PREFIXES.find((prefix) => value.startsWith(prefix)) ?? '';
}

/**
 * A fresh stub for `realValue`: its well-known prefix, then random letters and digits. Same length as
 * the real value when that still leaves 128 bits of randomness (so it fits fixed-width and base64
 * contexts without shifting alignment), otherwise the prefix plus 22 random characters.
 */
export function generateStub(realValue: string): string {
  if (typeof realValue !== 'string' || realValue.length === 0) {
    throw new TypeError('generateStub: realValue must be a non-empty string');
  }
  const prefix = knownPrefixOf(realValue);
  const randomChars = Math.max(MIN_RANDOM_CHARS, realValue.length - prefix.length);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const stub = prefix + randomAlphanumeric(randomChars);
    if (!stub.includes(realValue) && !realValue.includes(stub)) return stub;
  }
  throw new Error('generateStub: could not generate a stub that does not contain the real value');
}

function randomAlphanumeric(count: number): string {
  let out = '';
  while (out.length < count) {
    for (const byte of randomBytes(count * 2)) {
      if (byte < UNBIASED_BYTE_LIMIT && out.length < count) out += ALPHABET.charAt(byte % ALPHABET.length);
    }
  }
  return out;
}

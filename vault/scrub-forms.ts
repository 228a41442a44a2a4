// The encoded forms in which an upstream may echo a secret, each paired with the same form of its stub.
// vault/scrub.ts searches for the `from` bytes and writes the `to` bytes in their place.

export interface Replacement {
  from: Buffer;
  to: Buffer;
}

export interface FormPair {
  value: string;
  stub: string;
}

/**
 * Base64 forms shorter than this are not searched for: a few base64 characters occur by chance in any
 * base64 text, so replacing them would corrupt unrelated data. Only values under 7 bytes are affected.
 */
const MIN_BASE64_FORM_LENGTH = 8;

/** Every replacement for every pair, deduplicated, longest first so overlapping forms never half-replace. */
export function replacementsFor(pairs: readonly FormPair[]): Replacement[] {
  const byPattern = new Map<string, Replacement>();
  for (const [valueForm, stubForm] of pairs.flatMap(formPairsOf)) {
    const from = Buffer.from(valueForm, 'utf8');
    const key = from.toString('latin1');
    if (from.length === 0 || valueForm === stubForm || byPattern.has(key)) continue;
    byPattern.set(key, { from, to: Buffer.from(stubForm, 'utf8') });
  }
  return [...byPattern.values()].sort((a, b) => b.from.length - a.from.length);
}

function formPairsOf(pair: FormPair): Array<[string, string]> {
  return [...zip(textForms(pair.value), textForms(pair.stub)), ...base64FormPairs(pair.value, pair.stub)];
}

function zip(values: string[], stubs: string[]): Array<[string, string]> {
  return values.map((value, i) => [value, stubs[i] ?? '']);
}

/** Forms that are text transformations of the whole string; value and stub lists align by index. */
function textForms(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  // A UTF-8 header value that a parser decoded as latin1 (Node and undici do).
  return [text, bytes.toString('latin1'), ...percentEncodedForms(bytes), ...jsonForms(text)];
}

/**
 * Percent-encoders disagree on which characters to leave alone; each set below is one family. Every
 * family is tried with space as %20 and as '+', in upper- and lower-case hex.
 */
const PERCENT_SAFE_SETS = [
  "-_.!~*'()", // encodeURIComponent
  '*-._', // WHATWG application/x-www-form-urlencoded, Java URLEncoder
  '-_.~', // RFC 3986 unreserved: Go url.QueryEscape, Python quote_plus, PHP rawurlencode, curl
  '-_.', // PHP urlencode
].map((marks) => new Set(Buffer.from(`ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789${marks}`)));

function percentEncodedForms(bytes: Buffer): string[] {
  return PERCENT_SAFE_SETS.flatMap((safe) =>
    [false, true].flatMap((plusForSpace) => {
      const encoded = percentEncode(bytes, safe, plusForSpace);
      return [encoded, lowerCaseHex(encoded)];
    }),
  );
}

/** Works on UTF-8 bytes, so a lone surrogate cannot throw as encodeURIComponent would. */
function percentEncode(bytes: Buffer, safe: Set<number>, plusForSpace: boolean): string {
  let out = '';
  for (const byte of bytes) {
    if (safe.has(byte)) out += String.fromCharCode(byte);
    else if (plusForSpace && byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function lowerCaseHex(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
}

/** JSON string bodies as common serializers write them: JS, '\/' escaping, Python/PHP ASCII-only, Go HTML-safe. */
function jsonForms(text: string): string[] {
  const plain = JSON.stringify(text).slice(1, -1);
  const asciiOnly = plain.replace(/[\u0080-\uffff]/g, unicodeEscape);
  return [
    plain,
    plain.replaceAll('/', '\\/'),
    asciiOnly,
    asciiOnly.replaceAll('/', '\\/'),
    plain.replace(/[<>&\u2028\u2029]/g, unicodeEscape),
  ];
}

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Base64 forms at each byte alignment k (the value starting k bytes into a 3-byte group of a larger
 * blob). Only characters fully determined by the value's bytes can be swapped, plus the zero-filled
 * last character and padding when the value ends the blob. A stub of another byte length shifts every
 * later character, so then only the value encoded on its own (k = 0, whole) is replaced.
 */
function base64FormPairs(value: string, stub: string): Array<[string, string]> {
  const valueBytes = Buffer.from(value, 'utf8');
  const stubBytes = Buffer.from(stub, 'utf8');
  const sameLength = valueBytes.length === stubBytes.length;
  const pairs: Array<[string, string]> = [];
  for (const offset of sameLength ? [0, 1, 2] : [0]) {
    const valueForms = base64Forms(valueBytes, offset);
    const stubForms = base64Forms(stubBytes, offset);
    const usable = sameLength ? [0, 1, 2] : [1, 2]; // [1, 2]: the whole value, unpadded and padded
    for (const i of usable) {
      const valueForm = valueForms[i] ?? '';
      if (valueForm.length < MIN_BASE64_FORM_LENGTH) continue;
      pairs.push([valueForm, stubForms[i] ?? ''], [toUrlSafe(valueForm), toUrlSafe(stubForms[i] ?? '')]);
    }
  }
  return pairs;
}

/** [determined characters only, + zero-filled last character, + padding], standard alphabet. */
function base64Forms(bytes: Buffer, offset: number): string[] {
  const padded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
  const bits = (offset + bytes.length) * 8;
  const firstDetermined = Math.ceil((offset * 8) / 6);
  return [
    padded.slice(firstDetermined, Math.floor(bits / 6)),
    padded.slice(firstDetermined, Math.ceil(bits / 6)),
    padded.slice(firstDetermined),
  ];
}

function toUrlSafe(base64: string): string {
  return base64.replaceAll('+', '-').replaceAll('/', '_');
}

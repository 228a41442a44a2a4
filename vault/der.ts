// The handful of ASN.1 DER encodings an X.509 certificate is made of (ITU-T X.690), and nothing else:
// the vault only ever writes certificates, it never parses one. Every function returns the whole
// element (tag, length, content) as bytes, so elements nest by plain concatenation.

/** Tag numbers used here. Context-specific tags are built with `explicit` and `implicit`. */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function element(tag: number, content: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** Short form below 128, else 0x80|n followed by n big-endian length bytes. */
function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function sequence(...items: Uint8Array[]): Uint8Array {
  return element(TAG.sequence, Buffer.concat(items));
}

export function set(...items: Uint8Array[]): Uint8Array {
  return element(TAG.set, Buffer.concat(items));
}

export function boolean(value: boolean): Uint8Array {
  return element(TAG.boolean, Buffer.from([value ? 0xff : 0x00]));
}

/** A non-negative INTEGER from its big-endian magnitude: minimal, with a 0x00 in front when the top bit is set. */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const content = (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return element(TAG.integer, content.length > 0 ? content : Buffer.from([0]));
}

export function smallInteger(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffff) throw new Error(`smallInteger takes 0..65535, got ${value}`);
  return unsignedInteger(Buffer.from([value >> 8, value & 0xff]));
}

/** BIT STRING of whole bytes (no unused bits): keys and signatures. */
export function bitString(bytes: Uint8Array): Uint8Array {
  return element(TAG.bitString, Buffer.concat([Buffer.from([0]), bytes]));
}

/**
 * A named-bit BIT STRING such as KeyUsage: bit 0 is the first (most significant) bit, and DER drops
 * trailing zero bits, so the unused-bit count follows from the highest bit set.
 */
export function namedBits(bits: readonly number[]): Uint8Array {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return element(TAG.bitString, Buffer.concat([Buffer.from([7 - (highest & 7)]), bytes]));
}

export function octetString(bytes: Uint8Array): Uint8Array {
  return element(TAG.octetString, bytes);
}

export function objectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes = [first * 40 + second];
  for (const arc of rest) bytes.push(...base128(arc));
  return element(TAG.oid, Buffer.from(bytes));
}

/** An OID arc in base 128, most significant group first, every group but the last with its top bit set. */
function base128(arc: number): number[] {
  const groups = [arc & 0x7f];
  for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) groups.unshift((rest & 0x7f) | 0x80);
  return groups;
}

export function utf8String(text: string): Uint8Array {
  return element(TAG.utf8String, Buffer.from(text, 'utf8'));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, both in UTC to the second. */
export function time(date: Date): Uint8Array {
  const iso = date.toISOString(); // 2026-12-07T01:02:03.456Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20261207010203Z
  return date.getUTCFullYear() < 2050
    ? element(TAG.utcTime, Buffer.from(digits.slice(2), 'ascii'))
    : element(TAG.generalizedTime, Buffer.from(digits, 'ascii'));
}

/** [n] EXPLICIT: a constructed context-specific wrapper around a whole element. */
export function explicit(n: number, inner: Uint8Array): Uint8Array {
  return element(0xa0 | n, inner);
}

/** [n] IMPLICIT of a primitive type: the content under a context-specific tag. */
export function implicit(n: number, content: Uint8Array): Uint8Array {
  return element(0x80 | n, content);
}

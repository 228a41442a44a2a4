// The hand-written DER and certificate encoder (vault/der.ts, vault/certificate.ts). The CA's own
// tests (ca.test.ts) check the fields with openssl, curl, Python and Node; these check the encodings
// at their edges against the bytes X.690 prescribes, and that Node parses and verifies what we sign.
import { createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { commonNameOnly, Extension, KeyUsage, keyIdentifier, pem, signCertificate } from '../../vault/certificate.ts';
import * as der from '../../vault/der.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('DER encodings', () => {
  it.each([
    [0, '0400'],
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65_536, '0483010000'],
  ])('an OCTET STRING of %i bytes has the minimal length form', (length, prefix) => {
    expect(hex(der.octetString(new Uint8Array(length))).slice(0, prefix.length)).toBe(prefix);
    expect(der.octetString(new Uint8Array(length)).length).toBe(prefix.length / 2 + length);
  });

  it.each([
    [[0x80], '02020080'],
    [[0x7f], '02017f'],
    [[0, 0, 1], '020101'],
    [[0, 0x80], '02020080'],
    [[0], '020100'],
    [[], '020100'],
  ])('INTEGER of magnitude %j is minimal and never negative', (bytes, expected) => {
    expect(hex(der.unsignedInteger(Uint8Array.from(bytes)))).toBe(expected);
  });

  it('encodes object identifiers with multi-byte arcs', () => {
    expect(hex(der.objectIdentifier('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302');
    expect(hex(der.objectIdentifier('2.5.29.17'))).toBe('0603551d11');
  });

  it('drops trailing zero bits of named-bit strings', () => {
    expect(hex(der.namedBits([KeyUsage.keyCertSign, KeyUsage.cRLSign]))).toBe('03020106');
    expect(hex(der.namedBits([KeyUsage.digitalSignature]))).toBe('03020780');
    expect(hex(der.namedBits([8]))).toBe('0303070080');
  });

  it('uses UTCTime through 2049 and GeneralizedTime from 2050', () => {
    expect(Buffer.from(der.time(new Date('2049-12-31T23:59:59.999Z'))).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(Buffer.from(der.time(new Date('2050-01-01T00:00:00Z'))).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  });

  it('refuses what smallInteger cannot encode', () => {
    expect(() => der.smallInteger(-1)).toThrow(/0\.\.65535/);
    expect(() => der.smallInteger(1.5)).toThrow(/0\.\.65535/);
  });
});

describe('signed certificates', () => {
  const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;

  async function keyPair() {
    const keys = (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as CryptoKeyPair;
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    const raw = new Uint8Array(await webcrypto.subtle.exportKey('raw', keys.publicKey));
    return { keys, spki, keyId: keyIdentifier(raw) };
  }

  it('every one of 200 certificates parses and verifies: signature and serial INTEGERs of both signs', async () => {
    // r, s and the serial are random: across 200 certificates each has its top bit set about half the
    // time, which is where a sloppy INTEGER encoding breaks.
    const issuer = await keyPair();
    const subject = await keyPair();
    const issuerKey = createPublicKey({ key: Buffer.from(issuer.spki), format: 'der', type: 'spki' });
    for (let i = 0; i < 200; i++) {
      const serialNumber = webcrypto.getRandomValues(new Uint8Array(16));
      const certificate = await signCertificate(
        {
          serialNumber,
          issuer: commonNameOnly('Test CA'),
          subject: commonNameOnly(`host-${i}.example`),
          notBefore: new Date('2026-01-01T00:00:00Z'),
          notAfter: new Date('2051-01-01T00:00:00Z'),
          subjectPublicKeyInfo: subject.spki,
          extensions: [Extension.dnsSubjectAltName(`host-${i}.example`), Extension.authorityKeyIdentifier(issuer.keyId)],
        },
        issuer.keys.privateKey,
      );
      const parsed = new X509Certificate(pem('CERTIFICATE', certificate));
      expect(parsed.verify(issuerKey)).toBe(true);
      expect(parsed.subject).toBe(`CN=host-${i}.example`);
      expect(parsed.subjectAltName).toBe(`DNS:host-${i}.example`);
      expect(parsed.serialNumber.replace(/^0+/, '')).toBe(hex(serialNumber).replace(/^0+/, '').toUpperCase());
      expect(parsed.validTo).toBe('Jan  1 00:00:00 2051 GMT');
    }
  });

  it('writes PEM in 64-character lines', async () => {
    const text = pem('CERTIFICATE', new Uint8Array(100));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-1)).toBe('-----END CERTIFICATE-----');
    expect(lines.slice(1, -1).map((line) => line.length)).toEqual([64, 64, 8]);
  });
});

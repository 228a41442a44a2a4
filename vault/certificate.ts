// X.509 v3 certificates (RFC 5280) as the vault mints them: ECDSA P-256 with SHA-256, names of one
// common name, and the few extensions a CA and a TLS server leaf need. Written by hand on top of
// der.ts because a general X.509 library cost every vault ~7 MiB of memory for these ~100 lines.
import { createHash, webcrypto } from 'node:crypto';
import * as der from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** KeyUsage bit numbers (RFC 5280 4.2.1.3). */
export const KeyUsage = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

const SIGNATURE_ALGORITHM = der.sequence(der.objectIdentifier(OID.ecdsaWithSha256));
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface CertificateFields {
  /** Big-endian magnitude; RFC 5280 allows at most 20 bytes. */
  serialNumber: Uint8Array;
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo DER, as WebCrypto exports it ('spki'). */
  subjectPublicKeyInfo: Uint8Array;
  extensions: Uint8Array[];
}

/** Signs the TBSCertificate with `signingKey` (ECDSA P-256) and returns the certificate's DER. */
export async function signCertificate(fields: CertificateFields, signingKey: CryptoKey): Promise<Uint8Array> {
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(fields.serialNumber),
    SIGNATURE_ALGORITHM,
    fields.issuer,
    der.sequence(der.time(fields.notBefore), der.time(fields.notAfter)),
    fields.subject,
    fields.subjectPublicKeyInfo,
    der.explicit(3, der.sequence(...fields.extensions)),
  );
  const signature = new Uint8Array(await webcrypto.subtle.sign(ECDSA_SHA256, signingKey, tbs));
  return der.sequence(tbs, SIGNATURE_ALGORITHM, der.bitString(ecdsaSignatureValue(signature)));
}

/** WebCrypto signs as r‖s (IEEE P1363); X.509 wants Ecdsa-Sig-Value, a SEQUENCE of two INTEGERs. */
function ecdsaSignatureValue(rs: Uint8Array): Uint8Array {
  const half = rs.length / 2;
  return der.sequence(der.unsignedInteger(rs.subarray(0, half)), der.unsignedInteger(rs.subarray(half)));
}

/** A Name with one attribute, CN=`commonName`. */
export function commonNameOnly(commonName: string): Uint8Array {
  return der.sequence(der.set(der.sequence(der.objectIdentifier(OID.commonName), der.utf8String(commonName))));
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the public key's bits (WebCrypto's 'raw' export of an EC key). */
export function keyIdentifier(rawPublicKey: Uint8Array): Uint8Array {
  return createHash('sha1').update(rawPublicKey).digest();
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return der.sequence(der.objectIdentifier(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** Each extension the vault's certificates carry, with the criticality RFC 5280 asks for. */
export const Extension = {
  certificateAuthority: (pathLength: number) =>
    extension(OID.basicConstraints, true, der.sequence(der.boolean(true), der.smallInteger(pathLength))),
  endEntity: () => extension(OID.basicConstraints, false, der.sequence()),
  keyUsage: (...bits: number[]) => extension(OID.keyUsage, true, der.namedBits(bits)),
  subjectKeyIdentifier: (keyId: Uint8Array) => extension(OID.subjectKeyIdentifier, false, der.octetString(keyId)),
  authorityKeyIdentifier: (keyId: Uint8Array) =>
    extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, keyId))),
  dnsSubjectAltName: (host: string) =>
    extension(OID.subjectAltName, false, der.sequence(der.implicit(2, Buffer.from(host, 'ascii')))),
  serverAuthOnly: () => extension(OID.extendedKeyUsage, false, der.sequence(der.objectIdentifier(OID.serverAuth))),
};

/** PEM with 64-character lines and a final newline. */
export function pem(label: 'CERTIFICATE' | 'PRIVATE KEY', bytes: Uint8Array): string {
  const lines = Buffer.from(bytes).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

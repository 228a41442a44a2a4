// The bench upstream's certificate: a test CA and one leaf for `*.bench.test`. A wildcard on purpose:
// a real upstream already holds its certificate, so a never-seen name must cost the direct path
// nothing extra; only the vault mints per name. (vault/ca.ts mints one exact name per leaf and keeps
// a TLS context of ~45 KB per name, which would distort the cold-cache baseline.)
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface UpstreamCertificate {
  caPem: string;
  keyPem: string;
  /** Leaf then CA. */
  certPem: string;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export async function mintUpstreamCertificate(domain: string): Promise<UpstreamCertificate> {
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + DAY_MS);
  const caKeys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=LAP bench upstream CA', notBefore, notAfter, signingAlgorithm: SIGNING, keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leafKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02', subject: `CN=${domain}`, issuer: ca.subject, notBefore, notAfter,
    signingAlgorithm: SIGNING, publicKey: leafKeys.publicKey, signingKey: caKeys.privateKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: domain }, { type: 'dns', value: `*.${domain}` }]),
      new x509.BasicConstraintsExtension(false, undefined, false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey);
  const caPem = ca.toString('pem');
  return { caPem, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), certPem: `${leaf.toString('pem')}\n${caPem}` };
}

// The per-sandbox certificate authority (DESIGN.md §3, invariant 3). The CA private key is a
// non-extractable CryptoKey that lives only in this module's closures: it is never exported,
// written anywhere or logged. Only `certificatePem` is meant to leave the vault.
import { webcrypto } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { commonNameOnly, Extension, KeyUsage, keyIdentifier, pem, signCertificate } from './certificate.ts';

export interface CertificateAuthority {
  /** PEM of the CA certificate: the only part that ever goes into the sandbox. */
  readonly certificatePem: string;
  /** TLS server context for `host` (leaf + CA chain, shared leaf key), minted on first use and cached in a bounded LRU. */
  secureContextFor(host: string): Promise<SecureContext>;
  /** Number of leaves currently cached (for metrics and tests). */
  readonly cachedLeafCount: number;
}

export interface CertificateAuthorityOptions {
  commonName: string;
  /** Most leaves kept at once; the least recently used is dropped first. Default 1024. */
  leafCacheSize?: number;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Clock-skew allowance: certificates are valid from an hour before they were made. */
const BACKDATE_MS = HOUR_MS;
const CA_VALIDITY_MS = 365 * DAY_MS;
const LEAF_VALIDITY_MS = 7 * DAY_MS;
/** A cached leaf this close to its notAfter is replaced so no client ever sees it expire. */
const LEAF_RENEW_BEFORE_MS = DAY_MS;
const DEFAULT_LEAF_CACHE_SIZE = 1024;
const EC_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const HOST_LABEL = /^[a-z0-9_-]{1,63}$/;

interface IssuingAuthority {
  certificatePem: string;
  name: Uint8Array;
  signingKey: CryptoKey;
  keyId: Uint8Array;
}

/** The one key pair every leaf shares (its public half as the certificate wants it). */
interface LeafKey {
  subjectPublicKeyInfo: Uint8Array;
  keyId: Uint8Array;
  privateKeyPem: string;
}

interface Leaf {
  certificatePem: string;
  notAfter: Date;
}

interface CachedLeaf {
  readonly context: Promise<SecureContext>;
  /** When to mint again; Infinity until the mint has finished. */
  readonly renewAt: number;
}

export async function createCertificateAuthority(
  opts: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const commonName = checkCommonName(opts.commonName);
  const leafCacheSize = checkLeafCacheSize(opts.leafCacheSize);
  const authority = await mintCertificateAuthority(commonName);
  const leafKey = await generateLeafKey();
  const cache = new Map<string, CachedLeaf>();

  function secureContextFor(host: string): Promise<SecureContext> {
    try {
      checkHost(host);
    } catch (err) {
      return Promise.reject(err);
    }
    const cached = cache.get(host);
    cache.delete(host);
    if (cached && Date.now() < cached.renewAt) {
      cache.set(host, cached);
      return cached.context;
    }
    const entry = mintCachedLeaf(host);
    cache.set(host, entry);
    evictLeastRecentlyUsed(cache, leafCacheSize);
    return entry.context;
  }

  function mintCachedLeaf(host: string): CachedLeaf {
    let renewAt = Infinity;
    const context: Promise<SecureContext> = mintLeafCertificate(authority, leafKey, host).then(
      (leaf) => {
        renewAt = leaf.notAfter.getTime() - LEAF_RENEW_BEFORE_MS;
        return createLeafSecureContext(leaf, authority, leafKey);
      },
      (err: unknown) => {
        // A failed mint must not stay cached: the next call tries again.
        if (cache.get(host)?.context === context) cache.delete(host);
        throw err;
      },
    );
    return {
      context,
      get renewAt() {
        return renewAt;
      },
    };
  }

  return {
    certificatePem: authority.certificatePem,
    secureContextFor,
    get cachedLeafCount() {
      return cache.size;
    },
  };
}

function evictLeastRecentlyUsed(cache: Map<string, CachedLeaf>, limit: number): void {
  // A Map iterates in insertion order and every hit re-inserts, so the first key is the oldest.
  for (const host of cache.keys()) {
    if (cache.size <= limit) return;
    cache.delete(host);
  }
}

async function mintCertificateAuthority(commonName: string): Promise<IssuingAuthority> {
  const keys = (await webcrypto.subtle.generateKey(EC_KEY_ALGORITHM, false, ['sign', 'verify'])) as CryptoKeyPair;
  const { subjectPublicKeyInfo, keyId } = await describePublicKey(keys.publicKey);
  const name = commonNameOnly(commonName);
  const now = Date.now();
  const certificate = await signCertificate(
    {
      serialNumber: randomSerialNumber(),
      issuer: name,
      subject: name,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + CA_VALIDITY_MS),
      subjectPublicKeyInfo,
      extensions: [
        Extension.certificateAuthority(0),
        Extension.keyUsage(KeyUsage.keyCertSign, KeyUsage.cRLSign),
        Extension.subjectKeyIdentifier(keyId),
      ],
    },
    keys.privateKey,
  );
  return { certificatePem: pem('CERTIFICATE', certificate), name, signingKey: keys.privateKey, keyId };
}

async function generateLeafKey(): Promise<LeafKey> {
  // Extractable on purpose: node:tls needs the leaf key as PKCS#8. It is not the CA key.
  const keys = (await webcrypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { ...(await describePublicKey(keys.publicKey)), privateKeyPem: pem('PRIVATE KEY', pkcs8) };
}

async function describePublicKey(publicKey: CryptoKey): Promise<{ subjectPublicKeyInfo: Uint8Array; keyId: Uint8Array }> {
  const [spki, raw] = await Promise.all([
    webcrypto.subtle.exportKey('spki', publicKey),
    webcrypto.subtle.exportKey('raw', publicKey),
  ]);
  return { subjectPublicKeyInfo: new Uint8Array(spki), keyId: keyIdentifier(new Uint8Array(raw)) };
}

async function mintLeafCertificate(authority: IssuingAuthority, leafKey: LeafKey, host: string): Promise<Leaf> {
  const now = Date.now();
  const notAfter = new Date(now + LEAF_VALIDITY_MS);
  const certificate = await signCertificate(
    {
      serialNumber: randomSerialNumber(),
      issuer: authority.name,
      subject: commonNameOnly(host),
      notBefore: new Date(now - BACKDATE_MS),
      notAfter,
      subjectPublicKeyInfo: leafKey.subjectPublicKeyInfo,
      extensions: [
        Extension.dnsSubjectAltName(host),
        Extension.endEntity(),
        Extension.keyUsage(KeyUsage.digitalSignature),
        Extension.serverAuthOnly(),
        Extension.subjectKeyIdentifier(leafKey.keyId),
        Extension.authorityKeyIdentifier(authority.keyId),
      ],
    },
    authority.signingKey,
  );
  return { certificatePem: pem('CERTIFICATE', certificate), notAfter };
}

function createLeafSecureContext(leaf: Leaf, authority: IssuingAuthority, leafKey: LeafKey): SecureContext {
  return createSecureContext({ key: leafKey.privateKeyPem, cert: leaf.certificatePem + authority.certificatePem });
}

/** 127 random bits with the top bit clear and the next one set: positive, and never short. */
function randomSerialNumber(): Uint8Array {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes;
}

function checkHost(host: unknown): asserts host is string {
  if (typeof host !== 'string' || host.length === 0 || host.length > 253) {
    throw new Error(`host must be a DNS name of 1 to 253 characters, got ${describe(host)}`);
  }
  if (!host.split('.').every((label) => HOST_LABEL.test(label))) {
    throw new Error(
      `host must be a lowercase DNS name without a trailing dot (labels of a-z, 0-9, '-', '_'), got ${describe(host)}`,
    );
  }
}

function checkCommonName(commonName: unknown): string {
  // 64 is the X.520 upper bound for a CN.
  if (typeof commonName !== 'string' || commonName.trim() === '' || commonName.length > 64) {
    throw new Error(`commonName must be a non-empty string of at most 64 characters, got ${describe(commonName)}`);
  }
  return commonName;
}

function checkLeafCacheSize(size: unknown): number {
  if (size === undefined) return DEFAULT_LEAF_CACHE_SIZE;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new Error(`leafCacheSize must be a positive integer, got ${describe(size)}`);
  }
  return size;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
}

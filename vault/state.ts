import type { SecureContext } from 'node:tls';
import type { AuditLog } from './audit.ts';
import type { CertificateAuthority } from './ca.ts';
import type { DialTarget } from './resolve.ts';
import type { Credential, EgressPolicy } from './types.ts';

/**
 * Everything one vault knows about its sandbox. The control API replaces credentials and policy as
 * whole values (never mutates them), so a request in flight keeps a consistent snapshot.
 */
export interface VaultState {
  readonly session: string;
  readonly ca: CertificateAuthority;
  readonly audit: AuditLog;
  readonly resolve: (host: string, defaultPort: number, policy: EgressPolicy) => Promise<DialTarget>;
  /** Upstream TLS trust: the system's roots plus the configured extra CAs, built at first use. */
  readonly upstreamTls: () => SecureContext;
  credentials: readonly Credential[];
  policy: EgressPolicy;
}

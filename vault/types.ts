// Types of the vault's control protocol. The gateway imports them from here (DESIGN.md §1).

/** Where in a request a credential's stub may be swapped for its real value. */
export type SwapPlace = 'header' | 'query' | 'body';

export interface Credential {
  /** Name shown in audit events, e.g. GITHUB_TOKEN. Never the value. */
  name: string;
  /** The real secret. Lives only in the vault's memory. */
  value: string;
  /** What the sandbox holds instead of `value`. */
  stub: string;
  /** Hosts the real value may be sent to: exact names or `*.suffix`. Never empty. */
  hosts: string[];
  /** Where the stub is swapped. Body is opt-in. */
  places: SwapPlace[];
}

/** What the control API says about a credential: everything but the value. */
export type CredentialView = Omit<Credential, 'value'>;

export interface EgressPolicy {
  /** What happens to a host on neither list. */
  default: 'allow' | 'deny';
  /** Host patterns (`name`, `*.suffix`) always allowed. */
  allow: string[];
  /** Host patterns always refused; wins over `allow`. */
  deny: string[];
  /**
   * Host patterns that may resolve to loopback, private, link-local or metadata addresses.
   * Everything else is refused such addresses (SSRF guard, DESIGN.md §3.4).
   */
  allowPrivate: string[];
}

export type AuditDecision = 'allow' | 'block' | 'error';

/** One request through the vault (DESIGN.md §3.10). No header values, bodies or queries. */
export interface AuditEvent {
  seq: number;
  ts: string;
  session: string;
  method: string;
  host: string;
  path: string;
  status: number;
  bytes: number;
  ms: number;
  credentials: string[];
  decision: AuditDecision;
  reason: string;
}

// The store's records and its interface. The gateway's other parts only see these types; the
// SQLite implementation (node:sqlite) lives beside them. Every method is synchronous: node:sqlite is.
import type { EgressPolicy, SwapPlace } from '../../vault/types.ts';

export interface ApiKeyRecord {
  id: string; // "key_" + 16 hex
  name: string;
  /** The first 8 characters of the token after its "lap_" prefix: shown in lists so people can tell keys apart. */
  prefix: string;
  admin: boolean;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface SecretRecord {
  id: string; // "sec_" + 16 hex
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** A credential of an agent: the real value lives in a named secret; the vault gets it at claim time. */
export interface AgentCredential {
  /** The environment variable the sandbox sees (holding the stub), e.g. GITHUB_TOKEN. */
  name: string;
  /** Name of a stored secret. */
  secret: string;
  hosts: string[];
  places: SwapPlace[];
}

export interface AgentRecord {
  id: string; // "agt_" + 16 hex
  name: string;
  harness: string;
  model: string | null;
  prompt: string | null;
  repository: string | null;
  branch: string | null;
  envVars: Record<string, string>;
  credentials: AgentCredential[];
  egressPolicy: EgressPolicy | null;
  idleTimeoutSeconds: number;
  createdAt: string;
  updatedAt: string;
}

export type AgentInput = Omit<AgentRecord, 'id' | 'createdAt' | 'updatedAt'>;

export type SessionStatus = 'creating' | 'ready' | 'failed' | 'dead';

export interface SessionRecord {
  id: string; // "ses_" + 16 hex
  agentId: string;
  ownerKeyId: string;
  title: string | null;
  harness: string;
  status: SessionStatus;
  failureReason: string | null;
  /** True when the session was started from a warm sandbox. */
  warm: boolean;
  sandboxId: string | null;
  createdAt: string;
  updatedAt: string;
  readyAt: string | null;
  endedAt: string | null;
  lastActivityAt: string;
}

export interface SessionEvent {
  sessionId: string;
  seq: number;
  ts: string;
  type: string;
  data: Record<string, unknown>;
}

export type SandboxState = 'starting' | 'warm' | 'claimed' | 'stopping';

/** A running sandbox (warm or claimed). `handle` is the runtime's, opaque here, stored encrypted. */
export interface SandboxRecord {
  id: string;
  harness: string;
  state: SandboxState;
  sessionId: string | null;
  handle: unknown;
  createdAt: string;
}

export interface SessionFilter {
  ownerKeyId?: string; // undefined = all (admin)
  agentId?: string;
  status?: SessionStatus;
  limit: number;
  /** Opaque cursor from a previous page (the last id). */
  after?: string;
}

export interface Store {
  readonly apiKeys: {
    /** Returns the record and the token, shown once. Tokens are "lap_" + 43 base64url characters. */
    create(name: string, admin: boolean): { record: ApiKeyRecord; token: string };
    /** Looks up a token by its SHA-256; undefined when unknown or revoked. Updates lastUsedAt (at most once a minute). */
    authenticate(token: string): ApiKeyRecord | undefined;
    list(): ApiKeyRecord[];
    get(id: string): ApiKeyRecord | undefined;
    revoke(id: string): boolean;
  };
  readonly secrets: {
    /** Creates or replaces the value (encrypted at rest). */
    put(name: string, value: string): SecretRecord;
    get(name: string): SecretRecord | undefined;
    /** The decrypted value: only for pushing to a vault. */
    reveal(name: string): string | undefined;
    list(): SecretRecord[];
    delete(name: string): boolean;
  };
  readonly agents: {
    create(input: AgentInput): AgentRecord; // throws StoreConflict on a duplicate name
    update(id: string, input: AgentInput): AgentRecord | undefined;
    /** By id or by name. */
    get(idOrName: string): AgentRecord | undefined;
    list(): AgentRecord[];
    delete(id: string): boolean;
  };
  readonly sessions: {
    create(fields: Pick<SessionRecord, 'agentId' | 'ownerKeyId' | 'title' | 'harness'>, envVars: Record<string, string>): SessionRecord;
    get(id: string): SessionRecord | undefined;
    list(filter: SessionFilter): { sessions: SessionRecord[]; next: string | null };
    /** Sessions in creating or ready: what the reconciler watches and a restart re-adopts. */
    live(): SessionRecord[];
    update(id: string, fields: Partial<Pick<SessionRecord, 'status' | 'failureReason' | 'warm' | 'sandboxId' | 'readyAt' | 'endedAt' | 'lastActivityAt'>>): SessionRecord | undefined;
    /** The per-session env_vars, decrypted: only for pushing to a vault and building stubs. */
    revealEnvVars(id: string): Record<string, string>;
    /** How many sessions there are in each status (for metrics). */
    countByStatus(): Partial<Record<SessionStatus, number>>;
    delete(id: string): boolean;
  };
  readonly events: {
    /** Appends with the next seq of that session (1, 2, ...) and returns the stored event. */
    append(sessionId: string, type: string, data: Record<string, unknown>, ts?: string): SessionEvent;
    /** Events with seq > after, oldest first, at most limit, optionally only types starting with typePrefix. */
    since(sessionId: string, after: number, limit: number, typePrefix?: string): SessionEvent[];
    lastSeq(sessionId: string): number;
    /** Cursors of the agent's and the vault's own sequence numbers already copied in, so a restart resumes without gaps or repeats. */
    cursor(sessionId: string, source: 'agent' | 'vault'): number;
    setCursor(sessionId: string, source: 'agent' | 'vault', seq: number): void;
  };
  readonly sandboxes: {
    put(record: SandboxRecord): void;
    get(id: string): SandboxRecord | undefined;
    list(): SandboxRecord[];
    update(id: string, fields: Partial<Pick<SandboxRecord, 'state' | 'sessionId' | 'handle'>>): void;
    delete(id: string): boolean;
    /** Atomically takes one warm sandbox of the harness for the session (state → claimed); undefined if none. */
    claimWarm(harness: string, sessionId: string): SandboxRecord | undefined;
  };
  close(): void;
}

/** A unique constraint was violated (e.g. an agent name); the API turns it into 409. */
export class StoreConflict extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'StoreConflict';
    this.field = field;
  }
}

/** An argument the store cannot act on (e.g. a paging cursor that names no session); the API turns it into 400. */
export class StoreInvalidInput extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'StoreInvalidInput';
    this.field = field;
  }
}

// The one interface the gateway has to where sandboxes live (DESIGN.md §2). `local` implements it
// with Linux namespaces on this machine; `kubernetes` will implement the same.

/** Everything needed to reach a running sandbox again, also after a gateway restart. JSON-serializable; stored encrypted (it holds tokens). */
export interface SandboxHandle {
  id: string;
  runtime: string;
  /** The sandbox agent's HTTP base, e.g. http://10.214.0.1:7070, and its bearer token. */
  agentUrl: string;
  agentToken: string;
  /** The vault's control API base and its bearer token. */
  vaultUrl: string;
  vaultToken: string;
  /** The vault CA, PEM: the sandbox trusts it through the CA variables. */
  caPem: string;
  /** Paths as the sandbox's processes see them. */
  paths: { workspace: string; caFile: string; harnessDir?: string };
  /** Runtime-specific details (local: netns, interfaces, addresses, pids, directory). */
  detail: Record<string, unknown>;
}

export type ProbeResult =
  | { alive: true }
  | { alive: false; part: 'agent' | 'vault' | 'sandbox'; reason: string };

export interface SandboxRequest {
  /** "sb" + lowercase hex; the runtime names its resources after it (netns lap-<id>). */
  id: string;
}

export interface Runtime {
  readonly name: string;
  /** Checks privileges and tools; throws one Error whose message lists everything missing and how to get it. */
  preflight(): Promise<void>;
  /** Starts a sandbox with its agent (warm, unclaimed) and vault (no credentials), both answering. On failure nothing is left behind. */
  create(request: SandboxRequest): Promise<SandboxHandle>;
  /** Stops and removes everything of the sandbox. Idempotent; also works on a half-dead sandbox. */
  destroy(handle: SandboxHandle): Promise<void>;
  /** Cheap liveness of the agent and vault processes (process alive + health answers). */
  probe(handle: SandboxHandle): Promise<ProbeResult>;
  /** Removes every sandbox this runtime owns whose id is not in `keep` (after a restart: what could not be adopted). Returns the ids removed. */
  reapExcept(keep: ReadonlySet<string>): Promise<string[]>;
}

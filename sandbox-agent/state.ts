import type { EventLog } from './events.ts';
import type { ClaimRequest } from './protocol.ts';
import type { Terminal } from './tty/terminal.ts';

export interface AgentLimits {
  /** Largest file accepted by PUT /v1/files and in a claim. */
  maxFileBytes: number;
  /** Largest tar accepted by PUT /v1/archive. */
  maxArchiveBytes: number;
  /** Longest exec timeout a caller may ask for. */
  maxExecTimeoutMs: number;
}

export const DEFAULT_LIMITS: AgentLimits = {
  maxFileBytes: 64 * 1024 * 1024,
  maxArchiveBytes: 1024 * 1024 * 1024,
  maxExecTimeoutMs: 24 * 60 * 60 * 1000,
};

/** Everything one agent knows. Warm until a claim arrives; then one session, one harness terminal. */
export interface AgentState {
  readonly workspace: string;
  readonly events: EventLog;
  readonly limits: AgentLimits;
  claim: ClaimRequest | null;
  terminal: Terminal | null;
}

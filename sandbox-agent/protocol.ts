// The sandbox agent's wire protocol (DESIGN.md §4). The gateway and the CLI import these types.

// ---- TTY: GET /v1/tty upgrades to a WebSocket ----------------------------------------------------
// Binary frames: raw terminal bytes, both ways. Text frames: JSON control messages below.

export type TtyClientMessage = { type: 'resize'; cols: number; rows: number };

export type TtyServerMessage =
  /** First message of every connection; a binary frame with the current screen follows it. */
  | { type: 'hello'; cols: number; rows: number; harness: string; running: boolean; viewers: number }
  /** The harness exited; the connection stays open until the client leaves or the harness restarts. */
  | { type: 'exit'; code: number | null; signal: string | null }
  /** Sent just before the agent closes a viewer, saying why (e.g. it read too slowly). */
  | { type: 'dropped'; reason: string }
  /** A control message the agent could not accept; the connection stays open. */
  | { type: 'error'; message: string };

export const TTY_SIZE_LIMITS = { maxCols: 1000, maxRows: 500 } as const;

// ---- Events: GET /v1/events?after=N (JSON), GET /v1/events/stream (SSE, Last-Event-ID) -----------

export type AgentEventType =
  | 'phase' // claim progress: data {phase, status: started|done|failed, detail?}
  | 'harness.started' // data {harness, pid}
  | 'harness.exited' // data {harness, code, signal}
  | 'tty.attached' // data {viewers}
  | 'tty.detached' // data {viewers, reason?}
  | 'activity' // data {kind: input|output|exec|files|message}; at most one per kind per ACTIVITY_EVENT_INTERVAL_MS
  | TurnEventType; // a message harness's conversation: see "Messages" below

export interface AgentEvent {
  seq: number;
  ts: string;
  type: AgentEventType;
  data: Record<string, unknown>;
}

export const ACTIVITY_EVENT_INTERVAL_MS = 10_000;

// ---- Claim: POST /v1/claim ------------------------------------------------------------------------

export interface ClaimFile {
  /** Relative to the workspace. */
  path: string;
  /** base64 */
  content: string;
  mode?: number;
}

export interface ClaimRequest {
  session: string;
  harness: string;
  /** The harness's whole environment on top of a minimal base (PATH, HOME, TERM, LANG): stubs only. */
  env: Record<string, string>;
  workspace?: { repository?: string; branch?: string };
  /** Stubs git hands to the vault for HTTPS remotes (git credential helper); never real values. */
  gitCredentials?: { host: string; username?: string; stub: string }[];
  files?: ClaimFile[];
  cols?: number;
  rows?: number;
}

// ---- Exec: POST /v1/exec, response application/x-ndjson, one ExecFrame per line --------------------

export interface ExecRequest {
  argv: string[];
  env?: Record<string, string>;
  /** Relative to the workspace (default: the workspace). */
  cwd?: string;
  timeoutMs?: number;
  /** base64; closed after writing. Without it stdin is empty. */
  stdin?: string;
}

export type ExecFrame =
  | { type: 'stdout' | 'stderr'; data: string /* base64 */ }
  | { type: 'exit'; code: number | null; signal: string | null; timedOut: boolean };

// ---- Messages (opencode, claude-agent-sdk): POST /v1/message, POST /v1/message/abort ----------------
// POST /v1/message {text} answers application/x-ndjson, one TurnEvent per line (blank lines are
// keep-alives), ending after `turn.finished` or `error`. The same events are in the event log.

export interface MessageRequest {
  /** The user's message. */
  text: string;
}

export type TurnEventType = 'message.user' | 'turn.started' | 'message.delta' | 'tool.started' | 'tool.finished' | 'turn.finished' | 'error';

export interface TurnUsage {
  input_tokens: number;
  output_tokens: number;
}

/** The normalized events of one turn; every `data` also carries `turn`, the turn's id. */
export type TurnEvent =
  | { type: 'message.user'; data: { turn: string; text: string } }
  | { type: 'turn.started'; data: { turn: string } }
  | { type: 'message.delta'; data: { turn: string; text: string } }
  | { type: 'tool.started'; data: { turn: string; id: string; name: string; input: unknown } }
  | { type: 'tool.finished'; data: { turn: string; id: string; name: string; output?: string; error?: string } }
  | { type: 'turn.finished'; data: { turn: string; usage: TurnUsage; text: string } }
  /** The turn failed or was aborted (`aborted: true`); the harness stays up for the next message. */
  | { type: 'error'; data: { turn: string; message: string; aborted?: boolean } };

export const TURN_EVENT_TYPES: readonly TurnEventType[] = ['message.user', 'turn.started', 'message.delta', 'tool.started', 'tool.finished', 'turn.finished', 'error'];

/** Every type an agent event may have: the gateway stores no other (vault.* and session.* are not the agent's to write). */
export const AGENT_EVENT_TYPES: ReadonlySet<string> = new Set<AgentEventType>(['phase', 'harness.started', 'harness.exited', 'tty.attached', 'tty.detached', 'activity', ...TURN_EVENT_TYPES]);

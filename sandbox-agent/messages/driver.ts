// What a message harness is (DESIGN.md §6): a program serving an API on loopback inside the sandbox
// (opencode serve, the Claude Agent SDK runner), started under the PTY like any harness, and a driver
// the agent uses to turn one user message into one turn of normalized events.
import type { Harness } from '../harnesses/harness.ts';
import type { TurnUsage } from '../protocol.ts';

/** The events a driver reports while a turn runs; the conversation adds the turn id and the start/end events. */
export type DriverEvent =
  | { type: 'message.delta'; data: { text: string } }
  | { type: 'tool.started'; data: { id: string; name: string; input: unknown } }
  | { type: 'tool.finished'; data: { id: string; name: string; output?: string; error?: string } };

export interface TurnResult {
  /** The reply: the text of the turn's last assistant message. */
  text: string;
  usage: TurnUsage;
}

export interface MessageDriver {
  /**
   * Runs one turn to its end. Rejects with TurnError when the harness reports a failure, or with an
   * AbortError when `signal` fires (the driver asks the harness to stop first).
   */
  runTurn(text: string, emit: (event: DriverEvent) => void, signal: AbortSignal): Promise<TurnResult>;
}

/** What a message harness knows about the claim: its env (claim env + the harness's defaults) and workspace. */
export interface DriverContext {
  env: Readonly<Record<string, string>>;
  workspace: string;
}

export interface MessageHarness extends Harness {
  /** The driver for this claim's running harness program; created once per claim. */
  messageDriver(context: DriverContext): MessageDriver;
}

export function isMessageHarness(harness: Harness | undefined): harness is MessageHarness {
  return typeof (harness as Partial<MessageHarness> | undefined)?.messageDriver === 'function';
}

/** A failure the harness reported for the turn (model error, crash); its message is shown to the user. */
export class TurnError extends Error {}

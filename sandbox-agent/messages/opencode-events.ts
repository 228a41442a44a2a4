// opencode's bus events (GET /event, SSE) → normalized turn events, for one opencode session. Text
// comes as `message.part.delta` on text parts of assistant messages; tools as `message.part.updated`
// on tool parts whose state goes pending → running → completed | error.
import type { TurnUsage } from '../protocol.ts';
import type { DriverEvent } from './driver.ts';
import { toolOutputText } from './tool-output.ts';

type Emit = (event: DriverEvent) => void;
interface ToolState { status?: string; input?: unknown; output?: string; error?: string }
interface Part { id?: string; sessionID?: string; messageID?: string; type?: string; text?: string; callID?: string; tool?: string; state?: ToolState }
export interface MessageInfo { id?: string; sessionID?: string; role?: string; tokens?: { input?: number; output?: number }; error?: { name?: string; data?: { message?: string } } }
interface BusEvent {
  type?: string;
  properties?: { sessionID?: string; info?: MessageInfo; part?: Part; delta?: string; field?: string; partID?: string; messageID?: string; error?: MessageInfo['error']; status?: { type?: string; message?: string } };
}

export class OpencodeTurnMapper {
  readonly #session: string;
  readonly #assistantMessages = new Map<string, TurnUsage>();
  readonly #textParts = new Set<string>();
  readonly #toolsStarted = new Set<string>();
  readonly #toolsFinished = new Set<string>();
  #busy = false;
  #idle = false;
  error: string | undefined;

  constructor(session: string) {
    this.#session = session;
  }

  /** The session went idle after it had been busy with this turn: the turn is over. */
  get done(): boolean {
    return this.#busy && this.#idle;
  }

  /** Token counts summed over the turn's assistant messages (one per model step). */
  get usage(): TurnUsage {
    let input = 0;
    let output = 0;
    for (const usage of this.#assistantMessages.values()) {
      input += usage.input_tokens;
      output += usage.output_tokens;
    }
    return { input_tokens: input, output_tokens: output };
  }

  take(raw: unknown, emit: Emit): void {
    const event = raw as BusEvent;
    const p = event.properties;
    if (!p || (p.sessionID ?? p.info?.sessionID ?? p.part?.sessionID) !== this.#session) return;
    if (event.type === 'message.updated' && p.info) this.#message(p.info);
    else if (event.type === 'message.part.updated' && p.part) this.#part(p.part, p.delta, emit);
    else if (event.type === 'message.part.delta' && p.field === 'text' && p.partID && this.#textParts.has(p.partID) && p.delta) emit({ type: 'message.delta', data: { text: p.delta } });
    else if (event.type === 'session.error') this.error = errorText(p.error);
    else if (event.type === 'session.idle' || (event.type === 'session.status' && p.status?.type === 'idle')) this.#idle = this.#busy;
    else if (event.type === 'session.status' && p.status?.type === 'busy') this.#busy = true;
  }

  #message(info: MessageInfo): void {
    if (info.role !== 'assistant' || !info.id) return;
    this.#busy = true;
    this.#assistantMessages.set(info.id, { input_tokens: info.tokens?.input ?? 0, output_tokens: info.tokens?.output ?? 0 });
    if (info.error && info.error.name !== 'MessageAbortedError') this.error = errorText(info.error);
  }

  #part(part: Part, delta: string | undefined, emit: Emit): void {
    if (part.type === 'text' && part.id && part.messageID && this.#assistantMessages.has(part.messageID)) {
      this.#textParts.add(part.id);
      if (delta) emit({ type: 'message.delta', data: { text: delta } });
    }
    if (part.type === 'tool' && part.callID) this.#tool(part.callID, part.tool ?? 'unknown', part.state ?? {}, emit);
  }

  #tool(id: string, name: string, state: ToolState, emit: Emit): void {
    const status = state.status;
    if (status !== 'running' && status !== 'completed' && status !== 'error') return;
    if (!this.#toolsStarted.has(id)) {
      this.#toolsStarted.add(id);
      emit({ type: 'tool.started', data: { id, name, input: state.input ?? {} } });
    }
    if (status === 'running' || this.#toolsFinished.has(id)) return;
    this.#toolsFinished.add(id);
    emit({ type: 'tool.finished', data: status === 'completed' ? { id, name, output: toolOutputText(state.output) } : { id, name, error: state.error ?? 'the tool failed' } });
  }
}

export function errorText(error: MessageInfo['error']): string {
  if (!error) return 'opencode reported an error';
  return `opencode: ${error.name ?? 'error'}${error.data?.message ? `: ${error.data.message}` : ''}`;
}

/** The text of an opencode message's text parts (its reply). */
export function replyText(parts: unknown): string {
  if (!Array.isArray(parts)) return '';
  return (parts as Part[]).filter((p) => p.type === 'text' && !('synthetic' in p && p.synthetic)).map((p) => p.text ?? '').join('');
}

// The Claude Agent SDK's SDKMessages (as the runner streams them) → normalized turn events. Only the
// main agent's messages count (parent_tool_use_id null): a subagent's inner steps are its tool's business.
import type { TurnUsage } from '../protocol.ts';
import { type DriverEvent, type TurnResult, TurnError } from './driver.ts';
import { toolOutputText } from './tool-output.ts';

type Emit = (event: DriverEvent) => void;
type Block = { type?: string; id?: string; name?: string; input?: unknown; text?: string; tool_use_id?: string; content?: unknown; is_error?: boolean };
interface SdkMessage {
  type?: string;
  subtype?: string;
  session_id?: string;
  parent_tool_use_id?: string | null;
  event?: { type?: string; delta?: { type?: string; text?: string } };
  message?: { content?: unknown };
  result?: string;
  is_error?: boolean;
  errors?: string[];
  usage?: { input_tokens?: number; output_tokens?: number };
}

export class SdkTurnMapper {
  readonly #toolNames = new Map<string, string>();
  /** Text deltas were streamed for the current model response: its assistant messages repeat them. */
  #streamed = false;
  #lastText = '';
  #outcome: TurnResult | TurnError | undefined;
  sessionId: string | undefined;

  take(raw: unknown, emit: Emit): void {
    const message = raw as SdkMessage;
    if (typeof message.session_id === 'string') this.sessionId = message.session_id;
    if (message.parent_tool_use_id) return;
    if (message.type === 'stream_event') this.#streamEvent(message, emit);
    else if (message.type === 'assistant') this.#assistant(blocks(message), emit);
    else if (message.type === 'user') this.#toolResults(blocks(message), emit);
    else if (message.type === 'result') this.#outcome = resultOf(message, this.#lastText);
    else if (message.type === 'runner_error') this.#outcome = new TurnError(`the Claude Agent SDK failed: ${(raw as { message?: string }).message}`);
  }

  /** The turn's result; throws a TurnError when the SDK reported one or the stream ended without a result. */
  finish(): TurnResult {
    if (this.#outcome instanceof TurnError) throw this.#outcome;
    if (!this.#outcome) throw new TurnError('the Claude Agent SDK runner ended the turn without a result; see the harness output');
    return this.#outcome;
  }

  #streamEvent(message: SdkMessage, emit: Emit): void {
    const event = message.event;
    if (event?.type === 'message_start') this.#streamed = false;
    if (event?.type === 'content_block_delta' && event.delta?.type === 'text_delta' && event.delta.text) {
      this.#streamed = true;
      emit({ type: 'message.delta', data: { text: event.delta.text } });
    }
  }

  #assistant(content: Block[], emit: Emit): void {
    const text = content.filter((b) => b.type === 'text' && b.text).map((b) => b.text).join('');
    if (text) {
      this.#lastText = text;
      if (!this.#streamed) emit({ type: 'message.delta', data: { text } });
    }
    for (const block of content) {
      if (block.type !== 'tool_use' || !block.id) continue;
      this.#toolNames.set(block.id, block.name ?? 'unknown');
      emit({ type: 'tool.started', data: { id: block.id, name: block.name ?? 'unknown', input: block.input ?? {} } });
    }
  }

  #toolResults(content: Block[], emit: Emit): void {
    for (const block of content) {
      if (block.type !== 'tool_result' || !block.tool_use_id) continue;
      const name = this.#toolNames.get(block.tool_use_id) ?? 'unknown';
      const output = toolOutputText(block.content);
      const data = block.is_error ? { id: block.tool_use_id, name, error: output || 'the tool failed' } : { id: block.tool_use_id, name, output };
      emit({ type: 'tool.finished', data });
    }
  }
}

function blocks(message: SdkMessage): Block[] {
  const content = message.message?.content;
  return Array.isArray(content) ? (content as Block[]) : [];
}

function resultOf(message: SdkMessage, lastText: string): TurnResult | TurnError {
  if (message.subtype === 'success' && !message.is_error) return { text: message.result ?? lastText, usage: usageOf(message.usage) };
  const detail = message.errors?.length ? message.errors.join('; ') : (message.result ?? 'no detail');
  return new TurnError(`the Claude Agent SDK ended the turn with ${message.subtype ?? 'an error'}: ${detail}`);
}

function usageOf(usage: SdkMessage['usage']): TurnUsage {
  return { input_tokens: usage?.input_tokens ?? 0, output_tokens: usage?.output_tokens ?? 0 };
}

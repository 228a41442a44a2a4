import type { TtyClientMessage } from '../protocol.ts';
import { checkTerminalSize } from './terminal.ts';

/** A text frame from a viewer, parsed and checked; the error names what is wrong with it. */
export type ParsedControl = { ok: true; message: TtyClientMessage } | { ok: false; error: string };

export function parseControlMessage(text: string): ParsedControl {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'control messages must be JSON objects, e.g. {"type":"resize","cols":120,"rows":40}' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'a control message must be a JSON object' };
  const message = value as Record<string, unknown>;
  if (message.type !== 'resize') return { ok: false, error: `type: unknown control message type ${JSON.stringify(message.type) ?? 'undefined'} (expected "resize")` };
  try {
    return { ok: true, message: { type: 'resize', ...checkTerminalSize(message.cols, message.rows) } };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

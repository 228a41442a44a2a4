// How the message harnesses' own events become normalized turn events (sandbox-agent/messages/):
// the Claude Agent SDK's SDKMessages and opencode's bus events, fed in as those programs send them.
import { describe, expect, it } from 'vitest';
import type { DriverEvent } from '../../sandbox-agent/messages/driver.ts';
import { OpencodeTurnMapper, replyText } from '../../sandbox-agent/messages/opencode-events.ts';
import { SdkTurnMapper } from '../../sandbox-agent/messages/sdk-events.ts';
import { MAX_TOOL_OUTPUT_CHARS } from '../../sandbox-agent/messages/tool-output.ts';

function collect(): { events: DriverEvent[]; emit: (e: DriverEvent) => void } {
  const events: DriverEvent[] = [];
  return { events, emit: (e) => events.push(e) };
}

describe('Claude Agent SDK messages', () => {
  const toolUse = { type: 'assistant', parent_tool_use_id: null, session_id: 's1', message: { content: [{ type: 'tool_use', id: 'tu1', name: 'Write', input: { file_path: '/w/a', content: 'x' } }] } };
  const toolResult = (isError: boolean) => ({ type: 'user', parent_tool_use_id: null, message: { content: [{ type: 'tool_result', tool_use_id: 'tu1', content: [{ type: 'text', text: isError ? 'denied' : 'ok' }], is_error: isError }] } });

  it('streams text deltas once, pairs tool calls with their results, and ends with the result and its usage', () => {
    const { events, emit } = collect();
    const mapper = new SdkTurnMapper();
    mapper.take({ type: 'system', subtype: 'init', session_id: 's1' }, emit);
    mapper.take(toolUse, emit);
    mapper.take(toolResult(false), emit);
    mapper.take({ type: 'stream_event', parent_tool_use_id: null, event: { type: 'message_start' } }, emit);
    mapper.take({ type: 'stream_event', parent_tool_use_id: null, event: { type: 'content_block_delta', delta: { type: 'text_delta', text: 'Do' } } }, emit);
    mapper.take({ type: 'stream_event', parent_tool_use_id: null, event: { type: 'content_block_delta', delta: { type: 'text_delta', text: 'ne' } } }, emit);
    mapper.take({ type: 'assistant', parent_tool_use_id: null, message: { content: [{ type: 'text', text: 'Done' }] } }, emit);
    mapper.take({ type: 'result', subtype: 'success', is_error: false, result: 'Done', usage: { input_tokens: 12, output_tokens: 3 }, session_id: 's1' }, emit);
    expect(events).toEqual([
      { type: 'tool.started', data: { id: 'tu1', name: 'Write', input: { file_path: '/w/a', content: 'x' } } },
      { type: 'tool.finished', data: { id: 'tu1', name: 'Write', output: 'ok' } },
      { type: 'message.delta', data: { text: 'Do' } },
      { type: 'message.delta', data: { text: 'ne' } },
    ]);
    expect(mapper.finish()).toEqual({ text: 'Done', usage: { input_tokens: 12, output_tokens: 3 } });
    expect(mapper.sessionId).toBe('s1');
  });

  it('falls back to whole text blocks without partial messages, reports tool errors, and skips subagent steps', () => {
    const { events, emit } = collect();
    const mapper = new SdkTurnMapper();
    mapper.take(toolUse, emit);
    mapper.take(toolResult(true), emit);
    mapper.take({ ...toolUse, parent_tool_use_id: 'tu0', message: { content: [{ type: 'tool_use', id: 'inner', name: 'Read', input: {} }] } }, emit);
    mapper.take({ type: 'assistant', parent_tool_use_id: null, message: { content: [{ type: 'text', text: 'Sorry.' }] } }, emit);
    expect(events.map((e) => e.type)).toEqual(['tool.started', 'tool.finished', 'message.delta']);
    expect(events[1]!.data).toEqual({ id: 'tu1', name: 'Write', error: 'denied' });
    expect(events[2]!.data).toEqual({ text: 'Sorry.' });
  });

  it('turns an error result, a runner failure or a missing result into a TurnError naming the cause', () => {
    const failed = new SdkTurnMapper();
    failed.take({ type: 'result', subtype: 'error_during_execution', is_error: true, errors: ['401 invalid x-api-key'] }, () => {});
    expect(() => failed.finish()).toThrow(/error_during_execution: 401 invalid x-api-key/);
    const crashed = new SdkTurnMapper();
    crashed.take({ type: 'runner_error', message: 'Claude Code process exited with code 1' }, () => {});
    expect(() => crashed.finish()).toThrow(/Claude Code process exited/);
    expect(() => new SdkTurnMapper().finish()).toThrow(/without a result/);
  });
});

describe('opencode bus events', () => {
  const session = 'ses_1';
  const assistant = (tokens = { input: 0, output: 0 }, error?: object) => ({ type: 'message.updated', properties: { sessionID: session, info: { id: 'msg_a', sessionID: session, role: 'assistant', tokens, error } } });
  const part = (p: object, delta?: string) => ({ type: 'message.part.updated', properties: { sessionID: session, part: { sessionID: session, ...p }, delta, time: 1 } });
  const tool = (status: string, extra: object = {}) => part({ id: 'prt_t', messageID: 'msg_a', type: 'tool', callID: 'call_1', tool: 'write', state: { status, input: { filePath: '/w/a' }, ...extra } });
  const status = (type: string) => ({ type: 'session.status', properties: { sessionID: session, status: { type } } });

  it('keeps the assistant text deltas (not the user text), one start and one finish per tool, and sums usage over steps', () => {
    const { events, emit } = collect();
    const mapper = new OpencodeTurnMapper(session);
    for (const e of [
      status('busy'),
      part({ id: 'prt_u', messageID: 'msg_u', type: 'text', text: 'write it' }),
      { type: 'message.part.delta', properties: { sessionID: session, messageID: 'msg_u', partID: 'prt_u', field: 'text', delta: 'user text' } },
      assistant(),
      tool('pending'),
      tool('running'),
      tool('running'),
      tool('completed', { output: 'Wrote file successfully.' }),
      tool('completed', { output: 'Wrote file successfully.' }),
      assistant({ input: 100, output: 20 }),
      part({ id: 'prt_x', messageID: 'msg_a', type: 'text', text: '' }),
      { type: 'message.part.delta', properties: { sessionID: session, messageID: 'msg_a', partID: 'prt_x', field: 'text', delta: 'Done.' } },
      { type: 'message.part.delta', properties: { sessionID: 'ses_other', messageID: 'msg_a', partID: 'prt_x', field: 'text', delta: 'elsewhere' } },
      { type: 'message.updated', properties: { sessionID: session, info: { id: 'msg_b', sessionID: session, role: 'assistant', tokens: { input: 50, output: 5 } } } },
    ]) mapper.take(e, emit);
    expect(mapper.done).toBe(false);
    mapper.take(status('idle'), emit);
    expect(mapper.done).toBe(true);
    expect(events).toEqual([
      { type: 'tool.started', data: { id: 'call_1', name: 'write', input: { filePath: '/w/a' } } },
      { type: 'tool.finished', data: { id: 'call_1', name: 'write', output: 'Wrote file successfully.' } },
      { type: 'message.delta', data: { text: 'Done.' } },
    ]);
    expect(mapper.usage).toEqual({ input_tokens: 150, output_tokens: 25 });
    expect(mapper.error).toBeUndefined();
  });

  it('reports failed tools and model errors, but not an abort as an error', () => {
    const { events, emit } = collect();
    const mapper = new OpencodeTurnMapper(session);
    mapper.take(assistant(), emit);
    mapper.take(tool('error', { error: 'permission denied' }), emit);
    expect(events.map((e) => e.data)).toEqual([{ id: 'call_1', name: 'write', input: { filePath: '/w/a' } }, { id: 'call_1', name: 'write', error: 'permission denied' }]);
    mapper.take(assistant(undefined, { name: 'MessageAbortedError', data: { message: 'aborted' } }), emit);
    expect(mapper.error).toBeUndefined();
    mapper.take(assistant(undefined, { name: 'APIError', data: { message: 'invalid x-api-key' } }), emit);
    expect(mapper.error).toBe('opencode: APIError: invalid x-api-key');
  });

  it('takes the reply from the text parts and cuts long tool output', () => {
    expect(replyText([{ type: 'step-start' }, { type: 'text', text: 'Hel' }, { type: 'tool' }, { type: 'text', text: 'lo' }, { type: 'text', text: 'hidden', synthetic: true }])).toBe('Hello');
    const { events, emit } = collect();
    const mapper = new OpencodeTurnMapper(session);
    mapper.take(tool('completed', { output: 'y'.repeat(MAX_TOOL_OUTPUT_CHARS + 10) }), emit);
    expect((events[1]!.data as { output: string }).output).toMatch(/… \(10 more characters\)$/);
  });
});

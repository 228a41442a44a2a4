// The agent's message routes before a turn can run: every refusal answers a clear 4xx naming why
// (the full turn, with real harnesses, is proven end to end in tests/e2e/).
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type RunningAgent, startAgent } from '../support/agent.ts';

let agent: RunningAgent;
beforeEach(async () => {
  agent = await startAgent();
});
afterEach(async () => {
  await agent?.close();
});

const send = async (body: unknown) => {
  const res = await agent.fetch('/v1/message', { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, error: ((await res.json()) as { error: { code: string; message: string } }).error };
};

it('refuses a message while warm, and to a harness without a message API', async () => {
  expect(await send({ text: 'hi' })).toMatchObject({ status: 409, error: { code: 'not_claimed' } });
  const claim = await agent.fetch('/v1/claim', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: 's1', harness: 'shell', env: {} }) });
  expect(claim.status).toBe(200);
  const refused = await send({ text: 'hi' });
  expect(refused).toMatchObject({ status: 409, error: { code: 'not_a_message_harness' } });
  expect(refused.error.message).toMatch(/harness shell has no message API/);
  const abort = await agent.fetch('/v1/message/abort', { method: 'POST' });
  expect(abort.status).toBe(409);
});

it('names the field of a bad message body, and abort without a turn says so', async () => {
  expect(await send('not json')).toMatchObject({ status: 400, error: { code: 'invalid_json' } });
  expect(await send({ text: '' })).toMatchObject({ status: 400, error: { message: expect.stringMatching(/^text: /) } });
  expect(await send({ text: 'hi', extra: 1 })).toMatchObject({ status: 400, error: { message: 'extra: is not a message field' } });
  expect(await send({ content: 'hi' })).toMatchObject({ status: 400, error: { message: expect.stringMatching(/^text: /) } });
  const abort = await agent.fetch('/v1/message/abort', { method: 'POST' });
  expect(await abort.json()).toEqual({ aborted: false, turn: null });
});

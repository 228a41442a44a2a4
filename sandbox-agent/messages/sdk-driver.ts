// The driver of the claude-agent-sdk harness: one POST /turn to the runner on loopback per message.
// The SDK session id is kept here, not in the runner, so a restarted runner resumes the conversation.
import { setTimeout as sleep } from 'node:timers/promises';
import { type MessageDriver, TurnError } from './driver.ts';
import { readLines } from '../lines.ts';
import { parseJson, waitUntilListening } from './loopback.ts';
import { SdkTurnMapper } from './sdk-events.ts';

/** The runner loads the SDK first; the first turn after a claim waits this long for it. */
const START_TIMEOUT_MS = 60_000;
/** An aborted query winds down (Claude Code's process ends) after the agent has moved on: wait for it. */
const BUSY_WAIT_MS = 10_000;
const BUSY_POLL_MS = 100;

export function claudeAgentSdkDriver(port: number): MessageDriver {
  const base = `http://127.0.0.1:${port}`;
  let sessionId: string | undefined;
  return {
    async runTurn(text, emit, signal) {
      await waitUntilListening(`${base}/healthz`, 'the Claude Agent SDK runner', START_TIMEOUT_MS, signal);
      const response = await startTurn(base, JSON.stringify({ text, resume: sessionId }), signal);
      if (!response.ok) throw new TurnError(`the Claude Agent SDK runner answered ${response.status}: ${(await response.text()).trim()}`);
      const mapper = new SdkTurnMapper();
      for await (const line of readLines(response.body!)) {
        const message = line ? parseJson(line) : undefined;
        if (message) mapper.take(message, emit);
      }
      sessionId = mapper.sessionId ?? sessionId;
      return mapper.finish();
    },
  };
}

/** POST /turn, again while the runner still answers 409 for a previous (aborted) query. */
async function startTurn(base: string, body: string, signal: AbortSignal): Promise<Response> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    const response = await fetch(`${base}/turn`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
    if (response.status !== 409 || Date.now() > deadline) return response;
    await response.body?.cancel();
    await sleep(BUSY_POLL_MS, undefined, { signal });
  }
}

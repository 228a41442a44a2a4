// The Claude Agent SDK end to end (issue 6, proof 3 and 4): query() inside the sandbox (the runner),
// driven by the agent, reached through the gateway's message API. See message-harness.ts.
import { describe } from 'vitest';
import { isRoot, warnIfSkipped } from '../support/root.ts';
import { proveMessageHarness } from './message-harness.ts';

warnIfSkipped('claude-agent-sdk message harness (local runtime)');

describe.runIf(isRoot)('the Claude Agent SDK through the message API', () => {
  proveMessageHarness({ harness: 'claude-agent-sdk', writeTool: /^Write$/, writeInput: (file_path, content) => ({ file_path, content }) });
});

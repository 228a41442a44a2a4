// opencode end to end (issue 6, proof 3 and 4): `opencode serve` on the sandbox's loopback, driven by
// the agent, reached through the gateway's message API. See message-harness.ts for what is proven.
import { describe } from 'vitest';
import { isRoot, warnIfSkipped } from '../support/root.ts';
import { proveMessageHarness } from './message-harness.ts';

warnIfSkipped('opencode message harness (local runtime)');

describe.runIf(isRoot)('opencode through the message API', () => {
  proveMessageHarness({ harness: 'opencode', writeTool: /^write$/, writeInput: (filePath, content) => ({ filePath, content }) });
});

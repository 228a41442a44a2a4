// Issue 6, proofs 1 and 4 for claude-code: the real `claude` TUI in a local-runtime session whose model
// key is a vaulted credential; the vault maps api.anthropic.com to the fake model server (tui-session.ts
// holds the proof itself, shared with codex).
import { warnIfSkipped } from '../support/root.ts';
import { proveTuiHarness } from './tui-session.ts';

warnIfSkipped('claude-code end to end (local runtime)');

proveTuiHarness({
  harness: 'claude-code',
  credential: 'ANTHROPIC_API_KEY',
  host: 'api.anthropic.com',
  realKey: 'sk-ant-api03-RealKeyValue0123456789abcdefABCDEFghijkl',
  modelPath: '/v1/messages',
  stubPattern: /^sk-ant-/,
  readyText: 'bypass permissions on',
  expectEnv: { NODE_EXTRA_CA_CERTS: /ca\.pem$/, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: /^1$/ },
});

// Issue 6, proofs 2 and 4 for codex: the real Codex TUI (its TUI can be driven through the PTY, so not
// `codex exec`) in a local-runtime session whose model key is a vaulted credential; the vault maps
// api.openai.com to the fake model server (OpenAI Responses API). The proof is in tui-session.ts.
import { warnIfSkipped } from '../support/root.ts';
import { proveTuiHarness } from './tui-session.ts';

warnIfSkipped('codex end to end (local runtime)');

proveTuiHarness({
  harness: 'codex',
  credential: 'OPENAI_API_KEY',
  host: 'api.openai.com',
  realKey: 'sk-proj-RealKeyValue0123456789abcdefABCDEFghijkl',
  modelPath: '/v1/responses',
  stubPattern: /^sk-/,
  readyText: 'Ask Codex to do anything',
  expectEnv: { CODEX_CA_CERTIFICATE: /ca\.pem$/ },
});

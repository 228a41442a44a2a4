// `codex`: OpenAI's Codex TUI under the PTY (DESIGN.md §6). Model traffic goes to a "lap" model
// provider in ~/.codex/config.toml (OpenAI's Responses API at OPENAI_BASE_URL, LiteLLM's, or
// api.openai.com, with the OPENAI_API_KEY stub), so no login screen appears. Codex's own sandbox
// (bubblewrap/landlock + seccomp) is off and approvals are never asked: it would need user namespaces
// that our unprivileged, no_new_privs sandbox does not give, and it would cut the network that
// commands reach through the vault (git push, package installs). The LAP sandbox is the boundary.
// Codex is a Rust binary: it trusts the vault CA through CODEX_CA_CERTIFICATE, set by the gateway.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Harness, type HarnessCommand } from './harness.ts';
import { harnessPrefix, installedProgram } from './installed.ts';
import { openaiBaseUrl, openaiModelEnv } from './model-env.ts';

const NAME = 'codex';
const TARGETS: Record<string, { pkg: string; triple: string }> = {
  x64: { pkg: '@openai/codex-linux-x64', triple: 'x86_64-unknown-linux-musl' },
  arm64: { pkg: '@openai/codex-linux-arm64', triple: 'aarch64-unknown-linux-musl' },
};

/** The native binary, run directly (its npm launcher is a Node script that would stay in between). */
function nativeBinary(): string[] {
  const target = TARGETS[process.arch];
  return target ? [`node_modules/${target.pkg}/vendor/${target.triple}/bin/codex`] : [];
}

export const codexHarness: Harness = {
  name: NAME,
  environment: (claimEnv) => ({
    ...openaiModelEnv(claimEnv),
    // What the npm launcher would set: Codex then knows it is an npm install and offers no self-update.
    CODEX_MANAGED_BY_NPM: '1',
    CODEX_MANAGED_PACKAGE_ROOT: join(harnessPrefix(claimEnv, NAME), 'node_modules/@openai/codex'),
  }),
  command(env): HarnessCommand {
    const file = installedProgram(env, NAME, [...nativeBinary(), 'node_modules/.bin/codex']);
    const model = env.LAP_MODEL ? ['--model', env.LAP_MODEL] : [];
    return { file, args: ['--dangerously-bypass-approvals-and-sandbox', ...model] };
  },
  prepare(env, { home, workspace }) {
    const dir = join(home, '.codex');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'config.toml'), codexConfig(env, workspace), { mode: 0o600 });
  },
};

/** TOML basic strings take JSON's escapes, so JSON.stringify quotes a value safely. */
export function codexConfig(env: Readonly<Record<string, string>>, workspace: string): string {
  const q = (text: string) => JSON.stringify(text);
  return [
    '# Written by the LAP sandbox agent at claim time.',
    'model_provider = "lap"',
    'approval_policy = "never"',
    'sandbox_mode = "danger-full-access"',
    'check_for_update_on_startup = false',
    '',
    '[model_providers.lap]',
    'name = "OpenAI through the LAP vault"',
    `base_url = ${q(openaiBaseUrl(env))}`,
    'env_key = "OPENAI_API_KEY"',
    'wire_api = "responses"',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[feedback]',
    'enabled = false',
    '',
    `[projects.${q(workspace)}]`,
    'trust_level = "trusted"',
    '',
  ].join('\n');
}

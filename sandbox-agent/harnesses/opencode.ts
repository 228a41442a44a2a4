// `opencode`: a message harness (DESIGN.md §6). `opencode serve` listens on the sandbox's loopback and
// the agent drives it over HTTP (sandbox-agent/messages/opencode-driver.ts). Its config in HOME names
// the model provider (Anthropic or OpenAI; LiteLLM's base URL when the claim names one; the key is
// the stub in ANTHROPIC_API_KEY / OPENAI_API_KEY) and allows every tool without asking: the sandbox is
// the boundary. opencode is a Bun-built binary: it trusts the vault CA through NODE_EXTRA_CA_CERTS.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageHarness } from '../messages/driver.ts';
import { opencodeDriver } from '../messages/opencode-driver.ts';
import type { HarnessCommand } from './harness.ts';
import { installedProgram } from './installed.ts';
import { mergeJsonFile } from './json-file.ts';
import { anthropicModelEnv, openaiBaseUrl, openaiModelEnv } from './model-env.ts';

const NAME = 'opencode';
/** Loopback inside the sandbox's own network namespace: no other sandbox shares it. */
export const OPENCODE_PORT = 4096;

/** Nothing but model traffic leaves the sandbox: no update checks, model catalogue, plugin or LSP downloads, shares. */
const QUIET_ENV = {
  OPENCODE_DISABLE_AUTOUPDATE: '1',
  OPENCODE_DISABLE_MODELS_FETCH: '1',
  OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
  OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
  OPENCODE_DISABLE_SHARE: '1',
  OPENCODE_DISABLE_CLAUDE_CODE: '1',
  OPENCODE_DISABLE_EMBEDDED_WEB_UI: '1',
};

type Env = Readonly<Record<string, string>>;

export const opencodeHarness: MessageHarness = {
  name: NAME,
  environment: (claimEnv) => ({ ...QUIET_ENV, ...anthropicModelEnv(claimEnv), ...openaiModelEnv(claimEnv) }),
  command(env): HarnessCommand {
    const file = installedProgram(env, NAME, ['node_modules/.bin/opencode']);
    return { file, args: ['serve', '--hostname', '127.0.0.1', '--port', String(OPENCODE_PORT)] };
  },
  prepare(env, { home }) {
    const configDir = join(home, '.config', 'opencode');
    mergeJsonFile(join(configDir, 'opencode.json'), opencodeConfig(env));
    markPluginPackageInstalled(configDir);
  },
  messageDriver: () => opencodeDriver(OPENCODE_PORT),
};

/** The provider: the one LAP_MODEL names (`openai/gpt-5`), else OpenAI when only its key is there, else Anthropic. */
function providerOf(env: Env): 'anthropic' | 'openai' {
  const named = env.LAP_MODEL?.split('/')[0];
  if (named === 'anthropic' || named === 'openai') return named;
  return env.OPENAI_API_KEY && !env.ANTHROPIC_API_KEY ? 'openai' : 'anthropic';
}

export function opencodeConfig(env: Env): Record<string, unknown> {
  const provider = providerOf(env);
  // @ai-sdk/anthropic's base URL ends in /v1; ANTHROPIC_BASE_URL (Claude Code's convention) does not.
  const baseURL = provider === 'anthropic' ? (env.ANTHROPIC_BASE_URL ? `${env.ANTHROPIC_BASE_URL.replace(/\/+$/, '')}/v1` : undefined) : openaiBaseUrl(env);
  const model = env.LAP_MODEL ? (env.LAP_MODEL.includes('/') ? env.LAP_MODEL : `${provider}/${env.LAP_MODEL}`) : undefined;
  return {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    permission: 'allow',
    enabled_providers: [provider],
    ...(model ? { model, small_model: model } : {}),
    provider: { [provider]: { options: baseURL ? { baseURL } : {} } },
  };
}

/**
 * At start opencode npm-installs @opencode-ai/plugin into each writable config dir that lacks it (for
 * custom tools kept there), which would reach for registry.npmjs.org. A node_modules folder and a
 * lockfile that lists the package tell it the install is done; LAP ships no custom tools there.
 */
function markPluginPackageInstalled(configDir: string): void {
  mkdirSync(join(configDir, 'node_modules'), { recursive: true, mode: 0o755 });
  mergeJsonFile(join(configDir, 'package-lock.json'), { lockfileVersion: 3, packages: { '': { dependencies: { '@opencode-ai/plugin': '*' } } } });
}

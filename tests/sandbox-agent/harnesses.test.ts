// The harness registry against the real agent (issue 6, points 1 and 3): a claim for claude-code or
// codex runs the program from the harness directory with its flags, environment and HOME config; a
// harness that is not installed fails the claim naming the install command. The programs here are
// stand-in scripts at the installed paths (the real ones run in tests/e2e/).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HARNESS_PACKAGES, installHarness, isHarnessInstalled } from '../../scripts/harness-install.ts';
import { anthropicModelEnv, openaiBaseUrl, openaiModelEnv } from '../../sandbox-agent/harnesses/model-env.ts';
import type { AgentEvent } from '../../sandbox-agent/protocol.ts';
import { harnessEnviron, type RunningAgent, startAgent } from '../support/agent.ts';
import { TtyViewer } from './tty-client.ts';

/** Prints its arguments and chosen variables, then waits like a TUI would. */
const STAND_IN = `#!/bin/sh
printf 'ARGS %s\\n' "$*"
for v in ANTHROPIC_BASE_URL ANTHROPIC_API_KEY OPENAI_BASE_URL OPENAI_API_KEY CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC; do printf '%s=%s\\n' "$v" "$(printenv $v)"; done
exec sleep 600
`;
const CODEX_BINARY = process.arch === 'arm64'
  ? 'node_modules/@openai/codex-linux-arm64/vendor/aarch64-unknown-linux-musl/bin/codex'
  : 'node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex';

let agent: RunningAgent;
let harnessDir: string;

beforeAll(() => {
  harnessDir = mkdtempSync(join(tmpdir(), 'lap-harness-dir-'));
  for (const path of [join('claude-code', 'node_modules/.bin/claude'), join('codex', CODEX_BINARY)]) {
    const file = join(harnessDir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, STAND_IN);
    chmodSync(file, 0o755);
  }
});
afterAll(() => rmSync(harnessDir, { recursive: true, force: true }));
afterEach(async () => {
  await agent?.close();
});

async function claim(harness: string, env: Record<string, string>): Promise<{ status: number; json: Record<string, any> }> {
  const res = await agent.fetch('/v1/claim', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: 's1', harness, env }) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** The stand-in's output on the agent's terminal, as a viewer of the PTY sees it. */
async function terminalShows(text: string): Promise<void> {
  const viewer = await TtyViewer.connect(`${agent.url.replace('http', 'ws')}/v1/tty`, { headers: { authorization: `Bearer ${agent.token}` } });
  try {
    await viewer.waitFor(async () => (await viewer.screenLines()).join('\n').includes(text), JSON.stringify(text));
  } finally {
    await viewer.close();
  }
}

async function phases(): Promise<string[]> {
  const { events } = (await (await agent.fetch('/v1/events')).json()) as { events: AgentEvent[] };
  return events.filter((e) => e.type === 'phase').map((e) => `${e.data.phase}:${e.data.status}`);
}

describe('harness registry', () => {
  it('claude-code: runs claude from the harness dir, permission prompts off, onboarding and key approval pre-answered', async () => {
    agent = await startAgent();
    const stub = 'sk-ant-api03-StubStubStubStubStub0123456789';
    const { status, json } = await claim('claude-code', { LAP_HARNESS_DIR: harnessDir, ANTHROPIC_API_KEY: stub, LAP_MODEL: 'claude-test-1', DISABLE_ERROR_REPORTING: '0' });
    expect(status, JSON.stringify(json)).toBe(200);
    await terminalShows('ARGS --dangerously-skip-permissions --model claude-test-1');
    const env = await harnessEnviron(json.pid);
    expect(env).toMatchObject({ ANTHROPIC_API_KEY: stub, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1' });
    expect(env.DISABLE_ERROR_REPORTING).toBe('0'); // the claim's own value wins over the harness's default
    expect(env.ANTHROPIC_BASE_URL).toBeUndefined(); // no LiteLLM: the program's default host, which the vault intercepts

    const home = env.HOME!;
    const state = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8'));
    expect(state).toMatchObject({ hasCompletedOnboarding: true, bypassPermissionsModeAccepted: true, customApiKeyResponses: { approved: [stub.slice(-20)] } });
    expect(state.projects[agent.workspace]).toMatchObject({ hasTrustDialogAccepted: true });
    const settings = JSON.parse(readFileSync(join(home, '.claude', 'settings.json'), 'utf8'));
    expect(settings).toMatchObject({ permissions: { defaultMode: 'bypassPermissions' }, disableAutoMode: 'disable' });
    const started = await agent.fetch('/readyz');
    expect(await started.json()).toMatchObject({ harness: 'claude-code' });
  });

  it('codex: runs the native binary with approvals and its own sandbox off and a "lap" provider at the LiteLLM base', async () => {
    agent = await startAgent();
    const env = { LAP_HARNESS_DIR: harnessDir, LITELLM_API_BASE: 'https://llm.internal.example/', LITELLM_API_KEY: 'sk-litellm-stub0123456789', LAP_MODEL: 'gpt-test' };
    const { status, json } = await claim('codex', env);
    expect(status, JSON.stringify(json)).toBe(200);
    await terminalShows('ARGS --dangerously-bypass-approvals-and-sandbox --model gpt-test');
    const seen = await harnessEnviron(json.pid);
    expect(seen).toMatchObject({ OPENAI_BASE_URL: 'https://llm.internal.example/v1', OPENAI_API_KEY: 'sk-litellm-stub0123456789', CODEX_MANAGED_BY_NPM: '1' });
    const config = readFileSync(join(seen.HOME!, '.codex', 'config.toml'), 'utf8');
    expect(config).toContain('model_provider = "lap"');
    expect(config).toContain('base_url = "https://llm.internal.example/v1"');
    expect(config).toContain('env_key = "OPENAI_API_KEY"');
    expect(config).toContain('sandbox_mode = "danger-full-access"');
    expect(config).toContain(`[projects.${JSON.stringify(agent.workspace)}]\ntrust_level = "trusted"`);
  });

  it('a harness that is not installed fails the claim naming the install command, and the agent stays claimable', async () => {
    agent = await startAgent();
    const empty = mkdtempSync(join(tmpdir(), 'lap-no-harnesses-'));
    try {
      const { status, json } = await claim('claude-code', { LAP_HARNESS_DIR: empty });
      expect(status).toBe(400);
      expect(json.error.message).toBe(
        `harness: harness claude-code is not installed: run npm run harness:install -- claude-code (or lap harness install claude-code); ${empty}/claude-code/node_modules/.bin/claude is missing`,
      );
      expect(await phases()).toEqual([]);
      expect(existsSync(join(dirname(agent.workspace), 'home'))).toBe(false);
      expect((await claim('shell', {})).status).toBe(200);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('model environment', () => {
  it('maps a LiteLLM gateway to each provider variable, and leaves the defaults alone without one', () => {
    const litellm = { LITELLM_API_BASE: 'http://litellm:4000', LITELLM_API_KEY: 'sk-stub' };
    expect(anthropicModelEnv(litellm)).toEqual({ ANTHROPIC_BASE_URL: 'http://litellm:4000', ANTHROPIC_API_KEY: 'sk-stub' });
    expect(openaiModelEnv(litellm)).toEqual({ OPENAI_BASE_URL: 'http://litellm:4000/v1', OPENAI_API_KEY: 'sk-stub' });
    expect(anthropicModelEnv({ ANTHROPIC_API_KEY: 'sk-ant-x' })).toEqual({});
    expect(openaiBaseUrl({})).toBe('https://api.openai.com/v1');
    expect(openaiBaseUrl({ OPENAI_BASE_URL: 'https://proxy.example/v1', ...litellm })).toBe('https://proxy.example/v1');
  });
});

describe('harness install', () => {
  it('refuses an unknown harness by name and knows every installable one', async () => {
    await expect(installHarness('nope', harnessDir)).rejects.toThrow(/unknown harness "nope"; installable: claude-code, codex, opencode, claude-agent-sdk/);
    expect(Object.keys(HARNESS_PACKAGES).sort()).toEqual(['claude-agent-sdk', 'claude-code', 'codex', 'opencode']);
    expect(isHarnessInstalled('claude-code', harnessDir)).toBe(false); // a program alone is not the pinned package
  });
});

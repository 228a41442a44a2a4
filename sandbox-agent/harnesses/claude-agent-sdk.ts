// `claude-agent-sdk`: a message harness (DESIGN.md §6). A small runner
// (sandbox-agent/messages/claude-agent-sdk-runner.mjs), run by the agent's own Node inside the sandbox,
// imports the SDK from the harness directory and calls query() once per message, resuming the SDK
// session between turns; the agent drives it over loopback (messages/sdk-driver.ts). Permissions are
// bypassed (bypassPermissions): the sandbox is the boundary. The SDK runs Claude Code's native binary,
// which trusts the vault CA through NODE_EXTRA_CA_CERTS.
import { accessSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MessageHarness } from '../messages/driver.ts';
import { claudeAgentSdkDriver } from '../messages/sdk-driver.ts';
import { type HarnessCommand, HarnessConfigError } from './harness.ts';
import { harnessPrefix } from './installed.ts';
import { anthropicModelEnv } from './model-env.ts';
import { CLAUDE_QUIET_ENV } from './claude-code.ts';

const NAME = 'claude-agent-sdk';
/** Loopback inside the sandbox's own network namespace: no other sandbox shares it. */
export const SDK_RUNNER_PORT = 4097;

export const claudeAgentSdkHarness: MessageHarness = {
  name: NAME,
  environment: (claimEnv) => ({ ...CLAUDE_QUIET_ENV, ...anthropicModelEnv(claimEnv) }),
  command(env): HarnessCommand {
    const sdk = join(harnessPrefix(env, NAME), 'node_modules', '@anthropic-ai', 'claude-agent-sdk');
    try {
      accessSync(join(sdk, 'sdk.mjs'), constants.R_OK);
    } catch {
      throw new HarnessConfigError('harness', `harness ${NAME} is not installed: run npm run harness:install -- ${NAME} (or lap harness install ${NAME}); ${join(sdk, 'sdk.mjs')} is missing`);
    }
    return { file: process.execPath, args: [runnerPath(), '--port', String(SDK_RUNNER_PORT), '--sdk', sdk] };
  },
  messageDriver: () => claudeAgentSdkDriver(SDK_RUNNER_PORT),
};

/** The runner sits in sandbox-agent/messages/, a sibling of both the bundle's dist/ and this harnesses/. */
function runnerPath(): string {
  const here = typeof __dirname === 'string' ? __dirname : import.meta.dirname;
  return resolve(here, '..', 'messages', 'claude-agent-sdk-runner.mjs');
}

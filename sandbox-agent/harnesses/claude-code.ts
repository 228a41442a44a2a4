// `claude-code`: Anthropic's Claude Code TUI under the PTY (DESIGN.md §6). The sandbox is the security
// boundary (netns behind the vault, unprivileged uid, no capabilities), so Claude Code's own permission
// prompts are off: --dangerously-skip-permissions, with its one-time warning pre-accepted in HOME, as are
// onboarding, the theme picker, the workspace trust dialog and the "use this API key?" question.
// It is a Bun-built binary: it trusts the vault CA through NODE_EXTRA_CA_CERTS, set by the gateway.
import { join } from 'node:path';
import { type Harness, type HarnessCommand } from './harness.ts';
import { installedProgram } from './installed.ts';
import { mergeJsonFile } from './json-file.ts';
import { anthropicModelEnv } from './model-env.ts';

const NAME = 'claude-code';

/**
 * Nothing but model traffic leaves the sandbox: no telemetry, error reports, update checks or surveys.
 * The Agent SDK runs this same CLI underneath, so its harness uses these too.
 */
export const CLAUDE_QUIET_ENV = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  DISABLE_BUG_COMMAND: '1',
  CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
};

export const claudeCodeHarness: Harness = {
  name: NAME,
  environment: (claimEnv) => ({ ...CLAUDE_QUIET_ENV, ...anthropicModelEnv(claimEnv) }),
  command(env): HarnessCommand {
    const file = installedProgram(env, NAME, ['node_modules/.bin/claude']);
    const model = env.LAP_MODEL ? ['--model', env.LAP_MODEL] : [];
    return { file, args: ['--dangerously-skip-permissions', ...model] };
  },
  prepare(env, { home, workspace }) {
    const key = env.ANTHROPIC_API_KEY;
    mergeJsonFile(join(home, '.claude.json'), {
      hasCompletedOnboarding: true,
      theme: 'dark',
      autoUpdates: false,
      bypassPermissionsModeAccepted: true,
      // Claude Code asks once per key whether to use ANTHROPIC_API_KEY; it remembers the last 20 characters.
      ...(key ? { customApiKeyResponses: { approved: [key.slice(-20)], rejected: [] } } : {}),
      projects: { [workspace]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } },
    });
    mergeJsonFile(join(home, '.claude', 'settings.json'), {
      permissions: { defaultMode: 'bypassPermissions' },
      skipDangerousModePermissionPrompt: true,
      // Otherwise the first start offers to switch to auto mode, a dialog that would eat the first keystrokes.
      disableAutoMode: 'disable',
    });
  },
};

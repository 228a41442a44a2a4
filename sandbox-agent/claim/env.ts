// The harness's environment is built from nothing: a minimal base plus the claim's env. The agent's
// own environment (and so anything secret the agent might hold) never reaches a child.

export const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The claim may override PATH, LANG and the harness's defaults (its `environment()`: model URLs,
 * telemetry off); validation refuses HOME and TERM (see validate.ts).
 */
export function harnessEnvironment(claimEnv: Readonly<Record<string, string>>, home: string, harnessDefaults: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { PATH: BASE_PATH, LANG: 'C.UTF-8', ...harnessDefaults, ...claimEnv, HOME: home, TERM: 'xterm-256color' };
}

// What a harness is: the registry (index.ts) maps a claim's harness name to one of these.

export interface HarnessCommand {
  file: string;
  args: string[];
}

export interface Harness {
  readonly name: string;
  /**
   * Variables this harness sets by default (model base URLs, telemetry and update checks off, …),
   * given the claim's env. The claim's own variables win over these; HOME and TERM are the agent's.
   */
  environment?(claimEnv: Readonly<Record<string, string>>): Record<string, string>;
  /**
   * The program to run for this claim's environment (already the harness's whole environment).
   * Touches nothing. Throws HarnessConfigError when the environment cannot work (e.g. a SHELL that is
   * not executable, or a harness whose program is not installed).
   */
  command(env: Readonly<Record<string, string>>): HarnessCommand;
  /**
   * Writes the files the program needs before it starts (config in HOME: skip onboarding, trust the
   * workspace, a model provider). Runs in the claim's harness phase; a failed claim removes HOME.
   */
  prepare?(env: Readonly<Record<string, string>>, paths: { home: string; workspace: string }): void | Promise<void>;
}

/** A problem with the claim's configuration for this harness; `field` names the claim field at fault. */
export class HarnessConfigError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

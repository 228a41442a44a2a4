// What a harness is: the registry (index.ts) maps a claim's harness name to one of these.

export interface HarnessCommand {
  file: string;
  args: string[];
}

export interface Harness {
  readonly name: string;
  /**
   * The program to run for this claim's environment (already the harness's whole environment).
   * Throws HarnessConfigError when the environment cannot work (e.g. a SHELL that is not executable).
   */
  command(env: Readonly<Record<string, string>>): HarnessCommand;
}

/** A problem with the claim's configuration for this harness; `field` names the claim field at fault. */
export class HarnessConfigError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

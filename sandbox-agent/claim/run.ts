// A claim from start to a running harness, phase by phase, each reported as an event. A failed claim
// is undone (files, clone, home, helper removed) so the agent is warm and can be claimed again.
import type { EventLog } from '../events.ts';
import { findHarness, type Harness, HarnessConfigError } from '../harnesses/index.ts';
import type { ClaimRequest } from '../protocol.ts';
import type { AgentState } from '../state.ts';
import type { Terminal, TerminalLaunch } from '../tty/terminal.ts';
import { ClaimError } from './claim-error.ts';
import { harnessEnvironment } from './env.ts';
import { cloneRepository, installCredentialHelper } from './git.ts';
import { type ClaimPaths, claimPaths } from './paths.ts';
import { parseClaim } from './validate.ts';
import { type ClaimFootprint, placeFiles, prepareHome, startFootprint, undoClaim, willCreate } from './workspace.ts';

export type TerminalStarter = (launch: TerminalLaunch, events: EventLog) => Terminal | Promise<Terminal>;

export const DEFAULT_SIZE = { cols: 80, rows: 24 } as const;

export interface ClaimPlan {
  readonly claim: ClaimRequest;
  readonly paths: ClaimPaths;
  readonly launch: TerminalLaunch;
  /** The harness's own setup in HOME, run in the harness phase just before it starts. */
  readonly prepare?: Harness['prepare'];
}

/** Checks the claim and works out what to run, touching nothing; throws a 400 ClaimError. */
export function planClaim(body: unknown, state: AgentState): ClaimPlan {
  const paths = claimPaths(state.workspace);
  const claim = parseClaim(body, state.limits);
  const harness = findHarness(claim.harness);
  if (!harness) throw ClaimError.invalid([{ field: 'harness', message: `unknown harness ${claim.harness}` }]);
  try {
    const env = harnessEnvironment(claim.env, paths.home, harness.environment?.(claim.env));
    const { file, args } = harness.command(env);
    const launch = { harness: harness.name, file, args, env, cwd: paths.workspace, cols: claim.cols ?? DEFAULT_SIZE.cols, rows: claim.rows ?? DEFAULT_SIZE.rows };
    return { claim, paths, launch, prepare: harness.prepare?.bind(harness) };
  } catch (err) {
    if (err instanceof HarnessConfigError) throw ClaimError.invalid([{ field: err.field, message: err.message }]);
    throw err;
  }
}

/**
 * Phases, in order: workspace (home dir, git credential helper), clone (only with a repository),
 * files (only with files), harness. Returns the running terminal; on failure undoes the claim's
 * footprint and throws a ClaimError.
 */
export async function carryOutClaim(plan: ClaimPlan, events: EventLog, startTerminal: TerminalStarter): Promise<Terminal> {
  const { claim, paths, launch } = plan;
  const footprint = await phase(events, 'workspace', async () => {
    const fp = startFootprint(paths);
    try {
      prepareHome(fp);
      if (claim.gitCredentials?.length) await installHelper(fp, claim, launch.env);
      return fp;
    } catch (err) {
      undoClaim(fp);
      throw err;
    }
  });
  try {
    const repository = claim.workspace?.repository;
    if (repository !== undefined) {
      await phase(events, 'clone', () => cloneRepository({ url: repository, branch: claim.workspace?.branch, withHelper: Boolean(claim.gitCredentials?.length) }, paths, launch.env));
    }
    const files = claim.files ?? [];
    if (files.length > 0) await phase(events, 'files', () => placeFiles(paths.workspace, files));
    return await phase(events, 'harness', async () => {
      await plan.prepare?.(launch.env, { home: paths.home, workspace: paths.workspace });
      return startTerminal(launch, events);
    });
  } catch (err) {
    undoClaim(footprint);
    throw err;
  }
}

async function installHelper(footprint: ClaimFootprint, claim: ClaimRequest, env: Record<string, string>): Promise<void> {
  willCreate(footprint, footprint.paths.privateDir);
  await installCredentialHelper(footprint.paths, claim.gitCredentials ?? [], env);
}

async function phase<T>(events: EventLog, name: string, work: () => T | Promise<T>): Promise<T> {
  events.append('phase', { phase: name, status: 'started' });
  try {
    const result = await work();
    events.append('phase', { phase: name, status: 'done' });
    return result;
  } catch (err) {
    const failure = err instanceof ClaimError ? err : new ClaimError(500, `${name}_failed`, `${name}: ${(err as Error).message}`);
    events.append('phase', { phase: name, status: 'failed', detail: failure.message });
    throw failure;
  }
}

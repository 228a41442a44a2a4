import { type Reply, errorReply, json } from '../../vault/http/reply.ts';
import type { HttpRequest } from '../../vault/http/request.ts';
import { Router } from '../../vault/http/router.ts';
import { ClaimError } from '../claim/claim-error.ts';
import { carryOutClaim, planClaim } from '../claim/run.ts';
import { maxClaimBodyBytes } from '../claim/validate.ts';
import type { EventLog } from '../events.ts';
import type { AgentEventType, ClaimRequest } from '../protocol.ts';
import type { AgentState } from '../state.ts';
import type { Terminal, TerminalLaunch } from '../tty/terminal.ts';

/** Longer than the terminal's SIGHUP-then-SIGKILL grace, so a stubborn harness is restarted too. */
const RESTART_WAIT_MS = 5_000;

/** node-pty and the headless emulator load at the first claim: a warm agent does not carry them. */
async function startTerminal(launch: TerminalLaunch, events: EventLog): Promise<Terminal> {
  const terminal = await import('../tty/terminal.ts');
  return terminal.startTerminal(launch, events);
}

/**
 * POST /claim turns the warm agent into one session's agent (one claim per agent lifetime, unless it
 * fails: then the agent is warm again). POST /harness/restart starts the harness again.
 */
export function claimRoutes(state: AgentState): Router {
  /** The session whose claim is in progress: a concurrent second claim is refused like a later one. */
  let claiming: string | null = null;
  const holder = () => state.claim?.session ?? claiming;
  const maxBytes = maxClaimBodyBytes(state.limits);
  const tooLarge = `a claim body is at most ${maxBytes} bytes; upload larger files with the files API after the claim`;

  const claim = async (req: HttpRequest): Promise<Reply> => {
    if (holder()) return alreadyClaimed(holder());
    const plan = planClaim(await readJson(req, maxBytes, tooLarge), state);
    if (holder()) return alreadyClaimed(holder());
    claiming = plan.claim.session;
    try {
      const terminal = await carryOutClaim(plan, state.events, startTerminal);
      state.claim = withoutFileContents(plan.claim);
      state.terminal = terminal;
      return json({ session: plan.claim.session, harness: terminal.harness, pid: terminal.pid, workspace: plan.paths.workspace, home: plan.paths.home });
    } finally {
      claiming = null;
    }
  };

  const restartHarness = async (): Promise<Reply> => {
    const terminal = state.terminal;
    if (!state.claim || !terminal) return errorReply(409, 'not_claimed', 'warm: there is no harness until a claim arrives');
    const started = nextEvent(state.events, 'harness.started', RESTART_WAIT_MS);
    terminal.restart();
    // 202 if the old program has not let go yet: the harness.started event will say when it has.
    const status = (await started) ? 200 : 202;
    return json({ harness: terminal.harness, pid: terminal.pid, running: terminal.running }, status);
  };
  return new Router().post('/claim', claim).post('/harness/restart', restartHarness);
}

/** Resolves true when an event of the type is appended within the time, false otherwise. */
function nextEvent(events: EventLog, type: AgentEventType, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (seen: boolean) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(seen);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const unsubscribe = events.subscribe((e) => e.type === type && finish(true));
  });
}

async function readJson(req: HttpRequest, maxBytes: number, tooLarge: string): Promise<unknown> {
  const text = await req.text(maxBytes, tooLarge);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw ClaimError.invalid([{ field: 'body', message: `is not valid JSON: ${(err as Error).message}` }]);
  }
}

function alreadyClaimed(session: string | null): Reply {
  return errorReply(409, 'already_claimed', `already claimed by session ${session}`);
}

/** The agent keeps the claim for /readyz and the routes; file contents can be large and are in the workspace already. */
function withoutFileContents(claim: ClaimRequest): ClaimRequest {
  const { files, ...rest } = claim;
  return files ? { ...rest, files: files.map((f) => ({ ...f, content: '' })) } : rest;
}

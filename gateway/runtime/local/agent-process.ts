// The sandbox agent: inside the netns, in fresh PID, mount and IPC namespaces, as the sandbox user with
// no capabilities, detached from the gateway. The mount namespace recipe is in mount-namespace.ts.
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AGENT_ENV, agentNodeArgs } from '../../../sandbox-agent/build.ts';
import { REPO_ROOT } from '../../../vault/host/access.ts';
import { nodeBinary } from '../../../vault/host/node-binary.ts';
import type { CreateContext } from './create.ts';
import { type DetachedProcess, logIncludes, logTail, spawnDetached } from './detached.ts';
import type { SandboxLayout } from './layout.ts';
import { type MountPlan, sandboxInitScript, stageMountPoints } from './mount-namespace.ts';
import { SANDBOX_PATH } from './privileges.ts';
import { descendantsWhere, processRef, type ProcessRef } from './proc.ts';
import { awaitHealthy, pollUntil } from './wait.ts';

export interface StartedAgent {
  process: DetachedProcess;
  /** Node and its arguments up to the agent's own flags: how the agent's process is recognised. */
  command: string[];
  url: string;
  token: string;
}


export function startAgent(layout: SandboxLayout, netns: string, sandboxAddress: string, ctx: CreateContext): StartedAgent {
  const { cfg, sandboxUser: user } = ctx;
  const token = randomBytes(32).toString('hex');
  writeFileSync(layout.agentToken, token, { mode: 0o600 });
  chownSync(layout.agentToken, user.uid, user.gid);
  const command = [nodeBinary(), ...agentNodeArgs()];
  const plan: MountPlan = {
    dataDir: cfg.dataDir,
    sandboxDir: layout.dir,
    stageDir: layout.stageDir,
    box: layout.box,
    resolvConf: layout.resolvConf,
    keep: [REPO_ROOT, dirname(command[0]!)],
    readOnly: [ctx.harnessDir],
    user,
  };
  for (const stage of stageMountPoints(plan)) mkdirSync(stage, { recursive: true, mode: 0o700 });
  const agentArgv = [...command, '--listen', `${sandboxAddress}:${cfg.agentPort}`, '--token-file', layout.agentToken, '--workspace', layout.workspace];
  const launcher = ['nsenter', `--net=/run/netns/${netns}`, '--',
    'unshare', '--pid', '--fork', '--kill-child=SIGKILL', '--mount-proc', '--ipc', '--propagation', 'private', '--',
    '/bin/sh', '-c', sandboxInitScript(plan), 'lap-sandbox-setup', ...agentArgv];
  const launched = spawnDetached(launcher, { logFile: layout.agentLog, cwd: '/', env: { ...AGENT_ENV, PATH: SANDBOX_PATH, HOME: layout.box, LANG: 'C.UTF-8' } });
  return { process: launched, command, url: `http://${sandboxAddress}:${cfg.agentPort}`, token };
}

/** Waits for the "agent ready" line, then GET /healthz with the token; returns the agent's host pid. */
export async function awaitAgent(layout: SandboxLayout, agent: StartedAgent, timeoutMs: number): Promise<ProcessRef> {
  await pollUntil('the agent did not start', () => (logIncludes(layout.agentLog, '"msg":"agent ready"') ? true : undefined), {
    timeoutMs,
    failed: () => {
      const ended = agent.process.ended();
      return ended && `${ended}; its log ends:\n${logTail(layout.agentLog)}`;
    },
  });
  await awaitHealthy("the agent's GET /healthz", `${agent.url}/healthz`, { authorization: `Bearer ${agent.token}` }, timeoutMs);
  return agentProcess(agent);
}

function agentProcess(agent: StartedAgent): ProcessRef {
  const launcher = agent.process.child.pid ?? -1;
  const prefix = `${agent.command.join(' ')} `;
  const [pid] = descendantsWhere(launcher, (commandLine) => commandLine.startsWith(prefix));
  const ref = pid === undefined ? undefined : processRef(pid);
  if (!ref) throw new Error(`the agent answers, but no agent process was found under the launcher ${launcher}`);
  return ref;
}

/**
 * Undo steps for one sandbox, run newest first. They are synchronous so that the same steps can run
 * from process.on('exit') or a fatal signal when a process ends without calling close().
 */
export class CleanupStack {
  #steps: Array<{ what: string; undo: () => void }> = [];

  constructor() {
    openStacks.add(this);
    installExitHook();
  }

  push(what: string, undo: () => void): void {
    this.#steps.push({ what, undo });
  }

  /** Runs every step even if some fail; throws one error naming each failed step. Idempotent. */
  run(): void {
    openStacks.delete(this);
    const failures: string[] = [];
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        step.undo();
      } catch (err) {
        failures.push(`${step.what}: ${(err as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(`test sandbox cleanup left things behind:\n${failures.join('\n')}`);
  }
}

const openStacks = new Set<CleanupStack>();
let exitHookInstalled = false;

const FATAL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', runOpenStacks);
  for (const signal of FATAL_SIGNALS) process.on(signal, cleanUpThenDie);
}

function runOpenStacks(): void {
  for (const stack of openStacks) {
    try {
      stack.run();
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
    }
  }
}

/** Ctrl-C on the demo must not leave a netns behind; then the signal does what it would have done. */
function cleanUpThenDie(signal: NodeJS.Signals): void {
  runOpenStacks();
  for (const s of FATAL_SIGNALS) process.off(s, cleanUpThenDie);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

import { type ChildProcess, spawn } from 'node:child_process';
import type { ExecFrame } from './protocol.ts';

export interface ExecSpec {
  argv: string[];
  /** The child's whole environment. */
  env: Record<string, string>;
  /** Absolute, already checked to be inside the workspace. */
  cwd: string;
  stdin: Buffer | null;
  timeoutMs: number;
}

/** How long a process group gets between SIGTERM and SIGKILL (timeout or client gone). */
export const TERMINATE_GRACE_MS = 2_000;
/** Frames queued for a slow client before the child's output is paused. */
const QUEUED_FRAMES = 16;
const encoder = new TextEncoder();

/**
 * Runs a command in its own process group and returns its output as NDJSON ExecFrames, each chunk as
 * it arrives, the exit frame last. The stream ends when the leader has exited and its stdout and
 * stderr are closed; whatever is then left in the group is killed, so an exec leaves nothing behind.
 * A timeout or a cancelled stream (the client went away) terminates the whole group.
 */
export function execFrames(spec: ExecSpec): ReadableStream<Uint8Array> {
  let run: ExecRun | undefined;
  return new ReadableStream<Uint8Array>(
    {
      start: (controller) => {
        run = new ExecRun(spec, controller);
      },
      pull: () => run?.resumeOutput(),
      cancel: () => run?.abandon(),
    },
    { highWaterMark: QUEUED_FRAMES },
  );
}

class ExecRun {
  readonly #controller: ReadableStreamDefaultController<Uint8Array>;
  readonly #child: ChildProcess;
  readonly #timeout: NodeJS.Timeout;
  #killTimer: NodeJS.Timeout | undefined;
  #timedOut = false;
  #finished = false;
  /** The client is gone: nothing more is sent, the group is terminated. */
  #abandoned = false;

  constructor(spec: ExecSpec, controller: ReadableStreamDefaultController<Uint8Array>) {
    this.#controller = controller;
    const [file, ...args] = spec.argv as [string, ...string[]];
    this.#child = spawn(file, args, { env: spec.env, cwd: spec.cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#timeout = setTimeout(() => {
      this.#timedOut = true;
      this.terminate();
    }, spec.timeoutMs);
    this.#child.on('error', (err: NodeJS.ErrnoException) => this.#spawnFailed(file, err));
    this.#child.once('close', (code, signal) => this.#finish(code, signal));
    this.#child.stdout?.on('data', (chunk: Buffer) => this.#send({ type: 'stdout', data: chunk.toString('base64') }));
    this.#child.stderr?.on('data', (chunk: Buffer) => this.#send({ type: 'stderr', data: chunk.toString('base64') }));
    // A command that does not read its stdin closes the pipe: EPIPE here is not an error of the exec.
    this.#child.stdin?.on('error', () => {});
    this.#child.stdin?.end(spec.stdin ?? undefined);
  }

  /** SIGTERM to the group now, SIGKILL after the grace period. */
  terminate(): void {
    if (this.#finished || this.#killTimer) return;
    this.#signalGroup('SIGTERM');
    this.#killTimer = setTimeout(() => this.#signalGroup('SIGKILL'), TERMINATE_GRACE_MS);
  }

  abandon(): void {
    this.#abandoned = true;
    this.resumeOutput();
    this.terminate();
  }

  resumeOutput(): void {
    this.#child.stdout?.resume();
    this.#child.stderr?.resume();
  }

  #send(frame: ExecFrame): void {
    if (this.#finished || this.#abandoned) return;
    this.#controller.enqueue(encoder.encode(`${JSON.stringify(frame)}\n`));
    if ((this.#controller.desiredSize ?? 1) <= 0) {
      this.#child.stdout?.pause();
      this.#child.stderr?.pause();
    }
  }

  /** Shell conventions: 127 when the program is not found, 126 when it cannot be executed. */
  #spawnFailed(file: string, err: NodeJS.ErrnoException): void {
    if (this.#child.pid !== undefined) return;
    const notFound = err.code === 'ENOENT';
    const message = notFound ? 'command not found' : `cannot execute (${err.code ?? err.message})`;
    this.#send({ type: 'stderr', data: Buffer.from(`lap-agent: ${file}: ${message}\n`).toString('base64') });
    this.#finish(notFound ? 127 : 126, null);
  }

  #finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#finished) return;
    this.#send({ type: 'exit', code, signal, timedOut: this.#timedOut });
    this.#finished = true;
    clearTimeout(this.#timeout);
    clearTimeout(this.#killTimer);
    this.#signalGroup('SIGKILL');
    if (!this.#abandoned) this.#controller.close();
  }

  #signalGroup(signal: NodeJS.Signals): void {
    if (this.#child.pid === undefined) return;
    try {
      process.kill(-this.#child.pid, signal);
    } catch {
      // ESRCH: the group is already empty.
    }
  }
}

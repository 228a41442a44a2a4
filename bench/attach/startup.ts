// Start-up time of short commands (`lap --help`, `node -e 0`, `ssh -V`): spawn to exit, one at a time.
import { spawn } from 'node:child_process';
import { percentiles, type Percentiles } from '../sessions/measure.ts';
import type { ClientCommand } from './clients.ts';

const RUN_LIMIT_MS = 10_000;

/**
 * p50/p99 of each command over `runs` runs, taking the commands in turn so a busy moment on the machine
 * hits all of them; one unrecorded run of each first warms the page cache.
 */
export async function startupTimes(commands: readonly ClientCommand[], runs: number): Promise<Percentiles[]> {
  for (const command of commands) await timeOneRun(command);
  const samples: number[][] = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [c, command] of commands.entries()) samples[c]!.push(await timeOneRun(command));
  }
  return samples.map(percentiles);
}

function timeOneRun({ file, args, env }: ClientCommand): Promise<number> {
  const what = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} still running after ${RUN_LIMIT_MS / 1000} s`));
    }, RUN_LIMIT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      const elapsed = performance.now() - start;
      clearTimeout(timer);
      if (code === 0) resolve(elapsed);
      else reject(new Error(`${what} exited (${signal ?? `code ${code}`}): ${stderr.trim().slice(0, 500)}`));
    });
  });
}

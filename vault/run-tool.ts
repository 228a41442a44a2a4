import { spawn, spawnSync } from 'node:child_process';

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a system tool (ip, iptables-restore, useradd…) to completion, feeding `input` on stdin. */
export function runTool(argv: readonly string[], input = ''): Promise<ToolResult> {
  const [command, ...args] = argv;
  if (!command) return Promise.reject(new Error('runTool: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A tool that exits without reading stdin must not turn into an unhandled EPIPE.
    child.stdin.on('error', () => {});
    child.on('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'ENOENT' ? ` (is ${command} installed and on PATH?)` : '';
      reject(new Error(`cannot run ${command}: ${err.message}${hint}`));
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Like runTool, but a non-zero exit becomes an error carrying the tool's stderr. */
export async function runToolOrThrow(argv: readonly string[], input = ''): Promise<string> {
  const result = await runTool(argv, input);
  if (result.code !== 0) {
    const detail = result.stderr.trim() || result.stdout.trim() || '(no output)';
    throw new Error(`${argv.join(' ')} failed with exit code ${result.code}: ${detail}`);
  }
  return result.stdout;
}

/** Synchronous variant for cleanup paths that must also work from process.on('exit'). */
export function runToolSync(argv: readonly string[]): ToolResult {
  const [command, ...args] = argv;
  if (!command) throw new Error('runToolSync: empty argv');
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) throw new Error(`cannot run ${command}: ${result.error.message}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

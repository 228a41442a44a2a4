// The text file the benches `cat` to a terminal: lines of varied length, like a log or source file.
// Written once per size under /tmp and reused by later runs (bench/pty, bench/attach).
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIR = join(tmpdir(), 'lap-bench-pty');

/** The path of a `megabytes` × 1 000 000-byte text file, generated if it is missing or the wrong size. */
export function ensureBigFile(megabytes: number): string {
  const path = join(DIR, `cat-${megabytes}MB.txt`);
  if (existsSync(path) && statSync(path).size === megabytes * 1_000_000) return path;
  mkdirSync(DIR, { recursive: true });
  const words = 'const terminal = await startTerminal(launch, events); // the screen mirror keeps every byte'.split(' ');
  let text = '';
  for (let i = 0; text.length < 1_000_000; i++) text += `${String(i).padStart(6, '0')} ${words.slice(0, 3 + ((i * 7) % words.length)).join(' ')}\n`;
  const block = Buffer.from(text.slice(0, 1_000_000));
  const fd = openSync(path, 'w');
  for (let i = 0; i < megabytes; i++) writeSync(fd, block);
  closeSync(fd);
  return path;
}

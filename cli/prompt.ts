// Questions on the terminal: a line, a hidden line (API keys, secret values), a numbered choice; and
// reading all of stdin when it is a pipe. The terminal's mode is always put back.
import { CliError, EXIT } from './errors.ts';

const interrupted = () => new CliError('interrupted', { exitCode: 130 });

/** One line from the terminal; with `hidden` nothing is echoed (backspace still works). */
export function ask(question: string, opts: { hidden?: boolean } = {}): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) return Promise.reject(new CliError(`${question.trim()} needs a terminal`, { hint: 'pass the value with a flag or on stdin', exitCode: EXIT.usage }));
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  return new Promise<string>((resolve, reject) => {
    let line = '';
    const finish = (result: () => void) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      result();
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(() => resolve(line));
        if (char === '\u0003' || char === '\u0004') return finish(() => reject(interrupted()));
        if (char === '\u007f' || char === '\b') {
          if (line.length > 0 && !opts.hidden) process.stderr.write('\b \b');
          line = line.slice(0, -1);
        } else if (char >= ' ') {
          line += char;
          if (!opts.hidden) process.stderr.write(char);
        }
      }
    };
    input.on('data', onData);
  });
}

/** Everything on stdin (a pipe or a file); more than `maxBytes` is a usage error. */
export async function readStdin(maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new CliError(`stdin is larger than ${maxBytes} bytes`, { exitCode: EXIT.usage });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A numbered list on stderr; the answer is the chosen item. Asks again on a bad number. */
export async function choose<T>(title: string, items: T[], label: (item: T) => string): Promise<T> {
  process.stderr.write(`${title}\n${items.map((item, i) => `  ${String(i + 1).padStart(2)}) ${label(item)}`).join('\n')}\n`);
  for (;;) {
    const answer = Number((await ask(`number [1-${items.length}]: `)).trim());
    if (Number.isInteger(answer) && answer >= 1 && answer <= items.length) return items[answer - 1]!;
    process.stderr.write(`lap: type a number from 1 to ${items.length}\n`);
  }
}

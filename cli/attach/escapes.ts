// ssh's escape sequences on the keyboard stream: `~` right after Enter (or first thing) starts one.
// `~.` detaches, `~?` lists the escapes, `~~` sends one `~`; `~` and anything else sends both.
// Everything that is not an escape passes through unchanged, so Ctrl-D and Ctrl-C reach the program.

export type EscapeAction = 'detach' | 'help';

export const ESCAPE_HELP = [
  'Supported escape sequences (after Enter):',
  ' ~.  detach: leave the session running and exit lap',
  ' ~?  this list',
  ' ~~  send one ~',
].join('\r\n');

const TILDE = 0x7e;
const isLineEnd = (byte: number) => byte === 0x0d || byte === 0x0a;

export class EscapeReader {
  #atLineStart = true;
  #heldTilde = false;

  /** The bytes to send on, and the escapes typed; after 'detach' the rest of the input is dropped. */
  read(input: Uint8Array): { data: Buffer; actions: EscapeAction[] } {
    const out: number[] = [];
    const actions: EscapeAction[] = [];
    for (const byte of input) {
      if (this.#heldTilde) {
        this.#heldTilde = false;
        const action = byte === 0x2e ? 'detach' : byte === 0x3f ? 'help' : undefined;
        if (action) {
          actions.push(action);
          if (action === 'detach') break;
          continue;
        }
        out.push(TILDE);
        if (byte === TILDE) {
          this.#atLineStart = false;
          continue;
        }
      } else if (byte === TILDE && this.#atLineStart) {
        this.#heldTilde = true;
        continue;
      }
      out.push(byte);
      this.#atLineStart = isLineEnd(byte);
    }
    return { data: Buffer.from(out), actions };
  }
}

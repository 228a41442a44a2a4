// The ~ escapes of `lap attach` byte by byte, including across separate reads (a person types one key
// per read; a paste arrives in one): only a ~ right after Enter or at the very start is special.
import { describe, expect, it } from 'vitest';
import { EscapeReader } from '../../cli/attach/escapes.ts';

const feed = (reader: EscapeReader, ...reads: string[]) => {
  const out = reads.map((r) => reader.read(Buffer.from(r)));
  return { sent: out.map((o) => o.data.toString()).join(''), actions: out.flatMap((o) => o.actions) };
};

describe('EscapeReader', () => {
  it('detaches on ~. at the start and after Enter, dropping what follows', () => {
    expect(feed(new EscapeReader(), '~.')).toEqual({ sent: '', actions: ['detach'] });
    expect(feed(new EscapeReader(), 'ls\r~.rest')).toEqual({ sent: 'ls\r', actions: ['detach'] });
    expect(feed(new EscapeReader(), 'ls\n', '~', '.')).toEqual({ sent: 'ls\n', actions: ['detach'] });
  });

  it('lists escapes on ~? and keeps going', () => {
    expect(feed(new EscapeReader(), '~?ls\r')).toEqual({ sent: 'ls\r', actions: ['help'] });
  });

  it('passes a ~ in the middle of a line, ~~ as one ~, and ~ with another key as both', () => {
    expect(feed(new EscapeReader(), 'cd ~.')).toEqual({ sent: 'cd ~.', actions: [] });
    expect(feed(new EscapeReader(), '~~.')).toEqual({ sent: '~.', actions: [] });
    expect(feed(new EscapeReader(), '~/bin\r')).toEqual({ sent: '~/bin\r', actions: [] });
    expect(feed(new EscapeReader(), 'x\r', '~', 'x')).toEqual({ sent: 'x\r~x', actions: [] });
  });

  it('lets Ctrl-D and Ctrl-C through untouched', () => {
    expect(feed(new EscapeReader(), '\x04', '\x03')).toEqual({ sent: '\x04\x03', actions: [] });
  });
});

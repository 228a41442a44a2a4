// The screen mirror (sandbox-agent/tty/screen.ts) leaves unparsed the bulk output that scrolls away
// unseen (scrolled-away.ts). That is only allowed if no snapshot can tell: these tests feed random
// streams — text, UTF-8 split anywhere, escape sequences split anywhere, scroll regions, the
// alternate screen, C1 controls, resizes — to a mirror that skips and to one that parses every byte,
// and require byte-identical snapshots.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainLength, scrolledAwayPrefix } from '../../sandbox-agent/tty/scrolled-away.ts';
import { ScreenMirror } from '../../sandbox-agent/tty/screen.ts';

const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));
const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

describe('plainLength', () => {
  it('accepts printable ASCII, TAB, CR, LF and printable UTF-8', () => {
    const text = utf8('abc\tdé 漢字 😀 x\u0301\r\n');
    expect(plainLength(text)).toBe(text.length);
  });

  it('stops at escapes, other C0 controls, DEL and C1 controls in UTF-8', () => {
    expect(plainLength(bytes('ab\x1b[31m'))).toBe(2);
    for (const control of ['\x08', '\x07', '\x0b', '\x0c', '\x0e', '\x7f']) expect(plainLength(bytes(`ab${control}`))).toBe(2);
    expect(plainLength(utf8('ab\u009bcd'))).toBe(2); // CSI as a C1 control
    expect(plainLength(utf8('ab\u00a0cd'))).toBe(6); // NBSP, the first printable one
  });

  it('stops at ill-formed UTF-8: overlong, surrogates, stray continuations, a sequence cut off at the end', () => {
    for (const bad of ['\xc0\xbb', '\xe0\x82\x9b', '\xf0\x80\x80\xa0', '\xed\xa0\x80', '\x9b', '\xf5\x80\x80\x80', '\xe6\xbc']) {
      expect(plainLength(bytes(`ab${bad}`))).toBe(2);
    }
  });
});

describe('scrolledAwayPrefix', () => {
  it('cuts right after the last CR LF that still has enough line feeds after it', () => {
    const text = bytes('a\r\nb\r\nc\r\nd\r\ne\r\n');
    expect(scrolledAwayPrefix(text, 2)).toBe('a\r\nb\r\nc\r\n'.length);
    expect(scrolledAwayPrefix(text, 4)).toBe('a\r\n'.length);
    expect(scrolledAwayPrefix(text, 5)).toBe(0);
  });

  it('counts only the plain stretch, and cuts only after CR LF', () => {
    expect(scrolledAwayPrefix(bytes('a\r\nb\r\nc\r\n\x1b[Hd\r\ne\r\n'), 2)).toBe('a\r\n'.length);
    expect(scrolledAwayPrefix(bytes('a\nb\nc\nd\n'), 1)).toBe(0);
  });
});

/** Both mirrors get exactly the same calls; only one leaves scrolled-away output unparsed. */
function mirrors(cols: number, rows: number, scrollback: number) {
  const skipping = new ScreenMirror(cols, rows, () => {}, { scrollback });
  const parsing = new ScreenMirror(cols, rows, () => {}, { scrollback, skipScrolledAway: false });
  return { skipping, parsing, both: (act: (mirror: ScreenMirror) => void) => [skipping, parsing].forEach(act) };
}

const snapshot = (mirror: ScreenMirror) => new Promise<Buffer>((resolve) => mirror.snapshotWhenParsed((s) => resolve(s)));

const plainLines = fc
  .array(fc.stringMatching(/^[a-z 0-9é漢😀\t]{0,30}$/), { minLength: 1, maxLength: 40 })
  .chain((lines) => fc.constantFrom('\r\n', '\n', '\r').map((end) => lines.join(end) + end));
const escapes = fc.constantFrom(
  '\x1b[31m', '\x1b[1;44m', '\x1b[0m', '\x1b[H', '\x1b[2;3H', '\x1b[A', '\x1b[5B', '\x1b[2J', '\x1b[K', '\x1b[2;4r', '\x1b[r',
  '\x1b[?1049h', '\x1b[?1049l', '\x1b[20h', '\x1b[20l', '\x1b[?7l', '\x1b[?7h', '\x1b[4h', '\x1b[4l', '\x1bH', '\x1b[3g',
  '\x1b7', '\x1b8', '\x1b[3b', '\u009b2J', '\b', '\x0b', '\x0c', '\x1bD', '\x1bM', '\x1b]0;title\x07', '\x1b[?6h', '\x1b[?6l',
);
const stream = fc.array(fc.oneof({ arbitrary: plainLines, weight: 3 }, { arbitrary: escapes, weight: 2 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 }), { maxLength: 30 });
/**
 * Where the byte stream is cut into chunks; after some cuts the test waits until both mirrors have
 * parsed everything (so the next chunk starts a new batch there: mid-line, mid-escape, mid-character),
 * and some cuts resize.
 */
const cuts = fc.array(
  fc.record({
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    settle: fc.boolean(),
    resize: fc.option(fc.record({ cols: fc.integer({ min: 5, max: 30 }), rows: fc.integer({ min: 2, max: 6 }) }), { freq: 4 }),
  }),
  { maxLength: 12 },
);

describe('ScreenMirror leaving scrolled-away output unparsed', () => {
  it('gives snapshots identical to parsing every byte, for any stream, any chunking, any resizes', async () => {
    let skippedInSomeRun = false;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 5, max: 30 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 6 }), stream, cuts, async (cols, rows, scrollback, parts, splits) => {
        const data = Buffer.from(parts.join(''), 'utf8');
        const { skipping, parsing, both } = mirrors(cols, rows, scrollback);
        let from = 0;
        for (const { at, settle, resize } of [...splits].sort((a, b) => a.at - b.at)) {
          const to = Math.floor(at * data.length);
          both((m) => m.write(data.subarray(from, to)));
          from = to;
          if (settle) await Promise.all([skipping.visibleText(), parsing.visibleText()]);
          if (resize) both((m) => m.resize(resize.cols, resize.rows));
        }
        both((m) => m.write(data.subarray(from)));
        const [skipped, parsed] = await Promise.all([snapshot(skipping), snapshot(parsing)]);
        expect(skipped.toString('utf8')).toBe(parsed.toString('utf8'));
        skippedInSomeRun ||= skipping.skippedBytes > 0;
        both((m) => m.dispose());
      }),
      { numRuns: 1000 },
    );
    // The property is only worth something if the skipping path ran.
    expect(skippedInSomeRun).toBe(true);
  });

  // Each case ends the first batch in a state where skipping the next one's plain prefix would change
  // the screen, then sends a batch whose plain stretch is long enough to be skipped.
  const lines = (count: number, end: string) => Array.from({ length: count }, (_, i) => `l${i}`).join(end) + end;
  it.each([
    ['a scroll region with the cursor above it', '\x1b[3;5r', `TOP\r\n${lines(60, '\r\n')}`],
    ['the alternate screen', '\x1b[?1049hALT', `\r\n${lines(60, '\r\n')}`],
    ['a CSI cut in two', 'a\x1b[', `31mRED\r\n${lines(60, '\r\n')}`],
    ['an OSC cut in two', 'a\x1b]0;ti', `tle\r\n${lines(60, '\r\n')}`],
    ['a UTF-8 character cut in two', 'a\xf0\x9f', `\x98\x80\r\n${lines(60, '\r\n')}`],
    ['the cursor mid-line, then lines ended by LF alone', 'abc', `X\r\n${lines(60, '\n')}`],
    ['a C1 CSI in UTF-8', 'a', `\u009b2J\r\n${lines(60, '\r\n')}`],
    ['the cursor at the top of a full screen', `${'#'.repeat(19)}\r\n`.repeat(8) + '\x1b[H', lines(30, '\r\n')],
  ])('matches parsing every byte after %s', async (_, first, second) => {
    const { skipping, parsing, both } = mirrors(20, 8, 5);
    both((m) => m.write(Buffer.from(first, first.includes('\xf0') ? 'latin1' : 'utf8')));
    await Promise.all([skipping.visibleText(), parsing.visibleText()]);
    both((m) => m.write(Buffer.from(second, 'utf8')));
    const [skipped, parsed] = await Promise.all([snapshot(skipping), snapshot(parsing)]);
    expect(skipped.toString('utf8')).toBe(parsed.toString('utf8'));
  });

  it('skips most of a large plain output and still shows its last lines and scrollback', async () => {
    const { skipping, parsing, both } = mirrors(80, 24, 1000);
    both((m) => m.write(Buffer.from('start\r\n')));
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 70)}\r\n`).join('');
    for (let i = 0; i < lines.length; i += 4096) both((m) => m.write(Buffer.from(lines.slice(i, i + 4096))));
    const [skipped, parsed] = await Promise.all([snapshot(skipping), snapshot(parsing)]);
    expect(skipped.equals(parsed)).toBe(true);
    expect(skipping.skippedBytes).toBeGreaterThan(lines.length * 0.8);
    expect((await skipping.visibleText()).at(-2)).toMatch(/^line 49999 x+$/);
  });
});

// Bulk output (a large `cat`, `yes`, a log) reaches the screen mirror faster than xterm.js parses it
// (~68 MB/s on one core), and parsing every byte was what capped the terminal's throughput. Most of
// such output scrolls off the top of the scrollback before anyone could see it. This finds the part
// of a batch that provably cannot change the final screen: plain text followed by enough line feeds
// to push every line it touched out of the buffer. The mirror then parses only the rest.
//
// Why it is exact. "Plain" means printable characters (well-formed UTF-8 from U+00A0 up, so no C1
// controls), TAB, CR and LF: no escape sequence, so it cannot change attributes, modes, tab stops,
// the scroll region or the buffer, and cannot move the cursor up. The prefix is cut right after a
// CR LF, where the cursor column is 0 and no wrap is pending; the mirror feeds a CR in its place. In
// the normal buffer with a full-screen scroll region, the plain text that follows, with at least
// scrollback + 2 × rows line feeds, moves the cursor to the bottom row (at most rows − 1 feeds) and
// then scrolls at least scrollback + rows + 1 times: every line that existed when it started, and
// every cell the prefix wrote, leaves the buffer. What the buffer holds afterwards was written by
// that text alone, from column 0, with the same attributes, so it is the same with or without the
// prefix. tests/sandbox-agent/screen.test.ts compares snapshots with and without this, on random
// streams of text, escape sequences, split UTF-8 and resizes.

const LF = 0x0a;
const CR = 0x0d;

/**
 * The length of the leading part of `bytes` that can be left unparsed (0 if none): it ends right
 * after a CR LF, everything before the first non-plain byte is plain, and at least `lineFeedsAfter`
 * line feeds follow the cut inside that plain stretch. The caller checks the emulator's state.
 */
export function scrolledAwayPrefix(bytes: Uint8Array, lineFeedsAfter: number): number {
  if (bytes.length <= lineFeedsAfter) return 0; // too short to hold the line feeds: not worth a scan
  const plain = Buffer.from(bytes.buffer, bytes.byteOffset, plainLength(bytes));
  let feedsAfter = 0;
  for (let i = plain.lastIndexOf(LF); i >= 1; i = plain.lastIndexOf(LF, i - 1)) {
    if (feedsAfter >= lineFeedsAfter && plain[i - 1] === CR) return i + 1;
    feedsAfter++;
  }
  return 0;
}

/** Any byte that is not printable ASCII, TAB, LF or CR. A regular expression over the bytes as Latin-1 finds it ~10× faster than a loop. */
const NOT_PLAIN_ASCII = /[^\x20-\x7e\t\n\r]/g;

/** How many leading bytes are plain: printable ASCII, TAB, CR, LF and well-formed UTF-8 ≥ U+00A0. */
export function plainLength(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  let i = 0;
  for (;;) {
    NOT_PLAIN_ASCII.lastIndex = i;
    const found = NOT_PLAIN_ASCII.exec(text);
    if (!found) return bytes.length;
    i = found.index;
    const length = bytes[i]! >= 0xc2 && bytes[i]! <= 0xf4 ? utf8SequenceLength(bytes, i) : 0;
    if (length === 0) return i;
    i += length;
  }
}

/**
 * The length of the well-formed UTF-8 sequence at `start` if it encodes a printable code point
 * (U+00A0 or above, not a surrogate, shortest form), else 0. A sequence cut off by the end of the
 * bytes is 0 too: the plain stretch ends before it.
 */
function utf8SequenceLength(bytes: Uint8Array, start: number): number {
  const lead = bytes[start]!;
  const length = lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
  if (start + length > bytes.length) return 0;
  let codePoint = lead & (length === 2 ? 0x1f : length === 3 ? 0x0f : 0x07);
  for (let k = 1; k < length; k++) {
    const next = bytes[start + k]!;
    if ((next & 0xc0) !== 0x80) return 0;
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  const shortest = length === 2 ? codePoint >= 0xa0 : length === 3 ? codePoint >= 0x800 : codePoint >= 0x10000;
  const valid = codePoint <= 0x10ffff && !(codePoint >= 0xd800 && codePoint <= 0xdfff);
  return shortest && valid ? length : 0;
}

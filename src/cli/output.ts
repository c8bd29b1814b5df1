// Output helpers: colour only on a TTY (and never with NO_COLOR), aligned key/value blocks, tables.

export interface Style {
  bold(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
}

/** Colour on this stream: a TTY, unless NO_COLOR (no-color.org: set to a non-empty value) or TERM=dumb. */
function colourOn(stream: { isTTY?: boolean }): boolean {
  return stream.isTTY === true && (process.env.NO_COLOR ?? '') === '' && process.env.TERM !== 'dumb';
}

export function styleFor(stream: { isTTY?: boolean }): Style {
  const on = colourOn(stream);
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { bold: wrap(1, 22), green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), dim: wrap(2, 22) };
}

/** `key   value` lines, keys padded to one width; multi-line values indented under the value column. */
export function block(rows: Array<[string, string | string[] | undefined]>): string {
  const shown = rows.filter((r): r is [string, string | string[]] => r[1] !== undefined && !(Array.isArray(r[1]) && r[1].length === 0));
  const width = Math.max(...shown.map(([k]) => k.length)) + 2;
  return shown
    .map(([k, v]) => {
      const lines = Array.isArray(v) ? v : [v];
      return lines.map((line, i) => `${(i === 0 ? k : '').padEnd(width)}${line}`).join('\n');
    })
    .join('\n');
}

/** A plain text table; the widths ignore ANSI colour codes. */
export function table(rows: string[][]): string {
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\x1b\[\d+m/g, '').length;
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => visible(r[c] ?? ''))));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell + ' '.repeat(widths[c]! - visible(cell)))).join('  '))
    .join('\n');
}

// Control characters that a terminal acts on (C0 but newline and tab, DEL, C1) and the bidi
// controls that reorder what is shown. Names, hosts, subjects and notes come from files, servers
// and imports: written raw, an escape sequence in them sets the window title, clears the screen or
// rewrites what was printed. The styles above (SGR colour codes) are the only sequences kept, and
// only when colour is on.
// eslint-disable-next-line no-control-regex
const UNSAFE = /(\x1b\[(?:1|2|22|31|32|33|39)m)|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character shown as an escape (`\x1b`, `\u202e`). */
export function terminalSafe(text: string, keepStyles: boolean): string {
  return text.replace(UNSAFE, (match: string, style: string | undefined) => {
    if (style !== undefined) return keepStyles ? style : `\\x1b${style.slice(1)}`;
    const code = match.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A stream for the CLI's text: everything written goes through terminalSafe. */
export interface SafeWriter {
  readonly isTTY: boolean | undefined;
  write(text: string): void;
  /** Bytes as they are (a response body going to a file or a pipe). */
  raw(bytes: Uint8Array): void;
}

/** What the CLI writes to: the process's streams, or a test's. */
export interface WritableText {
  readonly isTTY?: boolean;
  write(chunk: string | Uint8Array): unknown;
}

export function safeWriter(stream: WritableText): SafeWriter {
  return {
    get isTTY() {
      return stream.isTTY;
    },
    write: (text) => stream.write(terminalSafe(text, colourOn(stream))),
    raw: (bytes) => stream.write(bytes),
  };
}

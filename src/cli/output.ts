// Output helpers: colour only on a TTY (and never with NO_COLOR), aligned key/value blocks, tables.

export interface Style {
  bold(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
}

export function styleFor(stream: { isTTY?: boolean }): Style {
  // no-color.org: NO_COLOR set to a non-empty value turns colour off.
  const on = stream.isTTY === true && (process.env.NO_COLOR ?? '') === '' && process.env.TERM !== 'dumb';
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

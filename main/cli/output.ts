/*
 * Plain-text output for the CLI: lines, JSON, and aligned tables (width counted so that
 * Japanese full-width characters line up in a Windows console too). A reader that goes away
 * (`gatehouse log tail | head`) is no error: once stdout is closed, output is dropped, the
 * command ends with its own exit code and `log tail -f` stops (see stdoutGone).
 */

let quiet = false;
/** stdout's reader went away (node keeps process.stdout open, so this is ours to remember). */
let gone = false;

/**
 * Makes a closed stdout or stderr (EPIPE) quiet instead of an unhandled 'error' with a stack
 * trace; any other error on them is still thrown. Call once, before any output.
 */
export function quietOnBrokenPipe(): void {
  if (quiet) return;
  quiet = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      if (stream === process.stdout) gone = true;
    });
  }
}

/** True once the reader of stdout went away: nothing more will be read. */
export function stdoutGone(): boolean {
  return gone || process.stdout.destroyed;
}

export function print(line: string): void {
  if (stdoutGone()) return;
  process.stdout.write(line + '\n');
}

export function printJson(value: unknown): void {
  if (stdoutGone()) return;
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Display width: East Asian wide/full-width characters count as two columns. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    w += (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) ? 2 : 1;
  }
  return w;
}

export function table(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - displayWidth(c))))
      .join('  ')
      .trimEnd();
  print(line(headers));
  print(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) print(line(r));
}

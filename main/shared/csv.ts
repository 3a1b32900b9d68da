/*
 * The one CSV writer, for every CSV file an admin opens (the accounts export in the core, the
 * log export in the window): csv-stringify (its browser build, which runs in Node too) with
 * RFC 4180 quoting, CRLF line ends and a UTF-8 BOM, since Excel on Japanese Windows reads a
 * file without BOM as Shift_JIS and garbles the Japanese, and Notepad wants CRLF. A field is
 * quoted when it holds a comma, a quote or any line break, or starts or ends with a space.
 * With `guardFormulas`, a cell that starts with = + - @ (or a tab or CR) gets a leading
 * apostrophe, so a crafted address in a log cannot run as a formula in Excel; data that must
 * come back in unchanged by an import (the accounts) is written without it. Pure; never throws
 * for strings, numbers, booleans, null and lists (a list becomes its items joined by spaces).
 */
import { stringify } from 'csv-stringify/browser/esm/sync';

export type CsvCell = string | number | boolean | null | undefined | readonly string[];

export interface CsvOptions {
  guardFormulas?: boolean;
}

function cell(v: CsvCell, guard: boolean): string {
  let s = v === undefined || v === null ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  if (guard && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[], opts: CsvOptions = {}): string {
  const guard = opts.guardFormulas ?? false;
  const records = [header.map((h) => cell(h, false)), ...rows.map((r) => r.map((c) => cell(c, guard)))];
  return stringify(records, { bom: true, record_delimiter: '\r\n', quoted_match: /[\r\n]|^\s|\s$/ });
}

/**
 * A chosen file's bytes as text: UTF-8 (with or without BOM, which is dropped) when valid,
 * else Shift_JIS, as Excel's plain "CSV" and Notepad's ANSI save it on a Japanese system.
 */
export function decodeText(bytes: Uint8Array | ArrayBuffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return new TextDecoder('shift_jis').decode(bytes);
  }
}

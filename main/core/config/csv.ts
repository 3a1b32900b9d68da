/*
 * Accounts as CSV, for admins who keep the list in Excel. Columns `pattern,blockExternal,
 * allow,note` (header required, any order, names case-insensitive); allow is `;`-separated;
 * RFC 4180 quoting, so notes may hold commas, quotes, line breaks and Japanese.
 * accountsToCsv() writes a UTF-8 BOM and CRLF: Excel on Japanese Windows reads BOM-less CSV as
 * Shift_JIS and garbles the notes. parseAccountsCsv() accepts BOM or not, CRLF or LF, booleans
 * as true/false/1/0/yes/no (empty = false), and lowercases domains (DNS is case-insensitive;
 * the config insists on lowercase). It is all-or-nothing: either every account, or every bad
 * line with its line number (the line a record starts on) and nothing else.
 * decodeCsvBytes() turns a file's bytes into text, falling back to Shift_JIS for a file Excel
 * saved as plain "CSV" on a Japanese system.
 */
import type { Account } from '../../shared/types.js';
import { lowerAscii } from '../policy/address.js';
import { checkAccountPattern, checkAllowEntry } from './validate-helpers.js';

export interface CsvLineError {
  line: number;
  message: string;
}

export type AccountsCsvResult = { ok: true; accounts: Account[] } | { ok: false; errors: CsvLineError[] };

const COLUMNS = ['pattern', 'blockExternal', 'allow', 'note'] as const;
type Column = (typeof COLUMNS)[number];

interface CsvRecord {
  line: number;
  fields: string[];
  error: string | null;
}

/**
 * RFC 4180 records. A broken record (stray quote) gets `error` and parsing goes on with the
 * next line; an unterminated quote swallows the rest of the file, so it ends parsing.
 */
function parseCsv(text: string): { records: CsvRecord[]; fatal: CsvLineError | null } {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  const isEol = (c: string | undefined) => c === '\r' || c === '\n';
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let error: string | null = null;
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
          field += c;
          i++;
        }
        if (!closed) {
          return { records, fatal: { line: quoteLine, message: 'a quoted field is never closed (a " is missing)' } };
        }
        if (i < n && text[i] !== ',' && !isEol(text[i])) {
          error ??= 'text after a closing quote; put the whole field in quotes and double any " inside';
          while (i < n && text[i] !== ',' && !isEol(text[i])) i++;
        }
      } else {
        while (i < n && text[i] !== ',' && !isEol(text[i])) {
          if (text[i] === '"') error ??= 'a " inside an unquoted field; quote the whole field and double the "';
          field += text[i];
          i++;
        }
      }
      fields.push(field);
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      break;
    }
    records.push({ line: start, fields, error });
  }
  return { records, fatal: null };
}

function parseBool(s: string): boolean | null {
  switch (s.trim().toLowerCase()) {
    case '':
    case 'false':
    case '0':
    case 'no':
      return false;
    case 'true':
    case '1':
    case 'yes':
      return true;
    default:
      return null;
  }
}

/** Lowercase the domain part (after the last '@'); the local part keeps its case. */
function lowerDomain(s: string): string {
  const at = s.lastIndexOf('@');
  return at < 0 ? lowerAscii(s) : s.slice(0, at + 1) + lowerAscii(s.slice(at + 1));
}

export function parseAccountsCsv(text: string): AccountsCsvResult {
  const { records, fatal } = parseCsv(text.replace(/^\uFEFF/, ''));
  const errors: CsvLineError[] = [];
  const blank = (r: CsvRecord) => r.error === null && r.fields.every((f) => f.trim() === '');
  const rows = records.filter((r) => !blank(r));
  const header = rows.shift();
  if (!header) {
    return fatal ? { ok: false, errors: [fatal] } : { ok: true, accounts: [] };
  }

  // Header: known names in any order; `pattern` is the one column that must be there. Without
  // it the first line is most likely data, and one message says so better than one per cell.
  const names = header.fields.map((f) => f.trim().toLowerCase());
  if (!names.includes('pattern')) {
    const errors = [{ line: header.line, message: `the first line must be the header ${COLUMNS.join(',')}` }];
    return { ok: false, errors: fatal ? [...errors, fatal] : errors };
  }
  const cols: (Column | null)[] = [];
  for (const raw of header.fields) {
    const name = raw.trim().toLowerCase();
    const col = COLUMNS.find((c) => c.toLowerCase() === name) ?? null;
    if (!col) {
      errors.push({ line: header.line, message: `unknown column '${raw.trim()}' (expected ${COLUMNS.join(',')})` });
    } else if (cols.includes(col)) {
      errors.push({ line: header.line, message: `column '${col}' appears twice` });
    }
    cols.push(col);
  }
  if (errors.length > 0) return { ok: false, errors: fatal ? [...errors, fatal] : errors };

  const accounts: Account[] = [];
  const firstLine = new Map<string, number>();
  for (const r of rows) {
    if (r.error) {
      errors.push({ line: r.line, message: r.error });
      continue;
    }
    // Excel pads rows with empty cells; only non-empty extras are a problem.
    if (r.fields.slice(cols.length).some((f) => f.trim() !== '')) {
      errors.push({ line: r.line, message: `${r.fields.length} fields, but the header has ${cols.length}` });
      continue;
    }
    const get = (c: Column) => {
      const i = cols.indexOf(c);
      return i < 0 ? '' : (r.fields[i] ?? '');
    };
    const problems: string[] = [];
    const pattern = lowerDomain(get('pattern').trim());
    if (pattern === '') problems.push('pattern is empty');
    else {
      const e = checkAccountPattern(pattern);
      if (e) problems.push(`pattern '${pattern}' ${e}`);
    }
    const block = parseBool(get('blockExternal'));
    if (block === null) {
      problems.push(`blockExternal '${get('blockExternal').trim()}' must be true/false, 1/0 or yes/no`);
    }
    const allow = [
      ...new Set(
        get('allow')
          .split(';')
          .map((s) => lowerDomain(s.trim()))
          .filter((s) => s !== ''),
      ),
    ];
    for (const entry of allow) {
      const e = checkAllowEntry(entry);
      if (e) problems.push(`allow '${entry}' ${e}`);
    }
    const note = get('note');
    if (note.length > 1000) problems.push('note is longer than 1000 characters');
    const key = pattern.toLowerCase();
    const dup = firstLine.get(key);
    if (pattern !== '' && dup !== undefined) problems.push(`pattern '${pattern}' is already on line ${dup}`);
    if (problems.length > 0) {
      errors.push({ line: r.line, message: problems.join('; ') });
      continue;
    }
    firstLine.set(key, r.line);
    accounts.push({ pattern, blockExternal: block!, allow, note });
  }
  if (fatal) errors.push(fatal);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, accounts };
}

function quote(field: string): string {
  return /[",\r\n]|^\s|\s$/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** CSV text with BOM and CRLF, ready to write to a file Excel will open. */
export function accountsToCsv(accounts: readonly Account[]): string {
  const lines = [COLUMNS.join(',')];
  for (const a of accounts) {
    lines.push([a.pattern, String(a.blockExternal), a.allow.join(';'), a.note].map(quote).join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** File bytes to text: UTF-8 (with or without BOM) when valid, else Shift_JIS (Excel "CSV"). */
export function decodeCsvBytes(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('shift_jis').decode(bytes);
  }
}

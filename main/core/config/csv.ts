/*
 * Accounts as CSV, for admins who keep the list in Excel. Columns `pattern,blockExternal,
 * allow,note,mode,delayMinutes,approvers,standIn,expireHours,bcc` (header required, any order,
 * names case-insensitive, only `pattern` required: four-column files from older versions
 * import as they always did); lists are `;`-separated; an empty mode follows blockExternal;
 * RFC 4180 quoting, so notes may hold commas, quotes, line breaks and Japanese.
 * accountsToCsv() writes through the shared CSV writer (UTF-8 BOM, CRLF: what Excel and
 * Notepad on Japanese Windows read correctly). parseAccountsCsv() reads with csv-parse and
 * accepts BOM or not, CRLF or LF, booleans as true/false/1/0/yes/no (empty = false), and
 * lowercases domains (DNS is case-insensitive; the config insists on lowercase). It is
 * all-or-nothing: either every account, or every problem as an issue naming the line a record
 * starts on (`line 3`), and nothing else. A broken quote ends the reading at its line.
 */
import { parse } from 'csv-parse/sync';

import { lowerAscii } from '../../shared/address.js';
import { decodeText, toCsv } from '../../shared/csv.js';
import { problem, type Problem, type ValidationIssue } from '../../shared/issues.js';
import { allowEntryProblem, patternProblem } from '../../shared/rules.js';
import { EXTERNAL_MODES, externalMode, normalizeAccount } from '../../shared/outbound.js';
import type { Account, ExternalMode } from '../../shared/types.js';

export type AccountsCsvResult = { ok: true; accounts: Account[] } | { ok: false; errors: ValidationIssue[] };

/** The first four are the original columns (older files have only those); the rest carry the outbound modes. */
const COLUMNS = ['pattern', 'blockExternal', 'allow', 'note', 'mode', 'delayMinutes', 'approvers', 'standIn', 'expireHours', 'bcc'] as const;
type Column = (typeof COLUMNS)[number];

/** File bytes to text: UTF-8 when valid, else Shift_JIS (Excel's plain "CSV"). */
export const decodeCsvBytes = decodeText;

const at = (line: number, p: Problem): ValidationIssue => ({ path: `line ${line}`, line, ...p });

interface Row {
  line: number;
  fields: string[];
}

/** Line breaks a record's raw text holds (its own end included): CRLF, LF or CR each count once. */
const breaks = (raw: string): number => raw.match(/\r\n|\r|\n/g)?.length ?? 0;

/** Records with the line each starts on; a structural error (a broken quote) as an issue. */
function records(text: string): { rows: Row[]; broken: ValidationIssue | null } {
  const rows: Row[] = [];
  let line = 1;
  let broken: ValidationIssue | null = null;
  parse(text, {
    bom: true,
    raw: true,
    relax_column_count: true,
    skip_records_with_error: true,
    // With `raw`, csv-parse hands each record over as { record, raw } (its types say string[]).
    on_record: (r: unknown) => {
      const { record, raw } = r as { record: string[]; raw: string };
      if (!broken) rows.push({ line, fields: record });
      line += breaks(raw);
      return null;
    },
    on_skip: (err: { code?: string } | undefined) => {
      const p = err?.code === 'CSV_QUOTE_NOT_CLOSED' ? problem('csv_quote') : problem('csv_syntax');
      // Past a broken quote, csv-parse cannot tell where records start: stop there.
      broken ??= at(line, p);
    },
  });
  return { rows, broken };
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
  const i = s.lastIndexOf('@');
  return i < 0 ? lowerAscii(s) : s.slice(0, i + 1) + lowerAscii(s.slice(i + 1));
}

const valueProblem = (column: string, value: string, p: Problem) => problem('csv_value', { ...p.params, column, value, reason: p.code, detail: p.message });

export function parseAccountsCsv(text: string): AccountsCsvResult {
  const { rows: all, broken } = records(text);
  const errors: ValidationIssue[] = [];
  const rows = all.filter((r) => r.fields.some((f) => f.trim() !== ''));
  const header = rows.shift();
  const finish = (): AccountsCsvResult => ({ ok: false, errors: broken ? [...errors, broken] : errors });
  if (!header) return broken ? finish() : { ok: true, accounts: [] };

  // Header: known names in any order; `pattern` is the one column that must be there. Without
  // it the first line is most likely data, and one message says so better than one per cell.
  const names = header.fields.map((f) => f.trim().toLowerCase());
  if (!names.includes('pattern')) {
    errors.push(at(header.line, problem('csv_header', { columns: COLUMNS.join(',') })));
    return finish();
  }
  const cols: (Column | null)[] = [];
  for (const raw of header.fields) {
    const name = raw.trim().toLowerCase();
    const col = COLUMNS.find((c) => c.toLowerCase() === name) ?? null;
    if (!col) errors.push(at(header.line, problem('csv_column', { name: raw.trim(), columns: COLUMNS.join(',') })));
    else if (cols.includes(col)) errors.push(at(header.line, problem('csv_column_twice', { name: col })));
    cols.push(col);
  }
  if (errors.length > 0) return finish();

  const accounts: Account[] = [];
  const firstLine = new Map<string, number>();
  for (const r of rows) {
    // Excel pads rows with empty cells; only non-empty extras are a problem.
    if (r.fields.slice(cols.length).some((f) => f.trim() !== '')) {
      errors.push(at(r.line, problem('csv_fields', { count: r.fields.length, expected: cols.length })));
      continue;
    }
    const get = (c: Column) => {
      const i = cols.indexOf(c);
      return i < 0 ? '' : (r.fields[i] ?? '');
    };
    const problems: Problem[] = [];
    const pattern = lowerDomain(get('pattern').trim());
    if (pattern === '') problems.push(problem('csv_value', { column: 'pattern', value: '', reason: 'empty', detail: problem('empty').message }));
    else {
      const e = patternProblem(pattern);
      if (e) problems.push(valueProblem('pattern', pattern, e));
    }
    const block = parseBool(get('blockExternal'));
    if (block === null) problems.push(problem('csv_bool', { column: 'blockExternal', value: get('blockExternal').trim() }));
    const allow = [...new Set(get('allow').split(';').map((s) => lowerDomain(s.trim())).filter((s) => s !== ''))];
    for (const entry of allow) {
      const e = allowEntryProblem(entry);
      if (e) problems.push(valueProblem('allow', entry, e));
    }
    const note = get('note');
    if (note.length > 1000) problems.push(valueProblem('note', `${note.slice(0, 20)}...`, problem('too_long', { max: 1000 })));
    const extra: Partial<Account> = {};
    const modeText = get('mode').trim().toLowerCase();
    if (modeText !== '') {
      if ((EXTERNAL_MODES as readonly string[]).includes(modeText)) extra.mode = modeText as ExternalMode;
      else problems.push(problem('csv_mode', { value: get('mode').trim() }));
    }
    for (const [column, min, max] of [['delayMinutes', 1, 7 * 24 * 60], ['expireHours', 1, 30 * 24]] as const) {
      const t = get(column).trim();
      if (t === '') continue;
      const n = /^\d+$/.test(t) ? Number(t) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) problems.push(problem('csv_int', { column, value: t, min, max }));
      else extra[column] = n;
    }
    for (const column of ['approvers', 'bcc'] as const) {
      const list = [...new Set(get(column).split(';').map((x) => lowerDomain(x.trim())).filter((x) => x !== ''))];
      for (const entry of list) {
        const e = entry.includes('*') ? problem('exact_address') : patternProblem(entry);
        if (e) problems.push(valueProblem(column, entry, e));
      }
      if (list.length > 0) extra[column] = list;
    }
    const standIn = lowerDomain(get('standIn').trim());
    if (standIn !== '') {
      const e = standIn.includes('*') ? problem('exact_address') : patternProblem(standIn);
      if (e) problems.push(valueProblem('standIn', standIn, e));
      else extra.standIn = standIn;
    }
    if (externalMode({ blockExternal: block === true, mode: extra.mode }) === 'approval' && !extra.approvers && !extra.standIn) {
      problems.push(valueProblem('approvers', '', problem('approver_needed')));
    }
    const key = pattern.toLowerCase();
    const dup = firstLine.get(key);
    if (pattern !== '' && dup !== undefined) problems.push(problem('csv_twice', { pattern, line: dup }));
    if (problems.length > 0) {
      for (const p of problems) errors.push(at(r.line, p));
      continue;
    }
    firstLine.set(key, r.line);
    accounts.push(normalizeAccount({ pattern, blockExternal: block!, allow, note, ...extra }));
  }
  return errors.length > 0 || broken ? finish() : { ok: true, accounts };
}

/** CSV text with BOM and CRLF, ready to write to a file Excel will open. */
export function accountsToCsv(accounts: readonly Account[]): string {
  return toCsv(
    COLUMNS,
    accounts.map((a) => {
      const m = externalMode(a);
      return [
        a.pattern,
        String(m === 'block'),
        a.allow.join(';'),
        a.note,
        m,
        a.delayMinutes === undefined ? '' : String(a.delayMinutes),
        (a.approvers ?? []).join(';'),
        a.standIn ?? '',
        a.expireHours === undefined ? '' : String(a.expireHours),
        (a.bcc ?? []).join(';'),
      ];
    }),
  );
}

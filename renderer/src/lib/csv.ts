/*
 * CSV text for exports the admin opens in Excel: RFC 4180 quoting, CRLF line ends, a UTF-8
 * BOM (so Excel shows Japanese correctly), and cells that start with = + - @ prefixed with
 * an apostrophe so a crafted address cannot run as a formula. Pure; never throws.
 */
export function csvCell(v: unknown): string {
  let s = v === undefined || v === null ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  const lines = [header, ...rows].map((r) => r.map(csvCell).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

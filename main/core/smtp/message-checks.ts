/*
 * Checks on the bytes of a received message, before it is spooled.
 *
 * - `checkLineEndings` refuses bare CR and NUL (SMTP smuggling, CVE-2023-51764 family:
 *   a downstream MTA may read a bare CR or LF as a line end and see a second message) and
 *   rewrites bare LF to CRLF, so the bytes we pass on never contain a bare CR, bare LF or NUL.
 * - `headerFromAddresses` returns the addresses of the From: header(s) for the
 *   block-external-header-from rule.
 * Pure functions over Buffers; they never throw on bad input.
 */
import addressparser from 'nodemailer/lib/addressparser';
import { rfc5322Date } from '../mail-date.js';

export type LineCheck = { ok: true; body: Buffer } | { ok: false; problem: 'bare-cr' | 'nul' };

const CR = 0x0d;
const LF = 0x0a;

export function checkLineEndings(raw: Buffer): LineCheck {
  // Native searches instead of a JavaScript loop over every byte (a 100 KB message has ~1,500
  // line ends and no NUL): same answers, the first problem in byte order wins.
  const nul = raw.indexOf(0);
  let bareCr = -1;
  for (let i = raw.indexOf(CR); i !== -1 && (nul === -1 || i < nul); i = raw.indexOf(CR, i + 1)) {
    if (raw[i + 1] !== LF) {
      bareCr = i;
      break;
    }
  }
  if (nul !== -1 && (bareCr === -1 || nul < bareCr)) return { ok: false, problem: 'nul' };
  if (bareCr !== -1) return { ok: false, problem: 'bare-cr' };
  let bareLf = 0;
  for (let i = raw.indexOf(LF); i !== -1; i = raw.indexOf(LF, i + 1)) {
    if (i === 0 || raw[i - 1] !== CR) bareLf++;
  }
  if (bareLf === 0) return { ok: true, body: raw };
  // Rewrite bare LF -> CRLF (Unix clients do send them; Postfix reads them as line ends too).
  const out = Buffer.allocUnsafe(raw.length + bareLf);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === LF && (i === 0 || raw[i - 1] !== CR)) out[o++] = CR;
    out[o++] = c;
  }
  return { ok: true, body: out };
}

/** The header block (up to the first empty line), unfolded into `name: value` lines. */
export function headerLines(body: Buffer): string[] {
  let end = body.indexOf('\r\n\r\n');
  if (end < 0) end = body.length;
  const text = body.subarray(0, Math.min(end, 256 * 1024)).toString('utf8');
  return text.replace(/\r\n[ \t]+/g, ' ').split('\r\n');
}

export function headerFromAddresses(body: Buffer): string[] {
  const out: string[] = [];
  for (const line of headerLines(body)) {
    const m = /^from\s*:(.*)$/i.exec(line);
    if (!m) continue;
    for (const a of addressparser(m[1], { flatten: true })) if (a.address) out.push(a.address);
  }
  return out;
}

/** A Received: trace header for the message we accept (RFC 5321 section 4.4). */
export function receivedHeader(opts: {
  helo: string;
  clientIp: string;
  hostname: string;
  session: string;
  tls: boolean;
  authenticated: boolean;
  recipient?: string;
  date: Date;
}): Buffer {
  const proto = 'ESMTP' + (opts.tls ? 'S' : '') + (opts.authenticated ? 'A' : '');
  const helo = opts.helo.replace(/[^\x21-\x7e]/g, '?').slice(0, 200) || 'unknown';
  const forPart = opts.recipient ? `\r\n\tfor <${opts.recipient.replace(/[^\x21-\x7e]/g, '?')}>` : '';
  return Buffer.from(
    `Received: from ${helo} ([${opts.clientIp}])\r\n\tby ${opts.hostname} (Gatehouse) with ${proto} id ${opts.session}${forPart};\r\n\t${rfc5322Date(opts.date, 'local')}\r\n`,
    'latin1',
  );
}


/*
 * No line over 998 octets (RFC 5321 4.5.3.1.6, RFC 5322 2.1.1) leaves Gatehouse. Like
 * Postfix's smtp client (smtp_line_length_limit = 998) the fix happens on delivery, not by
 * refusing the message: the office server that sent it would only bounce it to a user who
 * cannot change how their mail program writes lines. Unlike Postfix, which breaks every long
 * line with CRLF + space, foldLongLines() keeps the content intact wherever MIME allows it:
 *
 *   - a header line is folded before a space or tab (unfolding gives the same field back);
 *     only a line with no whitespace to fold at is broken with CRLF + space (Postfix's way);
 *   - a text part (7bit, 8bit, binary, or no Content-Transfer-Encoding, the top-level body of
 *     a non-MIME message included) is re-encoded as quoted-printable and its header says so
 *     (MIME-Version is added to a top-level message that lacked it); decoding gives the
 *     original bytes;
 *   - a quoted-printable part gets soft line breaks (`=` CRLF) and a base64 part plain line
 *     breaks, both of which decoders ignore;
 *   - multipart bodies are walked part by part (message/rfc822 parts too); preamble,
 *     epilogue and parts MIME forbids to re-encode are broken with a plain CRLF.
 *
 * A message without long lines comes back as the same Buffer (one scan, no copy). The result
 * is CRLF-terminated where the input was; DKIM signing must come after this (it does: see
 * outbound.ts). Never throws on any input.
 */
import { createRequire } from 'node:module';

// libqp (quoted-printable, nodemailer's author) ships no types: the two functions used here.
const libqp = createRequire(import.meta.url)('libqp') as {
  /** CR and LF stay as they are (hard line breaks); trailing whitespace is encoded. */
  encode(b: Buffer): string;
  /** Soft line breaks (`=` CRLF) so no line exceeds `lineLength`. */
  wrap(s: string, lineLength?: number): string;
};
const qpEncode = libqp.encode;
const qpWrap = libqp.wrap;

export const MAX_LINE = 998;
const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

export interface FoldResult {
  raw: Buffer;
  /** Lines that were longer than the limit. */
  folded: number;
  /** Parts re-encoded as quoted-printable. */
  reencoded: number;
}

/** True when some line (CRLF or LF terminated, or the last one) is longer than `limit` octets. */
export function hasLongLine(buf: Buffer, limit = MAX_LINE, start = 0, end = buf.length): boolean {
  let s = start;
  while (s < end) {
    let nl = buf.indexOf(LF, s);
    if (nl < 0 || nl >= end) nl = end;
    let len = nl - s;
    if (nl < end && len > 0 && buf[nl - 1] === CR) len--;
    if (len > limit) return true;
    s = nl + 1;
  }
  return false;
}

interface Line {
  /** Start of the line. */
  s: number;
  /** End of its content (before CR LF). */
  e: number;
  /** Start of the next line. */
  n: number;
}

function lines(buf: Buffer, start: number, end: number): Line[] {
  const out: Line[] = [];
  let s = start;
  while (s < end) {
    let nl = buf.indexOf(LF, s);
    if (nl < 0 || nl >= end) {
      out.push({ s, e: end, n: end });
      break;
    }
    const e = nl > s && buf[nl - 1] === CR ? nl - 1 : nl;
    out.push({ s, e, n: nl + 1 });
    s = nl + 1;
  }
  return out;
}

interface Stats {
  folded: number;
  reencoded: number;
}

const isWsp = (c: number) => c === 0x20 || c === 0x09;

/** Do not cut inside a UTF-8 sequence: move the cut back onto a lead byte. */
function utf8Cut(b: Buffer, from: number, cut: number): number {
  let c = cut;
  while (c > from + 1 && (b[c] & 0xc0) === 0x80) c--;
  return c;
}

/** Break a line into pieces of at most `width` octets joined by CRLF (`prefix` starts each continuation). */
function hardBreak(content: Buffer, width: number, prefix: Buffer, out: Buffer[]): void {
  let pos = 0;
  let first = true;
  while (pos < content.length) {
    const room = first ? width : width - prefix.length;
    let cut = Math.min(content.length, pos + room);
    if (cut < content.length) cut = utf8Cut(content, pos, cut);
    if (!first) out.push(CRLF, prefix);
    out.push(content.subarray(pos, cut));
    pos = cut;
    first = false;
  }
}

/** A header line: fold before whitespace; break with CRLF + SP only where there is none. */
function foldHeaderLine(line: Buffer, limit: number, out: Buffer[]): void {
  let rest = line;
  while (rest.length > limit) {
    let firstText = 0;
    while (firstText < rest.length && isWsp(rest[firstText])) firstText++;
    let cut = -1;
    for (let i = Math.min(limit, rest.length - 1); i > firstText; i--) {
      if (!isWsp(rest[i])) continue;
      // The continuation must carry text, not only whitespace.
      let j = i;
      while (j < rest.length && isWsp(rest[j])) j++;
      if (j < rest.length) {
        cut = i;
        break;
      }
    }
    if (cut > 0) {
      out.push(rest.subarray(0, cut), CRLF);
      rest = rest.subarray(cut);
    } else {
      const c = utf8Cut(rest, 0, limit);
      out.push(rest.subarray(0, c), CRLF);
      rest = Buffer.concat([Buffer.from(' '), rest.subarray(c)]);
    }
  }
  out.push(rest);
}

/** A quoted-printable line: soft breaks (`=` CRLF), never inside an `=XX` escape. */
function softBreakQp(line: Buffer, out: Buffer[]): void {
  const width = 75; // plus the '=' = 76, RFC 2045's limit
  let pos = 0;
  while (line.length - pos > 76) {
    let cut = pos + width;
    if (line[cut - 1] === 0x3d) cut -= 1;
    else if (line[cut - 2] === 0x3d) cut -= 2;
    out.push(line.subarray(pos, cut), Buffer.from('=\r\n'));
    pos = cut;
  }
  out.push(line.subarray(pos));
}

interface Fields {
  ctype: string;
  boundary: string;
  cte: string;
  mimeVersion: boolean;
  /** [start, next) of the Content-Transfer-Encoding field's lines. */
  cteSpan: [number, number] | null;
}

function readFields(buf: Buffer, hl: Line[]): Fields {
  const f: Fields = { ctype: '', boundary: '', cte: '', mimeVersion: false, cteSpan: null };
  for (let i = 0; i < hl.length; i++) {
    if (isWsp(buf[hl[i].s])) continue;
    let j = i + 1;
    while (j < hl.length && isWsp(buf[hl[j].s])) j++;
    const text = hl
      .slice(i, j)
      .map((l) => buf.toString('latin1', l.s, l.e))
      .join(' ');
    const colon = text.indexOf(':');
    if (colon > 0) {
      const name = text.slice(0, colon).trim().toLowerCase();
      const value = text.slice(colon + 1).trim();
      if (name === 'content-type' && !f.ctype) {
        f.ctype = value.split(';')[0].trim().toLowerCase();
        const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(value);
        if (m) f.boundary = m[1] ?? m[2];
      } else if (name === 'content-transfer-encoding' && f.cteSpan === null) {
        f.cte = value.toLowerCase();
        f.cteSpan = [hl[i].s, hl[j - 1].n];
      } else if (name === 'mime-version') {
        f.mimeVersion = true;
      }
    }
    i = j - 1;
  }
  return f;
}

function hardBreakLines(buf: Buffer, start: number, end: number, limit: number, width: number, out: Buffer[], st: Stats): void {
  for (const l of lines(buf, start, end)) {
    if (l.e - l.s > limit) {
      st.folded++;
      hardBreak(buf.subarray(l.s, l.e), width, Buffer.alloc(0), out);
      out.push(buf.subarray(l.e, l.n));
    } else {
      out.push(buf.subarray(l.s, l.n));
    }
  }
}

function entity(buf: Buffer, start: number, end: number, defaultType: string, top: boolean, limit: number, out: Buffer[], st: Stats, depth: number): void {
  if (!hasLongLine(buf, limit, start, end)) {
    out.push(buf.subarray(start, end));
    return;
  }
  // Header: up to the first empty line.
  const all = lines(buf, start, end);
  let blank = all.findIndex((l) => l.e === l.s);
  if (blank < 0) blank = all.length;
  const hl = all.slice(0, blank);
  const bodyStart = blank < all.length ? all[blank].n : end;
  const f = readFields(buf, hl);
  const type = f.ctype || defaultType;
  const composite = type.startsWith('multipart/') || type.startsWith('message/');
  const encoded = f.cte === 'base64' || f.cte === 'quoted-printable';
  const bodyLong = hasLongLine(buf, limit, bodyStart, end);
  const reencode = bodyLong && !composite && !encoded && blank < all.length;

  // Header lines, the CTE field replaced when the body is re-encoded.
  for (const l of hl) {
    if (reencode && f.cteSpan && l.s >= f.cteSpan[0] && l.s < f.cteSpan[1]) {
      if (l.s === f.cteSpan[0]) out.push(Buffer.from('Content-Transfer-Encoding: quoted-printable\r\n'));
      continue;
    }
    if (l.e - l.s > limit) {
      st.folded++;
      foldHeaderLine(buf.subarray(l.s, l.e), limit, out);
      out.push(buf.subarray(l.e, l.n));
    } else {
      out.push(buf.subarray(l.s, l.n));
    }
  }
  if (reencode && !f.cteSpan) {
    if (top && !f.mimeVersion) out.push(Buffer.from('MIME-Version: 1.0\r\n'));
    out.push(Buffer.from('Content-Transfer-Encoding: quoted-printable\r\n'));
  }
  if (blank >= all.length) return;
  out.push(buf.subarray(all[blank].s, all[blank].n));

  if (!bodyLong) {
    out.push(buf.subarray(bodyStart, end));
    return;
  }
  if (reencode) {
    st.reencoded++;
    st.folded += lines(buf, bodyStart, end).filter((l) => l.e - l.s > limit).length;
    out.push(Buffer.from(qpWrap(qpEncode(buf.subarray(bodyStart, end)), 76), 'latin1'));
    return;
  }
  if (type.startsWith('multipart/') && f.boundary && depth < 50) {
    const delim = Buffer.from(`--${f.boundary}`, 'latin1');
    const body = lines(buf, bodyStart, end);
    const isDelim = (l: Line) => {
      if (l.e - l.s < delim.length || buf.compare(delim, 0, delim.length, l.s, l.s + delim.length) !== 0) return null;
      const tail = buf.toString('latin1', l.s + delim.length, l.e);
      if (/^[ \t]*$/.test(tail)) return 'open';
      if (/^--[ \t]*$/.test(tail)) return 'close';
      return null;
    };
    const partType = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    let segStart = bodyStart;
    let inPart = false;
    let closed = false;
    for (const l of body) {
      if (closed) break;
      const d = isDelim(l);
      if (!d) continue;
      if (inPart) entity(buf, segStart, l.s, partType, false, limit, out, st, depth + 1);
      else hardBreakLines(buf, segStart, l.s, limit, limit, out, st); // preamble
      out.push(buf.subarray(l.s, l.n));
      segStart = l.n;
      inPart = d === 'open';
      closed = d === 'close';
    }
    if (inPart) entity(buf, segStart, end, partType, false, limit, out, st, depth + 1);
    else hardBreakLines(buf, segStart, end, limit, limit, out, st); // epilogue
    return;
  }
  if ((type === 'message/rfc822' || type === 'message/global') && !encoded && depth < 50) {
    entity(buf, bodyStart, end, 'text/plain', false, limit, out, st, depth + 1);
    return;
  }
  if (f.cte === 'quoted-printable') {
    for (const l of lines(buf, bodyStart, end)) {
      if (l.e - l.s > limit) {
        st.folded++;
        softBreakQp(buf.subarray(l.s, l.e), out);
        out.push(buf.subarray(l.e, l.n));
      } else {
        out.push(buf.subarray(l.s, l.n));
      }
    }
    return;
  }
  // base64 (76 per line, as encoders write it) and what MIME forbids to re-encode.
  hardBreakLines(buf, bodyStart, end, limit, f.cte === 'base64' ? 76 : limit, out, st);
}

export function foldLongLines(raw: Buffer, limit = MAX_LINE): FoldResult {
  if (!hasLongLine(raw, limit)) return { raw, folded: 0, reencoded: 0 };
  const out: Buffer[] = [];
  const st: Stats = { folded: 0, reencoded: 0 };
  try {
    entity(raw, 0, raw.length, 'text/plain', true, limit, out, st, 0);
  } catch {
    // Whatever went wrong in the walk, the guarantee still holds: break every long line.
    out.length = 0;
    st.folded = 0;
    st.reencoded = 0;
    hardBreakLines(raw, 0, raw.length, limit, limit, out, st);
  }
  return { raw: Buffer.concat(out), folded: st.folded, reencoded: st.reencoded };
}

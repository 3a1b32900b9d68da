/*
 * 宛先BCC化 (Bcc conversion): a message with many external addresses in To/Cc must not show a
 * customer list to every customer. externalToCc() counts the distinct external addresses in
 * the To: and Cc: fields (unfolded, read by nodemailer's addressparser, so groups, comments,
 * quoted names and encoded words are taken as mail readers take them). convertToBcc() removes
 * every To: and Cc: field, folded lines and all, and puts `To: undisclosed-recipients:;` where
 * the first of them was; every other byte of the message, header and body, stays as it was.
 * The envelope is not touched: every recipient still gets the message. Both work on the raw
 * bytes with CRLF line ends (the receiver has normalised them) and never throw.
 */
import addressparser from 'nodemailer/lib/addressparser';

const CRLF = Buffer.from('\r\n');
const UNDISCLOSED = Buffer.from('To: undisclosed-recipients:;\r\n', 'latin1');

interface Field {
  /** Lowercased name. */
  name: string;
  start: number;
  /** Offset just after the field's last CRLF. */
  end: number;
}

/** The header fields (with their folded lines) and where the header ends (the empty line). */
function fields(body: Buffer): { list: Field[]; headerEnd: number } {
  const list: Field[] = [];
  let pos = 0;
  while (pos < body.length) {
    const eol = body.indexOf(CRLF, pos);
    if (eol < 0) break;
    if (eol === pos) return { list, headerEnd: pos }; // the empty line
    const first = body[pos];
    if ((first === 0x20 || first === 0x09) && list.length > 0) {
      list[list.length - 1]!.end = eol + 2; // a folded continuation
    } else {
      const colon = body.indexOf(0x3a, pos);
      const name = colon > pos && colon < eol ? body.subarray(pos, colon).toString('latin1').trim().toLowerCase() : '';
      list.push({ name, start: pos, end: eol + 2 });
    }
    pos = eol + 2;
  }
  return { list, headerEnd: pos };
}

const isToCc = (f: Field): boolean => f.name === 'to' || f.name === 'cc';

/** Distinct addresses in To:/Cc: whose domain `isInternal` does not claim. */
export function externalToCc(body: Buffer, isInternal: (domain: string) => boolean): string[] {
  const seen = new Set<string>();
  for (const f of fields(body).list) {
    if (!isToCc(f)) continue;
    const text = body.subarray(f.start, f.end).toString('utf8').replace(/\r\n[ \t]/g, ' ');
    const value = text.slice(text.indexOf(':') + 1);
    for (const a of addressparser(value, { flatten: true })) {
      const address = (a.address ?? '').trim().toLowerCase();
      const at = address.lastIndexOf('@');
      if (at <= 0 || isInternal(address.slice(at + 1))) continue;
      seen.add(address);
    }
  }
  return [...seen];
}

/** The message with its To:/Cc: fields replaced by one undisclosed-recipients group. */
export function convertToBcc(body: Buffer): Buffer {
  const { list } = fields(body);
  const drop = list.filter(isToCc);
  if (drop.length === 0) return body;
  const parts: Buffer[] = [];
  let pos = 0;
  drop.forEach((f, i) => {
    parts.push(body.subarray(pos, f.start));
    if (i === 0) parts.push(UNDISCLOSED);
    pos = f.end;
  });
  parts.push(body.subarray(pos));
  return Buffer.concat(parts);
}

/*
 * What names a message for a person: its Subject: (RFC 2047 encoded words decoded by
 * postal-mime, any charset the runtime's TextDecoder knows, ISO-2022-JP and Shift_JIS
 * included) and its Message-ID:, read from
 * the header block of the bytes as received. `headerSummary(body)` returns both (either may be
 * missing); the subject is cut to 300 characters and its control characters replaced, so a
 * hostile header cannot make a log line long or split it. Never throws: a word that cannot
 * be decoded stays as written.
 */
import { decodeWords } from 'postal-mime';
import { headerLines } from '../smtp/message-checks.js';

const MAX_SUBJECT = 300;
const MAX_ID = 500;
// C0/C1 controls and line separators: one subject is one line in every log and every table.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export interface HeaderSummary {
  subject?: string;
  messageId?: string;
}

/** Decodes `=?charset?B|Q?...?=` words; text that is not encoded passes as is. */
export function decodeSubject(raw: string): string {
  let text = raw;
  try {
    text = decodeWords(raw);
  } catch {
    // a broken encoded word: show it as written rather than lose the subject
  }
  text = text.replace(CONTROL_RE, ' ').replace(/\s+/g, ' ').trim();
  return text.length > MAX_SUBJECT ? `${text.slice(0, MAX_SUBJECT - 1)}…` : text;
}

export function headerSummary(body: Buffer): HeaderSummary {
  const out: HeaderSummary = {};
  for (const line of headerLines(body)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'subject' && out.subject === undefined) {
      out.subject = decodeSubject(line.slice(colon + 1));
    } else if (name === 'message-id' && out.messageId === undefined) {
      const id = line.slice(colon + 1).replace(CONTROL_RE, '').trim();
      if (id) out.messageId = id.slice(0, MAX_ID);
    }
    if (out.subject !== undefined && out.messageId !== undefined) break;
  }
  return out;
}

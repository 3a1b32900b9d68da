/*
 * One readable line per log entry, for `gatehouse log tail` and anything else that prints
 * the logs for a person. Lines are tagged by subsystem like Mailpit's: `[smtpd]` for the
 * receivelog (what the gateway received and decided), `[relay]` for the senderlog (each
 * delivery attempt):
 *
 *   2026-11-29 10:15:02 [smtpd] 127.0.0.2 s=ab12 RCPT baito@test.jp -> user@example.com REJECT block-external 550 5.7.1 <baito@test.jp> is not allowed ...
 *   2026-11-29 10:15:09 [relay] q=Q1 #1 a@test.jp -> b@example.com via=smarthost hop=smtp.isp.example:587 tls 412ms DELIVERED 250 2.0.0 Ok
 *
 * Structured fields come first, key=value where a bare word would be ambiguous; the free
 * SMTP reply text comes last. Times are local (the admin's clock), like the day files.
 * Both functions return a string and never throw: a missing field is left out, a bad ts
 * is printed as given. Control characters from the wire (a hostile HELO, a multi-line
 * error) are escaped, so one entry is always one line and cannot drive the terminal.
 */
import type { ReceiveLogEntry, SenderLogEntry } from '../../shared/types.js';

// C0/C1 controls (incl. ESC), line/paragraph separators and bidi overrides: each could split a
// line, recolour the terminal or reorder what the admin reads. Japanese text passes untouched.
const UNSAFE_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
/** Recipient lists longer than this print as `a,b,c +N more`. */
const MAX_RCPTS_SHOWN = 5;

function clean(s: string): string {
  return s.replace(UNSAFE_RE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `YYYY-MM-DD HH:MM:SS` in local time; an unparseable ts is printed (escaped) as is. */
export function formatTime(ts: string): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return clean(ts);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** The null sender prints as `<>` so it is visible. */
function addr(s: string): string {
  return s === '' ? '<>' : clean(s);
}

function rcptList(list: string[]): string {
  if (list.length === 0) return '(none)';
  const shown = list.slice(0, MAX_RCPTS_SHOWN).map(addr).join(',');
  return list.length > MAX_RCPTS_SHOWN ? `${shown} +${list.length - MAX_RCPTS_SHOWN} more` : shown;
}

/** `reply` already starts with its code (`550 5.7.1 ...`); fall back to the bare code. */
function replyText(code: number | undefined, reply: string | undefined): string | null {
  if (reply) return clean(reply);
  return code === undefined ? null : String(code);
}

export function formatReceiveLine(e: ReceiveLogEntry): string {
  const parts: string[] = [formatTime(e.ts), '[smtpd]'];
  const ip = e.clientIp ? clean(e.clientIp) : '-';
  parts.push(e.clientHost && e.clientHost !== e.clientIp ? `${ip}(${clean(e.clientHost)})` : ip);
  if (e.session) parts.push(`s=${clean(e.session)}`);
  parts.push(e.event.toUpperCase());

  if (e.sender !== undefined) parts.push(addr(e.sender));
  if (e.recipient !== undefined) parts.push('->', addr(e.recipient));
  else if (e.recipients) parts.push('->', rcptList(e.recipients));
  if (e.headerFrom) parts.push(`header-from=${clean(e.headerFrom)}`);

  // Who the client is matters where trust is decided (connect, MAIL); repeating it on every
  // RCPT line would only bury the decision.
  if (e.event === 'connect' || e.event === 'mail') {
    if (e.helo) parts.push(`helo=${clean(e.helo)}`);
    if (e.tls) parts.push('tls');
    if (e.auth) parts.push(`auth=${clean(e.auth)}`);
    if (e.trusted !== undefined) parts.push(e.trusted ? 'trusted' : 'untrusted');
  }
  if (e.queueId) parts.push(`queue=${clean(e.queueId)}`);
  if (e.size !== undefined) parts.push(`size=${e.size}`);
  // The account is news only when it is a pattern or differs from the sender shown already.
  if (e.account && e.account !== e.sender) parts.push(`account=${clean(e.account)}`);

  if (e.decision) parts.push(e.decision.toUpperCase());
  if (e.rule) parts.push(e.rule);
  if (e.by) parts.push(`by=${clean(e.by)}`);
  const reply = replyText(e.code, e.reply);
  if (reply) parts.push(reply);
  if (e.error) parts.push(`error=${clean(e.error)}`);
  if (e.note) parts.push(clean(e.note));
  return parts.join(' ');
}

export function formatSenderLine(e: SenderLogEntry): string {
  const parts: string[] = [formatTime(e.ts), '[relay]', `q=${clean(e.queueId)}`, `#${e.attempt}`];
  parts.push(addr(e.sender), '->', rcptList(e.recipients));
  parts.push(`via=${e.via}`, `hop=${clean(e.hop)}`);
  if (e.mx && e.mx !== e.hop) parts.push(`mx=${clean(e.mx)}`);
  // Sent in clear is worth seeing at a glance on a line that goes to the internet.
  parts.push(e.tls ? 'tls' : 'no-tls');
  parts.push(`${Math.round(e.durationMs)}ms`);
  if (e.nextAttemptAt) parts.push(`next=${formatTime(e.nextAttemptAt)}`);
  parts.push(e.outcome.toUpperCase());
  if (e.rule) parts.push(e.rule);
  const reply = replyText(e.code, e.reply);
  if (reply) parts.push(reply);
  // Partial outcomes: who got what, after the main reply, one `| rcpt outcome reply` each.
  if (e.perRecipient && e.perRecipient.length > 0 && e.outcome !== 'delivered') {
    for (const r of e.perRecipient) {
      const bits = [addr(r.recipient), r.outcome];
      const rr = replyText(r.code, r.reply);
      if (rr) bits.push(rr);
      parts.push('|', bits.join(' '));
    }
  }
  return parts.join(' ');
}

/*
 * Bounce and delay-warning messages (RFC 3464 DSN): a multipart/report with
 * report-type=delivery-status holding (1) a human part in English and Japanese, UTF-8,
 * (2) message/delivery-status with Reporting-MTA, Arrival-Date and per recipient
 * Final-Recipient, Action (failed | delayed), Status, Remote-MTA, Diagnostic-Code, and
 * (3) text/rfc822-headers with the original header block. buildDsn() returns the message
 * bytes with CRLF line ends, ready for the spool (envelope: null sender, to the original
 * sender; see dsnEnvelope). Pure apart from the random boundary and Message-ID; never throws.
 * mayBounce() is the loop guard: never bounce the null sender or MAILER-DAEMON.
 */
import { randomBytes } from 'node:crypto';
import type { SpoolEnvelope } from './types.js';
import { cleanReply } from './outcome.js';
import { rfc5322Date } from '../mail-date.js';

export interface DsnRecipient {
  recipient: string;
  action: 'failed' | 'delayed';
  /** RFC 3463 status, e.g. 5.1.1. */
  status: string;
  /** Host that gave the reply (MX name or host:port), when one did. */
  remoteMta?: string;
  /** The server reply (`550 5.1.1 ...`) or what went wrong. */
  diagnostic: string;
  /** true: `diagnostic` is an SMTP reply (Diagnostic-Code type smtp). */
  smtp: boolean;
  lastAttemptAt?: Date;
  /** delayed only: when the queue gives up. */
  willRetryUntil?: Date;
}

export interface DsnInput {
  /** The gateway's hostname (Reporting-MTA, From, Message-ID). */
  reportingMta: string;
  queueId: string;
  /** The original envelope sender: the DSN goes to this address. */
  sender: string;
  arrivalDate: Date;
  recipients: DsnRecipient[];
  /** Header block of the original message (up to the blank line). */
  originalHeaders: Buffer | string;
  now: Date;
}

/** RFC 5322 date-time; DSNs write UTC: `Tue, 05 Mar 2024 09:04:00 +0000`. */
export { rfc5322Date };

/** The null sender and MAILER-DAEMON never get a bounce (no loops, no backscatter storms). */
export function mayBounce(sender: string): boolean {
  if (sender.trim() === '') return false;
  const local = sender.slice(0, sender.lastIndexOf('@') >= 0 ? sender.lastIndexOf('@') : sender.length);
  return local.toLowerCase() !== 'mailer-daemon';
}

/** Where a DSN goes: from the null sender to the original sender. */
export function dsnEnvelope(sender: string, queueId: string): SpoolEnvelope {
  return { sender: '', recipients: [sender], clientIp: '127.0.0.1', session: `dsn-${queueId}`, trusted: true };
}

/** The header block of a message (without the blank line), at most `max` bytes. */
export function headerBlock(body: Buffer, max = 64 * 1024): Buffer {
  const limit = Math.min(body.length, max);
  for (let i = 0; i < limit; i++) {
    if (body[i] !== 0x0a) continue;
    // "\n\n" or "\n\r\n" ends the headers.
    if (body[i + 1] === 0x0a) return body.subarray(0, i + 1);
    if (body[i + 1] === 0x0d && body[i + 2] === 0x0a) return body.subarray(0, i + 1);
  }
  return body.subarray(0, limit);
}

/** RFC 2047 B-encoded words, split on character boundaries, folded. */
export function encodeHeaderText(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  const words: string[] = [];
  let chunk = '';
  for (const ch of s) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 42) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

function base64Lines(text: string): string {
  const b64 = Buffer.from(text, 'utf8').toString('base64');
  return (b64.match(/.{1,76}/g) ?? []).join('\r\n');
}

function crlf(s: string): string {
  return s.replace(/\r?\n/g, '\r\n');
}

function humanText(input: DsnInput, delayed: boolean): string {
  const mta = input.reportingMta;
  const lines = input.recipients.map((r) => `<${r.recipient}>: ${r.remoteMta ? `host ${r.remoteMta} said: ` : ''}${cleanReply(r.diagnostic)}`);
  const linesJa = input.recipients.map((r) => `<${r.recipient}>: ${r.remoteMta ? `${r.remoteMta} の応答: ` : ''}${cleanReply(r.diagnostic)}`);
  const until = input.recipients.find((r) => r.willRetryUntil)?.willRetryUntil;
  // One frame for both kinds: the English notice, a separator, the same in Japanese.
  const notice = (en: string[], ja: string[]): string =>
    [
      `This is the mail system at host ${mta}.`,
      '',
      ...en,
      '',
      ...lines,
      '',
      '----',
      '',
      `${mta} のメールシステムからのお知らせです。`,
      '',
      ...ja,
      '',
      ...linesJa,
      '',
    ].join('\n');
  if (delayed) {
    return notice(
      [
        '####################################################################',
        '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #',
        '####################################################################',
        '',
        'Your message could not be delivered yet. It is still in the queue and',
        `delivery will be retried${until ? ` until ${rfc5322Date(until)}` : ''}.`,
      ],
      [
        'メールの配送が遅れています（警告のみ。再送信の必要はありません）。',
        `メールはキューに残っており、${until ? `${rfc5322Date(until)} まで` : ''}再送を続けます。`,
      ],
    );
  }
  return notice(
    [
      "I'm sorry to have to inform you that your message could not",
      'be delivered to one or more recipients. The headers of your message',
      'are attached below.',
    ],
    ['メールを配送できませんでした。', '次の宛先に届けることができませんでした。元のメールのヘッダを添付します。'],
  );
}

function statusFields(input: DsnInput): string {
  const perMessage = [`Reporting-MTA: dns; ${input.reportingMta}`, `X-Gatehouse-Queue-ID: ${input.queueId}`, `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`];
  const groups = input.recipients.map((r) => {
    const g = [`Final-Recipient: rfc822; ${r.recipient}`, `Action: ${r.action}`, `Status: ${r.status}`];
    if (r.remoteMta) g.push(`Remote-MTA: dns; ${r.remoteMta}`);
    g.push(`Diagnostic-Code: ${r.smtp ? 'smtp' : 'X-Gatehouse'}; ${cleanReply(r.diagnostic)}`);
    if (r.lastAttemptAt) g.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptAt)}`);
    if (r.action === 'delayed' && r.willRetryUntil) g.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
    return g.join('\r\n');
  });
  return [perMessage.join('\r\n'), ...groups].join('\r\n\r\n') + '\r\n';
}

/** The DSN message bytes (CRLF). One report per call: all `failed` or all `delayed`. */
export function buildDsn(input: DsnInput): Buffer {
  const delayed = input.recipients.length > 0 && input.recipients.every((r) => r.action === 'delayed');
  const boundary = `=_gatehouse_${randomBytes(12).toString('hex')}`;
  const msgId = `<${input.now.getTime().toString(36)}.${randomBytes(6).toString('hex')}.dsn@${input.reportingMta}>`;
  const subject = delayed
    ? 'Delayed Mail (still being retried) / メールの配送が遅れています'
    : 'Undelivered Mail Returned to Sender / メールを配送できませんでした';
  const orig = Buffer.isBuffer(input.originalHeaders) ? input.originalHeaders.toString('utf8') : input.originalHeaders;
  const origHeaders = crlf(orig).replace(/(\r\n)*$/, '\r\n');
  const eightBit = /[^\x00-\x7f]/.test(origHeaders);
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.sender}>`,
    `Subject: ${encodeHeaderText(subject)}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: ${msgId}`,
    // RFC 3834: marks it as automatic, so auto-responders do not answer it.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n boundary="${boundary}"`,
  ].join('\r\n');
  const parts = [
    `${head}\r\n\r\nThis is a MIME-encapsulated message.\r\n`,
    `--${boundary}\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(humanText(input, delayed))}\r\n`,
    `--${boundary}\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n${statusFields(input)}`,
    `--${boundary}\r\nContent-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: ${eightBit ? '8bit' : '7bit'}\r\n\r\n${origHeaders}`,
    `--${boundary}--\r\n`,
  ];
  return Buffer.from(parts.join('\r\n'), 'utf8');
}

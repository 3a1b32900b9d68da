/*
 * A notice as a mail to the admin: From the gateway's postmaster, envelope sender null (so a
 * notice that cannot be delivered bounces nowhere), Subject and body in Japanese then
 * English, UTF-8 (base64). `noticeMail(notice, to, hostname, now)` returns the bytes with
 * CRLF line ends, ready for the spool. Pure apart from the random Message-ID; never throws.
 */
import { randomBytes } from 'node:crypto';
import { noticeText, type Notice } from '../../shared/notices.js';
import { encodeHeaderText } from '../delivery/dsn.js';
import { rfc5322Date } from '../mail-date.js';

export function noticeMail(notice: Notice, to: string, hostname: string, now: Date): Buffer {
  const ja = noticeText(notice, 'ja');
  const en = noticeText(notice, 'en');
  const body = `${ja.body}\n\n----\n${en.title}\n${en.body}\n\n(Gatehouse ${hostname}, ${notice.ts})\n`;
  const b64 = Buffer.from(body.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  const head = [
    `From: Gatehouse <postmaster@${hostname}>`,
    `To: <${to}>`,
    `Subject: ${encodeHeaderText(`[Gatehouse] ${ja.title}`)}`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${now.getTime().toString(36)}.${randomBytes(6).toString('hex')}@${hostname}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
  ].join('\r\n');
  return Buffer.from(`${head}\r\n\r\n${b64.replace(/\r\n$/, '')}\r\n`, 'latin1');
}

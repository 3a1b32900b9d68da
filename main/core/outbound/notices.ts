/*
 * Notice mails of the outbound controls, built with nodemailer's MailComposer: one plain-text
 * UTF-8 mail per notice, Japanese first and then the same in English (one mail fits every
 * reader; the office has no per-user language setting). Each says what happened to which
 * message (subject, the waiting recipients, attachment names and sizes, the first lines),
 * what happens next and how to act (CLI verbs, the window, a LAN link when one is given).
 *
 * Loop guards: a notice is spooled with the null sender (no bounce can come back), carries
 * `Auto-Submitted: auto-generated` (RFC 3834: no auto-reply answers it) and
 * `X-Gatehouse-Notice: <kind>`; it never passes the receiver, so no control can hold it or
 * notice about it; and noticeRecipients() keeps internal addresses only. Builders return the
 * message bytes (CRLF) or reject only if MailComposer does (it does not for these inputs).
 */
import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';

import type { HeldItem } from '../../shared/outbound.js';
import { rfc5322Date } from '../mail-date.js';

export type NoticeKind = 'held' | 'approval-request' | 'delayed' | 'approved' | 'rejected' | 'expired' | 'frozen';

export interface Notice {
  kind: NoticeKind;
  to: string[];
  subject: { ja: string; en: string };
  ja: string[];
  en: string[];
}

/** Only addresses in internal domains, each once: notices never go outside. */
export function noticeRecipients(addresses: readonly string[], isInternal: (domain: string) => boolean): string[] {
  const out = new Map<string, string>();
  for (const a of addresses) {
    const at = a.lastIndexOf('@');
    if (at <= 0 || !isInternal(a.slice(at + 1))) continue;
    if (!out.has(a.toLowerCase())) out.set(a.toLowerCase(), a);
  }
  return [...out.values()];
}

function kb(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function when(iso: string): string {
  return rfc5322Date(new Date(iso), 'local');
}

/** The summary block of a held message, in one language. */
export function summary(item: HeldItem, lang: 'ja' | 'en'): string[] {
  const p = item.preview;
  const ja = lang === 'ja';
  const lines = [
    `${ja ? '件名' : 'Subject'}: ${p.subject || (ja ? '（件名なし）' : '(no subject)')}`,
    `${ja ? '送信者' : 'Sender'}: ${item.sender}`,
    `${ja ? '保留中の宛先（外部）' : 'Waiting recipients (external)'}: ${item.recipients.join(', ')}`,
  ];
  if (p.attachments.length > 0) {
    lines.push(`${ja ? '添付ファイル' : 'Attachments'}: ${p.attachments.map((a) => `${a.name} (${kb(a.size)})`).join(', ')}`);
  } else {
    lines.push(`${ja ? '添付ファイル' : 'Attachments'}: ${ja ? 'なし' : 'none'}`);
  }
  lines.push(`${ja ? '受付' : 'Received'}: ${when(item.receivedAt)}  ID: ${item.id}`);
  if (p.text) {
    lines.push('', ja ? '本文（冒頭）:' : 'Text (first lines):', ...p.text.split('\n').map((l) => `  > ${l}`));
    if (p.more) lines.push('  > ...');
  }
  return lines;
}

const approversText = (i: HeldItem, ja: boolean) =>
  [...i.approvers, ...(i.standIn ? [ja ? `${i.standIn}（代理）` : `${i.standIn} (stand-in)`] : [])].join(ja ? '、' : ', ');

/** To the sender: the external copy waits for an approver. */
export function heldNotice(item: HeldItem, to: string[]): Notice {
  return {
    kind: 'held',
    to,
    subject: { ja: `承認待ち: ${item.preview.subject}`, en: 'Held for approval' },
    ja: [
      '外部宛てのメールは上長承認の対象のため、保留しました（社内宛てはすでに配送しました）。',
      `承認者: ${approversText(item, true)}`,
      `承認されると送信します。${when(item.until)} までに承認されない場合は送信せず、エラーメール（不達通知）でお知らせします。`,
      '',
      ...summary(item, 'ja'),
    ],
    en: [
      'Your message to external recipients is held for approval (colleagues already have it).',
      `Approvers: ${approversText(item, false)}`,
      `It is sent once approved. If nobody approves it by ${when(item.until)}, it is not sent and you get a bounce (DSN).`,
      '',
      ...summary(item, 'en'),
    ],
  };
}

/** To the approvers: please decide. `link`: the LAN approval page for this message, if on. */
export function approvalRequest(item: HeldItem, to: string[], link?: string): Notice {
  return {
    kind: 'approval-request',
    to,
    subject: { ja: `承認依頼: ${item.preview.subject}`, en: 'Approval requested' },
    ja: [
      `${item.sender} さんの外部宛てメールが承認を待っています。`,
      link ? `承認・差し戻し: ${link}` : `承認: gatehouse approvals approve ${item.id}  差し戻し: gatehouse approvals reject ${item.id} --reason "理由"（管理画面の「承認」からもできます）`,
      `期限: ${when(item.until)}（過ぎると自動で差し戻します）`,
      '',
      ...summary(item, 'ja'),
    ],
    en: [
      `A message from ${item.sender} to external recipients waits for your approval.`,
      link ? `Approve or reject: ${link}` : `Approve: gatehouse approvals approve ${item.id}  Reject: gatehouse approvals reject ${item.id} --reason "why" (or in the admin window, Approvals)`,
      `Deadline: ${when(item.until)} (then it is rejected by itself)`,
      '',
      ...summary(item, 'en'),
    ],
  };
}

/** To the sender: delayed mail, with how to cancel or send it at once. */
export function delayedNotice(item: HeldItem, to: string[], link?: string): Notice {
  return {
    kind: 'delayed',
    to,
    subject: { ja: `送信保留中: ${item.preview.subject}`, en: 'Delayed before sending' },
    ja: [
      `外部宛てのメールを ${when(item.until)} まで保留しています（一時保留・送信ディレイ。社内宛てはすでに配送しました）。`,
      link ? `取り消し・今すぐ送信: ${link}` : `取り消し・今すぐ送信は管理者に依頼してください（gatehouse queue cancel ${item.id} / gatehouse queue send-now ${item.id}）。`,
      '',
      ...summary(item, 'ja'),
    ],
    en: [
      `Your message to external recipients waits until ${when(item.until)} (delayed sending; colleagues already have it).`,
      link ? `Cancel or send now: ${link}` : `To cancel or send it now, ask the administrator (gatehouse queue cancel ${item.id} / gatehouse queue send-now ${item.id}).`,
      '',
      ...summary(item, 'en'),
    ],
  };
}

export function approvedNotice(item: HeldItem, to: string[], by: string): Notice {
  return {
    kind: 'approved',
    to,
    subject: { ja: `承認されました: ${item.preview.subject}`, en: 'Approved and sent' },
    ja: [`外部宛てのメールは承認され、送信しました（承認: ${by}）。`, '', ...summary(item, 'ja')],
    en: [`Your message to external recipients was approved and sent (by ${by}).`, '', ...summary(item, 'en')],
  };
}

/** To the approvers (the sender gets the DSN with the reason). */
export function rejectedNotice(item: HeldItem, to: string[], by: string, reason: string): Notice {
  return {
    kind: 'rejected',
    to,
    subject: { ja: `差し戻しました: ${item.preview.subject}`, en: 'Rejected' },
    ja: [`${item.sender} さんの外部宛てメールを差し戻しました（${by}）。送信者にはエラーメールで理由を伝えました。`, `理由: ${reason || '（なし）'}`, '', ...summary(item, 'ja')],
    en: [`The message from ${item.sender} to external recipients was rejected (by ${by}); the sender got a bounce with the reason.`, `Reason: ${reason || '(none)'}`, '', ...summary(item, 'en')],
  };
}

export function expiredNotice(item: HeldItem, to: string[]): Notice {
  return {
    kind: 'expired',
    to,
    subject: { ja: `承認期限切れ: ${item.preview.subject}`, en: 'Approval expired' },
    ja: [`${item.sender} さんの外部宛てメールは期限までに承認されなかったため、送信せずに差し戻しました。`, '', ...summary(item, 'ja')],
    en: [`Nobody approved the message from ${item.sender} in time; it was not sent and the sender got a bounce.`, '', ...summary(item, 'en')],
  };
}

export function frozenNotice(to: string[], f: { address: string; limit: string; count: number; max: number; code: number }): Notice {
  const what = { ja: f.limit === 'messages' ? '送信数' : '外部宛先数', en: f.limit === 'messages' ? 'messages' : 'external recipients' };
  return {
    kind: 'frozen',
    to,
    subject: { ja: `送信者を凍結しました: ${f.address}`, en: `Sender frozen: ${f.address}` },
    ja: [
      `${f.address} は 1 時間あたりの${what.ja}の上限（${f.max}）を超えたため（${f.count}）、送信を止めました。乗っ取りの可能性があります。`,
      `以後のメールには ${f.code} で応答します。確認後、解除してください: gatehouse accounts unfreeze ${f.address}（管理画面からもできます）`,
    ],
    en: [
      `${f.address} went past its limit of ${f.max} ${what.en} per hour (${f.count}) and is frozen: its account may be hijacked.`,
      `Its further mail gets ${f.code}. Once checked, unfreeze it: gatehouse accounts unfreeze ${f.address} (or in the admin window).`,
    ],
  };
}

/** The notice as message bytes (CRLF), ready for the spool with the null sender. */
export async function composeNotice(n: Notice, hostname: string, now: Date): Promise<Buffer> {
  const text = [...n.ja, '', '----', '', ...n.en, '', `-- Gatehouse (${hostname})`].join('\n');
  const node = new MailComposer({
    from: { name: 'Gatehouse', address: `postmaster@${hostname}` },
    to: n.to,
    subject: `【Gatehouse】${n.subject.ja} / ${n.subject.en}`,
    text,
    date: now,
    messageId: `<${now.getTime().toString(36)}.${Math.random().toString(36).slice(2)}.notice@${hostname}>`,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Gatehouse-Notice': n.kind },
  }).compile();
  const raw = await node.build();
  return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/**
 * The bounce for held mail that was rejected or expired: an RFC 3464 DSN (multipart/report)
 * whose human part is a notice in Japanese and English with the approver's reason (UTF-8, as
 * typed) and the message's summary; the delivery-status part says 5.7.1 for each held
 * recipient with the reason in ASCII; the original header block follows. Sent with the null
 * sender to the envelope sender.
 */
export function rejectionDsn(opts: {
  item: HeldItem;
  hostname: string;
  action: 'rejected' | 'expired';
  by: string;
  reason: string;
  originalHeaders: Buffer;
  now: Date;
}): Buffer {
  const { item, hostname, now } = opts;
  const boundary = `=_gatehouse_${randomBytes(12).toString('hex')}`;
  const ja =
    opts.action === 'rejected'
      ? ['外部宛てのメールは承認者に差し戻されたため、送信していません（社内宛てには配送済みです）。', `差し戻した人: ${opts.by}`, `理由: ${opts.reason || '（なし）'}`]
      : ['外部宛てのメールは期限までに承認されなかったため、送信していません（社内宛てには配送済みです）。'];
  const en =
    opts.action === 'rejected'
      ? ['Your message was rejected by its approver and was not sent to its external recipients (colleagues have it).', `Rejected by: ${opts.by}`, `Reason: ${opts.reason || '(none)'}`]
      : ['Nobody approved your message in time (approval expired); it was not sent to its external recipients (colleagues have it).'];
  const text = [...ja, '', ...summary(item, 'ja'), '', '----', '', ...en, '', ...summary(item, 'en'), ''].join('\r\n');
  const ascii = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');
  const diagnostic = opts.action === 'rejected' ? `rejected by the approver (${ascii(opts.by)})${opts.reason ? `: ${ascii(opts.reason)}` : ''}` : 'approval expired: nobody approved it in time';
  const status = [
    `Reporting-MTA: dns; ${hostname}\r\nX-Gatehouse-Queue-ID: ${item.id}\r\nArrival-Date: ${rfc5322Date(new Date(item.receivedAt))}`,
    ...item.recipients.map((r) => `Final-Recipient: rfc822; ${r}\r\nAction: failed\r\nStatus: 5.7.1\r\nDiagnostic-Code: X-Gatehouse; ${diagnostic}\r\nLast-Attempt-Date: ${rfc5322Date(now)}`),
  ].join('\r\n\r\n');
  const headers = opts.originalHeaders.toString('utf8').replace(/\r?\n/g, '\r\n').replace(/(\r\n)*$/, '\r\n');
  const subject = opts.action === 'rejected' ? '差し戻されました / Rejected by the approver' : '承認期限切れ / Approval expired';
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${hostname}>`,
    `To: <${item.sender}>`,
    `Subject: =?UTF-8?B?${Buffer.from(`【Gatehouse】${subject}`, 'utf8').toString('base64')}?=`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${now.getTime().toString(36)}.${randomBytes(6).toString('hex')}.dsn@${hostname}>`,
    'Auto-Submitted: auto-replied',
    'X-Gatehouse-Notice: ' + opts.action,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n boundary="${boundary}"`,
  ].join('\r\n');
  const b64 = (Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  return Buffer.from(
    [
      `${head}\r\n\r\nThis is a MIME-encapsulated message.\r\n`,
      `--${boundary}\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`,
      `--${boundary}\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n${status}\r\n`,
      `--${boundary}\r\nContent-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: ${/[^\x00-\x7f]/.test(headers) ? '8bit' : '7bit'}\r\n\r\n${headers}`,
      `--${boundary}--\r\n`,
    ].join('\r\n'),
    'utf8',
  );
}

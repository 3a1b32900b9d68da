/*
 * `gatehouse message show <queue-id>` prints one message's timeline as text (received,
 * each decision with its rule in plain words, queued, every attempt, delivered / bounced /
 * expired, and the bounces it caused); `gatehouse message search <text> [--days N]` lists
 * the messages whose address, subject, queue id or Message-ID contains the text, with their
 * queue ids. `gatehouse delivery pause|resume|status|hold <domain>|release <domain>` controls
 * outgoing delivery apart from receiving. Each goes through the command layer like every
 * verb; --json prints the command's answer as is. A message no log names exits 2.
 */
import { formatTime } from '../core/log/index.js';
import type { DeliveryStatus, MessageTimeline, TimelineStep } from '../shared/contract.js';
import { whyText } from '../shared/explain.js';
import type { MessageSummary } from '../shared/messages.js';
import type { ReceiveLogEntry, RuleName } from '../shared/types.js';
import type { Client } from './client.js';
import { UsageError, type ParsedArgs } from './args.js';
import { print, printJson, table } from './output.js';

/**
 * Rules in plain words (the window has them in both languages). Keyed by RuleName, so a rule
 * added to the policy without its words here does not compile.
 */
const RULE_WORDS: Record<RuleName, string> = {
  'address-syntax': 'the address uses a relay trick or invalid syntax',
  'inbound': 'recipient in an operated domain with a route: accepted for the office mail server',
  'no-route': 'recipient in an operated domain, but no route (Gateway.dat line) for it',
  'recipient-unknown': 'the office mail server does not know this recipient',
  'relay-denied': 'external recipient from a client that may not relay',
  'block-external': "the sender's account may not send outside the office, and the recipient is not on its allow-list",
  'block-external-header-from': 'the From: header names an account that may not send outside the office',
  'relay': 'trusted client, external recipient: relayed',
  'sender-ok': 'sender accepted',
  'sender-login-mismatch': 'the login may not use this sender address',
  'too-many-recipients': 'more recipients than allowed in one message',
  'message-too-big': 'larger than the size limit',
  'bad-line-endings': 'bare CR or NUL in the message (SMTP smuggling guard)',
  'too-many-clients': 'too many connections',
  'too-many-connections-from-ip': 'too many connections from this address',
  'storage-error': 'could not be written to disk; the client was told to retry',
  // outbound controls (誤送信防止)
  'delay': 'the account delays external mail: the external copy waits so the sender can cancel it or send it now; colleagues get it at once',
  'hold-approval': 'the account needs approval: the external copy is held until an approver decides; colleagues get it at once',
  'approved': 'an approver approved the held mail: sent on to its external recipients',
  'rejected-by-approver': 'an approver rejected the held mail: not sent; the sender got a bounce with the reason',
  'approval-expired': 'nobody approved the held mail in time: not sent; the sender got a bounce',
  'delay-cancelled': 'the delayed mail was cancelled: nothing went to its external recipients',
  'delay-sent-now': 'the delayed mail was sent at once, before its time',
  'bcc-added': "automatic Bcc of the sender's account (envelope only, no header changed)",
  'bcc-convert': 'many external To/Cc addresses: turned into an undisclosed-recipients group (every recipient still gets it)',
  'sender-frozen': 'the sender went past its hourly sending limit and is frozen until an admin unfreezes it',
};

function addr(a: string | undefined): string {
  return a === undefined ? '' : a === '' ? '<>' : a;
}

function ruleWords(rule: string | undefined): string {
  if (!rule) return '';
  const words = (RULE_WORDS as Record<string, string | undefined>)[rule];
  return words ? `${rule}: ${words}` : rule;
}

/** One step as `time  label  text`. */
function stepLine(s: TimelineStep, client?: MessageTimeline['client']): [string, string, string] {
  const t = formatTime(s.ts);
  const reply = s.reply ? ` ${s.reply.startsWith(String(s.code ?? '')) ? s.reply : `${s.code ?? ''} ${s.reply}`.trim()}` : '';
  if (s.source === 'receive') {
    switch (s.type) {
      case 'connect':
        return [t, 'received', `connection from ${client?.ip ?? ''}${client?.helo ? ` (${client.helo})` : ''}${client?.trusted ? ', trusted' : ''}${client?.auth ? `, login ${client.auth}` : ''}${s.tls ? ', TLS' : ''}`];
      case 'mail':
        return [t, 'decision', `sender ${addr(s.sender)}: ${s.decision === 'reject' ? 'REFUSED' : 'accepted'} (${ruleWords(s.rule)})${s.decision === 'reject' ? reply : ''}`];
      case 'rcpt':
        return [t, 'decision', `recipient ${addr(s.recipient)}: ${s.decision === 'reject' ? 'REFUSED' : 'accepted'} (${ruleWords(s.rule)})${s.decision === 'reject' ? reply : ''}`];
      case 'data': {
        if (s.decision !== 'accept') return [t, 'decision', `message REFUSED${s.rule ? ` (${ruleWords(s.rule)})` : ''}${reply}`];
        const note = (s.entry as ReceiveLogEntry).note;
        // What the outbound controls did to the accepted message: its own line, not a 'queued'.
        if (s.rule === 'delay' || s.rule === 'hold-approval') {
          const until = note ? /held until (\S+)/.exec(note)?.[1] : undefined;
          return [t, 'held', `as ${s.queueId ?? ''} for ${(s.recipients ?? []).join(', ')}${until ? ` until ${formatTime(until)}` : ''} (${ruleWords(s.rule)})`];
        }
        if (s.rule) return [t, 'decision', `message: ${ruleWords(s.rule)}${note ? ` (${note})` : ''}`];
        return [t, 'queued', `as ${s.queueId ?? ''} for ${(s.recipients ?? []).join(', ')}`];
      }
      case 'hold': {
        // A held copy decided on: approved, rejected, expired, cancelled or sent now.
        const e = s.entry as ReceiveLogEntry;
        return [t, 'decision', `held copy ${s.queueId ?? ''}: ${ruleWords(s.rule)}${e.by ? `; by ${e.by}` : ''}${e.note ? `; ${e.note}` : ''}`];
      }
      default:
        return [t, s.type, `${s.rule ? `${ruleWords(s.rule)} ` : ''}${reply}`.trim()];
    }
  }
  if (s.type === 'attempt') {
    const per = (s.perRecipient ?? []).map((r) => `${r.recipient} ${r.outcome}`).join(', ');
    const why = s.why ? ` — ${whyText(s.why, 'en')}` : '';
    return [t, `attempt ${s.attempt ?? ''}`.trim(), `${s.hop} (${s.via}${s.tls ? ', TLS' : ', no TLS'}): ${s.outcome}${reply}${per ? ` [${per}]` : ''}${why}${s.dsn ? `; bounce ${s.dsn}` : ''}`];
  }
  return [t, s.outcome ?? 'note', `${(s.recipients ?? []).join(', ')}${reply}${s.dsn ? `; bounce ${s.dsn}` : ''}`];
}

/** The final lines: what became of each recipient. */
function outcomeLines(m: MessageSummary, last: string): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const r of m.recipients) {
    if (r.state === 'delivered' || r.state === 'bounced' || r.state === 'expired') out.push([formatTime(last), r.state, r.address]);
  }
  return out;
}

export function timelineText(t: MessageTimeline): string[] {
  const m = t.summary;
  const lines: string[] = [];
  lines.push(`Message ${m.ref}: ${addr(m.sender)} -> ${m.recipients.map((r) => r.address).join(', ')}`);
  if (m.subject) lines.push(`Subject: ${m.subject}`);
  if (m.messageId) lines.push(`Message-ID: ${m.messageId}`);
  lines.push(`Outcome: ${m.outcome}${m.rejected ? ` (${m.rejected} recipient(s) refused)` : ''}`);
  if (t.attachments.length) lines.push(`Attachments: ${t.attachments.join(', ')}`);
  if (t.queue) lines.push(`In the queue: ${t.queue.state}${t.queue.nextAttemptAt ? `, next attempt ${formatTime(t.queue.nextAttemptAt)}` : ''}`);
  lines.push('');
  // The accepted message's data line names the whole envelope; when the outbound controls held
  // some recipients, the copy queued at once is for the others (and a message held whole
  // has no second copy: its data line names the held one).
  const held = new Map<string, Set<string>>();
  for (const s of t.steps) if (s.source === 'receive' && s.type === 'data' && (s.rule === 'delay' || s.rule === 'hold-approval') && s.queueId) held.set(s.queueId, new Set(s.recipients ?? []));
  const heldRcpts = new Set([...held.values()].flatMap((x) => [...x]));
  const rows: [string, string, string][] = [];
  for (const s of t.steps) {
    if (s.source === 'receive' && s.type === 'data' && s.decision === 'accept' && !s.rule && held.size > 0) {
      if (s.queueId && held.has(s.queueId)) continue;
      rows.push(stepLine({ ...s, recipients: (s.recipients ?? []).filter((r) => !heldRcpts.has(r)) }, t.client));
      continue;
    }
    rows.push(stepLine(s, t.client));
  }
  const lastSend = [...t.steps].reverse().find((s) => s.source === 'send');
  rows.push(...outcomeLines(m, lastSend?.ts ?? m.lastTs));
  for (const b of t.bounces) {
    rows.push([formatTime(b.steps[0]?.ts ?? m.lastTs), 'bounce', `${b.queueId} to ${addr(m.sender)}`]);
    for (const s of b.steps) if (s.source === 'send') rows.push(stepLine(s, t.client));
  }
  const w = Math.max(...rows.map((r) => r[1].length), 8);
  for (const [time, label, text] of rows) lines.push(`${time}  ${label.padEnd(w)}  ${text}`);
  return lines;
}

export async function cmdMessage(c: Client, a: ParsedArgs): Promise<number> {
  const [sub, arg] = a.positionals;
  if (sub === 'show') {
    if (!arg) throw new UsageError('message show needs a queue id (or a ref from message search)');
    const day = typeof a.flags.day === 'string' ? a.flags.day : undefined;
    const t = await c.call('messages.timeline', day ? { ref: arg, day } : { ref: arg });
    if (a.flags.json) return printJson(t), 0;
    for (const l of timelineText(t)) print(l);
    return 0;
  }
  if (sub === 'search') {
    const text = a.positionals.slice(1).join(' ');
    if (!text) throw new UsageError('message search needs a text (an address, a subject, a queue id or a Message-ID)');
    const days = a.flags.days === undefined ? undefined : Number(a.flags.days);
    if (days !== undefined && !(Number.isInteger(days) && days >= 1)) throw new UsageError('--days needs a whole number of days, 1 or more');
    const r = await c.call('messages.search', { text, ...(days ? { days } : {}) });
    if (a.flags.json) return printJson(r), 0;
    if (r.messages.length === 0) print(`no message matches "${text}" (${r.days} day(s) searched)`);
    else {
      table(
        ['time', 'ref (queue id)', 'outcome', 'sender', 'recipients', 'subject'],
        r.messages.map((m) => [formatTime(m.ts), m.ref, m.outcome, addr(m.sender), m.recipients.map((x) => x.address).join(' '), m.subject ?? '']),
      );
      if (r.truncated) print(`(more matched; the newest ${r.messages.length} are shown)`);
    }
    return 0;
  }
  throw new UsageError('usage: gatehouse message show <queue-id> | message search <text> [--days N]');
}

function deliveryText(s: DeliveryStatus): string[] {
  const out = [s.paused ? `outgoing delivery: PAUSED since ${formatTime(s.pausedAt ?? '')}${s.pausedVia ? ` (by ${s.pausedVia})` : ''}; mail is still received and queued` : 'outgoing delivery: running'];
  for (const h of s.heldDomains) out.push(`held: mail to ${h.domain} (since ${formatTime(h.since)})`);
  out.push(`queue: ${s.queue.total} message(s), ${s.queue.deferred} deferred, ${s.queue.hold} on hold`);
  out.push('(kept across a restart: delivery-control.json in the data folder)');
  return out;
}

export async function cmdDelivery(c: Client, a: ParsedArgs): Promise<number> {
  const [sub, domain] = a.positionals;
  let s: DeliveryStatus;
  switch (sub) {
    case 'status':
      s = await c.call('delivery.status');
      break;
    case 'pause':
      s = await c.call('delivery.pause');
      break;
    case 'resume':
      s = await c.call('delivery.resume');
      break;
    case 'hold':
    case 'release':
      if (!domain) throw new UsageError(`delivery ${sub} needs a domain`);
      s = await c.call(sub === 'hold' ? 'delivery.hold' : 'delivery.release', { domain });
      break;
    default:
      throw new UsageError('usage: gatehouse delivery pause|resume|status|hold <domain>|release <domain>');
  }
  if (a.flags.json) return printJson(s), 0;
  for (const l of deliveryText(s)) print(l);
  return 0;
}

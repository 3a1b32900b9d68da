/*
 * senderlog lines: one per hop tried (attemptLine), plus bookkeeping lines with via 'dsn'
 * and no hop for what happened to a message without a hop answering: lifetime expiry,
 * a bounce by the administrator, a bounce that was dropped because the sender was null.
 * Pure; never throws.
 */
import type { SenderLogEntry } from '../../shared/types.js';
import type { HopTry } from './attempt.js';
import { summarize } from './outcome.js';
import type { QueuedHeader } from './types.js';

export function attemptLine(header: QueuedHeader, attempt: number, t: HopTry, stillPending: ReadonlySet<string>, nextAttemptAt: string | undefined): SenderLogEntry {
  const results = t.classified.results;
  const e: SenderLogEntry = {
    ts: t.at.toISOString(),
    queueId: header.id,
    attempt,
    sender: header.sender,
    recipients: [...t.recipients],
    hop: t.label,
    via: t.via,
    tls: t.tls,
    outcome: summarize(results),
    durationMs: t.durationMs,
    perRecipient: results.map((r) => {
      const p: NonNullable<SenderLogEntry['perRecipient']>[number] = { recipient: r.recipient, reply: r.reply, outcome: r.outcome };
      if (r.code !== undefined) p.code = r.code;
      return p;
    }),
  };
  if (t.mx) e.mx = t.mx;
  if (t.dkim) e.dkim = t.dkim;
  if (t.foldedLines) e.foldedLines = t.foldedLines;
  if (t.tlsInfo) {
    e.tlsVersion = t.tlsInfo.version;
    e.tlsVerified = t.tlsInfo.verified;
    if (t.tlsInfo.verifyError) e.tlsVerifyError = t.tlsInfo.verifyError;
  }
  if (t.tlsPolicy) e.tlsPolicy = { ...t.tlsPolicy };
  if (t.classified.code !== undefined) e.code = t.classified.code;
  if (t.classified.reply) e.reply = t.classified.reply;
  // Only when one of this hop's deferred recipients is really still waiting after the attempt.
  if (nextAttemptAt && results.some((r) => r.outcome === 'deferred' && stillPending.has(r.recipient))) e.nextAttemptAt = nextAttemptAt;
  return e;
}

export function noteLine(
  header: QueuedHeader,
  attempt: number,
  at: Date,
  outcome: 'expired' | 'bounced',
  recipients: readonly { recipient: string; code?: number; reply: string }[],
  reply: string,
): SenderLogEntry {
  return {
    ts: at.toISOString(),
    queueId: header.id,
    attempt,
    sender: header.sender,
    recipients: recipients.map((r) => r.recipient),
    hop: '',
    via: 'dsn',
    tls: false,
    outcome,
    reply,
    durationMs: 0,
    perRecipient: recipients.map((r) => {
      const p: NonNullable<SenderLogEntry['perRecipient']>[number] = { recipient: r.recipient, reply: r.reply, outcome: 'bounced' };
      if (r.code !== undefined) p.code = r.code;
      return p;
    }),
  };
}

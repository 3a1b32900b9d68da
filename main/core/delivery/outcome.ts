/*
 * Per-recipient outcome of one SMTP transaction with one next hop. nodemailer's send result
 * (`accepted`, `rejected`, `rejectedErrors[].responseCode`) or error is first normalised into a
 * Transaction (fromSendInfo / fromSendError / fromConnectError), then classify() says, for each
 * recipient, delivered (2xx), deferred (4xx, no reply, connection/TLS/DNS trouble) or bounced
 * (5xx), never all-or-nothing. It also says whether deferred recipients may be tried at the
 * next hop right away (not after a connection lost once the message was sent: that one may
 * have arrived, so it waits for the retry). Pure; never throws.
 */
import type { SenderLogEntry } from '../../shared/types.js';

export type RcptOutcome = 'delivered' | 'deferred' | 'bounced';

export interface RcptResult {
  recipient: string;
  outcome: RcptOutcome;
  /** SMTP reply code, absent when no server answered. */
  code?: number;
  /** The server's reply, or what went wrong when none came. One line, ASCII-safe. */
  reply: string;
  /** RFC 3463 enhanced status (from the reply, or implied by the code / the failure). */
  status: string;
}

export interface RejectInfo {
  recipient: string;
  code?: number;
  reply: string;
}

/** One SMTP transaction with one hop, normalised from what nodemailer reported. */
export type Transaction =
  | { kind: 'sent'; accepted: string[]; rejected: RejectInfo[]; code?: number; reply: string }
  | {
      kind: 'failed';
      /** connect = TCP, greeting, EHLO, STARTTLS, AUTH; envelope = MAIL/RCPT/DATA command; data = the message. */
      stage: 'connect' | 'envelope' | 'data';
      code?: number;
      reply: string;
      /** Status for failures without a reply (connection, TLS, DNS). */
      status?: string;
      /** Per-recipient RCPT rejections known for this transaction. */
      rejected?: RejectInfo[];
      /** The message was (being) sent and no final reply came: it may have arrived. */
      afterData?: boolean;
      /** Fails the same way everywhere (bad address syntax, null MX, no such domain). */
      permanent?: boolean;
    };

export interface Classified {
  results: RcptResult[];
  /** The hop gave at least one final verdict (2xx or 5xx): it works. */
  hopOk: boolean;
  /** Deferred recipients may go to the next hop in this same attempt. */
  tryNextHop: boolean;
  code?: number;
  reply: string;
}

/** What nodemailer errors look like, as far as classification cares. */
export interface SendErrorLike {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  recipient?: string;
  rejectedErrors?: SendErrorLike[];
}

export function outcomeOfCode(code: number | undefined): RcptOutcome {
  if (code === undefined || !Number.isFinite(code)) return 'deferred';
  if (code >= 200 && code < 300) return 'delivered';
  if (code >= 500 && code < 600) return 'bounced';
  return 'deferred';
}

/** One line, printable ASCII only, bounded: replies end up in headers and log lines. */
export function cleanReply(s: string | undefined, max = 900): string {
  const one = String(s ?? '')
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

/** Enhanced status from the reply (`550 5.1.1 ...`), else implied by the code, else `fallback`. */
export function enhancedStatus(reply: string, code: number | undefined, fallback = '4.4.1'): string {
  const m = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/.exec(reply);
  if (m && code !== undefined && m[1][0] === String(code)[0]) return m[1];
  if (code !== undefined) {
    const c = String(code)[0];
    if (c === '2' || c === '4' || c === '5') return `${c}.0.0`;
  }
  return fallback;
}

/** The reply code at the start of a server reply, if any. */
export function replyCode(reply: string | undefined): number | undefined {
  const m = /^([2-5]\d\d)(?:[ -]|$)/.exec(reply ?? '');
  return m ? Number(m[1]) : undefined;
}

function result(recipient: string, outcome: RcptOutcome, code: number | undefined, reply: string, fallbackStatus: string): RcptResult {
  const r: RcptResult = { recipient, outcome, reply, status: enhancedStatus(reply, code, fallbackStatus) };
  if (code !== undefined) r.code = code;
  return r;
}

function rejectInfo(e: SendErrorLike): RejectInfo {
  const reply = cleanReply(e.response ?? e.message);
  const code = e.responseCode ?? replyCode(e.response);
  const r: RejectInfo = { recipient: String(e.recipient ?? ''), reply };
  if (code !== undefined) r.code = code;
  return r;
}

/** A completed transaction (final 2xx to the message). */
export function fromSendInfo(info: { accepted?: unknown[]; rejectedErrors?: SendErrorLike[]; rejected?: unknown[]; response?: string }): Transaction {
  const reply = cleanReply(info.response);
  const accepted = (info.accepted ?? []).map(String);
  const rejected = (info.rejectedErrors ?? []).map(rejectInfo);
  // A rejected address without its error (should not happen) still must not count as sent.
  for (const r of (info.rejected ?? []).map(String)) {
    if (!rejected.some((x) => x.recipient === r)) rejected.push({ recipient: r, reply: 'rejected without a reply' });
  }
  const t: Transaction = { kind: 'sent', accepted, rejected, reply };
  const code = replyCode(info.response);
  if (code !== undefined) t.code = code;
  return t;
}

/** A failure before the session was ready (TCP, greeting, EHLO, STARTTLS, AUTH). */
export function fromConnectError(err: SendErrorLike): Transaction {
  const code = err.responseCode ?? replyCode(err.response);
  const t: Transaction = {
    kind: 'failed',
    stage: 'connect',
    reply: cleanReply(err.response ?? err.message ?? String(err)),
    status: err.code === 'ETLS' ? '4.7.5' : err.code === 'EAUTH' ? '4.7.8' : '4.4.1',
  };
  if (code !== undefined) t.code = code;
  return t;
}

/**
 * A failed send() on a ready session. `afterData`: the server had answered DATA with 354,
 * so the message was (being) transferred when things went wrong.
 */
export function fromSendError(err: SendErrorLike, afterData: boolean): Transaction {
  const code = err.responseCode ?? replyCode(err.response);
  const reply = cleanReply(err.response ?? err.message ?? String(err));
  const rejected = err.rejectedErrors && err.rejectedErrors.length > 0 ? err.rejectedErrors.map(rejectInfo) : undefined;
  if (err.code === 'EENVELOPE' && err.command === 'API' && code === undefined) {
    // nodemailer refused the address itself (CR/LF or <> in it): no server would take it.
    return { kind: 'failed', stage: 'envelope', reply, status: '5.1.3', permanent: true };
  }
  const stage: 'envelope' | 'data' = err.code === 'EMESSAGE' || afterData ? 'data' : 'envelope';
  const t: Transaction = { kind: 'failed', stage, reply, status: stage === 'data' ? '4.4.2' : '4.4.1' };
  if (code !== undefined) t.code = code;
  if (rejected) t.rejected = rejected;
  if (afterData && code === undefined) t.afterData = true;
  return t;
}

/** Per-recipient verdicts for `recipients` (the ones sent in this transaction). */
export function classify(recipients: readonly string[], t: Transaction): Classified {
  const byRcpt = new Map<string, RejectInfo>();
  for (const r of t.rejected ?? []) byRcpt.set(r.recipient, r);
  let results: RcptResult[];
  if (t.kind === 'sent') {
    const accepted = new Set(t.accepted);
    results = recipients.map((rcpt) => {
      const rej = byRcpt.get(rcpt);
      if (rej) return result(rcpt, outcomeOfCode(rej.code), rej.code, rej.reply, '4.0.0');
      if (accepted.has(rcpt)) return result(rcpt, 'delivered', t.code ?? 250, t.reply, '2.0.0');
      return result(rcpt, 'deferred', undefined, `no reply for this recipient (${t.reply})`, '4.4.2');
    });
  } else if (t.stage === 'connect') {
    // A server that will not talk (even with 5xx at the greeting or AUTH) says nothing about
    // the recipients: defer, and let another hop or a later try decide.
    results = recipients.map((rcpt) => result(rcpt, 'deferred', t.code, t.reply, t.status ?? '4.4.1'));
  } else if (t.permanent) {
    results = recipients.map((rcpt) => result(rcpt, 'bounced', t.code, t.reply, t.status ?? '5.0.0'));
  } else {
    results = recipients.map((rcpt) => {
      const rej = byRcpt.get(rcpt);
      if (rej) return result(rcpt, outcomeOfCode(rej.code), rej.code, rej.reply, '4.0.0');
      return result(rcpt, outcomeOfCode(t.code), t.code, t.reply, t.status ?? '4.4.1');
    });
  }
  const uncertain = t.kind === 'failed' && t.afterData === true;
  const c: Classified = {
    results,
    hopOk: results.some((r) => r.outcome !== 'deferred'),
    tryNextHop: !uncertain && results.some((r) => r.outcome === 'deferred'),
    reply: t.reply,
  };
  if (t.code !== undefined) c.code = t.code;
  return c;
}

/** The senderlog outcome for a set of per-recipient results. */
export function summarize(results: readonly { outcome: RcptOutcome }[]): SenderLogEntry['outcome'] {
  if (results.length > 0 && results.every((r) => r.outcome === 'delivered')) return 'delivered';
  if (results.length > 0 && results.every((r) => r.outcome === 'bounced')) return 'bounced';
  if (results.every((r) => r.outcome === 'deferred')) return 'deferred';
  return 'partial';
}

/*
 * The message as the unit an admin thinks in: the receivelog and senderlog lines of one mail,
 * grouped. A message received over SMTP is one mail transaction of a session (`<session>.<txn>`:
 * from its MAIL FROM to its DATA), linked by the queue id its data line names to the delivery
 * attempts in the senderlog; a message that only the senderlog knows (a bounce the gateway
 * wrote, or a day whose receivelog is gone) is its queue id alone. `MessageBook` groups lines as
 * they come (the live window feeds it line by line, the core a day's lines) and answers each
 * message's summary: sender, recipients with what happened to each, subject, outcome.
 * `timelineSteps` turns a message's lines into steps, each with its type (the log event, or
 * 'attempt'/'note' for the senderlog), its rule when one decided, and plain words for a failed
 * reply (explain.ts). Lines of kinds it does not know (rules added later) still become steps,
 * with their rule and reply: nothing is dropped. Pure; never throws on odd lines.
 */
import { explainProblem, type Explained } from './explain.js';
import type { QueueItem, ReceiveLogEntry, SenderLogEntry } from './types.js';

export type AnyEntry = ReceiveLogEntry | SenderLogEntry;

export type MessageOutcome = 'rejected' | 'incomplete' | 'queued' | 'deferred' | 'delivered' | 'partial' | 'bounced' | 'expired';
export type RecipientState = 'rejected' | 'accepted' | 'delivered' | 'deferred' | 'bounced' | 'expired';

export interface MessageRecipient {
  address: string;
  state: RecipientState;
  /** The rule that refused it at RCPT (or after DATA). */
  rule?: string;
  code?: number;
  reply?: string;
}

export interface MessageSummary {
  /** What links to the message: its queue id, else `<session>.<txn>` (never queued). */
  ref: string;
  queueId?: string;
  session?: string;
  txn?: number;
  /** Local day (YYYY-MM-DD) of its first line: where its receivelog lines are. */
  day: string;
  ts: string;
  lastTs: string;
  sender: string;
  clientIp?: string;
  subject?: string;
  messageId?: string;
  size?: number;
  recipients: MessageRecipient[];
  outcome: MessageOutcome;
  /** Recipients refused while it was received. */
  rejected: number;
  /** Delivery attempts made (senderlog lines with a hop). */
  attempts: number;
  /** The last failed reply (for a one-line "why"). */
  problem?: { code?: number; reply: string; why: Explained };
  /** Queue ids of the bounces and delay warnings the gateway sent for it. */
  dsn: string[];
  /** This message is a bounce the gateway wrote for that queue id. */
  dsnFor?: string;
}

export interface TimelineStep {
  ts: string;
  source: 'receive' | 'send';
  /** receivelog: its event (connect, mail, rcpt, data, ...); senderlog: 'attempt' or 'note'. */
  type: string;
  rule?: string;
  decision?: 'accept' | 'reject';
  /** senderlog outcome. */
  outcome?: string;
  sender?: string;
  recipient?: string;
  recipients?: string[];
  code?: number;
  reply?: string;
  hop?: string;
  via?: string;
  tls?: boolean;
  attempt?: number;
  queueId?: string;
  /** The bounce / delay warning this attempt spooled. */
  dsn?: string;
  nextAttemptAt?: string;
  perRecipient?: SenderLogEntry['perRecipient'];
  /** Plain words for a failed reply or connection. */
  why?: Explained;
  entry: AnyEntry;
}

export interface MessageTimeline {
  summary: MessageSummary;
  steps: TimelineStep[];
  /** Who sent it: the session's connect line. */
  client?: { ip: string; host?: string; helo?: string; tls: boolean; trusted?: boolean; auth?: string };
  /** Still in the queue: its state now. */
  queue?: QueueItem;
  /** Attachment file names (read from the queued message; empty once it left the queue). */
  attachments: string[];
  /** The bounces and delay warnings sent for it, each with its own steps. */
  bounces: { queueId: string; steps: TimelineStep[] }[];
}

export function isReceiveEntry(e: AnyEntry): e is ReceiveLogEntry {
  return 'event' in e;
}

/** Local YYYY-MM-DD of an ISO time (the day file it is in). */
export function dayOf(ts: string): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** `<session>.<txn>` of a transaction; the bare session for lines written before txn existed. */
export function txnRef(session: string, txn: number | undefined): string {
  return txn === undefined ? session : `${session}.${txn}`;
}

const DSN_SESSION = /^dsn-(.+)$/;

interface Msg {
  key: string;
  summary: MessageSummary;
  rcpts: Map<string, MessageRecipient>;
  lines: AnyEntry[];
  dataRejected?: { rule?: string; code?: number; reply?: string };
  queued: boolean;
  expiredSeen: boolean;
}

interface SessionInfo {
  connect?: ReceiveLogEntry;
  txn: number;
  /** Key of the transaction its next rcpt/data line belongs to. */
  current?: string;
}

/** Most sessions remembered for grouping (a live window runs for days). */
const MAX_SESSIONS = 20_000;

export class MessageBook {
  private readonly byKey = new Map<string, Msg>();
  private readonly byQueue = new Map<string, Msg>();
  private readonly sessions = new Map<string, SessionInfo>();
  /** Bumped on every change (the window's lists re-render from it). */
  version = 0;

  get size(): number {
    return this.byKey.size;
  }

  add(e: AnyEntry): Msg | null {
    const m = isReceiveEntry(e) ? this.addReceive(e) : this.addSend(e);
    if (m) {
      m.lines.push(e);
      if (e.ts > m.summary.lastTs) m.summary.lastTs = e.ts;
      this.version++;
    }
    return m;
  }

  private session(id: string): SessionInfo {
    let s = this.sessions.get(id);
    if (!s) {
      s = { txn: 0 };
      this.sessions.set(id, s);
      if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    return s;
  }

  private newMsg(key: string, e: AnyEntry, fields: Partial<MessageSummary>): Msg {
    const summary: MessageSummary = {
      ref: key,
      day: dayOf(e.ts),
      ts: e.ts,
      lastTs: e.ts,
      sender: '',
      recipients: [],
      outcome: 'incomplete',
      rejected: 0,
      attempts: 0,
      dsn: [],
      ...fields,
    };
    const m: Msg = { key, summary, rcpts: new Map(), lines: [], queued: false, expiredSeen: false };
    this.byKey.set(key, m);
    return m;
  }

  private addReceive(e: ReceiveLogEntry): Msg | null {
    if (e.event !== 'mail' && e.event !== 'rcpt' && e.event !== 'data' && e.queueId) {
      // A line about a queued message after the fact (a held copy's decision): a step of it.
      const byId = this.byQueue.get(e.queueId);
      if (byId) {
        if (e.event === 'hold') this.applyHold(byId, e);
        return byId;
      }
    }
    if (!e.session) return null;
    const s = this.session(e.session);
    if (e.event === 'connect') {
      s.connect = e;
      return null;
    }
    if (e.event === 'close') {
      this.sessions.delete(e.session);
      return null;
    }
    if (e.event !== 'mail' && e.event !== 'rcpt' && e.event !== 'data') {
      // Auth, errors, service notes: part of the session, not of one message; lines of kinds
      // added later within a transaction belong to it.
      const current = s.current ? this.byKey.get(s.current) : undefined;
      return e.event === 'auth' || e.event === 'error' || e.event === 'service' || e.event === 'reject-connection' ? null : (current ?? null);
    }
    let key: string;
    if (e.event === 'mail') {
      const txn = e.txn ?? s.txn + 1;
      s.txn = txn;
      key = txnRef(e.session, e.txn === undefined && txn === 1 ? undefined : txn);
      s.current = key;
    } else {
      key = e.txn !== undefined ? txnRef(e.session, e.txn) : (s.current ?? txnRef(e.session, undefined));
    }
    let m = this.byKey.get(key);
    if (!m) {
      m = this.newMsg(key, e, { session: e.session, txn: e.txn, clientIp: e.clientIp || s.connect?.clientIp });
      if (s.connect) m.lines.push(s.connect);
    }
    const sum = m.summary;
    if (e.sender !== undefined && !sum.sender) sum.sender = e.sender;
    if (e.event === 'rcpt' && e.recipient !== undefined) {
      const r: MessageRecipient = { address: e.recipient, state: e.decision === 'reject' ? 'rejected' : 'accepted' };
      if (e.decision === 'reject') {
        if (e.rule) r.rule = e.rule;
        if (e.code !== undefined) r.code = e.code;
        if (e.reply) r.reply = e.reply;
      }
      m.rcpts.set(e.recipient.toLowerCase(), r);
    }
    if (e.event === 'data') {
      for (const a of e.recipients ?? []) {
        if (!m.rcpts.has(a.toLowerCase())) m.rcpts.set(a.toLowerCase(), { address: a, state: 'accepted' });
      }
      if (e.decision === 'accept' && e.queueId) {
        // The first queue id names the message; a second one (a held copy) is another name.
        if (!m.queued) {
          sum.queueId = e.queueId;
          sum.ref = e.queueId;
        }
        m.queued = true;
        // A senderlog line seen before its data line (rare: pages read out of order): merge it.
        const early = this.byQueue.get(e.queueId);
        if (early && early !== m) this.merge(early, m);
        this.byQueue.set(e.queueId, m);
      } else if (e.decision === 'reject') {
        m.dataRejected = { rule: e.rule, code: e.code, reply: e.reply };
      }
      if (e.subject !== undefined) sum.subject = e.subject;
      if (e.messageId !== undefined) sum.messageId = e.messageId;
      if (e.size !== undefined) sum.size = e.size;
    }
    this.refresh(m);
    return m;
  }

  /**
   * A held copy decided on: the copy it sent on (approved, sent now) is this message under
   * another queue id, so its attempts land here; a cancelled copy's recipients are refused
   * (by the sender). Rejected and expired copies are bounced by their senderlog line.
   */
  private applyHold(m: Msg, e: ReceiveLogEntry): void {
    if (e.released) this.byQueue.set(e.released, m);
    if (e.rule === 'delay-cancelled') {
      for (const a of e.recipients ?? []) {
        const k = a.toLowerCase();
        const r = m.rcpts.get(k) ?? { address: a, state: 'accepted' as RecipientState };
        if (r.state !== 'accepted') continue;
        r.state = 'rejected';
        r.rule = e.rule;
        m.rcpts.set(k, r);
      }
      this.refresh(m);
    }
  }

  private merge(from: Msg, into: Msg): void {
    this.byKey.delete(from.key);
    for (const l of from.lines) into.lines.push(l);
    for (const l of from.lines) if (!isReceiveEntry(l)) this.applySend(into, l);
  }

  private addSend(e: SenderLogEntry): Msg | null {
    if (!e.queueId) return null;
    let m = this.byQueue.get(e.queueId);
    if (!m) {
      m = this.newMsg(e.queueId, e, { queueId: e.queueId, sender: e.sender });
      m.queued = true;
      for (const r of e.recipients) m.rcpts.set(r.toLowerCase(), { address: r, state: 'accepted' });
      this.byQueue.set(e.queueId, m);
    }
    this.applySend(m, e);
    this.refresh(m);
    return m;
  }

  private applySend(m: Msg, e: SenderLogEntry): void {
    const sum = m.summary;
    if (e.hop) sum.attempts = Math.max(sum.attempts, e.attempt);
    for (const id of [e.dsn, e.delayDsn]) if (id && !sum.dsn.includes(id)) sum.dsn.push(id);
    const set = (address: string, state: RecipientState, code?: number, reply?: string) => {
      const k = address.toLowerCase();
      const r = m.rcpts.get(k) ?? { address, state };
      r.state = state;
      if (code !== undefined) r.code = code;
      else delete r.code;
      if (reply) r.reply = reply;
      m.rcpts.set(k, r);
    };
    if (e.outcome === 'expired') {
      m.expiredSeen = true;
      for (const a of e.recipients) set(a, 'expired', undefined, e.reply);
    } else if (e.perRecipient && e.perRecipient.length > 0) {
      for (const p of e.perRecipient) set(p.recipient, p.outcome, p.code, p.reply);
    } else {
      const state: RecipientState = e.outcome === 'delivered' ? 'delivered' : e.outcome === 'bounced' ? 'bounced' : 'deferred';
      for (const a of e.recipients) set(a, state, e.code, e.reply);
    }
    if (e.outcome !== 'delivered' && (e.reply || e.code !== undefined)) {
      const reply = e.reply ?? String(e.code);
      sum.problem = { code: e.code, reply, why: explainProblem(e.code, reply) };
    }
  }

  private refresh(m: Msg): void {
    const sum = m.summary;
    if (m.dataRejected) {
      for (const r of m.rcpts.values()) {
        if (r.state !== 'accepted') continue;
        r.state = 'rejected';
        if (m.dataRejected.rule) r.rule = m.dataRejected.rule;
        if (m.dataRejected.code !== undefined) r.code = m.dataRejected.code;
        if (m.dataRejected.reply) r.reply = m.dataRejected.reply;
      }
    }
    sum.recipients = [...m.rcpts.values()];
    sum.rejected = sum.recipients.filter((r) => r.state === 'rejected').length;
    const dsnOf = sum.session ? DSN_SESSION.exec(sum.session) : null;
    if (dsnOf) sum.dsnFor = dsnOf[1];
    sum.outcome = outcomeOf(m);
    if (!sum.problem) {
      const refused = sum.recipients.find((r) => r.state === 'rejected' && r.reply);
      if (refused) sum.problem = { code: refused.code, reply: refused.reply!, why: explainProblem(refused.code, refused.reply) };
    }
  }

  /** A message by its ref (queue id or `<session>.<txn>`). */
  get(ref: string): { summary: MessageSummary; lines: AnyEntry[] } | undefined {
    const m = this.byQueue.get(ref) ?? this.byKey.get(ref);
    return m ? { summary: m.summary, lines: m.lines } : undefined;
  }

  /** Every message, oldest first (by its first line). */
  list(): MessageSummary[] {
    return [...this.byKey.values()].map((m) => m.summary).sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  }

  /** A bounce the gateway wrote is queued with session `dsn-<original id>`: its ref. */
  static dsnOriginal(summary: MessageSummary): string | undefined {
    return summary.dsnFor;
  }
}

function outcomeOf(m: Msg): MessageOutcome {
  const rs = [...m.rcpts.values()];
  if (!m.queued) return rs.some((r) => r.state === 'rejected') || m.dataRejected ? 'rejected' : 'incomplete';
  const live = rs.filter((r) => r.state !== 'rejected');
  if (live.length === 0) return 'queued';
  if (live.some((r) => r.state === 'deferred')) return 'deferred';
  if (live.some((r) => r.state === 'accepted')) return m.summary.attempts > 0 ? 'deferred' : 'queued';
  const delivered = live.filter((r) => r.state === 'delivered').length;
  if (delivered === live.length) return 'delivered';
  if (delivered > 0) return 'partial';
  if (live.every((r) => r.state === 'expired')) return 'expired';
  return 'bounced';
}

/** One log line as a step of a timeline. */
export function toStep(e: AnyEntry): TimelineStep {
  if (isReceiveEntry(e)) {
    const s: TimelineStep = { ts: e.ts, source: 'receive', type: e.event, entry: e };
    if (e.rule) s.rule = e.rule;
    if (e.decision) s.decision = e.decision;
    if (e.sender !== undefined) s.sender = e.sender;
    if (e.recipient !== undefined) s.recipient = e.recipient;
    if (e.recipients) s.recipients = e.recipients;
    if (e.code !== undefined) s.code = e.code;
    if (e.reply) s.reply = e.reply;
    if (e.queueId) s.queueId = e.queueId;
    if (e.tls) s.tls = e.tls;
    if (e.decision === 'reject' && !e.rule) s.why = explainProblem(e.code, e.reply ?? e.error);
    return s;
  }
  const s: TimelineStep = {
    ts: e.ts,
    source: 'send',
    type: e.hop ? 'attempt' : 'note',
    outcome: e.outcome,
    sender: e.sender,
    recipients: e.recipients,
    tls: e.tls,
    attempt: e.attempt,
    queueId: e.queueId,
    entry: e,
  };
  const rule = (e as SenderLogEntry & { rule?: string }).rule;
  if (rule) s.rule = rule;
  if (e.hop) s.hop = e.hop;
  if (e.via) s.via = e.via;
  if (e.code !== undefined) s.code = e.code;
  if (e.reply) s.reply = e.reply;
  if (e.dsn) s.dsn = e.dsn;
  else if (e.delayDsn) s.dsn = e.delayDsn;
  if (e.nextAttemptAt) s.nextAttemptAt = e.nextAttemptAt;
  if (e.perRecipient) s.perRecipient = e.perRecipient;
  if (e.outcome !== 'delivered' && (e.reply || e.code !== undefined)) s.why = explainProblem(e.code, e.reply);
  return s;
}

/** The steps of a message, in time order (receivelog before senderlog at the same instant). */
export function timelineSteps(lines: readonly AnyEntry[]): TimelineStep[] {
  const seen = new Set<AnyEntry>();
  const steps: TimelineStep[] = [];
  for (const l of lines) {
    if (seen.has(l)) continue;
    seen.add(l);
    steps.push(toStep(l));
  }
  return steps.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.source === b.source ? 0 : a.source === 'receive' ? -1 : 1));
}

/** Case-insensitive: does the message's address, subject, queue id or Message-ID contain `needle`? */
export function entryMatches(e: AnyEntry, needle: string): boolean {
  const n = needle.toLowerCase();
  const has = (v: string | undefined) => v !== undefined && v.toLowerCase().includes(n);
  if (isReceiveEntry(e)) {
    return has(e.sender) || has(e.recipient) || (e.recipients ?? []).some(has) || has(e.headerFrom) || has(e.subject) || has(e.queueId) || has(e.messageId);
  }
  return has(e.sender) || e.recipients.some(has) || has(e.queueId) || has(e.dsn) || has(e.delayDsn);
}

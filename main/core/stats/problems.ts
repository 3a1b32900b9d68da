/*
 * The dashboard's "what went wrong lately", message by message: refusals (a 550 to the
 * part-timer's external recipient, a relay attempt from outside) and delivery problems
 * (deferred, bounced, expired), newest first, each with the message's timeline ref, the rule
 * or the reply, and plain words (explain.ts). Lines about the same message and kind fold into
 * one entry with a count (a message retried ten times is one problem, not ten). Fed with the
 * same lines as the traffic counters; keeps the last 50 in memory; never throws.
 */
import type { DashboardProblem } from '../../shared/contract.js';
import { explainProblem } from '../../shared/explain.js';
import { dayOf, txnRef } from '../../shared/messages.js';
import type { ReceiveLogEntry, SenderLogEntry } from '../../shared/types.js';

const MAX = 50;

export class ProblemBook {
  private readonly items: DashboardProblem[] = [];
  /** `<session>.<txn>` of a refused recipient -> its entry, until the data line names a queue id. */
  private readonly pendingTxn = new Map<string, DashboardProblem>();

  /** Folds `p` into the entry for the same message and kind, or adds it; returns the stored entry. */
  private put(p: Omit<DashboardProblem, 'count'>): DashboardProblem {
    const same = this.items.find((x) => x.ref === p.ref && x.kind === p.kind);
    if (same) {
      same.count++;
      same.ts = p.ts > same.ts ? p.ts : same.ts;
      for (const r of p.recipients) if (!same.recipients.includes(r)) same.recipients.push(r);
      if (p.reply) same.reply = p.reply;
      if (p.code !== undefined) same.code = p.code;
      if (p.why) same.why = p.why;
      return same;
    }
    // `p` is the caller's fresh object: stored as it is (no copy per refused session).
    const added = p as DashboardProblem;
    added.count = 1;
    this.items.push(added);
    if (this.items.length > MAX) {
      // A refusal waits in pendingTxn under its own ref (see addReceive); once it leaves the
      // list nothing links to it any more. A lookup, not a walk over all the waiting ones.
      const gone = this.items.shift()!;
      if (this.pendingTxn.get(gone.ref) === gone) this.pendingTxn.delete(gone.ref);
    }
    return added;
  }

  addReceive(e: ReceiveLogEntry): void {
    if (!e.session) return;
    const key = txnRef(e.session, e.txn);
    if (e.event === 'data' && e.decision === 'accept' && e.queueId) {
      // The refused recipient's message was queued for the others: link to the queued one.
      const p = this.pendingTxn.get(key);
      if (p) {
        p.ref = e.queueId;
        this.pendingTxn.delete(key);
      }
      return;
    }
    if (e.decision !== 'reject' || (e.event !== 'rcpt' && e.event !== 'data' && e.event !== 'mail')) return;
    // Its own array: the entry is stored and later refusals of the message are added to it.
    const recipients = e.recipient ? [e.recipient] : [...(e.recipients ?? [])];
    const p: Omit<DashboardProblem, 'count'> = { ts: e.ts, kind: 'rejected', ref: key, day: dayOf(e.ts), sender: e.sender ?? '', recipients };
    if (e.rule) p.rule = e.rule;
    if (e.code !== undefined) p.code = e.code;
    if (e.reply) p.reply = e.reply;
    if (!e.rule) p.why = explainProblem(e.code, e.reply ?? e.error);
    const stored = this.put(p);
    // Waits under its ref (= key) until the data line names the queue id (relinked above).
    if (e.event !== 'data') this.pendingTxn.set(key, stored);
    if (this.pendingTxn.size > MAX * 4) this.pendingTxn.delete(this.pendingTxn.keys().next().value!);
  }

  addSend(e: SenderLogEntry): void {
    if (e.outcome !== 'deferred' && e.outcome !== 'bounced' && e.outcome !== 'expired' && e.outcome !== 'partial') return;
    // A null-sender drop note follows the attempt line that already told the problem.
    if (e.via === 'dsn' && e.reply?.startsWith('null sender')) return;
    const failing = (e.perRecipient ?? []).filter((r) => r.outcome !== 'delivered');
    const failed = failing.map((r) => r.recipient);
    // The failing recipient's own reply says why (a partial send's summary line says 250).
    const code = failing[0]?.code ?? e.code;
    const reply = failing[0]?.reply ?? e.reply;
    const kind = e.outcome === 'partial' ? ((e.perRecipient ?? []).some((r) => r.outcome === 'bounced') ? 'bounced' : 'deferred') : e.outcome;
    const p: Omit<DashboardProblem, 'count'> = {
      ts: e.ts,
      kind,
      ref: e.queueId,
      day: dayOf(e.ts),
      sender: e.sender,
      recipients: failed.length ? failed : [...e.recipients],
      why: explainProblem(code, reply),
    };
    if (code !== undefined) p.code = code;
    if (reply) p.reply = reply;
    if (e.hop) p.hop = e.hop;
    this.put(p);
  }

  /** Newest first. */
  list(): DashboardProblem[] {
    return [...this.items].sort((a, b) => (a.ts > b.ts ? -1 : a.ts < b.ts ? 1 : 0)).map((p) => ({ ...p, recipients: [...p.recipients] }));
  }
}

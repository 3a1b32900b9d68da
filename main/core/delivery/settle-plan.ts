/*
 * The bookkeeping after an attempt, without I/O: sort the pending recipients by result
 * (delivered / bounced / deferred, and deferred turned expired once the lifetime is over),
 * describe them for a DSN, and build the next SpoolState from the current one. The runner
 * does the writing, in the order that keeps mail safe (DSN, then state, then remove).
 * Pure; never throws.
 */
import type { FinalResult } from './attempt.js';
import { expiresAt } from './backoff.js';
import type { DsnRecipient } from './dsn.js';
import type { SpoolState } from './types.js';

export interface Sorted {
  delivered: FinalResult[];
  bounced: FinalResult[];
  deferred: FinalResult[];
  /** Deferred ones whose message outlived maxLifetime: they fail now (5.4.7). */
  expired: FinalResult[];
}

/** `expiredNow`: the message is past its lifetime (and this attempt really tried). */
export function sortResults(pending: readonly string[], results: ReadonlyMap<string, FinalResult>, expiredNow: boolean): Sorted {
  const out: Sorted = { delivered: [], bounced: [], deferred: [], expired: [] };
  for (const rcpt of pending) {
    const r = results.get(rcpt);
    if (!r) continue; // not part of this attempt: stays pending
    if (r.outcome === 'delivered') out.delivered.push(r);
    else if (r.outcome === 'bounced') out.bounced.push(r);
    else if (expiredNow) out.expired.push({ ...r, status: '5.4.7' });
    else out.deferred.push(r);
  }
  return out;
}

/** A result as a DSN line: failed ones get a 5.x.x status, delayed ones 4.x.x. */
export function dsnRecipient(r: FinalResult, action: 'failed' | 'delayed', receivedAt: string, lifetimeSeconds: number): DsnRecipient {
  const d: DsnRecipient = { recipient: r.recipient, action, status: r.status, diagnostic: r.reply, smtp: r.code !== undefined, lastAttemptAt: r.at };
  if (action === 'failed' && !d.status.startsWith('5')) d.status = '5.0.0';
  if (action === 'delayed') {
    if (!d.status.startsWith('4')) d.status = '4.0.0';
    d.willRetryUntil = new Date(expiresAt(receivedAt, lifetimeSeconds));
  }
  if (r.remoteMta) d.remoteMta = r.remoteMta;
  return d;
}

export interface StateChange {
  delivered: readonly FinalResult[];
  /** Bounced or expired, with their DSN safely spooled (or none due: null sender). */
  failing: readonly FinalResult[];
  /** The attempt tried at least one hop (stop() may cut one before it does). */
  counted: boolean;
  warnedAt?: string;
  lastError?: string;
  nextAttemptAt?: string;
}

/** The state after an attempt, from the current one (so a hold set meanwhile is kept). */
export function nextState(s: SpoolState, c: StateChange): SpoolState {
  const gone = new Set([...c.delivered, ...c.failing].map((r) => r.recipient));
  const next: SpoolState = {
    ...s,
    pending: s.pending.filter((r) => !gone.has(r)),
    done: [...s.done, ...c.delivered.map((r) => r.recipient)],
    failed: [...s.failed, ...c.failing.map((r) => (r.code !== undefined ? { rcpt: r.recipient, code: r.code, reply: r.reply } : { rcpt: r.recipient, reply: r.reply }))],
    attempts: c.counted ? s.attempts + 1 : s.attempts,
  };
  if (c.warnedAt) next.warnedAt = c.warnedAt;
  if (c.lastError) next.lastError = c.lastError;
  else delete next.lastError;
  if (c.nextAttemptAt && next.pending.length > 0) next.nextAttemptAt = c.nextAttemptAt;
  else delete next.nextAttemptAt;
  return next;
}

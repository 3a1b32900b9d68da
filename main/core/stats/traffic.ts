/*
 * Traffic counters for the dashboard: today by hour, the last 7 days by day, and recent
 * errors. Fed by the same event stream that feeds the logs (one broadcast, two consumers),
 * so nothing re-reads the logs on every refresh. At start it is seeded from the last 7
 * days of log files (`seed`), streamed line by line; a missing or torn file counts as empty.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import type { ReceiveLogEntry, RuleName, SenderLogEntry } from '../../shared/types.js';
import { localDay } from '../log/index.js';
import type { TrafficBucket, TrafficCounts, TrafficStats } from '../../shared/contract.js';
import { txnRef } from '../../shared/messages.js';
import { ProblemBook } from './problems.js';
import { CountedOnce, type Counter } from './counted-once.js';


function emptyCounts(): TrafficCounts {
  return { accepted: 0, rejected: 0, deferred: 0, bounced: 0, delivered: 0 };
}


/** Which counter a receivelog line bumps, if any. */
export function receiveCounter(e: ReceiveLogEntry): Counter | null {
  if (e.event === 'data' && e.decision === 'accept') return 'accepted';
  if (e.decision === 'reject') return 'rejected';
  return null;
}

export function sendCounter(e: SenderLogEntry): Counter | null {
  // A null-sender drop note follows the attempt line that already counted the 5xx.
  if (e.via === 'dsn' && e.outcome === 'bounced' && e.reply?.startsWith('null sender')) return null;
  switch (e.outcome) {
    case 'delivered':
      return 'delivered';
    case 'deferred':
      return 'deferred';
    case 'bounced':
    case 'expired':
      return 'bounced';
    case 'partial':
      return 'delivered';
    default:
      return null;
  }
}

const MAX_ERRORS = 20;

export class TrafficStatsCollector {
  /** day -> 24 hourly buckets of counts. */
  private readonly days = new Map<string, TrafficCounts[]>();
  private readonly errors: { ts: string; text: string; rule?: RuleName }[] = [];
  /** Per day, what was counted: a message counts once (attempts and retries do not). */
  private readonly counted = new Map<string, CountedOnce>();
  readonly problems = new ProblemBook();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /**
   * `message`: the message (queue id or transaction) the line is about; counted once a day.
   * `lingers`: part of it is still to be tried (its next line may come hours later).
   */
  private bump(ts: string, counter: Counter, message?: string, lingers = false): void {
    const d = new Date(ts);
    if (Number.isNaN(d.getTime())) return;
    const key = localDay(d);
    if (message !== undefined) {
      let once = this.counted.get(key);
      if (!once) this.counted.set(key, (once = new CountedOnce()));
      if (!once.first(counter, message, lingers)) return;
    }
    let hours = this.days.get(key);
    if (!hours) {
      hours = Array.from({ length: 24 }, emptyCounts);
      this.days.set(key, hours);
      this.prune();
    }
    hours[d.getHours()][counter]++;
  }

  private prune(): void {
    const cutoff = new Date(this.now());
    cutoff.setDate(cutoff.getDate() - 8);
    const oldest = localDay(cutoff);
    for (const key of this.days.keys()) if (key < oldest) this.days.delete(key);
    for (const key of this.counted.keys()) if (key < oldest) this.counted.delete(key);
  }

  addReceive(e: ReceiveLogEntry): void {
    const c = receiveCounter(e);
    // A refused message counts once, however many of its recipients were refused.
    if (c) this.bump(e.ts, c, e.session && (e.event === 'rcpt' || e.event === 'data' || e.event === 'mail') ? txnRef(e.session, e.txn) : undefined);
    this.problems.addReceive(e);
    if (e.event === 'error' && e.error && !e.code) this.addError(e.ts, e.error);
  }

  addSend(e: SenderLogEntry): void {
    const c = sendCounter(e);
    // Messages, not attempts: six deferred attempts of two messages are two deferred messages.
    if (c) this.bump(e.ts, c, e.queueId || undefined, e.outcome === 'deferred' || e.outcome === 'partial');
    this.problems.addSend(e);
    if (e.outcome === 'bounced' || e.outcome === 'expired' || e.outcome === 'deferred') {
      this.addError(e.ts, `${e.queueId} ${e.hop}: ${e.code ?? ''} ${e.reply ?? ''}`.replace(/\s+/g, ' ').trim());
    }
  }

  addError(ts: string, text: string, rule?: RuleName): void {
    this.errors.push({ ts, text, rule });
    if (this.errors.length > MAX_ERRORS) this.errors.shift();
  }

  /** Keys the once-a-day memory holds over all days (bounded by the traffic in flight). */
  get countedKeys(): number {
    let n = 0;
    for (const once of this.counted.values()) n += once.size;
    return n;
  }

  today(): TrafficCounts {
    const out = emptyCounts();
    for (const h of this.days.get(localDay(this.now())) ?? []) {
      for (const k of Object.keys(out) as Counter[]) out[k] += h[k];
    }
    return out;
  }

  snapshot(): TrafficStats {
    const now = this.now();
    const todayKey = localDay(now);
    const hours = this.days.get(todayKey);
    const today: TrafficBucket[] = [];
    for (let h = 0; h < 24; h++) {
      const start = new Date(now.getFullYear(), now.getMonth(), now.getDate(), h);
      today.push({ start: start.toISOString(), ...(hours ? hours[h] : emptyCounts()) });
    }
    const week: TrafficBucket[] = [];
    for (let i = 6; i >= 0; i--) {
      const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() - i);
      const sum = emptyCounts();
      for (const h of this.days.get(localDay(day)) ?? []) {
        for (const k of Object.keys(sum) as Counter[]) sum[k] += h[k];
      }
      week.push({ start: day.toISOString(), ...sum });
    }
    return { today, week, recentErrors: [...this.errors].reverse(), problems: this.problems.list() };
  }

  /**
   * Seeds counters from a day's log file; resolves even if the file is missing. Only lines
   * before `before` (ms) count: later ones were counted live while the seed was reading.
   */
  async seedFile(file: string, kind: 'receive' | 'send', before = Infinity): Promise<void> {
    if (!fs.existsSync(file)) return;
    const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line) continue;
      let e: unknown;
      try {
        e = JSON.parse(line);
      } catch {
        continue; // torn line after a crash
      }
      if (!(Date.parse((e as { ts: string }).ts) < before)) continue;
      if (kind === 'receive') this.addReceive(e as ReceiveLogEntry);
      else this.addSend(e as SenderLogEntry);
    }
  }
}

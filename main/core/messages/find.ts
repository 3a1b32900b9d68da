/*
 * Messages out of the retained day files: `searchMessages` finds the mails whose address,
 * subject, queue id or Message-ID contains a text, newest first, over the last N days;
 * `messageTimeline` gathers every line of one mail (its session's lines on the day it came
 * in, its delivery attempts on the days after, the bounces it caused) into a timeline.
 *
 * Both read the files themselves (log-scan.ts: one regular expression per file, parsing only
 * the lines it hits), so they work with or without a running gateway. A search first finds
 * the lines that match, then reads the rest of those messages' lines (their sessions, their
 * attempts) with one more expression per file. It stops after `limit` messages (newest days
 * first) and says so (`truncated`). A ref that no retained line names rejects with a plain
 * Error('no message ...'), which the command turns into 'not-found'.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { MessageBook, dayOf, entryMatches, isReceiveEntry, timelineSteps, type AnyEntry, type MessageSummary, type TimelineStep } from '../../shared/messages.js';
import type { ReceiveLogEntry, SenderLogEntry } from '../../shared/types.js';
import { fieldRe, needleRe, scanLines } from './log-scan.js';

const FILE_RE = /^(receivelog|senderlog)-(\d{4}-\d{2}-\d{2})\.jsonl$/;
const QUEUE_ID_RE = /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}$/;
/** One expression per file holds at most this many alternatives (then it is read again). */
const ALT_BATCH = 400;

export interface LogFolder {
  dir: string;
  /** Write lines still in memory before reading (a running gateway's logs). */
  flush?(): Promise<void>;
}

export interface SearchOptions {
  text: string;
  /** Days back from today (today = 1); default every retained day. */
  days?: number;
  limit: number;
  /** Delivery can go on this many days after a message came in (maxLifetime). */
  lifetimeDays: number;
  now?: Date;
}

export interface SearchResult {
  messages: MessageSummary[];
  truncated: boolean;
  days: number;
  scannedBytes: number;
  elapsedMs: number;
}

function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return dayOf(new Date(y, m - 1, d + n, 12).toISOString());
}

/** The local day a queue id was made (its first part is the time, base36 ms). */
export function queueIdDay(id: string): string | null {
  if (!QUEUE_ID_RE.test(id)) return null;
  const ms = parseInt(id.slice(0, 8), 36);
  return Number.isFinite(ms) ? dayOf(new Date(ms).toISOString()) : null;
}

async function daysOnFile(dir: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const days = new Set<string>();
  for (const n of names) {
    const m = FILE_RE.exec(n);
    if (m) days.add(m[2]!);
  }
  return [...days].sort().reverse();
}

function file(dir: string, kind: 'receivelog' | 'senderlog', day: string): string {
  return path.join(dir, `${kind}-${day}.jsonl`);
}

class Reader {
  bytes = 0;
  constructor(readonly dir: string) {}

  async scan<T>(kind: 'receivelog' | 'senderlog', day: string, re: RegExp, on: (e: T) => boolean | void): Promise<void> {
    const s = await scanLines<T>(file(this.dir, kind, day), re, on);
    this.bytes += s.bytes;
  }

  /** Every line of `kind` on `day` whose `field` is one of `values`. */
  async byField<T>(kind: 'receivelog' | 'senderlog', day: string, field: string, values: Iterable<string>, on: (e: T) => void): Promise<void> {
    const all = [...new Set(values)];
    for (let i = 0; i < all.length; i += ALT_BATCH) {
      await this.scan<T>(kind, day, fieldRe(field, all.slice(i, i + ALT_BATCH)), (e) => void on(e));
    }
  }
}

/**
 * The lines of the given sessions (on `day`) and queue ids (their data lines on their own day,
 * their attempts from then on), in one book.
 */
async function gather(r: Reader, book: MessageBook, sessions: Map<string, Set<string>>, queueIds: Set<string>, lifetimeDays: number, today: string): Promise<void> {
  const lines: AnyEntry[] = [];
  const seen = new Set<string>();
  const keep = (e: AnyEntry) => {
    const k = JSON.stringify(e);
    if (seen.has(k)) return;
    seen.add(k);
    lines.push(e);
  };
  // The data lines of queue ids found only in the senderlog: their sessions, on their day.
  const byDay = new Map<string, Set<string>>();
  for (const id of queueIds) {
    const d = queueIdDay(id);
    if (!d) continue;
    let s = byDay.get(d);
    if (!s) byDay.set(d, (s = new Set()));
    s.add(id);
  }
  for (const [day, ids] of byDay) {
    for (const d of [day, addDays(day, 1)]) {
      if (d > today) continue;
      await r.byField<ReceiveLogEntry>('receivelog', d, 'queueId', ids, (e) => {
        if (e.event === 'data' && e.session) {
          let s = sessions.get(d);
          if (!s) sessions.set(d, (s = new Set()));
          s.add(e.session);
        }
      });
    }
  }
  for (const [day, ids] of sessions) {
    await r.byField<ReceiveLogEntry>('receivelog', day, 'session', ids, (e) => {
      keep(e);
      if (e.event === 'data' && e.queueId) queueIds.add(e.queueId);
      // A held copy sent on (approved, sent now) travels under a queue id of its own.
      if (e.event === 'hold' && e.released) queueIds.add(e.released);
    });
  }
  // Attempts (and the bounces they name) from the day each message came in; a round reads
  // the ids the previous one found (bounces, copies released on a later day, their bounces).
  let wanted = new Set(queueIds);
  for (let round = 0; round < 3 && wanted.size > 0; round++) {
    const first = [...wanted].map((id) => queueIdDay(id) ?? today).sort()[0]!;
    const found = new Set<string>();
    for (let d = first; d <= today && d <= addDays(first, lifetimeDays + 1); d = addDays(d, 1)) {
      await r.byField<SenderLogEntry>('senderlog', d, 'queueId', wanted, (e) => {
        keep(e);
        for (const id of [e.dsn, e.delayDsn]) if (id && !queueIds.has(id)) found.add(id);
      });
      // Later receivelog lines about a queued copy (a held message's decision, days after).
      if (d !== first) {
        await r.byField<ReceiveLogEntry>('receivelog', d, 'queueId', wanted, (e) => {
          if (e.event === 'data') return;
          keep(e);
          if (e.event === 'hold' && e.released && !queueIds.has(e.released)) found.add(e.released);
        });
      }
    }
    for (const id of found) queueIds.add(id);
    wanted = found;
  }
  lines.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : isReceiveEntry(a) === isReceiveEntry(b) ? 0 : isReceiveEntry(a) ? -1 : 1));
  for (const l of lines) book.add(l);
}

export async function searchMessages(logs: LogFolder, opts: SearchOptions): Promise<SearchResult> {
  const t0 = Date.now();
  await logs.flush?.().catch(() => undefined);
  const now = opts.now ?? new Date();
  const today = dayOf(now.toISOString());
  const oldest = opts.days ? addDays(today, -(opts.days - 1)) : '0000-00-00';
  const days = (await daysOnFile(logs.dir)).filter((d) => d >= oldest && d <= today);
  const r = new Reader(logs.dir);
  const re = needleRe(opts.text);
  const found = new Map<string, MessageSummary>();
  let truncated = false;
  let scanned = 0;
  for (const day of days) {
    if (found.size >= opts.limit) {
      truncated = true;
      break;
    }
    scanned++;
    const hits: AnyEntry[] = [];
    const sessions = new Map<string, Set<string>>();
    const ids = new Set<string>();
    await r.scan<ReceiveLogEntry>('receivelog', day, re, (e) => {
      if (!entryMatches(e, opts.text) || !e.session) return;
      hits.push(e);
      let s = sessions.get(day);
      if (!s) sessions.set(day, (s = new Set()));
      s.add(e.session);
    });
    await r.scan<SenderLogEntry>('senderlog', day, re, (e) => {
      if (!entryMatches(e, opts.text)) return;
      hits.push(e);
      ids.add(e.queueId);
    });
    if (hits.length === 0) continue;
    const book = new MessageBook();
    await gather(r, book, sessions, ids, opts.lifetimeDays, today);
    const matched = new Set<string>();
    for (const h of hits) {
      const ref = isReceiveEntry(h) ? h.queueId : h.queueId;
      if (ref) matched.add(ref);
    }
    const day_ = book
      .list()
      .filter((m) => {
        if (found.has(m.ref)) return false;
        const lines = book.get(m.ref)?.lines ?? [];
        return matched.has(m.ref) || lines.some((l) => entryMatches(l, opts.text));
      })
      .sort((a, b) => (a.ts > b.ts ? -1 : a.ts < b.ts ? 1 : 0));
    for (const m of day_) {
      if (found.size >= opts.limit) {
        truncated = true;
        break;
      }
      found.set(m.ref, m);
    }
  }
  const messages = [...found.values()].sort((a, b) => (a.ts > b.ts ? -1 : a.ts < b.ts ? 1 : 0));
  return { messages, truncated, days: scanned, scannedBytes: r.bytes, elapsedMs: Date.now() - t0 };
}

export interface TimelineLines {
  summary: MessageSummary;
  steps: TimelineStep[];
  connect?: ReceiveLogEntry;
  bounces: { queueId: string; steps: TimelineStep[] }[];
}

/**
 * Every line of one message: `ref` is a queue id or `<session>.<txn>` (a bare session for
 * lines written before transactions were numbered); `day` says where to look for a session
 * (else every retained day, newest first). Rejects with Error('no message <ref> in the logs').
 */
export async function messageTimeline(logs: LogFolder, ref: string, opts: { day?: string; lifetimeDays: number; now?: Date }): Promise<TimelineLines> {
  await logs.flush?.().catch(() => undefined);
  const today = dayOf((opts.now ?? new Date()).toISOString());
  const r = new Reader(logs.dir);
  const book = new MessageBook();
  const sessions = new Map<string, Set<string>>();
  const ids = new Set<string>();
  if (QUEUE_ID_RE.test(ref)) {
    ids.add(ref);
  } else {
    const dot = ref.lastIndexOf('.');
    const session = dot > 0 && /^\d+$/.test(ref.slice(dot + 1)) ? ref.slice(0, dot) : ref;
    const days = opts.day ? [opts.day] : await daysOnFile(logs.dir);
    for (const day of days) {
      let hit = false;
      await r.byField<ReceiveLogEntry>('receivelog', day, 'session', [session], () => void (hit = true));
      if (hit) {
        sessions.set(day, new Set([session]));
        break;
      }
    }
  }
  await gather(r, book, sessions, ids, opts.lifetimeDays, today);
  const found = book.get(ref);
  if (!found) throw new Error(`no message ${ref} in the logs`);
  const connect = found.lines.find((l): l is ReceiveLogEntry => isReceiveEntry(l) && l.event === 'connect');
  const bounces = found.summary.dsn
    .map((id) => book.get(id))
    .filter((b): b is NonNullable<typeof b> => b !== undefined)
    .map((b) => ({ queueId: b.summary.ref, steps: timelineSteps(b.lines) }));
  return { summary: found.summary, steps: timelineSteps(found.lines), connect, bounces };
}

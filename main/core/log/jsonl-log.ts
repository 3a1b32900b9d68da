/*
 * JsonlLog: the receivelog and the senderlog. One JSON object per line, one file per local
 * day (`<name>-YYYY-MM-DD.jsonl`) in one log folder, old days pruned after `retentionDays`.
 *
 * `append()` is synchronous and never throws: it hands the entry to live followers at once,
 * then buffers the serialised line; buffered lines go to disk every ~50 ms as one
 * appendFile per day file (one write per batch, not per line). Readers (`tail`, `readRange`) read day files from
 * the end in chunks, never the whole file, skip corrupt or torn lines, and `tail` also
 * returns lines still in memory. `flush()` resolves once everything appended before it is on
 * disk and rejects with a LogError when the disk write failed.
 *
 * How it fails: a folder that cannot be created or a file that cannot be written (missing
 * drive, ENOTDIR, ENOSPC, permissions) is reported through `onError` with a LogError whose
 * message names the file, the cause and what happens next; the lines stay in a bounded
 * memory buffer (oldest dropped past `maxBuffered`, counted) and the write is retried with
 * backoff, so the gateway keeps working and the admin sees why the log is not growing.
 * `status()` gives the current state for the UI. On Windows a day file open in Excel cannot be
 * written, nor deleted by retention: the other days' lines are still written, that day's wait
 * in memory and are retried (the message says to close the program), and a held old file is
 * retried at the next hourly check instead of stopping the pruning. Bad arguments (a day that is not
 * YYYY-MM-DD, a bad name or retention) throw RangeError: they are programming errors or
 * hostile API input (a day is part of a file path).
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { LogPage } from '../../shared/contract.js';
import { PRIVATE_FILE_MODE, makePrivateDir } from '../private-files.js';
import { isHeldError, unlinkRetry } from '../fs-retry.js';

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const NL = 0x0a;
/** Reading backwards 64 KiB at a time: tail(200) of ~300-byte lines is one read. */
const CHUNK = 64 * 1024;
/**
 * readRange stops scanning after this many bytes even if `limit` matches were not found,
 * so a rare filter over a 100 MB day never blocks writers (reads share the write lock) for
 * long; the caller pages on with `nextBefore`.
 */
const SCAN_BUDGET = 8 * 1024 * 1024;
const HOUR_MS = 60 * 60 * 1000;
/**
 * Waits before giving up on an old day file that another program holds (a scanner: a moment;
 * Excel: as long as it shows the file). What is still held is retried at the next hourly check.
 */
const PRUNE_HELD_DELAYS_MS = [100, 400, 1000];
/** Buffer cap multiplier while writes succeed (see bound()). */
const HEALTHY_FACTOR = 10;

export interface JsonlLogOptions {
  /** Log folder; created (mkdir -p) on open and on first write. */
  dir: string;
  /** File prefix: `<name>-YYYY-MM-DD.jsonl`. Letters, digits, `_`, `-`. */
  name: 'receivelog' | 'senderlog' | (string & {});
  /** Keep today plus this many previous days; `Infinity` keeps everything. */
  retentionDays: number;
  /** Clock for "today" and pruning (tests inject one). Entries are filed by their own ts. */
  now?: () => Date;
  /** Write/prune/follower failures; see LogError. A throwing handler is ignored. Also assignable later. */
  onError?: (err: LogError) => void;
  /** The log is writable again after a failure; `dropped` lines were lost meanwhile. */
  onRecover?: (info: { log: string; dropped: number; downMs: number }) => void;
  /** Batch window for disk writes. Default 50 ms. */
  flushIntervalMs?: number;
  /** Most lines kept in memory while the disk fails (10x while healthy). Default 10,000. */
  maxBuffered?: number;
  /** Retry delays after failed writes, ms; the last one repeats. Default 1 s .. 30 s. */
  retryDelaysMs?: number[];
}

export interface JsonlLogStatus {
  /** False while writes fail (lines are held in memory and retried). */
  ok: boolean;
  /** The admin-facing message of the current failure, or null. */
  lastError: string | null;
  /** Lines in memory, not yet on disk. */
  buffered: number;
  /** Lines lost because the memory buffer overflowed (since open). */
  dropped: number;
  /** Successful batch writes (since construction); a batch is one append per day file. */
  writes: number;
}

/**
 * What went wrong with a log. `code` is the fs error code (ENOTDIR, ENOSPC, EACCES, ...) or
 * one of ours: EDROPPED (buffer overflow lost lines), ECLOSED (append after close), ELOST
 * (close could not write the remaining lines), EFOLLOWER (a follow callback threw),
 * ESERIALIZE (entry is not JSON-serialisable), EPRUNE (an old file could not be removed).
 * The message is for the admin and does not repeat the log's name (callers prefix it;
 * `log` carries it): e.g. `cannot write /x/receivelog-2026-11-29.jsonl (ENOSPC: ...);
 * 120 line(s) kept in memory, retrying in 5 s`.
 */
export class LogError extends Error {
  readonly code: string;
  readonly log: string;
  readonly file?: string;
  readonly buffered: number;
  readonly dropped: number;
  constructor(code: string, message: string, opts: { log: string; file?: string; buffered?: number; dropped?: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LogError';
    this.code = code;
    this.log = opts.log;
    if (opts.file !== undefined) this.file = opts.file;
    this.buffered = opts.buffered ?? 0;
    this.dropped = opts.dropped ?? 0;
  }
}


/** Local calendar date of `d` as YYYY-MM-DD (the day file an entry belongs to). */
export function localDay(d: Date): string {
  const y = String(d.getFullYear()).padStart(4, '0');
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${y}-${m}-${day}`;
}

/** True for a real calendar date written YYYY-MM-DD. */
export function isDay(s: string): boolean {
  const m = DAY_RE.exec(s);
  if (!m) return false;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return localDay(d) === s;
}

interface Pending {
  day: string;
  line: string;
}

interface Failure {
  since: number;
  code: string;
  attempt: number;
  dropped: number;
}

function errCode(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : 'EIO';
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isMissing(err: unknown): boolean {
  const c = errCode(err);
  return c === 'ENOENT' || c === 'ENOTDIR';
}

/** A parsed line, or null for a corrupt / torn / non-entry line. */
function parseLine<T extends { ts: string }>(buf: Buffer): T | null {
  if (buf.length === 0) return null;
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { ts?: unknown }).ts === 'string') return v as T;
  } catch {
    // A torn write or a hand edit: skipping it is the reader's whole job here.
  }
  return null;
}

interface Segment {
  /** Byte offset of the segment's first byte. */
  start: number;
  bytes: Buffer;
  /** The bytes between the last newline and `end`: a line only if the writer finished it. */
  partial: boolean;
}

/**
 * Lines of [0, end) from last to first, reading CHUNK bytes at a time from the end.
 * The first segment yielded is the (possibly empty) piece after the last newline.
 */
async function* segmentsBackward(fh: FileHandle, end: number): AsyncGenerator<Segment> {
  let pos = end;
  let carry: Buffer = Buffer.alloc(0);
  let first = true;
  while (pos > 0) {
    const from = Math.max(0, pos - CHUNK);
    const chunk = Buffer.allocUnsafe(pos - from);
    let got = 0;
    while (got < chunk.length) {
      const { bytesRead } = await fh.read(chunk, got, chunk.length - got, from + got);
      if (bytesRead === 0) break; // truncated under us: treat what we have as the file
      got += bytesRead;
    }
    const data = carry.length > 0 ? Buffer.concat([chunk.subarray(0, got), carry]) : chunk.subarray(0, got);
    let lineEnd = data.length;
    // lastIndexOf with a negative offset counts from the end, hence the lineEnd > 0 guard.
    let i = lineEnd > 0 ? data.lastIndexOf(NL, lineEnd - 1) : -1;
    while (i >= 0) {
      yield { start: from + i + 1, bytes: data.subarray(i + 1, lineEnd), partial: first };
      first = false;
      lineEnd = i;
      i = lineEnd > 0 ? data.lastIndexOf(NL, lineEnd - 1) : -1;
    }
    carry = data.subarray(0, lineEnd);
    pos = from;
  }
  if (carry.length > 0 || first) yield { start: 0, bytes: carry, partial: first };
}

export class JsonlLog<T extends { ts: string }> {
  readonly dir: string;
  readonly name: string;
  private retentionDays: number;
  private readonly now: () => Date;
  private errorSink: ((err: LogError) => void) | undefined;
  /** Called when the log is writable again after a failure. Assignable after construction. */
  onRecover: JsonlLogOptions['onRecover'];
  private readonly flushMs: number;
  private readonly maxBuffered: number;
  private readonly retryDelays: number[];

  private pending: Pending[] = [];
  private readonly followers = new Set<(e: T) => void>();
  /** Serialises disk writes, prunes and reads, so a reader sees each line exactly once. */
  private chain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private failing: Failure | null = null;
  private lastError: string | null = null;
  private currentError: LogError | null = null;
  private dropped = 0;
  private writes = 0;
  private dirReady = false;
  /** Day files whose last byte we checked this run (torn line from a crash gets a newline). */
  private checkedDays = new Set<string>();
  private closed = false;
  private reportedClosed = false;
  private lastPruneDay: string | null = null;

  constructor(opts: JsonlLogOptions) {
    if (!NAME_RE.test(opts.name)) throw new RangeError(`log name must be letters, digits, _ or -: ${JSON.stringify(opts.name)}`);
    this.dir = opts.dir;
    this.name = opts.name;
    this.retentionDays = JsonlLog.checkRetention(opts.retentionDays);
    this.now = opts.now ?? (() => new Date());
    this.errorSink = opts.onError;
    this.onRecover = opts.onRecover;
    this.flushMs = Math.max(0, opts.flushIntervalMs ?? 50);
    this.maxBuffered = Math.max(1, Math.floor(opts.maxBuffered ?? 10_000));
    const delays = (opts.retryDelaysMs ?? [1000, 2000, 5000, 10_000, 30_000]).filter((n) => Number.isFinite(n) && n >= 0);
    this.retryDelays = delays.length > 0 ? delays : [1000];
  }

  /**
   * Where failures go. Assignable after construction (the gateway wires it after open());
   * assigning while a write failure is current delivers that failure once, so a failure
   * during open() is not lost.
   */
  get onError(): ((err: LogError) => void) | undefined {
    return this.errorSink;
  }

  set onError(fn: ((err: LogError) => void) | undefined) {
    this.errorSink = fn;
    const current = this.currentError;
    if (fn && current && this.failing) queueMicrotask(() => this.report(current));
  }

  private static checkRetention(n: number): number {
    if (n === Infinity) return n;
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`retentionDays must be a number >= 0 or Infinity, got ${n}`);
    return Math.floor(n);
  }

  /** Create the folder and prune old days. Resolves even when the folder cannot be made (reported via onError, retried). */
  async open(): Promise<void> {
    this.closed = false;
    this.reportedClosed = false;
    await this.exclusive(async () => {
      try {
        await this.ensureDir();
      } catch (err) {
        this.fail(err, this.dir);
        return;
      }
      // Lines appended before open(), or left by an earlier failure: write them now.
      await this.writePending().catch(() => undefined);
    });
    await this.prune().catch((err: unknown) => this.pruneFailed(err));
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    // Checked hourly, pruned once per local day: a laptop asleep at midnight still prunes on wake.
    this.pruneTimer = setInterval(() => {
      if (this.lastPruneDay === localDay(this.now())) return;
      this.prune().catch((err: unknown) => this.pruneFailed(err));
    }, HOUR_MS);
    this.pruneTimer.unref();
  }

  /** Path of the day file. Throws RangeError unless `day` is a real YYYY-MM-DD date. */
  fileFor(day: string): string {
    if (!isDay(day)) throw new RangeError(`day must be YYYY-MM-DD: ${JSON.stringify(day)}`);
    return path.join(this.dir, `${this.name}-${day}.jsonl`);
  }

  /** Synchronous, never throws. Followers get the entry now; the disk gets it with the next batch. */
  append(entry: T): void {
    if (this.closed) {
      if (!this.reportedClosed) {
        this.reportedClosed = true;
        this.report(new LogError('ECLOSED', `entry appended after the log was closed was not written (${this.dir})`, { log: this.name }));
      }
      return;
    }
    for (const cb of this.followers) {
      try {
        cb(entry);
      } catch (err) {
        // One broken UI subscriber must not cost the log its line or the others theirs.
        this.report(new LogError('EFOLLOWER', `a live follower threw: ${errText(err)}`, { log: this.name, cause: err }));
      }
    }
    let line: string | undefined;
    try {
      line = JSON.stringify(entry);
    } catch (err) {
      this.report(new LogError('ESERIALIZE', `entry could not be serialised to JSON and was not written: ${errText(err)}`, { log: this.name, cause: err }));
      return;
    }
    if (typeof line !== 'string') return;
    const at = new Date(entry.ts);
    const day = localDay(Number.isNaN(at.getTime()) ? this.now() : at);
    this.pending.push({ day, line });
    this.bound();
    if (!this.failing) this.scheduleFlush();
  }

  /** Write everything appended so far. Rejects with a LogError if the disk write fails (lines stay buffered). */
  async flush(): Promise<void> {
    this.clearFlushTimer();
    await this.exclusive(() => this.writePending());
  }

  /** Final flush, stop timers and followers. Never rejects: lines that cannot be written are reported (ELOST). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearFlushTimer();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = null;
    try {
      await this.exclusive(() => this.writePending());
    } catch (err) {
      const n = this.pending.length;
      this.report(new LogError('ELOST', `closing with ${n} line(s) that could not be written to ${this.dir} and are lost: ${errText(err)}`, { log: this.name, buffered: n, dropped: this.dropped, cause: err }));
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.pending = [];
    this.followers.clear();
  }

  /** Live subscription: every later append, before it reaches disk. Returns unsubscribe. */
  follow(cb: (e: T) => void): () => void {
    this.followers.add(cb);
    return () => {
      this.followers.delete(cb);
    };
  }

  /** The last `n` entries of a day (default today), oldest first, including lines not yet written. */
  async tail(n: number, day: string = localDay(this.now())): Promise<T[]> {
    const file = this.fileFor(day);
    const want = Math.max(0, Math.floor(n));
    if (want === 0) return [];
    return this.exclusive(async () => {
      // Under the lock no write is in flight: each line is either on disk or in `pending`.
      const mem: T[] = [];
      for (let i = this.pending.length - 1; i >= 0 && mem.length < want; i--) {
        const p = this.pending[i]!;
        if (p.day !== day) continue;
        const e = parseLine<T>(Buffer.from(p.line, 'utf8'));
        if (e) mem.push(e);
      }
      mem.reverse();
      const need = want - mem.length;
      if (need === 0) return mem;
      const page = await this.readBackward(file, undefined, need, undefined, Infinity);
      return page.entries.concat(mem);
    });
  }

  /** Days with a file (or buffered lines), newest first. */
  async days(): Promise<string[]> {
    const found = new Set<string>();
    let names: string[] = [];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    const re = this.fileRe();
    for (const f of names) {
      const m = re.exec(f);
      if (m && isDay(m[1]!)) found.add(m[1]!);
    }
    for (const p of this.pending) found.add(p.day);
    return [...found].sort().reverse();
  }

  /**
   * Page backwards through a day file: up to `limit` entries (matching `filter`) that end at
   * or before byte `before` (default: end of file), in file order. `nextBefore` is the offset
   * to pass next time, null once the start of the file is reached; a page may hold fewer
   * than `limit` entries when a filter is rare (scan budget), so loop until null.
   * With `before` omitted, lines still buffered are written first so the page is current;
   * if the disk is failing they are only in `tail()`/`follow()`.
   */
  async readRange(day: string, opts: { before?: number; limit: number; filter?: (e: T) => boolean }): Promise<LogPage<T>> {
    const file = this.fileFor(day);
    const limit = Math.floor(opts.limit);
    if (!(limit >= 1)) throw new RangeError(`limit must be >= 1, got ${opts.limit}`);
    if (opts.before !== undefined && !(opts.before >= 0)) throw new RangeError(`before must be a byte offset >= 0, got ${opts.before}`);
    return this.exclusive(async () => {
      if (opts.before === undefined) await this.writePending().catch(() => undefined);
      return this.readBackward(file, opts.before, limit, opts.filter, SCAN_BUDGET);
    });
  }

  /** Remove this log's day files older than the retention. Returns the removed paths. */
  async prune(): Promise<string[]> {
    return this.exclusive(async () => {
      const today = localDay(this.now());
      this.lastPruneDay = today;
      if (this.retentionDays === Infinity) return [];
      const t = this.now();
      const cutoff = localDay(new Date(t.getFullYear(), t.getMonth(), t.getDate() - this.retentionDays));
      let names: string[];
      try {
        names = await fsp.readdir(this.dir);
      } catch (err) {
        if (isMissing(err)) return [];
        throw err;
      }
      const keep = new Set(this.pending.map((p) => p.day));
      const re = this.fileRe();
      const removed: string[] = [];
      let held = false;
      for (const f of names.sort()) {
        const m = re.exec(f);
        // String order is date order for YYYY-MM-DD; other files in the folder are never touched.
        if (!m || !isDay(m[1]!) || m[1]! >= cutoff || keep.has(m[1]!)) continue;
        const full = path.join(this.dir, f);
        try {
          await unlinkRetry(full, { delaysMs: PRUNE_HELD_DELAYS_MS });
          removed.push(full);
          this.checkedDays.delete(m[1]!);
        } catch (err) {
          // One locked file (a viewer open on Windows) must not stop the rest.
          if (errCode(err) === 'ENOENT') continue;
          const later = isHeldError(err);
          held ||= later;
          const next = later ? ': it is open in another program (Excel?); trying again at the next hourly check' : '';
          this.report(new LogError('EPRUNE', `cannot remove old log file ${full}: ${errText(err)}${next}`, { log: this.name, file: full, cause: err }));
        }
      }
      // Not done for today while a file was held: the hourly timer tries again.
      if (held) this.lastPruneDay = null;
      return removed;
    });
  }

  /** Change the retention at runtime and prune now. Resolves with the removed paths (errors go to onError). */
  setRetentionDays(n: number): Promise<string[]> {
    this.retentionDays = JsonlLog.checkRetention(n);
    return this.prune().catch((err: unknown) => {
      this.pruneFailed(err);
      return [];
    });
  }

  status(): JsonlLogStatus {
    return { ok: this.failing === null, lastError: this.lastError, buffered: this.pending.length, dropped: this.dropped, writes: this.writes };
  }

  // ---- internals ----

  private pruneFailed(err: unknown): void {
    this.report(new LogError('EPRUNE', `cannot prune old files in ${this.dir}: ${errText(err)}`, { log: this.name, cause: err }));
  }

  private fileRe(): RegExp {
    return new RegExp(`^${this.name}-(\\d{4}-\\d{2}-\\d{2})\\.jsonl$`);
  }

  private exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.chain.then(fn);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private report(err: LogError): void {
    if (!this.errorSink) return;
    try {
      this.errorSink(err);
    } catch {
      // The error sink failing must not turn into a throw out of append().
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    // Not unref'd: a process that exits naturally still writes its last 50 ms of lines.
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.exclusive(() => this.writePending()).catch(() => undefined); // reported in fail()
    }, this.flushMs);
  }

  private clearFlushTimer(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  /**
   * Keep memory bounded: drop the oldest, count them. While writes fail the cap is
   * maxBuffered; while healthy it is 10x that, because a synchronous burst (a recovery
   * logging thousands of notes in one tick) fills the buffer before any write can start,
   * and losing lines on a healthy disk would be wrong.
   */
  private bound(): void {
    const cap = this.failing ? this.maxBuffered : this.maxBuffered * HEALTHY_FACTOR;
    if (this.pending.length <= cap) return;
    // Drop down to 90 % so a full buffer costs one splice per ~10 % of appends, not one per append.
    const keep = Math.max(1, Math.floor(cap * 0.9));
    const n = this.pending.length - keep;
    this.pending.splice(0, n);
    this.dropped += n;
    const firstDrop = this.failing ? this.failing.dropped === 0 : true;
    if (this.failing) this.failing.dropped += n;
    if (firstDrop) {
      this.report(
        new LogError('EDROPPED', `memory buffer full (${cap} lines): the oldest lines are being dropped ${this.failing ? `until ${this.dir} is writable again` : `because writes to ${this.dir} are not keeping up`}`, {
          log: this.name,
          buffered: this.pending.length,
          dropped: this.dropped,
        }),
      );
    }
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    await makePrivateDir(this.dir);
    this.dirReady = true;
  }

  /** Call only under the lock. Writes all pending lines, one append per day file. */
  private async writePending(): Promise<void> {
    if (this.pending.length === 0 && !this.failing) return;
    const batch = this.pending;
    this.pending = [];
    const groups = new Map<string, string[]>();
    for (const p of batch) {
      let g = groups.get(p.day);
      if (!g) groups.set(p.day, (g = []));
      g.push(p.line);
    }
    const done = new Set<string>();
    let file = this.dir;
    try {
      await this.ensureDir();
      let heldErr: { err: unknown; file: string } | null = null;
      for (const [day, lines] of groups) {
        file = this.fileFor(day);
        try {
          await this.appendDay(day, file, lines);
          done.add(day);
        } catch (err) {
          // A day file another program holds (yesterday's, open in Excel at midnight) must
          // not hold back the other days' lines: those are written, that day's wait.
          if (!isHeldError(err)) throw err;
          heldErr ??= { err, file };
        }
      }
      if (heldErr) {
        file = heldErr.file;
        throw heldErr.err;
      }
    } catch (err) {
      this.dirReady = false;
      // Put the unwritten lines back in front of anything appended meanwhile (they are older).
      this.pending = batch.filter((p) => !done.has(p.day)).concat(this.pending);
      const e = this.fail(err, file);
      this.bound();
      throw e;
    }
    if (groups.size > 0) this.writes++;
    if (this.failing) this.recover();
    if (this.pending.length > 0 && !this.closed) this.scheduleFlush();
  }

  private async appendDay(day: string, file: string, lines: string[]): Promise<void> {
    let prefix = '';
    if (!this.checkedDays.has(day)) {
      // A crash can leave a torn last line; start ours on a fresh line so only that one is lost.
      if (await this.endsTorn(file)) prefix = '\n';
    }
    const data = `${prefix}${lines.join('\n')}\n`;
    try {
      await fsp.appendFile(file, data, { mode: PRIVATE_FILE_MODE });
    } catch (err) {
      // The folder was deleted while running: recreate it once rather than wait for a retry.
      if (errCode(err) !== 'ENOENT') throw err;
      this.dirReady = false;
      await this.ensureDir();
      await fsp.appendFile(file, data, { mode: PRIVATE_FILE_MODE });
    }
    if (this.checkedDays.size > 8) this.checkedDays.clear();
    this.checkedDays.add(day);
  }

  private async endsTorn(file: string): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(file, 'r');
    } catch (err) {
      if (errCode(err) === 'ENOENT') return false;
      throw err;
    }
    try {
      const { size } = await fh.stat();
      if (size === 0) return false;
      const b = Buffer.alloc(1);
      await fh.read(b, 0, 1, size - 1);
      return b[0] !== NL;
    } finally {
      await fh.close();
    }
  }

  /** Enter or continue a failure episode: schedule the retry, report when something new happened. */
  private fail(err: unknown, file: string): LogError {
    const code = errCode(err);
    const first = this.failing === null;
    const prevCode = this.failing?.code;
    if (!this.failing) this.failing = { since: Date.now(), code, attempt: 0, dropped: 0 };
    this.failing.code = code;
    this.failing.attempt++;
    this.checkedDays.clear(); // a partial write may have torn the last line
    const delay = this.retryDelays[Math.min(this.failing.attempt - 1, this.retryDelays.length - 1)]!;
    this.clearFlushTimer();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (!this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.exclusive(() => this.writePending()).catch(() => undefined);
      }, delay);
      // A dead disk must not keep the process alive; close() makes the last attempt.
      this.retryTimer.unref();
    }
    const n = this.pending.length;
    const when = delay >= 1000 ? `${Math.round(delay / 1000)} s` : `${delay} ms`;
    const what = file === this.dir ? `cannot create log folder ${file}` : `cannot write ${file}`;
    const held = isHeldError(err) ? ': the file is open in another program (Excel?), close it' : '';
    const message = `${what} (${errText(err)})${held}; ${n} line(s) kept in memory, retrying in ${when}`;
    this.lastError = message;
    const e = new LogError(code, message, { log: this.name, file, buffered: n, dropped: this.dropped, cause: err });
    this.currentError = e;
    if (first || prevCode !== code) this.report(e);
    return e;
  }

  private recover(): void {
    const f = this.failing;
    this.failing = null;
    this.lastError = null;
    this.currentError = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!f || !this.onRecover) return;
    try {
      this.onRecover({ log: this.name, dropped: f.dropped, downMs: Date.now() - f.since });
    } catch {
      // Same as report(): the sink must not break the writer.
    }
  }

  /** Read entries backwards from `before` (default EOF). Missing file or folder = empty. */
  private async readBackward(file: string, before: number | undefined, limit: number, filter: ((e: T) => boolean) | undefined, budget: number): Promise<LogPage<T>> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(file, 'r');
    } catch (err) {
      if (isMissing(err)) return { entries: [], nextBefore: null };
      throw err;
    }
    try {
      const { size } = await fh.stat();
      const end = Math.max(0, Math.min(before ?? size, size));
      const out: T[] = [];
      let lastStart = end;
      let exhausted = true;
      for await (const seg of segmentsBackward(fh, end)) {
        lastStart = seg.start;
        // The piece after the last newline is a line still being written or torn by a crash.
        if (seg.partial) continue;
        const e = parseLine<T>(seg.bytes);
        if (e && (!filter || filter(e))) out.push(e);
        if (out.length >= limit || end - seg.start >= budget) {
          exhausted = seg.start === 0;
          break;
        }
      }
      out.reverse();
      return { entries: out, nextBefore: exhausted || lastStart === 0 ? null : lastStart };
    } finally {
      await fh.close();
    }
  }
}

/*
 * The durable on-disk queue. Directory names say the state (as in Postfix):
 *   queue/       <id>.msg complete, immutable, self-checking (format.ts): created here
 *                directly, never renamed into place; <id>.state the delivery runner's mutable
 *                JSON (absent = fresh)
 *   tmp/         state updates being written (<id>.<n>.state.tmp, then renamed over
 *                queue/<id>.state); at open() an unfinished one is deleted (the old state is
 *                intact), any other file is deleted when queue/ holds the same message, else
 *                quarantined
 *   quarantine/  torn or corrupt files with a <name>.why.json next to each, for the admin
 *   journal/     the write-ahead journal's segments (journal.ts)
 *
 * write() creates queue/<id>.msg ('wx') and writes it in one writev. A message up to
 * JOURNAL_MAX_RECORD is then made durable by the journal: its bytes appended to the current
 * segment and an fdatasync of it shared with every message written meanwhile (group commit);
 * its file gets its own sync later, at the journal's checkpoint, and open() writes it again
 * from the journal if a crash lost or tore it. A bigger one (or in a listener process) gets
 * its fdatasync and an fsync of queue/ (group commit, fsync.ts). write() resolves with the
 * header only after that; only then may SMTP say 250. The file checks itself (size and
 * checksums in its trailer), so a crash that keeps the entry but not all the data of a file
 * the journal does not hold leaves a file that open() quarantines, and nobody got a 250 for
 * it. remove() writes the journal's removal record before it deletes the file, so that the
 * journal does not bring a delivered message back (a crash in the moment before that record
 * is committed may: a second delivery, the at-least-once a removal always had). If anything
 * fails, write() rejects with a SpoolError whose `code` is the errno (`ENOSPC`, `EIO`, ...)
 * and removes what it created. Readers verify before they return:
 * readHeader() checks structure and both header checksums, readBody()/verify() also the body
 * checksum; a bad file throws SpoolCorruptError and is never handed out. Files leave queue/
 * only through remove() (delivery says so) or quarantine().
 * One process owns a spool dir at a time; open() (or openInBackground(), which verifies a big
 * queue after it returns, see there) must be called once before any change.
 * Speed: readBody() of a message this process wrote moments ago is answered from a small
 * bounded memory copy (the very bytes that were hashed and fsync'd), because the delivery
 * runner reads every new message right back; see RECENT_MAX_BYTES.
 *
 * Windows: a folder cannot be fsync'd there (FlushFileBuffers needs a file handle; Node gets
 * EPERM), so the 250 rests on a file's own handle, opened for writing, flushed before
 * write() resolves (the journal segment's, or the message file's when it is not journaled;
 * at the checkpoint the message file's): Node's fdatasync is FlushFileBuffers on Windows
 * (libuv), which writes the data and the file's metadata and needs write access. On NTFS
 * that is enough:
 * the file's creation, directory entry included, is a metadata change that NTFS writes to its
 * journal before the data flush returns, and replays after a power cut. FAT32 and exFAT have
 * no journal and a network share flushes only as far as the server says: there a power cut
 * can lose a message that got its 250. The gateway checks the data folder's file system at
 * start (volume.ts) and warns on those; it does not refuse, because a USB stick or NAS is a
 * choice an office may make knowingly. Files another program holds for a moment (a virus
 * scanner, the search indexer) are renamed and removed with bounded retries (fs-retry.ts);
 * a delivered message still held after them is marked done in its state file, so neither a
 * restart nor a second process delivers it again, and is deleted once it is free.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { access, mkdir, open, readdir, readFile, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { EOL } from 'node:os';
import { join } from 'node:path';
import {
  checkState,
  checkStructure,
  decodeHead,
  decodeTrailer,
  encodeMessage,
  sha256Hex,
  SpoolCorruptError,
  SpoolError,
  TRAILER_LEN,
  type DecodedHead,
} from './format.js';
import { DirSync, fsyncDir, writeAllv } from './fsync.js';
import { heldRetryText, isHeldError, renameRetry, unlinkRetry, type HeldRetryOptions } from '../fs-retry.js';
import { isValidId, newId } from './ids.js';
import { JOURNAL_MAX_RECORD, JournalUnavailableError, SpoolJournal, type JournalContents } from './journal.js';
import type { OpenResult, RecoveredMessage, RecoveryNote, RecoveryResult, SpoolEnvelope, SpoolHeader, SpoolState } from './types.js';

export type { OpenResult, RecoveredMessage, RecoveryNote, RecoveryResult, SpoolEnvelope, SpoolHeader, SpoolState } from './types.js';

export interface SpoolOptions {
  /** Default true. false skips every fsync: only for explicit benchmarks, never in service. */
  fsync?: boolean;
  /**
   * Lines for the log about files another program holds (a virus scanner): each retry, the
   * success after retries, a removal finished later. A throwing callback is ignored.
   */
  onNotice?: (text: string, id?: string) => void;
  /** Waits between attempts while a file is held (fs-retry.ts; tests shorten them). */
  heldRetryDelaysMs?: readonly number[];
  /** Wait between background attempts to delete a removed message still held. Default 30 s. */
  heldRemoveLaterMs?: number;
  /** A journal segment's size (journal.ts; tests make it small). */
  journalSegmentBytes?: number;
}

const HEAD_READ = 64 * 1024;
const CHUNK = 1024 * 1024;
const VERIFY_PARALLEL = 8;
const FILE_MODE = 0o600; // mail is private
const DIR_MODE = 0o700;
/**
 * Bodies written by this process are kept in memory until their first readBody() (the
 * delivery attempt that follows within milliseconds), remove() or quarantine(), oldest
 * dropped first past this budget. Measured with `npm run bench` on the 2-core bench machine: the
 * runner's read-back cost six file operations (open, fstat, 3 reads, close) and a 2nd hash
 * per message. Durability is unchanged: the file is on disk (fsync'd) before write() returns.
 */
const RECENT_MAX_BYTES = 8 * 1024 * 1024;
const RECENT_MAX_COUNT = 2000;
/** Recovery reads files synchronously for this long, then lets the event loop run. */
const RECOVERY_SLICE_MS = 5;
/** Recovery verifies messages bigger than this in chunks, asynchronously. */
const BIG_FILE = 1024 * 1024;

interface Inspected {
  header: SpoolHeader;
  bodyStart: number;
}

function errCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

function isEnoent(err: unknown): boolean {
  return errCode(err) === 'ENOENT';
}

/** Wrap an fs error so the message says what the spool was doing, keeping `code`. */
function ioError(what: string, id: string, err: unknown): SpoolError {
  if (err instanceof SpoolError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new SpoolError(errCode(err) ?? 'EIO', `spool ${what} failed for ${id}: ${msg}`, { id, cause: err });
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Read exactly buf.length bytes at `position`; a short file is corruption (it shrank). */
async function readExactly(fh: FileHandle, id: string, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new SpoolCorruptError(id, 'file ended early (changed while reading?)');
    off += bytesRead;
  }
}

function byReceived(a: SpoolHeader, b: SpoolHeader): number {
  return a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class Spool {
  readonly dir: string;
  private readonly tmpDir: string;
  private readonly queueDir: string;
  private readonly quarantineDir: string;
  private readonly journalDir: string;
  private readonly fsyncOn: boolean;
  /**
   * The write-ahead journal (journal.ts): messages up to JOURNAL_MAX_RECORD share its
   * group-committed fdatasync instead of syncing their own file and the folder. Only in the
   * process that opened the spool with recovery (a listener process writes with the file's
   * own syncs: the main process, which removes its messages, could not drop them from
   * another process's journal). None without fsync.
   */
  private journal: SpoolJournal | null = null;
  private readonly journalSegmentBytes: number | undefined;
  private queueSync: DirSync | null = null;
  private opened = false;
  private closed = false;
  /** id -> body size of every message this process knows is in queue/ (for stats()). */
  private readonly index = new Map<string, number>();
  private bytes = 0;
  /** Per-id serialisation of setState / remove / quarantine, so the last call wins. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private stateSeq = 0;
  /**
   * Ids whose queue/<id>.state exists (found at open() or written by setState), so remove()
   * skips the unlink of a state file that was never written: one file operation less per
   * delivered message when the runner removes without saving a state first. Should this
   * ever miss a file, the orphan .state is what open() already cleans up.
   */
  private readonly withState = new Set<string>();
  /** id -> body just written (see RECENT_MAX_BYTES); Map order = oldest first. */
  private readonly recent = new Map<string, Buffer>();
  private recentBytes = 0;
  /** Ids this process is writing now (not yet tracked): unknownMessages() must skip them. */
  private readonly writing = new Set<string>();
  /** Settles when the background recovery has finished (see openInBackground). */
  private recovery: Promise<void> = Promise.resolve();
  /** The first I/O error the recovery met (open() rethrows it). */
  private recoveryError: unknown = undefined;
  /**
   * Removed messages whose file another program still held after the retries: id -> timer of
   * the next background attempt. Their state file says "nothing pending", so a restart
   * removes them instead of delivering them again; unknownMessages() skips them.
   */
  private readonly removeLater = new Map<string, NodeJS.Timeout | null>();
  private readonly onNotice: SpoolOptions['onNotice'];
  private readonly heldDelays: readonly number[] | undefined;
  private readonly laterMs: number;

  constructor(dir: string, opts: SpoolOptions = {}) {
    this.dir = dir;
    this.tmpDir = join(dir, 'tmp');
    this.queueDir = join(dir, 'queue');
    this.quarantineDir = join(dir, 'quarantine');
    this.journalDir = join(dir, 'journal');
    this.fsyncOn = opts.fsync !== false;
    this.journalSegmentBytes = opts.journalSegmentBytes;
    this.onNotice = opts.onNotice;
    this.heldDelays = opts.heldRetryDelaysMs;
    this.laterMs = opts.heldRemoveLaterMs ?? 30_000;
  }

  /**
   * Create the directories, then recover: tmp/ leftovers are quarantined (or deleted when they
   * are a stale state update or a second name of a message already in queue/), every .msg is
   * fully verified and quarantined if bad, orphan .state files are deleted. Returns the good
   * messages oldest first. Throws on I/O errors (a disk that cannot be read is not something
   * to start on); corruption is never an error here, it is a note.
   */
  async open(): Promise<OpenResult> {
    const found: SpoolHeader[] = [];
    const { notes, quarantined, done } = await this.openInBackground((batch) => {
      for (const m of batch) found.push(m.header);
    }, { states: false });
    const r = await done;
    if (r.errors.length > 0) throw this.recoveryError ?? new SpoolError('EIO', r.errors[0]!);
    return { recovered: found.sort(byReceived), quarantined: [...quarantined, ...r.quarantined], notes: [...notes, ...r.notes] };
  }

  /**
   * open() for a big queue: resolves once the folders are ready and tmp/ is cleaned up (the
   * spool takes writes from then on), and verifies the messages in queue/ in the background,
   * oldest id first, handing each good one to `onBatch` with its saved delivery state (null:
   * none saved; skipped with `states: false`). The verification is the same as open()'s:
   * structure and both checksums, a bad file quarantined with a note. Files are read with
   * synchronous calls in slices of a few milliseconds, yielding to the event loop in
   * between: on a warm cache that is several times faster than a thread-pool round trip per
   * file and call (100,000 messages: ~4 s against ~22 s on the bench machine), and the SMTP
   * listener keeps answering meanwhile. Messages bigger than BIG_FILE are verified in chunks
   * (asynchronously). `done` resolves when all are handed over; an I/O error on one file skips
   * it (it stays in queue/, the next start tries again) and is listed in `errors`.
   */
  async openInBackground(
    onBatch: (batch: RecoveredMessage[]) => void,
    opts: { states?: boolean } = {},
  ): Promise<{ notes: RecoveryNote[]; quarantined: string[]; done: Promise<RecoveryResult> }> {
    if (this.opened) throw new SpoolError('EALREADYOPEN', `spool ${this.dir} is already open`);
    if (this.closed) throw new SpoolError('ECLOSED', `spool ${this.dir} is closed`);
    for (const d of [this.dir, this.tmpDir, this.queueDir, this.quarantineDir, this.journalDir]) {
      await mkdir(d, { recursive: true, mode: DIR_MODE });
    }
    // Make the subdirectory entries themselves durable before trusting anything inside them.
    if (this.fsyncOn) await fsyncDir(this.dir);
    this.queueSync = new DirSync(this.queueDir, this.fsyncOn);

    const notes: RecoveryNote[] = [];
    const quarantined: string[] = [];
    if (this.fsyncOn) {
      const journal = new SpoolJournal(this.journalDir, {
        segmentBytes: this.journalSegmentBytes,
        checkpoint: (ids) => this.makeDurable(ids),
        onNotice: (text) => this.notice(text),
      });
      const found = await journal.read();
      await this.replay(found, notes);
      if (found.segments.length > 0) journal.adopt(found.segments, found.messages.keys());
      this.journal = journal;
    }
    const queueNames = await readdir(this.queueDir);
    const queued = new Set(queueNames);

    for (const name of (await readdir(this.tmpDir)).sort()) {
      const rel = `tmp/${name}`;
      const msgId = /^(.+)\.tmp$/.exec(name)?.[1];
      if (name.endsWith('.state.tmp')) {
        await unlinkRetry(join(this.tmpDir, name), this.held());
        notes.push({ file: rel, action: 'deleted', reason: 'unfinished state update; the previous state file is intact' });
      } else if (msgId && isValidId(msgId) && queued.has(`${msgId}.msg`)) {
        // The rename into queue/ reached the disk but the removal from tmp/ did not: same file.
        await unlinkRetry(join(this.tmpDir, name), this.held(msgId));
        notes.push({ file: rel, action: 'deleted', reason: 'second name of a message already in queue/' });
      } else {
        const reason = 'torn write: left in tmp/ by a crash or a failed write; it was never acknowledged';
        await this.moveToQuarantine(this.tmpDir, name, rel, reason);
        quarantined.push(rel);
        notes.push({ file: rel, action: 'quarantined', reason });
      }
    }

    const msgIds: string[] = [];
    for (const name of queueNames.sort()) {
      const rel = `queue/${name}`;
      if (name.endsWith('.msg')) {
        const id = name.slice(0, -4);
        if (isValidId(id)) {
          msgIds.push(id);
        } else {
          const reason = 'not a spool message name';
          await this.moveToQuarantine(this.queueDir, name, rel, reason);
          quarantined.push(rel);
          notes.push({ file: rel, action: 'quarantined', reason });
        }
      } else if (name.endsWith('.state')) {
        const id = name.slice(0, -6);
        if (!queued.has(`${id}.msg`)) {
          // remove() deletes .msg first, so a crash in between leaves exactly this.
          await unlinkRetry(join(this.queueDir, name), this.held(id));
          notes.push({ file: rel, action: 'deleted', reason: 'state of a message already removed' });
        } else {
          this.withState.add(id);
        }
      }
      // Anything else is not ours: leave it alone.
    }
    if (this.fsyncOn && notes.length > 0) {
      await fsyncDir(this.quarantineDir);
      await fsyncDir(this.tmpDir);
      await fsyncDir(this.queueDir);
    }
    this.opened = true;
    const done = this.recoverAll(msgIds, onBatch, opts.states !== false);
    this.recovery = done.then(
      () => undefined,
      () => undefined,
    );
    return { notes, quarantined, done };
  }

  /** The background half of openInBackground(). Never rejects. */
  private async recoverAll(ids: string[], onBatch: (batch: RecoveredMessage[]) => void, withStates: boolean): Promise<RecoveryResult> {
    const result: RecoveryResult = { count: 0, stopped: false, quarantined: [], notes: [], errors: [] };
    let batch: RecoveredMessage[] = [];
    const hand = (): void => {
      if (batch.length === 0) return;
      const b = batch;
      batch = [];
      try {
        onBatch(b);
      } catch {
        // the receiver's problem; recovery goes on
      }
    };
    let i = 0;
    while (i < ids.length && !this.closed) {
      const sliceEnd = performance.now() + RECOVERY_SLICE_MS;
      while (i < ids.length && performance.now() < sliceEnd) {
        const id = ids[i++]!;
        let header: SpoolHeader | null = null;
        try {
          header = this.verifySync(id);
          if (header === null) header = await this.verify(id); // big: in chunks
        } catch (err) {
          if (err instanceof SpoolCorruptError) {
            try {
              await this.quarantineFiles(id, err.reason);
              result.quarantined.push(`queue/${id}.msg`);
              result.notes.push({ file: `queue/${id}.msg`, action: 'quarantined', reason: err.reason });
            } catch (qerr) {
              result.errors.push(`cannot quarantine queue/${id}.msg: ${(qerr as Error).message}`);
              this.recoveryError ??= qerr;
            }
          } else if (!isEnoent(err)) {
            result.errors.push(`cannot read queue/${id}.msg: ${(err as Error).message}`);
            this.recoveryError ??= err;
          }
          continue;
        }
        let state: SpoolState | null = null;
        if (withStates && this.withState.has(id)) state = await this.recoverState(id, header);
        this.track(id, header.size);
        result.count++;
        batch.push({ header, state });
      }
      hand();
      if (i < ids.length) await new Promise<void>((r) => setImmediate(r));
    }
    result.stopped = i < ids.length;
    if (this.fsyncOn && result.notes.length > 0 && !this.closed) {
      await fsyncDir(this.quarantineDir).catch(() => undefined);
      await this.queueSync?.sync().catch(() => undefined);
    }
    return result;
  }

  /**
   * Full check of a message file read whole with one synchronous call; null when the file is
   * bigger than BIG_FILE (the caller verifies it in chunks). Throws SpoolCorruptError or the
   * fs error.
   */
  private verifySync(id: string): SpoolHeader | null {
    const buf = readWholeSync(join(this.queueDir, `${id}.msg`), id, BIG_FILE);
    return buf === null ? null : checkWhole(id, buf).header;
  }

  /** The saved state of a message being recovered, like getState() but read synchronously. */
  private async recoverState(id: string, header: SpoolHeader): Promise<SpoolState | null> {
    let raw: string;
    try {
      raw = readWholeSync(join(this.queueDir, `${id}.state`), id, Infinity)!.toString('utf8');
    } catch (err) {
      if (isEnoent(err)) {
        this.withState.delete(id);
        return null;
      }
      throw err;
    }
    try {
      return checkState(JSON.parse(raw));
    } catch (err) {
      const reason = `state file unreadable (${(err as Error).message}); reset to fresh`;
      await this.moveToQuarantine(this.queueDir, `${id}.state`, `queue/${id}.state`, reason).catch((e: unknown) => {
        if (!isEnoent(e)) throw e;
      });
      this.withState.delete(id);
      if (this.fsyncOn) await fsyncDir(this.quarantineDir);
      return { ...freshState(header), lastError: reason };
    }
  }

  /**
   * Opens for writing only, without recovery: a listener process writes into the queue the
   * main process recovered and owns (the main process learns of each message from it, see
   * adopt()). Creates the directories in case the main process has not yet.
   */
  async openForWriting(): Promise<void> {
    if (this.opened) throw new SpoolError('EALREADYOPEN', `spool ${this.dir} is already open`);
    for (const d of [this.dir, this.tmpDir, this.queueDir, this.quarantineDir]) {
      await mkdir(d, { recursive: true, mode: DIR_MODE });
    }
    this.queueSync = new DirSync(this.queueDir, this.fsyncOn);
    this.opened = true;
  }

  /**
   * A message another process wrote (a listener process) becomes this one's to count,
   * deliver and remove. False when it is already known (told twice).
   */
  adopt(header: SpoolHeader): boolean {
    this.assertOpen();
    this.checkId(header.id);
    if (this.index.has(header.id)) return false;
    this.track(header.id, header.size);
    return true;
  }

  /**
   * Complete messages in queue/ this process does not know and does not write itself: what a
   * listener process that died had written but not yet reported. A file that does not verify
   * is left alone (it may still be being written by a live process; open() at the next start
   * quarantines a torn one).
   */
  async unknownMessages(): Promise<SpoolHeader[]> {
    this.assertOpen();
    // What the recovery is still reading is known, just not yet handed over.
    await this.recovery;
    const names = await readdir(this.queueDir);
    const ids = names
      .filter((n) => n.endsWith('.msg'))
      .map((n) => n.slice(0, -4))
      .filter((id) => isValidId(id) && !this.index.has(id) && !this.writing.has(id) && !this.removeLater.has(id));
    const found = await mapLimit(ids, VERIFY_PARALLEL, async (id) => {
      try {
        return await this.verify(id);
      } catch {
        return null;
      }
    });
    return found.filter((h): h is SpoolHeader => h !== null && !this.index.has(h.id)).sort(byReceived);
  }

  /**
   * Store one message durably. Resolves after: queue/<id>.msg created and written in one
   * writev, then either the journal's fdatasync covering its record, or (too big for the
   * journal, or no journal in this process) both the file's fdatasync and a queue/ fsync that
   * started after its creation.
   */
  async write(env: SpoolEnvelope, body: Buffer): Promise<SpoolHeader> {
    this.assertOpen();
    return this.inFlight(this.doWrite(env, body));
  }

  private async doWrite(env: SpoolEnvelope, body: Buffer): Promise<SpoolHeader> {
    if (!Buffer.isBuffer(body)) throw new SpoolError('EINVAL', 'spool write: body must be a Buffer');
    if (
      typeof env?.sender !== 'string' ||
      !Array.isArray(env.recipients) ||
      env.recipients.length === 0 ||
      !env.recipients.every((r) => typeof r === 'string') ||
      typeof env.clientIp !== 'string' ||
      typeof env.session !== 'string' ||
      typeof env.trusted !== 'boolean'
    ) {
      throw new SpoolError('EINVAL', 'spool write: envelope needs sender, at least one recipient, clientIp, session, trusted');
    }
    for (let attempt = 0; ; attempt++) {
      let id = newId();
      while (this.index.has(id)) id = newId(); // only after a clock step back across a restart
      try {
        return await this.writeAs(id, env, body);
      } catch (err) {
        // Another listener process made the same id in the same millisecond (1 in 1.7
        // million): take the next one. Nothing of ours was created, so nothing to undo.
        if (attempt < 3 && err instanceof SpoolError && err.code === 'EEXIST') continue;
        throw err;
      }
    }
  }

  private async writeAs(id: string, env: SpoolEnvelope, body: Buffer): Promise<SpoolHeader> {
    const header: SpoolHeader = {
      id,
      receivedAt: (env.at ?? new Date()).toISOString(),
      sender: env.sender,
      recipients: [...env.recipients],
      size: body.length,
      sha256: sha256Hex(body),
      clientIp: env.clientIp,
      session: env.session,
      trusted: env.trusted,
    };
    if (env.helo !== undefined) header.helo = env.helo;
    if (env.authUser !== undefined) header.authUser = env.authUser;
    if (env.meta !== undefined) header.meta = env.meta;
    if (env.subject !== undefined) header.subject = env.subject;

    const final = join(this.queueDir, `${id}.msg`);
    let fh: FileHandle | undefined;
    let created = false;
    this.writing.add(id);
    try {
      fh = await open(final, 'wx', FILE_MODE);
      created = true;
      const bytes = encodeMessage(header, body);
      await writeAllv(fh, bytes);
      let journaled = false;
      if (this.journal) {
        let size = 0;
        for (const b of bytes) size += b.length;
        journaled = size <= JOURNAL_MAX_RECORD;
      }
      if (journaled) {
        // Durable in the journal (group commit with every message written meanwhile): the
        // file itself needs no sync now; a crash that loses it is repaired from the journal
        // at the next open, and the journal's checkpoint syncs it before its record goes.
        try {
          await this.journal!.add(id, bytes);
        } catch (err) {
          // No segment (a disk too full for a new one): nothing of it is in the journal, so
          // the file's own syncs below.
          if (err instanceof JournalUnavailableError) journaled = false;
          else {
            // The record may have reached the disk: a removal record keeps the next open
            // from restoring a message the client was told to send again.
            await this.journal!.drop(id).catch(() => undefined);
            throw err;
          }
        }
      }
      if (!journaled) {
        // The data (fdatasync) and the directory entry (queue/ fsync, group-committed) are made
        // durable in parallel, halving the latency a single client sees. Safe because the file
        // checks itself (size and both checksums in its trailer): a crash that keeps the entry
        // but not all the data leaves a file that open() quarantines, and nobody got a 250 for
        // it. On Windows there is no folder fsync (see the header): what counts there is this
        // flush of the file's own handle, opened for writing above.
        await Promise.all([this.fsyncOn ? fh.datasync() : undefined, this.queueSync!.sync()]);
      }
      // Durable now, so the 250 does not wait for close(): one thread-pool round trip less
      // per message for the client. The close runs in the id's queue (a remove() or
      // quarantine() of this message waits for it) and the spool's close() waits for it. A
      // failed close() loses nothing: the bytes and the entry are already fsync'd.
      const h = fh;
      fh = undefined;
      void this.inFlight(this.serial(id, () => h.close())).catch(() => undefined);
    } catch (err) {
      if (fh) await fh.close().catch(() => undefined);
      // Rejected means "not queued": the client will retry, so nothing may stay behind to be
      // delivered a second time.
      if (created) await unlinkRetry(final, this.held(id)).catch(() => undefined);
      throw ioError('write', id, err);
    } finally {
      this.writing.delete(id);
    }
    this.track(id, body.length);
    this.remember(id, body);
    return header;
  }

  /** Header of a queued message after the structural checks (no body read). */
  async readHeader(id: string): Promise<SpoolHeader> {
    return this.withMsg(id, async (fh) => (await this.inspect(id, fh)).header);
  }

  /** The body bytes exactly as written; throws SpoolCorruptError if the checksum fails. */
  async readBody(id: string): Promise<Buffer> {
    const mem = this.recent.get(id);
    if (mem) {
      // Served once from memory: a later read (a retry minutes later) verifies the file.
      this.forget(id);
      return mem;
    }
    this.checkId(id);
    // A small file (most mail; in the page cache, just written or recovered) is read with
    // synchronous calls, as recovery does: four threadpool round trips (open, fstat, read,
    // close) per message were a third of the delivery thread's time in a drain of 20,000
    // (`npm run bench -- --scale`). Anything unusual (missing, held, bigger) takes the
    // asynchronous path below, which says what it is.
    let whole: Buffer | null = null;
    try {
      whole = readWholeSync(join(this.queueDir, `${id}.msg`), id, HEAD_READ);
    } catch (err) {
      if (err instanceof SpoolCorruptError) throw err;
    }
    // A copy: readWholeSync's buffer is reused by its next call.
    if (whole) return Buffer.from(checkWhole(id, whole).body);
    return this.withMsg(id, async (fh) => {
      // A small file is read whole in one call: one read instead of three.
      const { size: fileSize } = await fh.stat();
      if (fileSize <= HEAD_READ) {
        const whole = Buffer.allocUnsafe(fileSize);
        await readExactly(fh, id, whole, 0);
        return checkWhole(id, whole).body;
      }
      const { header, bodyStart } = await this.inspect(id, fh);
      const body = Buffer.allocUnsafe(header.size);
      await readExactly(fh, id, body, bodyStart);
      const got = sha256Hex(body);
      if (got !== header.sha256) {
        throw new SpoolCorruptError(id, `body checksum mismatch (header ${header.sha256}, data ${got})`);
      }
      return body;
    });
  }

  /** Full check of a queued message (structure + body checksum) without keeping the body. */
  async verify(id: string): Promise<SpoolHeader> {
    return this.withMsg(id, async (fh) => {
      const { header, bodyStart } = await this.inspect(id, fh);
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(header.size, 1)));
      for (let pos = 0; pos < header.size; ) {
        const n = Math.min(buf.length, header.size - pos);
        await readExactly(fh, id, buf.subarray(0, n), bodyStart + pos);
        hash.update(buf.subarray(0, n));
        pos += n;
      }
      const got = hash.digest('hex');
      if (got !== header.sha256) {
        throw new SpoolCorruptError(id, `body checksum mismatch (header ${header.sha256}, data ${got})`);
      }
      return header;
    });
  }

  /**
   * The delivery state; a fresh one (every recipient pending, 0 attempts) when none was saved.
   * A state file that does not parse (only disk corruption can do that: writes are atomic) is
   * moved to quarantine/ and a fresh state returned with lastError saying so: delivering twice
   * beats never delivering.
   */
  async getState(id: string): Promise<SpoolState> {
    this.checkId(id);
    const path = join(this.queueDir, `${id}.state`);
    let raw: string;
    try {
      raw = await readFile(path, 'utf8');
    } catch (err) {
      if (!isEnoent(err)) throw ioError('getState', id, err);
      return freshState(await this.readHeader(id));
    }
    try {
      return checkState(JSON.parse(raw));
    } catch (err) {
      const reason = `state file unreadable (${(err as Error).message}); reset to fresh`;
      await this.serial(id, async () => {
        await this.moveToQuarantine(this.queueDir, `${id}.state`, `queue/${id}.state`, reason).catch((e: unknown) => {
          if (!isEnoent(e)) throw e;
        });
        if (this.fsyncOn) await fsyncDir(this.quarantineDir);
      });
      return { ...freshState(await this.readHeader(id)), lastError: reason };
    }
  }

  /** Replace the state atomically and durably (tmp + fdatasync + rename + dir fsync). */
  async setState(id: string, s: SpoolState): Promise<void> {
    this.assertOpen();
    this.checkId(id);
    try {
      checkState(s);
    } catch (err) {
      throw new SpoolError('EINVAL', `spool setState(${id}): ${(err as Error).message}`, { id });
    }
    const data = Buffer.from(JSON.stringify(s), 'utf8');
    return this.inFlight(
      this.serial(id, async () => {
        const final = join(this.queueDir, `${id}.state`);
        // Refuse to resurrect a removed message as an orphan state file. This process owns the
        // spool and tracks every id in queue/ (open() and write() add, remove()/quarantine()
        // drop), so the index answers without an access() call per state update.
        if (!this.index.has(id)) throw new SpoolError('ENOENT', `no message ${id} in the queue`, { id });
        await this.writeStateFile(id, data);
      }),
    );
  }

  /** tmp + flush + rename over queue/<id>.state + folder fsync; throws a SpoolError. */
  private async writeStateFile(id: string, data: Buffer): Promise<void> {
    const final = join(this.queueDir, `${id}.state`);
    const tmp = join(this.tmpDir, `${id}.${(++this.stateSeq).toString(36)}.state.tmp`);
    let fh: FileHandle | undefined;
    let renamed = false;
    try {
      fh = await open(tmp, 'wx', FILE_MODE);
      await writeAllv(fh, [data]);
      if (this.fsyncOn) await fh.datasync();
      const h = fh;
      fh = undefined;
      await h.close();
      // A scanner holding the old state file makes the replace fail for a moment on Windows.
      await renameRetry(tmp, final, this.held(id));
      renamed = true;
      this.withState.add(id);
      await this.queueSync!.sync();
    } catch (err) {
      if (fh) await fh.close().catch(() => undefined);
      if (!renamed) await unlink(tmp).catch(() => undefined);
      throw ioError('setState', id, err);
    }
  }

  /**
   * Delete a message and its state (delivery says: delivered or bounced). Idempotent.
   * The .msg goes first: a crash in between leaves an orphan .state, which open() deletes,
   * never a message without its state (which would be delivered again to everyone).
   */
  async remove(id: string): Promise<void> {
    this.assertOpen();
    this.checkId(id);
    return this.inFlight(
      this.serial(id, async () => {
        // First the journal's removal record (committed with the next group commit, see
        // SpoolJournal.drop), so that the journal does not restore a delivered message. One
        // it could not write (no segment on a full disk) may bring it back after a crash: a
        // second delivery, never a loss, so the removal goes on.
        if (this.journal?.holds(id)) await this.journal.drop(id, false).catch(() => undefined);
        try {
          await unlinkRetry(join(this.queueDir, `${id}.msg`), this.held(id)).catch(ignoreEnoent);
        } catch (err) {
          if (!isHeldError(err)) throw ioError('remove', id, err);
          // Another program (a virus scanner) still holds the file after the retries. The
          // message is delivered, so it must not go out again after a restart: a state file
          // with nothing pending says so (open() and the runner then remove it), and the file
          // itself is deleted in the background once it is free.
          const tomb: SpoolState = { pending: [], done: [], failed: [], attempts: 0, lastError: 'removed; the file was held by another program' };
          await this.writeStateFile(id, Buffer.from(JSON.stringify(tomb), 'utf8'));
          this.notice(`removing queue/${id}.msg: still held by another program (${errCode(err)}); it will not be delivered again and is deleted as soon as it is free`, id);
          this.deleteLater(id);
          this.forget(id);
          this.untrack(id);
          return;
        }
        try {
          if (this.withState.has(id)) await unlinkRetry(join(this.queueDir, `${id}.state`), this.held(id)).catch(ignoreEnoent);
          // No directory fsync: a removal lost to a crash only brings the message back for a
          // duplicate delivery (at-least-once), and the next write's fsync of the same
          // directory persists it anyway. Waiting here cost one fsync per delivered message.
        } catch (err) {
          // The message file is gone; an orphan state file is what open() deletes anyway.
          if (!isHeldError(err)) throw ioError('remove', id, err);
          this.notice(`removing queue/${id}.state: still held by another program (${errCode(err)}); the next start deletes it`, id);
        }
        this.forget(id);
        this.withState.delete(id);
        this.untrack(id);
      }),
    );
  }

  /** Move a message (and its state) to quarantine/ with the reason; it will not be delivered. */
  async quarantine(id: string, reason: string): Promise<void> {
    this.assertOpen();
    this.checkId(id);
    return this.inFlight(
      this.serial(id, async () => {
        try {
          await access(join(this.queueDir, `${id}.msg`));
          // A journaled message's file has no sync of its own yet: synced before it moves,
          // and its record dropped only once the move is durable (a crash in between brings
          // it back into queue/ from the journal, a copy too many, never none).
          const journaled = this.journal?.holds(id) === true;
          if (journaled) await this.makeDurable([id]);
          await this.quarantineFiles(id, reason);
          if (this.fsyncOn) await fsyncDir(this.quarantineDir);
          await this.queueSync!.sync();
          if (journaled) await this.journal!.drop(id);
        } catch (err) {
          if (isEnoent(err)) throw new SpoolError('ENOENT', `no message ${id} in the queue`, { id });
          throw ioError('quarantine', id, err);
        }
        this.forget(id);
        this.withState.delete(id);
        this.untrack(id);
      }),
    );
  }

  /**
   * Headers of every message in queue/, oldest first. Only the structural checks are made
   * (cheap); a file failing them is left out here and is quarantined by readBody's caller
   * or the next open(). Needs no open(): the CLI reads a live spool this way.
   */
  async list(): Promise<SpoolHeader[]> {
    let names: string[];
    try {
      names = await readdir(this.queueDir);
    } catch (err) {
      if (isEnoent(err)) return []; // never opened (fresh install): an empty queue, not an error
      throw err;
    }
    const ids = names
      .filter((n) => n.endsWith('.msg'))
      .map((n) => n.slice(0, -4))
      .filter(isValidId);
    const headers = await mapLimit(ids, 16, async (id) => {
      try {
        return await this.readHeader(id);
      } catch (err) {
        if (err instanceof SpoolCorruptError || isEnoent(err)) return null; // corrupt or removed meanwhile
        throw err;
      }
    });
    return headers.filter((h): h is SpoolHeader => h !== null).sort(byReceived);
  }

  /** Messages in queue/ and the sum of their body sizes, as known to this process. */
  stats(): { count: number; bytes: number } {
    return { count: this.index.size, bytes: this.bytes };
  }

  /** Let in-flight operations finish, then release the cached directory fd. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.recovery; // stops at its next slice (it checks `closed`)
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    // Removals still waiting for a held file: the next open() finishes them (state = done).
    for (const t of this.removeLater.values()) if (t) clearTimeout(t);
    this.removeLater.clear();
    await this.journal?.close();
    await this.queueSync?.close();
  }

  // ---- internals ----

  /**
   * What the journal says, applied before the recovery scan: a removed message's leftover
   * files are deleted (its deletion had not reached the disk), and a message whose file is
   * missing or differs from its record (lost or torn by a crash: it had no sync of its own)
   * is written again and synced. Files are compared with the record's bytes, not only
   * verified, because a file system may keep a file's size and lose its data.
   */
  private async replay(found: JournalContents, notes: RecoveryNote[]): Promise<void> {
    let changed = false;
    for (const id of found.removed) {
      const msg = join(this.queueDir, `${id}.msg`);
      const state = join(this.queueDir, `${id}.state`);
      if (existsSync(msg)) {
        try {
          await unlinkRetry(msg, this.held(id));
          notes.push({ file: `queue/${id}.msg`, action: 'deleted', reason: 'removed before the stop (the journal says so); its deletion had not reached the disk' });
          changed = true;
        } catch (err) {
          if (!isHeldError(err)) {
            if (isEnoent(err)) continue;
            throw err;
          }
          // Still held by another program (a virus scanner): it stays, with a state that
          // says nothing is pending (remove() wrote it when the file was held then), so the
          // recovery hands it over as done and the runner deletes it once it is free.
          if (!existsSync(state)) {
            const tomb: SpoolState = { pending: [], done: [], failed: [], attempts: 0, lastError: 'removed; the file was held by another program' };
            await this.writeStateFile(id, Buffer.from(JSON.stringify(tomb), 'utf8'));
          }
          continue;
        }
      }
      if (existsSync(state)) {
        // A state held by another program stays: the scan below deletes an orphan state.
        const gone = await unlinkRetry(state, this.held(id)).then(
          () => true,
          (e: unknown) => {
            if (isEnoent(e) || isHeldError(e)) return false;
            throw e;
          },
        );
        if (gone) {
          notes.push({ file: `queue/${id}.state`, action: 'deleted', reason: 'removed before the stop (the journal says so); its deletion had not reached the disk' });
          changed = true;
        }
      }
    }
    for (const [id, bytes] of found.messages) {
      const file = join(this.queueDir, `${id}.msg`);
      let same = false;
      try {
        same = readFileSync(file).equals(bytes);
      } catch (err) {
        if (!isEnoent(err)) throw err;
      }
      if (same) continue;
      const fh = await open(file, 'w', FILE_MODE);
      try {
        await writeAllv(fh, [bytes]);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      notes.push({ file: `queue/${id}.msg`, action: 'restored', reason: 'lost or torn by a stop after its 250; written again from the journal' });
      changed = true;
    }
    if (changed) await fsyncDir(this.queueDir);
  }

  /** The journal's checkpoint: these messages' files synced on their own, then queue/. */
  private async makeDurable(ids: string[]): Promise<boolean> {
    await mapLimit(ids, VERIFY_PARALLEL, async (id) => {
      let fh: FileHandle;
      try {
        fh = await open(join(this.queueDir, `${id}.msg`), 'r+');
      } catch (err) {
        if (isEnoent(err)) return; // removed or quarantined meanwhile
        throw err;
      }
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
    await this.queueSync!.sync();
    return true;
  }

  private notice(text: string, id?: string): void {
    try {
      this.onNotice?.(`spool: ${text}`, id);
    } catch {
      // Logging must not turn into a spool failure.
    }
  }

  /** Retry options for a rename/unlink of a spool file: one line at the first retry and at the end. */
  private held(id?: string): HeldRetryOptions {
    return {
      delaysMs: this.heldDelays,
      onRetry: (i) => {
        if (i.retry === 1) this.notice(heldRetryText(i), id);
      },
      onRecovered: (i) => this.notice(`${i.op === 'rename' ? 'moved' : 'removed'} ${i.path} after ${i.retry} ${i.retry === 1 ? 'retry' : 'retries'} (held by another program for ${i.heldMs} ms)`, id),
    };
  }

  /** Keep trying to delete a removed message's files in the background (see remove()). */
  private deleteLater(id: string): void {
    const attempt = async (): Promise<void> => {
      if (!this.removeLater.has(id)) return; // closed meanwhile
      this.removeLater.set(id, null);
      try {
        await unlink(join(this.queueDir, `${id}.msg`)).catch(ignoreEnoent);
        await unlink(join(this.queueDir, `${id}.state`)).catch(ignoreEnoent);
        this.withState.delete(id);
        this.removeLater.delete(id);
        this.notice(`removed queue/${id}.msg now that no other program holds it`, id);
      } catch (err) {
        if (!this.removeLater.has(id)) return;
        if (!isHeldError(err)) {
          this.removeLater.delete(id);
          this.notice(`cannot remove queue/${id}.msg (${errCode(err)}); it is marked done and the next start removes it`, id);
          return;
        }
        schedule();
      }
    };
    const schedule = (): void => {
      const t = setTimeout(() => void this.inFlight(this.serial(id, attempt)), this.laterMs);
      t.unref();
      this.removeLater.set(id, t);
    };
    schedule();
  }

  private assertOpen(): void {
    if (this.closed) throw new SpoolError('ECLOSED', `spool ${this.dir} is closed`);
    if (!this.opened) throw new SpoolError('ENOTOPEN', `spool ${this.dir}: call open() first`);
  }

  private checkId(id: string): void {
    // Every id becomes part of a path: refuse anything that is not exactly our format.
    if (!isValidId(id)) throw new SpoolError('EINVALIDID', `not a spool id: ${JSON.stringify(id)}`);
  }

  private track(id: string, size: number): void {
    if (!this.index.has(id)) this.bytes += size;
    this.index.set(id, size);
  }

  private remember(id: string, body: Buffer): void {
    if (body.length > RECENT_MAX_BYTES / 4) return; // big ones stream from disk
    this.recent.set(id, body);
    this.recentBytes += body.length;
    for (const [old, b] of this.recent) {
      if (this.recentBytes <= RECENT_MAX_BYTES && this.recent.size <= RECENT_MAX_COUNT) break;
      this.recent.delete(old);
      this.recentBytes -= b.length;
    }
  }

  private forget(id: string): void {
    const b = this.recent.get(id);
    if (!b) return;
    this.recent.delete(id);
    this.recentBytes -= b.length;
  }

  private untrack(id: string): void {
    const size = this.index.get(id);
    if (size !== undefined) this.bytes -= size;
    this.index.delete(id);
  }

  /** Remember an operation so close() can wait for it. */
  private inFlight<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = (): void => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(id, tail);
    void tail.then(() => {
      if (this.chains.get(id) === tail) this.chains.delete(id);
    });
    return next;
  }

  private async openMsg(id: string): Promise<FileHandle> {
    this.checkId(id);
    try {
      return await open(join(this.queueDir, `${id}.msg`), 'r');
    } catch (err) {
      if (isEnoent(err)) throw new SpoolError('ENOENT', `no message ${id} in the queue`, { id, cause: err });
      throw ioError('read', id, err);
    }
  }

  private async withMsg<T>(id: string, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
    const fh = await this.openMsg(id);
    try {
      return await fn(fh);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** Magic, header, size and trailer checks: everything except hashing the body. */
  private async inspect(id: string, fh: FileHandle): Promise<Inspected> {
    const { size: fileSize } = await fh.stat();
    let want = Math.min(fileSize, HEAD_READ);
    let head: DecodedHead | null = null;
    while (head === null) {
      const buf = Buffer.allocUnsafe(want);
      await readExactly(fh, id, buf, 0);
      head = decodeHead(id, buf, fileSize); // null: header longer than `want`, read more
      want = Math.min(fileSize, want * 4);
    }
    const expected = head.bodyStart + head.header.size + TRAILER_LEN;
    if (fileSize !== expected) {
      throw new SpoolCorruptError(id, `file is ${fileSize} bytes, header says ${expected} (torn or truncated write)`);
    }
    const tbuf = Buffer.allocUnsafe(TRAILER_LEN);
    await readExactly(fh, id, tbuf, fileSize - TRAILER_LEN);
    checkStructure(id, head, decodeTrailer(id, tbuf), fileSize);
    return { header: head.header, bodyStart: head.bodyStart };
  }

  /** Move queue/<id>.msg and its .state (if any) to quarantine/. */
  private async quarantineFiles(id: string, reason: string): Promise<void> {
    await this.moveToQuarantine(this.queueDir, `${id}.msg`, `queue/${id}.msg`, reason);
    await this.moveToQuarantine(this.queueDir, `${id}.state`, `queue/${id}.state`, reason).catch(ignoreEnoent);
  }

  /** rename into quarantine/ under a free name, plus `<name>.why.json` saying why and when. */
  private async moveToQuarantine(fromDir: string, name: string, rel: string, reason: string): Promise<string> {
    let dest = name;
    for (let n = 1; await exists(join(this.quarantineDir, dest)); n++) dest = `${name}.${n}`;
    await renameRetry(join(fromDir, name), join(this.quarantineDir, dest), this.held());
    const why = { file: rel, quarantinedAs: `quarantine/${dest}`, at: new Date().toISOString(), reason };
    // The note is for humans; losing it in a crash loses nothing that matters, so no fsync.
    // Line endings of the platform: on Windows an admin opens it with Notepad.
    await writeFile(join(this.quarantineDir, `${dest}.why.json`), `${JSON.stringify(why, null, 2)}\n`.replace(/\n/g, EOL), { mode: FILE_MODE });
    return dest;
  }
}

/**
 * A file's bytes read with synchronous calls into a buffer reused from one call to the next
 * (recovery reads 100,000 small files in a row: one allocation each was a tenth of its time in
 * garbage collection); a bigger file gets its own. Only valid until the next call. null when
 * the file is bigger than `max`. Throws the fs error, or SpoolCorruptError when it shrinks.
 */
let scratch = Buffer.allocUnsafe(0);
function readWholeSync(path: string, id: string, max: number): Buffer | null {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > max) return null;
    if (size > scratch.length && size <= 256 * 1024) scratch = Buffer.allocUnsafe(256 * 1024);
    const buf = size <= scratch.length ? scratch.subarray(0, size) : Buffer.allocUnsafe(size);
    for (let off = 0; off < size; ) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) throw new SpoolCorruptError(id, 'file ended early (changed while reading?)');
      off += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * Every check of a message file held whole in `buf` (structure, size, both checksums); the body
 * is a view into `buf`. Throws SpoolCorruptError.
 */
function checkWhole(id: string, buf: Buffer): { header: SpoolHeader; body: Buffer } {
  const head = decodeHead(id, buf, buf.length);
  if (head === null) throw new SpoolCorruptError(id, 'header line not terminated (torn or truncated write)');
  const expected = head.bodyStart + head.header.size + TRAILER_LEN;
  if (buf.length !== expected) {
    throw new SpoolCorruptError(id, `file is ${buf.length} bytes, header says ${expected} (torn or truncated write)`);
  }
  checkStructure(id, head, decodeTrailer(id, buf.subarray(buf.length - TRAILER_LEN)), buf.length);
  const body = buf.subarray(head.bodyStart, head.bodyStart + head.header.size);
  const got = sha256Hex(body);
  if (got !== head.header.sha256) throw new SpoolCorruptError(id, `body checksum mismatch (header ${head.header.sha256}, data ${got})`);
  return { header: head.header, body };
}

function freshState(h: SpoolHeader): SpoolState {
  return { pending: [...h.recipients], done: [], failed: [], attempts: 0 };
}

function ignoreEnoent(err: unknown): void {
  if (!isEnoent(err)) throw err;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

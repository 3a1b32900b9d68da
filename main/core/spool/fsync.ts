/*
 * Durability helpers: write-all-or-throw, directory fsync through a cached fd, and GROUP
 * COMMIT of directory fsyncs. A rename is durable only once its directory is fsync'd; doing
 * one dir fsync per message would halve throughput, so GroupSync lets every caller that asks
 * while no fsync has started share the next one. Guarantee: a sync() promise resolves only
 * after an fsync that STARTED after sync() was called has completed, and rejects with that
 * fsync's error (errno `code` intact) if it failed; one fsync is in flight at a time.
 * On Windows directories cannot be fsync'd from Node (FlushFileBuffers needs a file); there
 * DirSync is a no-op and NTFS's metadata journal is what we rely on.
 */
import { open, type FileHandle } from 'node:fs/promises';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Batches concurrent callers onto one underlying sync. */
export class GroupSync {
  private waiting: Waiter[] = [];
  private running = false;
  private scheduled = false;
  /** Number of underlying syncs started (for stats and tests, not for timing). */
  syncs = 0;

  constructor(private readonly doSync: () => Promise<void>) {}

  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        // Wait for the end of this event-loop turn so that every rename that completed in the
        // same poll phase joins this fsync instead of starting its own.
        setImmediate(() => void this.run());
      }
    });
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    if (this.running) return;
    this.running = true;
    try {
      // Callers that arrive while an fsync is in flight wait for the next one: the one in
      // flight may have started before their rename, so it proves nothing for them.
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        this.waiting = [];
        this.syncs++;
        try {
          await this.doSync();
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** fsync of one directory through a cached fd; reopened after any failure. */
export class DirSync {
  private fh: FileHandle | null = null;
  private opening: Promise<FileHandle> | null = null;
  private readonly group: GroupSync;

  constructor(
    readonly path: string,
    private readonly enabled: boolean,
  ) {
    this.group = new GroupSync(() => this.syncNow());
  }

  get syncs(): number {
    return this.group.syncs;
  }

  /** Group-committed fsync of the directory (see GroupSync for the guarantee). */
  sync(): Promise<void> {
    if (!this.enabled || process.platform === 'win32') return Promise.resolve();
    return this.group.sync();
  }

  private async handle(): Promise<FileHandle> {
    if (this.fh) return this.fh;
    this.opening ??= open(this.path, 'r');
    try {
      this.fh = await this.opening;
      return this.fh;
    } finally {
      this.opening = null;
    }
  }

  private async syncNow(): Promise<void> {
    const fh = await this.handle();
    try {
      await fh.sync();
    } catch (err) {
      // After a failed fsync Linux may have dropped the dirty state ("fsyncgate"): retrying on
      // the same fd can falsely succeed. Drop the fd; the next caller opens a fresh one.
      this.fh = null;
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }
}

/** One-off fsync of a directory (used at open() and for quarantine/, off the hot path). */
export async function fsyncDir(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write every byte of `bufs` at offset 0.. of a fresh file; a short write is continued. */
export async function writeAllv(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  let position = 0;
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, position);
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    position += bytesWritten;
    rest = unwritten(rest, bytesWritten);
  }
}

/** What is left of `bufs` after a (possibly short) vectored write of `written` bytes. */
export function unwritten(bufs: Buffer[], written: number): Buffer[] {
  let skip = written;
  const next: Buffer[] = [];
  for (const b of bufs) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    next.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return next;
}

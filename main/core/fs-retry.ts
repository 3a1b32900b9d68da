/*
 * rename() and unlink() that outlast a file held open by another program. On Windows a virus
 * scanner, the search indexer or a backup agent opens new files for a moment, and Excel keeps
 * a file open for as long as it shows it; while a handle without FILE_SHARE_DELETE is open,
 * rename and unlink of that file fail with EBUSY (sharing violation), EPERM or EACCES. These
 * helpers retry exactly those failures with bounded backoff on timers (the event loop never
 * waits) and tell `onRetry` about each retry, so the caller can write a log line.
 *
 * Returns when the operation succeeded. Throws the last error unchanged (errno `code`
 * intact) when it is not a "held by another program" error, or still is after the last
 * delay; `retries` and `heldMs` are added to it. ENOENT is never retried: it is the caller's
 * to judge. EPERM and EACCES count as "held" only on Windows: elsewhere they are real
 * permission errors and waiting would only delay the answer.
 */
import { rename, unlink } from 'node:fs/promises';

/** Default waits between attempts, ms: about 9.5 s in all, long enough for a scan of a mail. */
export const HELD_RETRY_DELAYS_MS: readonly number[] = [20, 50, 100, 200, 400, 800, 1600, 3200, 3200];

export interface HeldRetryInfo {
  /** 'append': opening a file to append to it (a hold without FILE_SHARE_WRITE stops that too). */
  op: 'rename' | 'unlink' | 'append';
  path: string;
  code: string;
  /** 1 for the first retry. */
  retry: number;
  /** Wait before this retry, ms. */
  delayMs: number;
  /** Time since the first attempt, ms. */
  heldMs: number;
}

export interface HeldRetryOptions {
  /** Waits between attempts; `[]` = one attempt. Default HELD_RETRY_DELAYS_MS. */
  delaysMs?: readonly number[];
  /** Told before each retry (for a log line). A throwing callback is ignored. */
  onRetry?: (info: HeldRetryInfo) => void;
  /** Told once when an operation succeeded after at least one retry. */
  onRecovered?: (info: Omit<HeldRetryInfo, 'delayMs'>) => void;
  /** Platform whose error semantics apply (tests). Default process.platform. */
  platform?: NodeJS.Platform;
}

/** An error that only means "another program has the file open right now". */
export function isHeldError(err: unknown, platform: NodeJS.Platform = process.platform): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'EBUSY') return true;
  return platform === 'win32' && (code === 'EPERM' || code === 'EACCES');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // A logging callback must not turn a retry into a failure.
  }
}

/** Run `fn` and retry it while it fails because the file is held (see the file header). */
export async function retryWhileHeld<T>(op: HeldRetryInfo['op'], path: string, fn: () => Promise<T>, opts: HeldRetryOptions = {}): Promise<T> {
  const delays = opts.delaysMs ?? HELD_RETRY_DELAYS_MS;
  const platform = opts.platform ?? process.platform;
  const started = Date.now();
  for (let retry = 0; ; retry++) {
    try {
      const r = await fn();
      if (retry > 0 && opts.onRecovered) {
        const info = { op, path, code: 'OK', retry, heldMs: Date.now() - started };
        safe(() => opts.onRecovered!(info));
      }
      return r;
    } catch (err) {
      const delayMs = delays[retry];
      if (!isHeldError(err, platform) || delayMs === undefined) {
        if (err && typeof err === 'object' && retry > 0) Object.assign(err, { retries: retry, heldMs: Date.now() - started });
        throw err;
      }
      const code = String((err as { code: string }).code);
      safe(() => opts.onRetry?.({ op, path, code, retry: retry + 1, delayMs, heldMs: Date.now() - started }));
      await sleep(delayMs);
    }
  }
}

/** fs.promises.rename, retried while the source or the target is held. */
export function renameRetry(from: string, to: string, opts?: HeldRetryOptions): Promise<void> {
  return retryWhileHeld('rename', from, () => rename(from, to), opts);
}

/** fs.promises.unlink, retried while the file is held. ENOENT is thrown at once. */
export function unlinkRetry(path: string, opts?: HeldRetryOptions): Promise<void> {
  return retryWhileHeld('unlink', path, () => unlink(path), opts);
}

/** One line for a log: what is held, since when, what happens next. */
export function heldRetryText(i: HeldRetryInfo): string {
  const what = { rename: 'moving', unlink: 'removing', append: 'appending to' }[i.op];
  return `${what} ${i.path} failed with ${i.code} (the file is open in another program, such as a virus scanner or the search indexer); retry ${i.retry} in ${i.delayMs} ms`;
}

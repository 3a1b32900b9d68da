/*
 * lowdb's file adapter for the data folder's JSON files (config.json, its last-good copy,
 * accounts-seen.json): written atomically (a temp file `.<name>.tmp`, then a rename over the
 * target, never fsync'd: these are settings and statistics, not mail) and owner-only (0600 on
 * Linux and macOS from the temp file on). It replaces lowdb's own JSONFile, whose writer
 * (steno) retries a failed rename ten times at 100 ms and then gives up without a word: on
 * Windows a virus scanner or the search indexer that has just opened the file holds the
 * rename off longer than that. Here the rename waits out a held file the way the spool's and
 * the logs' files do (fs-retry.ts: bounded backoff on timers, the event loop never waits) and
 * tells `onNotice` once when it starts waiting and once when it got through.
 *
 * read() resolves to the parsed file or null when there is none; write() resolves once the
 * file is in place, and rejects with the file system's error when it is not a "held" error, or
 * with an error saying which program-held file stopped the save (errno `code` kept, the
 * original as `cause`) when it is still held after the last retry: the old file is then
 * untouched. Writes of one adapter run one after the other.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { HELD_RETRY_DELAYS_MS, isHeldError, renameRetry } from '../fs-retry.js';
import { writePrivateFile } from '../private-files.js';

export interface PrivateJSONFileOptions {
  /** Waits between rename attempts while the file is held (fs-retry.ts; tests shorten them). */
  heldRetryDelaysMs?: readonly number[];
  /** One line when a save starts waiting for a held file, one when it got through. */
  onNotice?: (text: string) => void;
}

export class PrivateJSONFile<T> implements Adapter<T> {
  readonly file: string;
  readonly #tmp: string;
  readonly #opts: PrivateJSONFileOptions;
  #writing: Promise<unknown> = Promise.resolve();

  constructor(file: string, opts: PrivateJSONFileOptions = {}) {
    this.file = file;
    this.#tmp = join(dirname(file), `.${basename(file)}.tmp`);
    this.#opts = opts;
  }

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return JSON.parse(text) as T;
  }

  write(data: T): Promise<void> {
    const text = JSON.stringify(data, null, 2);
    const run = this.#writing.then(() => this.#write(text));
    this.#writing = run.catch(() => undefined);
    return run;
  }

  async #write(text: string): Promise<void> {
    await writePrivateFile(this.#tmp, text);
    const delays = this.#opts.heldRetryDelaysMs ?? HELD_RETRY_DELAYS_MS;
    const seconds = Math.round(delays.reduce((a, b) => a + b, 0) / 100) / 10;
    try {
      await this.#rename(delays, seconds);
    } catch (err) {
      if (!isHeldError(err)) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      this.#notice(`saving ${this.file}: still held by another program after ${seconds} s (${code}); not saved`);
      throw Object.assign(new Error(`${this.file} is open in another program (${code}: a virus scanner, the search indexer, an editor) and could not be replaced for ${seconds} s; the change was not saved, try again`), { code, cause: err });
    }
  }

  #rename(delays: readonly number[], seconds: number): Promise<void> {
    return renameRetry(this.#tmp, this.file, {
      delaysMs: delays,
      onRetry: (i) => {
        if (i.retry === 1) this.#notice(`saving ${this.file} failed with ${i.code} (the file is open in another program, such as a virus scanner or the search indexer); trying again for up to ${seconds} s`);
      },
      onRecovered: (i) => this.#notice(`saved ${this.file} after ${i.retry} ${i.retry === 1 ? 'retry' : 'retries'} (held by another program for ${i.heldMs} ms)`),
    });
  }

  #notice(text: string): void {
    try {
      this.#opts.onNotice?.(text);
    } catch {
      // A logging callback must not turn a save into a failure.
    }
  }
}

/*
 * Discovered accounts: every sender address the gateway has relayed for, with first/last seen
 * and a message count, kept in `<dataDir>/accounts-seen.json` (lowdb). This is traffic, not
 * configuration, so it is not in the audit trail, and it is written at most every ~2 s (and on
 * close) rather than per message. record() only touches memory and never fails; a failed
 * background write is retried on the next one and reported by flush()/close(). An unreadable
 * file at open() is moved aside to `accounts-seen.json.bad` and counting starts afresh
 * (`startupProblem` says so): losing these statistics must never stop the gateway.
 */
import { rename } from 'node:fs/promises';
import { join } from 'node:path';

import { Low } from 'lowdb';
import { PrivateJSONFile } from './private-json-file.js';

import type { SeenStats } from '../../shared/types.js';
import { addressKey } from '../../shared/address.js';

export const SEEN_FILE = 'accounts-seen.json';

export interface SeenAccountsOptions {
  /** Delay before changes are written, ms. */
  flushMs?: number;
}

function isStats(v: unknown): v is SeenStats {
  const s = v as SeenStats;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof s.firstSeen === 'string' &&
    typeof s.lastSeen === 'string' &&
    Number.isInteger(s.messages)
  );
}

export class SeenAccounts {
  readonly file: string;
  /** Set when the file could not be read at open(); counting restarted. */
  startupProblem: string | null = null;

  #db: Low<Record<string, SeenStats>>;
  #flushMs: number;
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;
  #closed = false;

  private constructor(file: string, opts: SeenAccountsOptions) {
    this.file = file;
    this.#db = new Low<Record<string, SeenStats>>(new PrivateJSONFile(file), {});
    this.#flushMs = opts.flushMs ?? 2000;
  }

  static async open(dataDir: string, opts: SeenAccountsOptions = {}): Promise<SeenAccounts> {
    const seen = new SeenAccounts(join(dataDir, SEEN_FILE), opts);
    try {
      await seen.#db.read();
      const data: unknown = seen.#db.data;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('not an object');
      // Keep only well-formed rows; a hand-edited or older file may hold junk.
      const clean: Record<string, SeenStats> = {};
      for (const [k, v] of Object.entries(data)) if (isStats(v)) clean[k] = v;
      seen.#db.data = clean;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        await rename(seen.file, `${seen.file}.bad`).catch(() => undefined);
        seen.startupProblem = `${seen.file} was unreadable (${(e as Error).message}); moved to ${seen.file}.bad, counting starts afresh`;
      }
      seen.#db.data = {};
    }
    return seen;
  }

  /** Count one message from `address` at `at`. The null sender '' is not an account. */
  record(address: string, at: Date = new Date()): void {
    if (!address || this.#closed) return;
    const key = addressKey(address);
    const iso = at.toISOString();
    const data = this.#db.data;
    const s = data[key];
    if (!s) {
      data[key] = { firstSeen: iso, lastSeen: iso, messages: 1 };
    } else {
      // Messages can be recorded out of order (parallel sessions): keep the extremes.
      if (iso < s.firstSeen) s.firstSeen = iso;
      if (iso > s.lastSeen) s.lastSeen = iso;
      s.messages += 1;
    }
    this.#dirty = true;
    if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.flush().catch(() => undefined); // retried with the next record or at close
      }, this.#flushMs);
      this.#timer.unref(); // statistics must not keep a finishing process alive
    }
  }

  /** A copy of all rows, keyed by lowercased address. */
  all(): Record<string, SeenStats> {
    return structuredClone(this.#db.data);
  }

  /** Write pending changes now. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#writing = this.#writing
      .catch(() => undefined)
      .then(async () => {
        if (!this.#dirty) return;
        this.#dirty = false;
        try {
          await this.#db.write();
        } catch (e) {
          this.#dirty = true;
          throw e;
        }
      });
    return this.#writing;
  }

  /** Final write; later record() calls are ignored. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }
}

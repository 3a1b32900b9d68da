/*
 * Per-sender limits (hijack detection, as MDaemon does it): messages and external recipients
 * per sender in any 60 minutes, for mail from trusted clients. SenderLimiter.count() adds one
 * message and answers whether it goes past a limit; the counters live in memory, so after a
 * restart they start from zero (approximate by design: a restart forgets at most an hour).
 * FrozenStore keeps who is frozen in <data>/frozen.json, written to a temp file, fsync'd and
 * renamed, so a freeze survives a restart and kill -9; load() reads it (a missing or unreadable
 * file is an empty list, reported through `problem`). Neither throws on bad input.
 */
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

import type { FrozenSender } from '../../shared/outbound.js';
import type { SenderLimits } from '../../shared/types.js';
import { compileAccounts } from '../policy/accounts.js';
import { PRIVATE_FILE_MODE } from '../private-files.js';

const HOUR = 3600_000;

export const FROZEN_FILE = 'frozen.json';

interface Window {
  /** Times of the messages counted, oldest first. */
  messages: number[];
  /** [time, external recipients] per message. */
  external: [number, number][];
}

export class SenderLimiter {
  private readonly windows = new Map<string, Window>();
  private exemptFor: readonly string[] | null = null;
  private exemptIndex = compileAccounts([]);

  /** True when `sender` is on the allow-list (addresses or patterns, like accounts). */
  exempt(limits: SenderLimits, sender: string): boolean {
    if (this.exemptFor !== limits.exempt) {
      this.exemptFor = limits.exempt;
      this.exemptIndex = compileAccounts(limits.exempt.map((pattern) => ({ pattern, blockExternal: false, allow: [], note: '' })));
    }
    return this.exemptIndex.find(sender) !== undefined;
  }

  /**
   * Counts one message of `sender` with `external` external recipients at `now`; returns the
   * limit it goes past (the message is then not counted: it is refused), or null.
   */
  count(limits: SenderLimits, sender: string, external: number, now: number): Omit<FrozenSender, 'address' | 'since'> | null {
    const key = sender.toLowerCase();
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = { messages: [], external: [] }));
    const from = now - HOUR;
    while (w.messages.length > 0 && w.messages[0]! <= from) w.messages.shift();
    while (w.external.length > 0 && w.external[0]![0] <= from) w.external.shift();
    const messages = w.messages.length + 1;
    if (limits.messagesPerHour > 0 && messages > limits.messagesPerHour) {
      return { limit: 'messages', count: messages, max: limits.messagesPerHour };
    }
    const recipients = w.external.reduce((n, [, k]) => n + k, 0) + external;
    if (limits.externalRecipientsPerHour > 0 && recipients > limits.externalRecipientsPerHour) {
      return { limit: 'external-recipients', count: recipients, max: limits.externalRecipientsPerHour };
    }
    w.messages.push(now);
    if (external > 0) w.external.push([now, external]);
    return null;
  }

  /** Forget a sender's window (unfreeze starts it afresh). */
  reset(sender: string): void {
    this.windows.delete(sender.toLowerCase());
  }
}

export class FrozenStore {
  private readonly file: string;
  private list: FrozenSender[] = [];
  private writes: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, FROZEN_FILE);
  }

  async load(problem?: (text: string) => void): Promise<void> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      this.list = Array.isArray(parsed) ? parsed.filter((x): x is FrozenSender => typeof x?.address === 'string' && typeof x?.since === 'string') : [];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problem?.(`${FROZEN_FILE} unreadable (${(err as Error).message}); no sender is frozen`);
      this.list = [];
    }
  }

  all(): FrozenSender[] {
    return this.list.map((f) => ({ ...f }));
  }

  get(address: string): FrozenSender | undefined {
    const key = address.toLowerCase();
    return this.list.find((f) => f.address.toLowerCase() === key);
  }

  /** Adds (or keeps) a freeze, durable when the promise resolves. False: it was already frozen. */
  async freeze(f: FrozenSender): Promise<boolean> {
    if (this.get(f.address)) return false;
    this.list = [...this.list, f];
    await this.save();
    return true;
  }

  async unfreeze(address: string): Promise<FrozenSender | undefined> {
    const found = this.get(address);
    if (!found) return undefined;
    this.list = this.list.filter((f) => f !== found);
    await this.save();
    return found;
  }

  private save(): Promise<void> {
    const data = `${JSON.stringify(this.list, null, 2)}\n`;
    const run = this.writes.then(async () => {
      const tmp = `${this.file}.tmp`;
      const fh = await open(tmp, 'w', PRIVATE_FILE_MODE);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
    });
    this.writes = run.catch(() => undefined);
    return run;
  }
}

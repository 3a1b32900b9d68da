/*
 * The action log, <data>/actions.jsonl: one ActionEntry per line for every decision on held
 * mail (approved, rejected, expired, cancelled, sent now) and every freeze and unfreeze, with
 * who (the door and the approver's address when known) and when. It sits beside the config
 * audit trail (audit.jsonl) rather than in it: audit entries are whole configs that
 * `gatehouse restore` can go back to, and an action is not something to restore. `gatehouse
 * history` and the History screen show both, merged by time. Appended with fsync (a decision
 * is as important as a config change); a line torn by a crash is skipped when read.
 * append() rejects with the file system's error; all() never rejects for a missing file.
 */
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';

import type { ActionEntry } from '../../shared/outbound.js';
import { PRIVATE_FILE_MODE } from '../private-files.js';

export const ACTIONS_FILE = 'actions.jsonl';

export class ActionLog {
  readonly file: string;
  private n = -1;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, ACTIONS_FILE);
  }

  async all(): Promise<ActionEntry[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ActionEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as ActionEntry;
        if (Number.isInteger(e.n) && typeof e.action === 'string') out.push(e);
      } catch {
        // torn by a crash mid-append
      }
    }
    return out;
  }

  append(e: Omit<ActionEntry, 'n' | 'at'> & { at?: string }): Promise<ActionEntry> {
    const run = this.chain.then(async () => {
      if (this.n < 0) this.n = (await this.all()).reduce((m, x) => Math.max(m, x.n), 0);
      const { at, ...rest } = e;
      const entry: ActionEntry = { n: this.n + 1, at: at ?? new Date().toISOString(), ...rest };
      const fh = await open(this.file, 'a+', PRIVATE_FILE_MODE);
      try {
        const size = (await fh.stat()).size;
        let torn = false;
        if (size > 0) {
          const b = Buffer.alloc(1);
          await fh.read(b, 0, 1, size - 1);
          torn = b[0] !== 0x0a;
        }
        await fh.write(`${torn ? '\n' : ''}${JSON.stringify(entry)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.n = entry.n;
      return entry;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}

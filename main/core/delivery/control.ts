/*
 * Delivery control: the admin's switches over outgoing delivery, apart from receiving.
 * `paused`: no delivery attempt starts (mail is still received and queued; attempts already
 * running finish). `heldDomains`: recipients in these domains (and their subdomains) are not
 * attempted; the rest of the message's recipients go on. Both are kept in
 * `<data>/delivery-control.json`, written to a temporary file, flushed and renamed, so a pause
 * survives a restart or a power cut: a gateway started on a paused folder starts paused.
 *
 * `DeliveryControl.open(dataDir)` reads the file (missing: running, nothing held; unreadable
 * or malformed: the same, with `problem` saying why, and the bad file is left for the admin).
 * Changes reject with the file system's error and change nothing in memory when the write
 * fails. `onChange` listeners get the new state after each change.
 */
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { ChangeVia } from '../../shared/types.js';
import { writePrivateFile } from '../private-files.js';

export const CONTROL_FILE = 'delivery-control.json';

export interface DeliveryControlState {
  paused: boolean;
  /** When and by whom delivery was paused. */
  pausedAt?: string;
  pausedVia?: ChangeVia;
  heldDomains: { domain: string; since: string }[];
}

function fresh(): DeliveryControlState {
  return { paused: false, heldDomains: [] };
}

function valid(v: unknown): v is DeliveryControlState {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.paused === 'boolean' &&
    Array.isArray(o.heldDomains) &&
    o.heldDomains.every((d) => d && typeof d === 'object' && typeof (d as { domain?: unknown }).domain === 'string' && typeof (d as { since?: unknown }).since === 'string')
  );
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return (at >= 0 ? address.slice(at + 1) : address).toLowerCase();
}

export class DeliveryControl {
  private current: DeliveryControlState;
  private readonly listeners = new Set<(s: DeliveryControlState) => void>();
  private writes: Promise<unknown> = Promise.resolve();
  /** Why the file on disk was not used at open (null when it was fine or absent). */
  readonly problem: string | null;

  private constructor(
    readonly file: string,
    initial: DeliveryControlState,
    problem: string | null,
  ) {
    this.current = initial;
    this.problem = problem;
  }

  static async open(dataDir: string): Promise<DeliveryControl> {
    const file = path.join(dataDir, CONTROL_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new DeliveryControl(file, fresh(), null);
      return new DeliveryControl(file, fresh(), `cannot read ${file}: ${(err as Error).message}`);
    }
    try {
      const v: unknown = JSON.parse(text);
      if (valid(v)) return new DeliveryControl(file, { ...v, heldDomains: v.heldDomains.map((d) => ({ domain: d.domain, since: d.since })) }, null);
    } catch {
      // reported below
    }
    return new DeliveryControl(file, fresh(), `${file} is not valid; delivery runs and nothing is held until it is saved again`);
  }

  state(): DeliveryControlState {
    return structuredClone(this.current);
  }

  isPaused(): boolean {
    return this.current.paused;
  }

  /** The recipient's domain, or a parent domain of it, is held. */
  isHeld(recipient: string): boolean {
    if (this.current.heldDomains.length === 0) return false;
    const d = domainOf(recipient);
    return this.current.heldDomains.some((h) => d === h.domain || d.endsWith(`.${h.domain}`));
  }

  onChange(cb: (s: DeliveryControlState) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  pause(via: ChangeVia, now = new Date()): Promise<DeliveryControlState> {
    return this.change((s) => (s.paused ? s : { ...s, paused: true, pausedAt: now.toISOString(), pausedVia: via }));
  }

  resume(): Promise<DeliveryControlState> {
    return this.change((s) => ({ paused: false, heldDomains: s.heldDomains }));
  }

  hold(domain: string, now = new Date()): Promise<DeliveryControlState> {
    const d = domain.toLowerCase();
    return this.change((s) => (s.heldDomains.some((h) => h.domain === d) ? s : { ...s, heldDomains: [...s.heldDomains, { domain: d, since: now.toISOString() }] }));
  }

  release(domain: string): Promise<DeliveryControlState> {
    const d = domain.toLowerCase();
    return this.change((s) => ({ ...s, heldDomains: s.heldDomains.filter((h) => h.domain !== d) }));
  }

  private change(next: (s: DeliveryControlState) => DeliveryControlState): Promise<DeliveryControlState> {
    const run = this.writes.then(async () => {
      const s = next(this.state());
      await this.save(s);
      this.current = s;
      for (const cb of this.listeners) {
        try {
          cb(this.state());
        } catch {
          // a listener's failure is its own
        }
      }
      return this.state();
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async save(s: DeliveryControlState): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await writePrivateFile(tmp, `${JSON.stringify(s, null, 2)}\n`);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}

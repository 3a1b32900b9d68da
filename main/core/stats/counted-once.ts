/*
 * "Has this message already been counted under this counter today?" for the dashboard's
 * counters, with memory bounded by the traffic in flight rather than by the day's volume.
 *
 * The lines of one message that must count once (the refused recipients of one transaction,
 * one message's hops within one delivery round) arrive close together, so a recent-keys
 * window is enough for them. Only a message that was deferred (or partly deferred) can
 * produce its next line hours later; those few are remembered for the whole day. Keeping
 * every message's key for the day cost ~125 bytes of heap per message, up to 8 days (a
 * busy day of 100,000 messages held ~12 MB).
 */
import type { TrafficCounts } from '../../shared/contract.js';

export type Counter = keyof TrafficCounts;

const COUNTERS: readonly Counter[] = ['accepted', 'rejected', 'deferred', 'bounced', 'delivered'];

/** Keys in each of the two generations of the recent window. */
export const RECENT_WINDOW = 4096;

/** A set that forgets its oldest keys: two generations of at most `size` keys each. */
export class RecentKeys {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly size = RECENT_WINDOW) {}

  has(key: string): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  add(key: string): void {
    if (this.current.size >= this.size) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(key);
  }

  /** Keys held now. */
  get count(): number {
    return this.current.size + this.previous.size;
  }
}

/** One day's memory of what was counted. */
export class CountedOnce {
  private readonly recent = new RecentKeys();
  /** Messages that had a deferral today: their later lines may come hours apart. */
  private readonly lingeringIds = new Set<string>();
  /** Counted keys of those messages, kept all day. */
  private readonly lingering = new Set<string>();

  /**
   * True the first time `message` counts under `counter` today. `lingers`: this line says
   * part of the message is still to be tried (deferred or partly delivered).
   */
  first(counter: Counter, message: string, lingers: boolean): boolean {
    const key = `${counter} ${message}`;
    const seen = this.recent.has(key) || this.lingering.has(key);
    if (!seen) this.recent.add(key);
    if (lingers && !this.lingeringIds.has(message)) {
      this.lingeringIds.add(message);
      // What it counted before (another hop's delivery a moment ago) must be kept as long.
      for (const c of COUNTERS) if (this.recent.has(`${c} ${message}`)) this.lingering.add(`${c} ${message}`);
    } else if (!seen && this.lingeringIds.has(message)) {
      this.lingering.add(key);
    }
    return !seen;
  }

  /** Keys held (bounded: the recent window plus the deferred messages' keys). */
  get size(): number {
    return this.recent.count + this.lingering.size + this.lingeringIds.size;
  }
}

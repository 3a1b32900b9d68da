/*
 * Counts failures (a wrong admin token, an unknown approval link) per client address in a
 * sliding window, and says when an address is over its limit and for how long. It keeps at
 * most one window of timestamps per address, and no more of them than it needs, so a flood
 * cannot grow its memory without bound. Callers ask it only after a failure: whoever presents
 * a valid token is never refused by it (every local process is 127.0.0.1, and every PC behind
 * one NAT shares an address). Pure bookkeeping; nothing throws.
 */

/** Failures per address in a sliding window; `limited` once over the limit. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly maxFailures = 20,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(ip: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = (this.failures.get(ip) ?? []).filter((t) => t > cutoff);
    if (list.length) this.failures.set(ip, list);
    else this.failures.delete(ip);
    return list;
  }

  limited(ip: string): boolean {
    return this.recent(ip).length > this.maxFailures;
  }

  fail(ip: string): void {
    const list = this.recent(ip);
    list.push(this.now());
    // Cap memory: we only need to know "more than max".
    this.failures.set(ip, list.slice(-(this.maxFailures + 1)));
  }

  /** Whole seconds until `ip` is under the limit again (0 when it is now). */
  retryAfterSeconds(ip: string): number {
    const list = this.recent(ip);
    if (list.length <= this.maxFailures) return 0;
    // Under the limit once all but maxFailures of the kept failures have left the window.
    const freeing = list[list.length - 1 - this.maxFailures]!;
    return Math.max(1, Math.ceil((freeing + this.windowMs - this.now()) / 1000));
  }
}

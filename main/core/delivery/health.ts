/*
 * Route health: per next hop (host:port + how it was chosen), when it last worked, when it
 * last failed and why, and how many tries in a row failed. A hop that gave a verdict (2xx or
 * 5xx) is ok; one that could not be reached or answered only 4xx is failing. list() shows
 * every configured hop (routes, overrides, smarthost), untried ones as 'unknown', plus the
 * MX hosts tried lately (bounded, oldest forgotten first). In memory only; never throws.
 */
import type { RouteHealth } from '../../shared/contract.js';

export type { RouteHealth };

/** MX hops remembered beyond the configured ones. */
const MAX_EXTRA = 200;

export class HealthBook {
  private readonly book = new Map<string, RouteHealth>();

  private key(hop: string, via: string): string {
    return `${via} ${hop}`;
  }

  private entry(hop: string, via: string): RouteHealth {
    const k = this.key(hop, via);
    let e = this.book.get(k);
    if (!e) {
      e = { hop, via, state: 'unknown', consecutiveFailures: 0 };
      this.book.set(k, e);
      if (this.book.size > MAX_EXTRA * 2) this.book.delete(this.book.keys().next().value!);
    }
    return e;
  }

  success(hop: string, via: string, at: Date): void {
    const e = this.entry(hop, via);
    e.state = 'ok';
    e.lastSuccess = at.toISOString();
    e.consecutiveFailures = 0;
  }

  failure(hop: string, via: string, at: Date, error: string): void {
    const e = this.entry(hop, via);
    e.state = 'failing';
    e.lastFailure = at.toISOString();
    e.lastError = error;
    e.consecutiveFailures++;
  }

  /** Configured hops first (in config order), then other hops seen, most recent last. */
  list(configured: readonly { hop: string; via: string }[]): RouteHealth[] {
    const out: RouteHealth[] = [];
    const seen = new Set<string>();
    for (const c of configured) {
      const k = this.key(c.hop, c.via);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ ...(this.book.get(k) ?? { hop: c.hop, via: c.via, state: 'unknown', consecutiveFailures: 0 }) });
    }
    const extra = [...this.book.entries()].filter(([k]) => !seen.has(k)).slice(-MAX_EXTRA);
    for (const [, e] of extra) out.push({ ...e });
    return out;
  }
}

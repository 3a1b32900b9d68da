/*
 * Recipient verification against the office server, so the gateway refuses unknown users at
 * RCPT instead of accepting and bouncing later (backscatter). verify() asks the internal
 * domain's route hosts in order with an SMTP probe (smtp-probe.ts: EHLO, MAIL FROM:<>,
 * RCPT TO, QUIT) and returns 'ok' (2xx), 'unknown' (5xx to RCPT) or 'tempfail' (anything
 * else: 4xx, no route, every host unreachable). Answers are cached per address: 'ok' for
 * verifyPositiveTtlSeconds, 'unknown' for verifyNegativeTtlSeconds; 'tempfail' never.
 * Concurrent questions about one address share one probe. Never rejects.
 */
import type { GatehouseConfig } from '../../shared/types.js';
import { lowerAscii, splitAddress } from '../policy/index.js';
import { normDomain } from './next-hop.js';
import { probeRecipient, type ProbeResult } from './smtp-probe.js';

export type Verdict = 'ok' | 'unknown' | 'tempfail';

export interface VerifierStats {
  hits: number;
  misses: number;
  probes: number;
  cached: number;
}

export interface VerifierOptions {
  config(): GatehouseConfig;
  now?(): number;
  /** Injected in tests; the default opens a TCP connection. */
  probe?: typeof probeRecipient;
}

/** Bound on the cache; the oldest entry goes first. */
const MAX_CACHE = 10_000;

export class RecipientVerifier {
  private readonly cache = new Map<string, { verdict: 'ok' | 'unknown'; until: number }>();
  private readonly inflight = new Map<string, Promise<Verdict>>();
  private counts = { hits: 0, misses: 0, probes: 0 };
  private readonly now: () => number;
  private readonly probe: typeof probeRecipient;

  constructor(private readonly opts: VerifierOptions) {
    this.now = opts.now ?? Date.now;
    this.probe = opts.probe ?? probeRecipient;
  }

  stats(): VerifierStats {
    return { ...this.counts, cached: this.cache.size };
  }

  /** Forget every cached answer (e.g. after the admin changed the office server). */
  clear(): void {
    this.cache.clear();
  }

  async verify(recipient: string): Promise<Verdict> {
    const key = lowerAscii(recipient.trim());
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) {
      this.counts.hits++;
      return hit.verdict;
    }
    if (hit) this.cache.delete(key);
    this.counts.misses++;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.ask(recipient.trim()).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    const verdict = await p;
    this.remember(key, verdict);
    return verdict;
  }

  private remember(key: string, verdict: Verdict): void {
    if (verdict === 'tempfail') return;
    const d = this.opts.config().delivery;
    const ttl = (verdict === 'ok' ? d.verifyPositiveTtlSeconds : d.verifyNegativeTtlSeconds) * 1000;
    if (!(ttl > 0)) return;
    this.cache.delete(key);
    this.cache.set(key, { verdict, until: this.now() + ttl });
    if (this.cache.size > MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
  }

  private async ask(recipient: string): Promise<Verdict> {
    const cfg = this.opts.config();
    const domain = normDomain(splitAddress(recipient).domain);
    const hosts = cfg.routes.filter((r) => normDomain(r.domain) === domain).flatMap((r) => r.hosts);
    // Bounded: one probe per configured host, in Gateway.dat order.
    for (const h of hosts) {
      this.counts.probes++;
      const r: ProbeResult = await this.probe({
        host: h.host,
        port: h.port,
        name: cfg.hostname,
        recipient,
        timeoutMs: cfg.delivery.connectTimeoutMs,
      });
      if ('error' in r) continue; // unreachable: ask the next host
      if (r.stage !== 'rcpt') continue; // greeting/EHLO/MAIL refused: this host cannot answer
      if (r.code >= 200 && r.code < 300) return 'ok';
      if (r.code >= 500 && r.code < 600) return 'unknown';
      // 4xx (greylisting, mailbox busy): another host may know; else the client retries.
    }
    return 'tempfail';
  }
}

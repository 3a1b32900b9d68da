/*
 * MTA-STS (RFC 8461) for direct-MX delivery. MtaStsCache.lookup(domain) answers which
 * policy applies: it reads `_mta-sts.<domain>` TXT (mailauth's resolvePolicy, through the
 * injected resolver), and when the id is new or the cached policy expired, fetches
 * `https://mta-sts.<domain>/.well-known/mta-sts.txt` itself (node:https: the address comes
 * from the same resolver, the certificate must verify for `mta-sts.<domain>` against Node's
 * CAs plus any given, no redirects, text/plain, at most 64 KB) and parses it with mailauth's
 * parsePolicy. Policies are cached for their max_age; a failed fetch or a vanished TXT record
 * keeps a cached policy until it expires (RFC 8461 5.1), and without one the domain is treated
 * as having no policy (the lookup says why in `error`). While a policy is fresh its TXT record
 * is re-read at most every `txtRecheckMs` (node:dns does not cache). mxMatchesPolicy() applies the RFC's
 * wildcard rule (`*.example.com` covers exactly one more label). lookup() never rejects.
 * What the policy means for a hop (enforce: listed MX only, STARTTLS with a verified
 * certificate; testing: deliver, report) is applied in delivery/next-hop.ts.
 */
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { LookupFunction } from 'node:net';
import type { MtaStsMode } from '../../shared/deliverability.js';
import { mailauthResolver, type DnsLookup } from '../dns/resolver.js';

type MailauthMtaSts = typeof import('mailauth/lib/mta-sts.js');
/** Loaded at the first policy lookup (MX delivery with MTA-STS on), not at start (~4 MB). */
let mailauthMtaSts: Promise<MailauthMtaSts> | null = null;
const loadMtaSts = (): Promise<MailauthMtaSts> => (mailauthMtaSts ??= import('mailauth/lib/mta-sts.js'));

export interface MtaStsPolicy {
  id: string;
  mode: MtaStsMode;
  /** MX patterns, lowercased (`mx.example.com`, `*.example.net`). */
  mx: string[];
  maxAge: number;
  fetchedAt: number;
  expiresAt: number;
}

export interface MtaStsLookupResult {
  policy: MtaStsPolicy | null;
  /** none: the domain publishes no policy; fetched / cached; stale: a cached policy kept after a failure. */
  source: 'none' | 'fetched' | 'cached' | 'stale' | 'error';
  error?: string;
}

export type MtaStsLookup = (domain: string) => Promise<MtaStsLookupResult>;

export interface MtaStsOptions {
  resolver: DnsLookup;
  /** Extra trust anchors (PEM) for the policy host's certificate. */
  ca?: readonly string[];
  /** 443, except in tests. */
  httpsPort?: number;
  /** Per fetch. Default 15 s. */
  timeoutMs?: number;
  /** While a cached policy is fresh, its TXT record is read again only after this long. Default 5 min (node:dns keeps no cache). */
  txtRecheckMs?: number;
  now?(): number;
}

const MAX_POLICY_BYTES = 64 * 1024;

/** RFC 8461 4.1: exact, or `*.` + parent covering exactly one leftmost label. */
export function mxMatchesPolicy(mx: string, patterns: readonly string[]): boolean {
  const name = mx.toLowerCase().replace(/\.$/, '');
  for (const raw of patterns) {
    const p = raw.toLowerCase().replace(/\.$/, '');
    if (p.startsWith('*.')) {
      const parent = p.slice(2);
      const dot = name.indexOf('.');
      if (dot > 0 && name.slice(dot + 1) === parent) return true;
    } else if (p === name) return true;
  }
  return false;
}

function errText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code && e.message && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : String(e?.message ?? e?.code ?? err);
}

/** GET the policy file; resolves with its text or rejects with why. */
export function fetchPolicyText(domain: string, o: MtaStsOptions): Promise<string> {
  const host = `mta-sts.${domain}`;
  const lookup: LookupFunction = (hostname, options, cb) => {
    o.resolver.resolveHost(hostname).then(
      (addrs) => {
        const list = addrs.filter((a) => net.isIP(a) !== 0).map((address) => ({ address, family: net.isIP(address) }));
        if (list.length === 0) return cb(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
        if ((options as { all?: boolean }).all) return (cb as unknown as (e: null, a: typeof list) => void)(null, list);
        cb(null, list[0].address, list[0].family);
      },
      (err: NodeJS.ErrnoException) => cb(err, '', 4),
    );
  };
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host,
        servername: host,
        port: o.httpsPort ?? 443,
        path: '/.well-known/mta-sts.txt',
        method: 'GET',
        lookup,
        rejectUnauthorized: true,
        ...(o.ca && o.ca.length > 0 ? { ca: [...tls.rootCertificates, ...o.ca] } : {}),
        timeout: o.timeoutMs ?? 15_000,
        headers: { 'user-agent': 'Gatehouse MTA-STS' },
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          return reject(new Error(`policy fetch answered HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`));
        }
        const type = String(res.headers['content-type'] ?? '').toLowerCase();
        if (type && !type.startsWith('text/plain')) {
          res.resume();
          return reject(new Error(`policy is ${type}, not text/plain`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_POLICY_BYTES) {
            req.destroy(new Error(`policy larger than ${MAX_POLICY_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer from ${host} in time`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

export class MtaStsCache {
  private readonly cache = new Map<string, MtaStsPolicy>();
  private readonly inflight = new Map<string, Promise<MtaStsLookupResult>>();
  /** When each domain's TXT record was last read (epoch ms). */
  private readonly txtAt = new Map<string, number>();

  constructor(private readonly o: MtaStsOptions) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** For tests and the admin view. */
  cached(domain: string): MtaStsPolicy | undefined {
    return this.cache.get(domain.toLowerCase());
  }

  clear(): void {
    this.cache.clear();
    this.txtAt.clear();
  }

  readonly lookup: MtaStsLookup = (domain) => {
    const d = domain.toLowerCase().replace(/\.$/, '');
    let p = this.inflight.get(d);
    if (!p) {
      p = this.resolve(d).finally(() => this.inflight.delete(d));
      this.inflight.set(d, p);
    }
    return p;
  };

  private fresh(p: MtaStsPolicy | undefined): p is MtaStsPolicy {
    return !!p && p.expiresAt > this.now();
  }

  private async resolve(domain: string): Promise<MtaStsLookupResult> {
    const cached = this.cache.get(domain);
    if (this.fresh(cached) && this.now() - (this.txtAt.get(domain) ?? 0) < (this.o.txtRecheckMs ?? 300_000)) return { policy: cached, source: 'cached' };
    let id: string | false;
    try {
      const { resolvePolicy } = await loadMtaSts();
      id = await resolvePolicy(domain, { resolver: mailauthResolver(this.o.resolver) });
      this.txtAt.set(domain, this.now());
    } catch (err) {
      if (this.fresh(cached)) return { policy: cached, source: 'stale', error: `TXT lookup failed: ${errText(err)}` };
      return { policy: null, source: 'error', error: `TXT lookup failed: ${errText(err)}` };
    }
    if (!id) {
      // No record now: a cached policy stays in force until it expires.
      if (this.fresh(cached)) return { policy: cached, source: 'stale' };
      this.cache.delete(domain);
      return { policy: null, source: 'none' };
    }
    if (this.fresh(cached) && cached.id === id) return { policy: cached, source: 'cached' };
    try {
      const text = await fetchPolicyText(domain, this.o);
      const { parsePolicy } = await loadMtaSts();
      const parsed = parsePolicy(text);
      const now = this.now();
      const maxAge = Number(parsed.maxAge) || 0;
      const policy: MtaStsPolicy = {
        id,
        mode: parsed.mode,
        mx: (parsed.mx ?? []).map((m) => m.toLowerCase()),
        maxAge,
        fetchedAt: now,
        expiresAt: now + maxAge * 1000,
      };
      this.cache.set(domain, policy);
      return { policy, source: 'fetched' };
    } catch (err) {
      if (this.fresh(cached)) return { policy: cached, source: 'stale', error: `policy fetch failed: ${errText(err)}` };
      return { policy: null, source: 'error', error: `policy fetch failed: ${errText(err)}` };
    }
  }
}

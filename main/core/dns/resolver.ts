/*
 * DNS as the core asks it: MX and addresses for delivery, TXT for DKIM / SPF / DMARC /
 * MTA-STS, PTR for reverse DNS. createResolver() gives the system's DNS (node:dns; host
 * addresses through getaddrinfo, so the hosts file counts) or, with `dnsServers` (`ip:port`
 * strings, e.g. a DNS server the office runs, or a test's server on loopback), a
 * node:dns Resolver pointed at exactly those servers (addresses then come from A + AAAA
 * queries). mailauthResolver() adapts it to the `(name, rrtype)` function mailauth takes.
 * Lookups reject with node's error codes (ENODATA, ENOTFOUND, ESERVFAIL, EREFUSED,
 * ETIMEOUT, ...); nothing here retries beyond the resolver's own tries.
 */
import dns from 'node:dns';
import net from 'node:net';
import type { MxResolver } from '../delivery/types.js';
import { dnsServerProblem } from '../../shared/rules.js';

export interface DnsLookup extends MxResolver {
  /** TXT records, each as its list of strings (join them for DKIM keys). */
  resolveTxt(name: string): Promise<string[][]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  /** PTR names of an IP address. */
  reverse(ip: string): Promise<string[]>;
}

export interface ResolverOptions {
  /** `ip:port` (or `ip`, port 53; `[v6]:port`) of the DNS servers to ask; empty or absent = the system's. */
  dnsServers?: readonly string[];
  /** Per-query timeout in ms (node's default when absent). */
  timeoutMs?: number;
  tries?: number;
}

function bothFamilies(r4: () => Promise<string[]>, r6: () => Promise<string[]>): Promise<string[]> {
  // An address of either family is enough; when both fail, report the A query's error
  // unless it only said "no A records" and AAAA failed harder.
  return Promise.allSettled([r4(), r6()]).then(([a, b]) => {
    const out = [...(a.status === 'fulfilled' ? a.value : []), ...(b.status === 'fulfilled' ? b.value : [])];
    if (out.length > 0 || (a.status === 'fulfilled' && b.status === 'fulfilled')) {
      if (out.length === 0) throw Object.assign(new Error('no addresses'), { code: 'ENODATA' });
      return out;
    }
    if (a.status === 'fulfilled') throw (b as PromiseRejectedResult).reason;
    if (b.status === 'fulfilled') {
      const code = (a.reason as { code?: string })?.code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') throw Object.assign(new Error('no addresses'), { code: 'ENODATA' });
      throw a.reason;
    }
    throw a.reason;
  });
}

export function createResolver(o: ResolverOptions = {}): DnsLookup {
  const servers = o.dnsServers ?? [];
  if (servers.length === 0) {
    const p = dns.promises;
    return {
      resolveMx: (d) => p.resolveMx(d),
      resolveHost: async (name) => (await p.lookup(name, { all: true, verbatim: true })).map((a) => a.address),
      resolveTxt: (n) => p.resolveTxt(n),
      resolve4: (n) => p.resolve4(n),
      resolve6: (n) => p.resolve6(n),
      reverse: (ip) => p.reverse(ip),
    };
  }
  const bad = servers.map((x) => [x, dnsServerProblem(x)] as const).find(([, p]) => p);
  if (bad) throw new Error(`dnsServers: '${bad[0]}' ${bad[1]!.message}`);
  const opts: { timeout?: number; tries?: number } = {};
  if (o.timeoutMs !== undefined) opts.timeout = o.timeoutMs;
  if (o.tries !== undefined) opts.tries = o.tries;
  const r = new dns.promises.Resolver(opts);
  r.setServers([...servers]);
  return {
    resolveMx: (d) => r.resolveMx(d),
    resolveHost: (name) => bothFamilies(() => r.resolve4(name), () => r.resolve6(name)),
    resolveTxt: (n) => r.resolveTxt(n),
    resolve4: (n) => r.resolve4(n),
    resolve6: (n) => r.resolve6(n),
    reverse: (ip) => r.reverse(ip),
  };
}

/**
 * A resolver that follows the settings: `servers()` is read on every lookup and the resolver
 * is rebuilt when it changed, so a new `delivery.dnsServers` applies to the next lookup.
 */
export function liveResolver(servers: () => readonly string[], o: Omit<ResolverOptions, 'dnsServers'> = {}): DnsLookup {
  let key = '';
  let r: DnsLookup | null = null;
  const get = (): DnsLookup => {
    const list = servers();
    const k = list.join(' ');
    if (!r || k !== key) {
      r = createResolver({ ...o, dnsServers: list });
      key = k;
    }
    return r;
  };
  return {
    resolveMx: (d) => get().resolveMx(d),
    resolveHost: (n) => get().resolveHost(n),
    resolveTxt: (n) => get().resolveTxt(n),
    resolve4: (n) => get().resolve4(n),
    resolve6: (n) => get().resolve6(n),
    reverse: (ip) => get().reverse(ip),
  };
}

/** The `(name, rrtype)` resolver function mailauth's SPF / DKIM / MTA-STS code takes. */
export type MailauthResolver = (name: string, rrtype: string) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function mailauthResolver(r: DnsLookup): MailauthResolver {
  return async (name, rrtype) => {
    switch (rrtype.toUpperCase()) {
      case 'TXT':
        return r.resolveTxt(name);
      case 'A':
        return r.resolve4(name);
      case 'AAAA':
        return r.resolve6(name);
      case 'MX':
        return r.resolveMx(name);
      case 'PTR':
        // mailauth asks PTR with the reversed name already built; turn it back into an IP.
        return r.reverse(ipFromPtrName(name) ?? name);
      default:
        throw Object.assign(new Error(`unsupported record type ${rrtype}`), { code: 'ENOTIMP' });
    }
  };
}

/** `5.0.0.127.in-addr.arpa` -> `127.0.0.5`; IPv6 nibble names likewise; null otherwise. */
export function ipFromPtrName(name: string): string | null {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.endsWith('.in-addr.arpa')) {
    const parts = n.slice(0, -'.in-addr.arpa'.length).split('.').reverse();
    const ip = parts.join('.');
    return net.isIPv4(ip) ? ip : null;
  }
  if (n.endsWith('.ip6.arpa')) {
    const nibbles = n.slice(0, -'.ip6.arpa'.length).split('.').reverse().join('');
    if (!/^[0-9a-f]{32}$/.test(nibbles)) return null;
    return nibbles.match(/.{4}/g)!.join(':');
  }
  if (net.isIP(n)) return n;
  return null;
}

/*
 * Trusted networks ("中継を許可するネットワーク"): compiles a CIDR list into a matcher built on
 * node:net BlockList. IPv4 and IPv6 are supported; a plain IP is a /32 or /128; an
 * IPv4-mapped IPv6 client (`::ffff:127.0.0.2`, as Node reports dual-stack sockets) matches
 * IPv4 CIDRs. contains() never throws and answers false for anything that is not an IP.
 * The CIDR syntax itself is shared with the UI (main/shared/ip.ts); validateCidr returns its
 * English message or null. compileNetworks throws on an entry that validateCidr rejects (the
 * config layer validates first, so this is a programming error).
 */
import { BlockList, isIP, isIPv4 } from 'node:net';

import { cidrProblem, parseCidr } from '../../shared/ip.js';

export interface NetworkMatcher {
  contains(ip: string): boolean;
}

/** Error message for a bad CIDR or IP, or null. `/0` is refused: it would make an open relay. */
export function validateCidr(s: string): string | null {
  return cidrProblem(s)?.message ?? null;
}

/** Strip an IPv6 zone index (`fe80::1%eth0`). */
function stripZone(ip: string): string {
  const pct = ip.indexOf('%');
  return pct < 0 ? ip : ip.slice(0, pct);
}

export function compileNetworks(cidrs: readonly string[]): NetworkMatcher {
  const list = new BlockList();
  let empty = true;
  for (const c of cidrs) {
    const r = parseCidr(c);
    if ('code' in r) throw new TypeError(`trustedNetworks: ${r.message}`);
    list.addSubnet(r.address, r.prefix, r.family);
    empty = false;
  }
  // BlockList.check costs ~2 us; an office has a handful of client addresses, so remember
  // answers (bounded; the matcher is rebuilt, and the memory dropped, on every config change).
  const seen = new Map<string, boolean>();
  const check = (ip: string): boolean => {
    let r = seen.get(ip);
    if (r === undefined) {
      r = uncached(ip);
      if (seen.size >= 10_000) seen.clear();
      seen.set(ip, r);
    }
    return r;
  };
  const uncached = (ip: string): boolean => {
      const addr = stripZone(ip.trim());
      const v = isIP(addr);
      if (v === 0) return false;
      if (list.check(addr, v === 4 ? 'ipv4' : 'ipv6')) return true;
      // Node's BlockList already maps ::ffff:a.b.c.d both ways; this is belt and braces.
      const lower = addr.toLowerCase();
      if (v === 6 && lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) {
        return list.check(lower.slice(7), 'ipv4');
      }
      return false;
  };
  return {
    contains(ip: string): boolean {
      if (empty || typeof ip !== 'string') return false;
      return check(ip);
    },
  };
}

/*
 * Where a recipient's mail goes next. destinationFor() picks the table that decides, in this
 * order: a transport override for the domain, the route of an internal domain, the smarthost,
 * else the domain's MX. Recipients with the same destination key share one SMTP transaction
 * per hop. planHops() turns a destination into the ordered list of hops to try (route hosts
 * in Gateway.dat order; MX by preference, then each address; implicit MX = the domain's own
 * A/AAAA). All names go through the injected MxResolver, so tests never touch real DNS.
 * planHops never throws: a DNS failure becomes a temporary plan failure (4.4.3), a domain
 * that cannot receive mail (NXDOMAIN, null MX) a permanent one, and an unresolvable route
 * host a hop that fails without connecting (so the next host is tried and health shows it).
 */
import { openSecret } from '../config/secrets.js';
import dns from 'node:dns/promises';
import net from 'node:net';
import type { GatehouseConfig, HostPort, SmarthostConfig } from '../../shared/types.js';
import { lowerAscii, splitAddress } from '../policy/index.js';
import type { MxResolver } from './types.js';

export type Via = 'route' | 'override' | 'smarthost' | 'mx';

export interface Destination {
  /** Recipients with equal keys go out together. */
  key: string;
  via: Via;
  /** Recipient domain (lowercase). */
  domain: string;
  /** Route / override hosts in order. */
  hosts?: HostPort[];
  smarthost?: SmarthostConfig;
  /** Internal domain without a route: wait for the admin to add one. */
  noRoute?: boolean;
  /** The address has no usable domain. */
  invalid?: boolean;
}

export interface Hop {
  /** host:port for logs and health: as configured (route, override, smarthost) or ip:port (MX). */
  label: string;
  via: Via;
  /** Address to connect to. */
  host: string;
  port: number;
  /** MX exchange name (via mx). */
  mx?: string;
  /** TLS server name (SNI and certificate check), when the hop has a name. */
  servername?: string;
  /** opportunistic: STARTTLS when offered, plaintext otherwise (server-to-server norm). */
  security: 'opportunistic' | 'starttls' | 'tls' | 'none';
  rejectUnauthorized: boolean;
  auth?: { user: string; pass: string };
  /** Set when the hop's name did not resolve: a failed try without a connection. */
  error?: { reply: string; status: string };
}

export type HopPlan =
  | { ok: true; hops: Hop[] }
  | { ok: false; permanent: boolean; reply: string; status: string; label: string };

/** At most this many addresses are tried per destination and attempt. */
export const MAX_HOPS = 10;

/** node:dns (getaddrinfo for addresses, so the hosts file counts). */
export const systemResolver: MxResolver = {
  resolveMx: (domain) => dns.resolveMx(domain),
  resolveHost: async (name) => (await dns.lookup(name, { all: true, verbatim: true })).map((a) => a.address),
};

export function normDomain(d: string): string {
  return lowerAscii(d.trim()).replace(/\.$/, '');
}

export function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function hostsFor(table: readonly { domain: string; hosts: HostPort[] }[], domain: string): HostPort[] {
  // Several lines for one domain concatenate, as in Gateway.dat.
  return table.filter((r) => normDomain(r.domain) === domain).flatMap((r) => r.hosts);
}

function listKey(hosts: readonly HostPort[]): string {
  return hosts.map((h) => hostPort(h.host, h.port)).join(',');
}

export function destinationFor(recipient: string, cfg: GatehouseConfig): Destination {
  const domain = normDomain(splitAddress(recipient).domain);
  if (!domain) return { key: 'invalid:', via: 'mx', domain, invalid: true };
  const override = hostsFor(cfg.delivery.transportOverrides, domain);
  if (override.length > 0) return { key: `override:${listKey(override)}`, via: 'override', domain, hosts: override };
  if (cfg.internalDomains.some((d) => normDomain(d) === domain)) {
    const hosts = hostsFor(cfg.routes, domain);
    if (hosts.length === 0) return { key: `noroute:${domain}`, via: 'route', domain, noRoute: true };
    return { key: `route:${listKey(hosts)}`, via: 'route', domain, hosts };
  }
  const sh = cfg.delivery.smarthost;
  if (sh) return { key: 'smarthost', via: 'smarthost', domain, smarthost: sh };
  return { key: `mx:${domain}`, via: 'mx', domain };
}

function errCode(err: unknown): string {
  return String((err as { code?: unknown })?.code ?? (err as Error)?.message ?? err);
}

interface HopBase {
  via: Via;
  port: number;
  label: string;
  security: Hop['security'];
  rejectUnauthorized: boolean;
  auth?: Hop['auth'];
  mx?: string;
}

/** One hop per address of `name` (an IP stays itself); a failed lookup gives one failed hop. */
async function expand(name: string, base: HopBase, resolver: MxResolver): Promise<Hop[]> {
  const host = name.replace(/^\[(.*)\]$/, '$1');
  const named = net.isIP(host) === 0;
  const mk = (addr: string): Hop => {
    const h: Hop = { ...base, host: addr };
    if (named) h.servername = host;
    return h;
  };
  if (!named) return [mk(host)];
  try {
    const addrs = [...new Set(await resolver.resolveHost(host))].filter((a) => net.isIP(a) !== 0);
    if (addrs.length === 0) return [{ ...mk(host), error: { reply: `cannot resolve ${host}: no addresses`, status: '4.4.3' } }];
    return addrs.map(mk);
  } catch (err) {
    return [{ ...mk(host), error: { reply: `cannot resolve ${host}: ${errCode(err)}`, status: '4.4.3' } }];
  }
}

async function mxHops(domain: string, resolver: MxResolver, port: number): Promise<HopPlan> {
  const base = (mx: string, ip: string): HopBase => ({ via: 'mx', port, label: hostPort(ip, port), security: 'opportunistic', rejectUnauthorized: false, mx });
  let records: { exchange: string; priority: number }[];
  try {
    records = await resolver.resolveMx(domain);
  } catch (err) {
    const code = errCode(err);
    if (code === 'ENOTFOUND') return { ok: false, permanent: true, reply: `Host or domain name not found: ${domain} (${code})`, status: '5.1.2', label: hostPort(domain, port) };
    if (code !== 'ENODATA') return { ok: false, permanent: false, reply: `DNS lookup of MX for ${domain} failed: ${code}`, status: '4.4.3', label: hostPort(domain, port) };
    records = [];
  }
  const exchanges = records
    .map((r) => ({ name: normDomain(String(r.exchange ?? '')), priority: Number(r.priority) || 0 }))
    .sort((a, b) => a.priority - b.priority);
  if (exchanges.length === 1 && exchanges[0].name === '') {
    return { ok: false, permanent: true, reply: `${domain} does not accept mail (null MX, RFC 7505)`, status: '5.1.10', label: hostPort(domain, port) };
  }
  const names = exchanges.length > 0 ? [...new Set(exchanges.map((e) => e.name).filter(Boolean))] : [domain];
  const hops: Hop[] = [];
  const errors: string[] = [];
  let notFound = 0;
  for (const name of names) {
    if (hops.length >= MAX_HOPS) break;
    try {
      const addrs = [...new Set(await resolver.resolveHost(name))].filter((a) => net.isIP(a) !== 0);
      for (const ip of addrs) hops.push({ ...base(name, ip), host: ip, servername: name });
      if (addrs.length === 0) errors.push(`${name}: no addresses`);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOTFOUND' || code === 'ENODATA') notFound++;
      errors.push(`${name}: ${code}`);
    }
  }
  if (hops.length > 0) return { ok: true, hops: hops.slice(0, MAX_HOPS) };
  // No MX and the domain has no address either: nothing will ever accept this mail.
  const implicitGone = exchanges.length === 0 && notFound === names.length;
  return {
    ok: false,
    permanent: implicitGone,
    reply: exchanges.length === 0 ? `no MX and no address for ${domain} (${errors.join('; ')})` : `cannot resolve any MX host of ${domain} (${errors.join('; ')})`,
    status: implicitGone ? '5.1.2' : '4.4.3',
    label: hostPort(domain, port),
  };
}

export interface PlanOptions {
  /** SMTP port of MX hosts: 25, except in tests (which cannot bind it). */
  mxPort?: number;
}

/** The ordered hops for one destination, or why there are none. Never throws. */
export async function planHops(dest: Destination, resolver: MxResolver, opts: PlanOptions = {}): Promise<HopPlan> {
  if (dest.invalid) return { ok: false, permanent: true, reply: 'recipient address has no domain', status: '5.1.3', label: '' };
  if (dest.noRoute) {
    return { ok: false, permanent: false, reply: `no route configured for internal domain ${dest.domain}`, status: '4.3.5', label: dest.domain };
  }
  if (dest.via === 'mx') return mxHops(dest.domain, resolver, opts.mxPort ?? 25);
  const hops: Hop[] = [];
  if (dest.via === 'smarthost' && dest.smarthost) {
    const sh = dest.smarthost;
    const base: HopBase = {
      via: 'smarthost',
      port: sh.port,
      label: hostPort(sh.host, sh.port),
      security: sh.security,
      rejectUnauthorized: !sh.allowInvalidCert,
    };
    // Sealed at rest (config/secrets.ts); opened only for the session that needs it.
    if (sh.user) base.auth = { user: sh.user, pass: openSecret(sh.password) };
    hops.push(...(await expand(sh.host, base, resolver)));
  } else {
    for (const h of dest.hosts ?? []) {
      if (hops.length >= MAX_HOPS) break;
      // Office servers and override targets usually have self-signed certificates:
      // encrypt when offered, but do not insist on a chain nobody set up.
      const base: HopBase = { via: dest.via, port: h.port, label: hostPort(h.host, h.port), security: 'opportunistic', rejectUnauthorized: false };
      hops.push(...(await expand(h.host, base, resolver)));
    }
  }
  if (hops.length === 0) return { ok: false, permanent: false, reply: `no hosts configured for ${dest.domain}`, status: '4.3.5', label: dest.domain };
  return { ok: true, hops: hops.slice(0, MAX_HOPS) };
}

/** Every configured next hop (routes, overrides, smarthost), for route health. */
export function configuredHops(cfg: GatehouseConfig): { hop: string; via: Via }[] {
  const out: { hop: string; via: Via }[] = [];
  const seen = new Set<string>();
  const add = (hop: string, via: Via) => {
    const k = `${via} ${hop}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push({ hop, via });
    }
  };
  for (const r of cfg.routes) for (const h of r.hosts) add(hostPort(h.host, h.port), 'route');
  for (const r of cfg.delivery.transportOverrides) for (const h of r.hosts) add(hostPort(h.host, h.port), 'override');
  const sh = cfg.delivery.smarthost;
  if (sh) add(hostPort(sh.host, sh.port), 'smarthost');
  return out;
}

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
import type { RouteTls, SenderRoute, TlsPolicyOutcome } from '../../shared/deliverability.js';
import { lowerAscii, splitAddress } from '../policy/index.js';
import { selectSenderRoute, type SelectedRoute } from './sender-routes.js';
import type { HopAuth, MxResolver } from './types.js';
import { mxMatchesPolicy, type MtaStsLookup, type MtaStsPolicy } from '../tls/mta-sts.js';

export type Via = 'route' | 'override' | 'smarthost' | 'mx' | 'sender-route';

export interface Destination {
  /** Recipients with equal keys go out together. */
  key: string;
  via: Via;
  /** Recipient domain (lowercase). */
  domain: string;
  /** Route / override hosts in order. */
  hosts?: HostPort[];
  smarthost?: SmarthostConfig;
  /** The route with a sender condition that matched (via sender-route). */
  senderRoute?: SelectedRoute;
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
  auth?: HopAuth;
  /** Set when the hop cannot be tried (name did not resolve, no credentials): a failed try without a connection. */
  error?: { reply: string; status: string };
  /** A TLS requirement (MTA-STS policy, route `tls: required`) and what it asks; ok is settled after the try. */
  tlsPolicy?: TlsPolicyOutcome;
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

/** What else decides the destination besides the recipient: the envelope sender and routes with sender conditions. */
export interface RouteContext {
  sender?: string;
  senderRoutes?: readonly SenderRoute[];
}

export function destinationFor(recipient: string, cfg: GatehouseConfig, ctx: RouteContext = {}): Destination {
  const domain = normDomain(splitAddress(recipient).domain);
  if (!domain) return { key: 'invalid:', via: 'mx', domain, invalid: true };
  const override = hostsFor(cfg.delivery.transportOverrides, domain);
  if (override.length > 0) return { key: `override:${listKey(override)}`, via: 'override', domain, hosts: override };
  if (cfg.internalDomains.some((d) => normDomain(d) === domain)) {
    const hosts = hostsFor(cfg.routes, domain);
    if (hosts.length === 0) return { key: `noroute:${domain}`, via: 'route', domain, noRoute: true };
    return { key: `route:${listKey(hosts)}`, via: 'route', domain, hosts };
  }
  // External: a route for this sender and/or domain comes before the smarthost and MX.
  if (ctx.senderRoutes && ctx.senderRoutes.length > 0) {
    const sel = selectSenderRoute(ctx.senderRoutes, ctx.sender ?? '', domain);
    if (sel && sel.hosts.length > 0) return { key: `sroute:${sel.key}:${listKey(sel.hosts)}`, via: 'sender-route', domain, hosts: sel.hosts, senderRoute: sel };
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
  error?: Hop['error'];
  tlsPolicy?: TlsPolicyOutcome;
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

async function mxHops(domain: string, resolver: MxResolver, port: number, mtaSts?: MtaStsLookup): Promise<HopPlan> {
  let policy: MtaStsPolicy | null = null;
  const base = (mx: string, ip: string): HopBase => {
    const b: HopBase = { via: 'mx', port, label: hostPort(ip, port), security: 'opportunistic', rejectUnauthorized: false, mx };
    if (policy?.mode === 'enforce') {
      b.security = 'starttls';
      b.rejectUnauthorized = true;
      b.tlsPolicy = { source: 'mta-sts', mode: 'enforce', id: policy.id, ok: true };
    } else if (policy?.mode === 'testing') {
      const listed = mxMatchesPolicy(mx, policy.mx);
      b.tlsPolicy = { source: 'mta-sts', mode: 'testing', id: policy.id, ok: listed };
      if (!listed) b.tlsPolicy.reason = `MX ${mx} is not in the policy`;
    }
    return b;
  };
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
  let names = exchanges.length > 0 ? [...new Set(exchanges.map((e) => e.name).filter(Boolean))] : [domain];
  if (mtaSts) {
    const found = await mtaSts(domain);
    if (found.policy && found.policy.mode !== 'none') policy = found.policy;
  }
  if (policy?.mode === 'enforce') {
    const p = policy;
    // RFC 8461 5: never deliver to an MX the policy does not list; wait for the policy or the MX to change.
    names = names.filter((n) => mxMatchesPolicy(n, p.mx));
    if (names.length === 0) {
      return {
        ok: false,
        permanent: false,
        reply: `no MX host of ${domain} matches its MTA-STS policy (id ${p.id}, mx: ${p.mx.join(' ')})`,
        status: '4.7.5',
        label: hostPort(domain, port),
      };
    }
  }
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

/** Who asks for credentials: the smarthost, or a route with `auth` set. */
export type CredentialTarget = { via: 'smarthost'; host: string } | { via: 'sender-route'; route: SelectedRoute };

export interface PlanOptions {
  /** SMTP port of MX hosts: 25, except in tests (which cannot bind it). */
  mxPort?: number;
  /**
   * Credentials for the smarthost (instead of its user/password, e.g. XOAUTH2) and for routes
   * with `auth` set. Undefined for a route that needs them makes its hops fail untried (4.7.0).
   */
  credentials?(target: CredentialTarget): HopAuth | undefined;
  /** `tls: required` for a route or override domain (classic routes); sender routes carry their own. */
  routeTls?(domain: string, via: Via): RouteTls | undefined;
  /** MTA-STS policies for MX delivery; absent = none applied. */
  mtaSts?: MtaStsLookup;
}

/** `tls: required`: STARTTLS (or implicit TLS) with a verified certificate, or no delivery. */
function requireTls(base: HopBase): HopBase {
  return { ...base, security: base.security === 'tls' ? 'tls' : 'starttls', rejectUnauthorized: true, tlsPolicy: { source: 'route', mode: 'required', ok: true } };
}

/** The ordered hops for one destination, or why there are none. Never throws. */
export async function planHops(dest: Destination, resolver: MxResolver, opts: PlanOptions = {}): Promise<HopPlan> {
  if (dest.invalid) return { ok: false, permanent: true, reply: 'recipient address has no domain', status: '5.1.3', label: '' };
  if (dest.noRoute) {
    return { ok: false, permanent: false, reply: `no route configured for internal domain ${dest.domain}`, status: '4.3.5', label: dest.domain };
  }
  if (dest.via === 'mx') return mxHops(dest.domain, resolver, opts.mxPort ?? 25, opts.mtaSts);
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
    const given = opts.credentials?.({ via: 'smarthost', host: sh.host });
    if (given) base.auth = given;
    // Sealed at rest (config/secrets.ts); opened only for the session that needs it.
    else if (sh.user) base.auth = { user: sh.user, pass: openSecret(sh.password) };
    hops.push(...(await expand(sh.host, base, resolver)));
  } else {
    const sr = dest.senderRoute;
    const tlsMode = sr ? sr.tls : opts.routeTls?.(dest.domain, dest.via);
    let auth: HopAuth | undefined;
    let authError: Hop['error'];
    if (sr && sr.auth && sr.auth !== 'none') {
      auth = opts.credentials?.({ via: 'sender-route', route: sr });
      if (!auth) authError = { reply: `route ${sr.destination}${sr.sender ? `|${sr.sender}` : ''} needs ${sr.auth} credentials and none are set`, status: '4.7.0' };
    }
    for (const h of dest.hosts ?? []) {
      if (hops.length >= MAX_HOPS) break;
      // Office servers and override targets usually have self-signed certificates:
      // encrypt when offered, but do not insist on a chain nobody set up (unless told to).
      let base: HopBase = { via: dest.via, port: h.port, label: hostPort(h.host, h.port), security: 'opportunistic', rejectUnauthorized: false };
      if (tlsMode === 'required') base = requireTls(base);
      if (auth) base.auth = auth;
      if (authError) base.error = authError;
      hops.push(...(await expand(h.host, base, resolver)));
    }
  }
  if (hops.length === 0) return { ok: false, permanent: false, reply: `no hosts configured for ${dest.domain}`, status: '4.3.5', label: dest.domain };
  return { ok: true, hops: hops.slice(0, MAX_HOPS) };
}

/** Every configured next hop (routes, overrides, routes with sender conditions, smarthost), for route health. */
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
  for (const r of cfg.delivery.senderRoutes) for (const h of r.hosts) add(hostPort(h.host, h.port), 'sender-route');
  const sh = cfg.delivery.smarthost;
  if (sh) add(hostPort(sh.host, sh.port), 'smarthost');
  return out;
}

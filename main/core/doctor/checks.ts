/*
 * The deliverability check (`gatehouse doctor`, the window's check page): one function per
 * check, each returning CheckResult (ok / warn / fail, a message code with params, and the
 * record to publish when one would fix it). The texts for the codes live in
 * shared/deliverability-messages.ts. All DNS goes through the injected resolver, so tests
 * point it at a DNS server on loopback.
 *
 *   checkSpf      SPF of each internal domain, evaluated with mailauth for the gateway's
 *                 public address (direct delivery) or the smarthost's addresses; a known
 *                 provider's smarthost (Microsoft 365, Google) must be included by name.
 *   checkFcrdns   the HELO name resolves to the public address and that address's PTR is
 *                 the HELO name (forward-confirmed reverse DNS).
 *   checkDkim     the published key of each configured key matches (dkim/check.ts).
 *   checkDmarc    one valid `v=DMARC1` record at `_dmarc.<domain>`.
 *   checkMtaSts   the domain's own MTA-STS: none (warn), broken (fail), MX not listed (fail).
 *   checkPort25   a TCP connect to host:port with a timeout and the 220 greeting read (for
 *                 direct delivery without a target to try: a warning saying it was not tried).
 *   checkSmarthostLogin  delivery/login-probe.ts against the smarthost.
 * No function throws; DNS trouble is a warn with the resolver's code.
 */
import net from 'node:net';
import type { CheckResult, CheckStatus, DkimKey, RecordToPublish } from '../../shared/deliverability.js';
import { checkPublishedKey, parseTags } from '../dkim/check.js';
import { dkimRecordOf, quotedStrings } from '../../shared/dkim-record.js';
import { mailauthResolver, type DnsLookup } from '../dns/resolver.js';
import { probeLogin } from '../delivery/login-probe.js';
import type { ConnectSettings } from '../delivery/transport-pool.js';
import { MtaStsCache, mxMatchesPolicy } from '../tls/mta-sts.js';

function result(check: CheckResult['check'], status: CheckStatus, code: string, params: Record<string, string>, domain?: string, record?: RecordToPublish): CheckResult {
  const r: CheckResult = { check, status, code, params };
  if (domain) r.domain = domain;
  if (record) r.record = record;
  return r;
}

function txt(name: string, value: string): RecordToPublish {
  return { name, type: 'TXT', value, zoneLine: `${name}. IN TXT ( ${quotedStrings(value)} )` };
}

function codeOf(err: unknown): string {
  return String((err as { code?: string })?.code ?? (err as Error)?.message ?? err);
}

const notFound = (c: string) => c === 'ENOTFOUND' || c === 'ENODATA';

// ---- SPF ----

/** Smarthosts whose senders' SPF must `include:` a provider record (their submission host is not the sending address). */
const PROVIDER_SPF: { match: RegExp; include: string; name: string }[] = [
  { match: /(^|\.)(office365\.com|outlook\.com|protection\.outlook\.com)$/i, include: 'spf.protection.outlook.com', name: 'Microsoft 365' },
  { match: /(^|\.)(gmail\.com|googlemail\.com|google\.com)$/i, include: '_spf.google.com', name: 'Google Workspace' },
];

export interface SpfTarget {
  /** Direct delivery: the gateway's public address. */
  publicIp?: string;
  /** Delivery through a smarthost. */
  smarthost?: { host: string };
}

async function spfRecords(domain: string, r: DnsLookup): Promise<string[]> {
  return (await r.resolveTxt(domain)).map((x) => x.join('')).filter((x) => /^v=spf1(\s|$)/i.test(x));
}

/** The record with `mechanism` added before its `all` / `redirect=` (or a new one). */
export function spfWith(existing: string | undefined, mechanism: string): string {
  if (!existing) return `v=spf1 ${mechanism} -all`;
  const terms = existing.trim().split(/\s+/);
  if (terms.includes(mechanism)) return existing;
  const at = terms.findIndex((t, i) => i > 0 && (/^[-~?+]?all$/i.test(t) || /^redirect=/i.test(t)));
  if (at < 0) terms.push(mechanism);
  else terms.splice(at, 0, mechanism);
  return terms.join(' ');
}

export async function checkSpf(domain: string, target: SpfTarget, resolver: DnsLookup, helo: string): Promise<CheckResult> {
  let records: string[];
  try {
    records = await spfRecords(domain, resolver);
  } catch (err) {
    const c = codeOf(err);
    if (!notFound(c)) return result('spf', 'warn', 'spf.dns-error', { domain, detail: c }, domain);
    records = [];
  }
  const existing = records.length === 1 ? records[0] : undefined;
  const provider = target.smarthost ? PROVIDER_SPF.find((p) => p.match.test(target.smarthost!.host)) : undefined;
  let mechanism: string;
  let via: string;
  let ips: string[];
  if (provider) {
    mechanism = `include:${provider.include}`;
    via = `${provider.name} (${target.smarthost!.host})`;
    ips = [];
  } else if (target.smarthost) {
    via = target.smarthost.host;
    try {
      ips = net.isIP(target.smarthost.host) ? [target.smarthost.host] : await resolver.resolveHost(target.smarthost.host);
    } catch (err) {
      return result('spf', 'warn', 'spf.dns-error', { domain, detail: `${target.smarthost.host}: ${codeOf(err)}` }, domain);
    }
    mechanism = net.isIP(target.smarthost.host) ? `${net.isIPv6(target.smarthost.host) ? 'ip6' : 'ip4'}:${target.smarthost.host}` : `a:${target.smarthost.host}`;
  } else if (target.publicIp) {
    via = target.publicIp;
    ips = [target.publicIp];
    mechanism = `${net.isIPv6(target.publicIp) ? 'ip6' : 'ip4'}:${target.publicIp}`;
  } else {
    return result('spf', 'warn', 'spf.no-public-ip', { domain }, domain);
  }
  if (records.length === 0) return result('spf', 'fail', 'spf.missing', { domain, via }, domain, txt(domain, spfWith(undefined, mechanism)));
  if (records.length > 1) return result('spf', 'fail', 'spf.invalid', { domain, via, detail: `${records.length} SPF records` }, domain);
  const fix = txt(domain, spfWith(existing, mechanism));
  if (provider) {
    // Evaluating would need the provider's own records; its include by name is what counts.
    const has = existing!.split(/\s+/).some((t) => t.replace(/^[+]/, '').toLowerCase() === mechanism.toLowerCase());
    return has ? result('spf', 'ok', 'spf.ok', { domain, via }, domain) : result('spf', 'fail', 'spf.not-covered', { domain, via, result: 'no include' }, domain, fix);
  }
  const verdicts: string[] = [];
  for (const ip of ips) {
    try {
      // Loaded when the check runs: mailauth's SPF module and what it pulls in are ~20 MB the gateway does not keep otherwise.
      const { spf: spfCheck } = await import('mailauth/lib/spf/index.js');
      const r = await spfCheck({ sender: `postmaster@${domain}`, ip, helo, mta: helo, resolver: mailauthResolver(resolver) });
      verdicts.push(String(r.status.result));
    } catch (err) {
      verdicts.push(`temperror (${codeOf(err)})`);
    }
  }
  const worst = verdicts.find((v) => v !== 'pass') ?? 'pass';
  if (worst === 'pass') return result('spf', 'ok', 'spf.ok', { domain, via }, domain);
  if (worst === 'permerror') return result('spf', 'fail', 'spf.invalid', { domain, via, detail: 'permerror' }, domain, fix);
  if (worst.startsWith('temperror')) return result('spf', 'warn', 'spf.dns-error', { domain, detail: worst }, domain);
  if (worst === 'softfail' || worst === 'neutral') return result('spf', 'warn', 'spf.softfail', { domain, via, result: worst }, domain, fix);
  return result('spf', 'fail', 'spf.not-covered', { domain, via, result: worst }, domain, fix);
}

// ---- forward-confirmed reverse DNS ----

function ptrRecordName(ip: string): string {
  if (net.isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const full = ip
    .split('::')
    .map((half) => half.split(':').filter(Boolean))
    .reduce((a, b) => [...a, ...Array(8 - a.length - b.length).fill('0'), ...b]);
  return `${full.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}

/**
 * `publicIp`: the address the world sees (direct delivery). Without it the HELO name's own
 * addresses are checked. `severity`: a failure is 'fail' for direct delivery, 'warn' when a
 * smarthost sends (receivers then see the smarthost, not us).
 */
export async function checkFcrdns(hostname: string, resolver: DnsLookup, publicIp?: string, severity: 'fail' | 'warn' = 'fail'): Promise<CheckResult> {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  let addrs: string[];
  try {
    addrs = await resolver.resolveHost(name);
  } catch (err) {
    const c = codeOf(err);
    if (!notFound(c)) return result('fcrdns', 'warn', 'fcrdns.dns-error', { hostname: name, detail: c });
    addrs = [];
  }
  const ip = publicIp ?? addrs[0];
  if (addrs.length === 0) {
    const rec: RecordToPublish | undefined = publicIp ? { name, type: net.isIPv6(publicIp) ? 'AAAA' : 'A', value: publicIp, zoneLine: `${name}. IN ${net.isIPv6(publicIp) ? 'AAAA' : 'A'} ${publicIp}` } : undefined;
    return result('fcrdns', severity, 'fcrdns.no-address', { hostname: name, ip: ip ?? '' }, undefined, rec);
  }
  if (publicIp && !addrs.includes(publicIp)) {
    return result('fcrdns', severity, 'fcrdns.address-mismatch', { hostname: name, ip: publicIp, addresses: addrs.join(', ') }, undefined, {
      name,
      type: net.isIPv6(publicIp) ? 'AAAA' : 'A',
      value: publicIp,
      zoneLine: `${name}. IN ${net.isIPv6(publicIp) ? 'AAAA' : 'A'} ${publicIp}`,
    });
  }
  const ptrRec: RecordToPublish = { name: ptrRecordName(ip!), type: 'PTR', value: `${name}.`, zoneLine: `${ptrRecordName(ip!)}. IN PTR ${name}.` };
  let ptrs: string[];
  try {
    ptrs = (await resolver.reverse(ip!)).map((p) => p.toLowerCase().replace(/\.$/, ''));
  } catch (err) {
    const c = codeOf(err);
    if (!notFound(c)) return result('fcrdns', 'warn', 'fcrdns.dns-error', { hostname: name, detail: c });
    ptrs = [];
  }
  if (ptrs.length === 0) return result('fcrdns', severity, 'fcrdns.no-ptr', { hostname: name, ip: ip! }, undefined, ptrRec);
  if (!ptrs.includes(name)) return result('fcrdns', severity, 'fcrdns.ptr-mismatch', { hostname: name, ip: ip!, ptr: ptrs.join(', ') }, undefined, ptrRec);
  return result('fcrdns', 'ok', 'fcrdns.ok', { hostname: name, ip: ip! });
}

// ---- DKIM ----

export async function checkDkim(domain: string, keys: readonly Pick<DkimKey, 'domain' | 'selector' | 'algorithm' | 'publicKey'>[], resolver: DnsLookup): Promise<CheckResult[]> {
  const mine = keys.filter((k) => k.domain.toLowerCase() === domain.toLowerCase());
  if (mine.length === 0) return [result('dkim', 'warn', 'dkim.no-key', { domain }, domain)];
  const out: CheckResult[] = [];
  for (const k of mine) {
    const rec = dkimRecordOf(k.domain, k.selector, k.algorithm, k.publicKey);
    const publish: RecordToPublish = { name: rec.name, type: 'TXT', value: rec.value, zoneLine: rec.zoneLine };
    const c = await checkPublishedKey(k.domain, k.selector, k, resolver);
    const params = { domain, selector: k.selector, name: c.name, detail: c.detail ?? '' };
    if (c.status === 'match') out.push(result('dkim', 'ok', 'dkim.ok', params, domain));
    else if (c.status === 'dns-error') out.push(result('dkim', 'warn', 'dkim.dns-error', params, domain));
    else out.push(result('dkim', 'fail', `dkim.${c.status}`, params, domain, publish));
  }
  return out;
}

// ---- DMARC ----

export async function checkDmarc(domain: string, resolver: DnsLookup): Promise<CheckResult> {
  const name = `_dmarc.${domain}`;
  const suggestion = txt(name, `v=DMARC1; p=none; rua=mailto:postmaster@${domain}`);
  let records: string[];
  try {
    records = (await resolver.resolveTxt(name)).map((x) => x.join('')).filter((x) => /^v\s*=\s*DMARC1/i.test(x.trim()));
  } catch (err) {
    const c = codeOf(err);
    if (!notFound(c)) return result('dmarc', 'warn', 'dmarc.dns-error', { domain, detail: c }, domain);
    records = [];
  }
  if (records.length === 0) return result('dmarc', 'fail', 'dmarc.missing', { domain }, domain, suggestion);
  if (records.length > 1) return result('dmarc', 'fail', 'dmarc.multiple', { domain }, domain);
  const tags = parseTags(records[0]);
  const p = (tags.get('p') ?? '').toLowerCase();
  if (!['none', 'quarantine', 'reject'].includes(p)) return result('dmarc', 'fail', 'dmarc.invalid', { domain, detail: p ? `p=${p}` : 'no p= tag' }, domain, suggestion);
  return result('dmarc', 'ok', 'dmarc.ok', { domain, policy: p }, domain);
}

// ---- MTA-STS of our own domains ----

export async function checkMtaSts(domain: string, resolver: DnsLookup, opts: { ca?: readonly string[]; httpsPort?: number; timeoutMs?: number } = {}): Promise<CheckResult> {
  const cache = new MtaStsCache({ resolver, ...opts });
  const found = await cache.lookup(domain);
  if (found.source === 'none') return result('mta-sts', 'warn', 'mta-sts.none', { domain }, domain);
  if (!found.policy) return result('mta-sts', 'fail', 'mta-sts.broken', { domain, detail: found.error ?? 'unknown' }, domain);
  const p = found.policy;
  if (p.mode === 'enforce') {
    let mx: string[] = [];
    try {
      mx = (await resolver.resolveMx(domain)).map((m) => m.exchange.toLowerCase());
    } catch {
      mx = [domain];
    }
    const missing = mx.filter((m) => !mxMatchesPolicy(m, p.mx));
    if (missing.length > 0) return result('mta-sts', 'fail', 'mta-sts.mx-not-listed', { domain, mx: missing.join(', '), mode: p.mode }, domain);
  }
  return result('mta-sts', p.mode === 'none' ? 'warn' : 'ok', 'mta-sts.ok', { domain, mode: p.mode, id: p.id }, domain);
}

// ---- outbound port 25 ----

/** Connect to host:port and read the greeting; `blocked` when nothing answers in time. */
export function checkPort25(host: string, port = 25, timeoutMs = 8000): Promise<CheckResult> {
  const target = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    let done = false;
    let buf = '';
    const sock = net.connect({ host, port });
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish(result('port25', 'fail', 'port25.blocked', { target, detail: `no answer within ${timeoutMs / 1000} s` })), timeoutMs);
    timer.unref();
    sock.setEncoding('latin1');
    sock.on('data', (c: string) => {
      buf += c;
      const line = buf.split('\n')[0];
      if (buf.includes('\n') || buf.length > 512) {
        if (/^2\d\d/.test(line)) finish(result('port25', 'ok', 'port25.ok', { target }));
        else finish(result('port25', 'warn', 'port25.refused', { target, detail: line.trim().slice(0, 100) }));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') finish(result('port25', 'warn', 'port25.refused', { target, detail: err.code }));
      else finish(result('port25', 'fail', 'port25.blocked', { target, detail: err.code ?? err.message }));
    });
    sock.on('close', () => finish(result('port25', 'fail', 'port25.blocked', { target, detail: 'connection closed without a greeting' })));
  });
}

// ---- smarthost login ----

export async function checkSmarthostLogin(s: ConnectSettings | null, timeoutMs = 15_000): Promise<CheckResult> {
  if (!s) return result('smarthost-login', 'ok', 'smarthost-login.not-configured', {});
  const target = `${s.servername ?? s.host}:${s.port}`;
  const r = await probeLogin(s, timeoutMs);
  if (r.ok) return result('smarthost-login', 'ok', 'smarthost-login.ok', { target, method: r.method });
  const detail = r.code ? `${r.code} ${r.reply}`.slice(0, 200) : r.reply.slice(0, 200);
  if (r.stage === 'auth') return result('smarthost-login', 'fail', 'smarthost-login.auth-failed', { target, detail });
  if (r.stage === 'tls') return result('smarthost-login', 'fail', 'smarthost-login.tls-failed', { target, detail });
  return result('smarthost-login', 'fail', 'smarthost-login.connect-failed', { target, detail });
}

// ---- all of them ----

export interface DoctorInput {
  /** The internal domains (運用ドメイン). */
  domains: readonly string[];
  /** The HELO / EHLO name. */
  hostname: string;
  /** The gateway's public address, for direct delivery. */
  publicIp?: string;
  /** How mail leaves: through this smarthost (its login settings), or null for direct MX. */
  smarthost: ConnectSettings | null;
  /** The keys' public parts (nothing here needs a private key). */
  dkimKeys: readonly Pick<DkimKey, 'domain' | 'selector' | 'algorithm' | 'publicKey'>[];
  resolver: DnsLookup;
  /** Where to try port 25 (a well-known MX). Absent: not tried. */
  port25Target?: { host: string; port?: number };
  mtaSts?: { ca?: readonly string[]; httpsPort?: number };
  timeoutMs?: number;
}

export async function runDoctor(i: DoctorInput): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const spfTarget: SpfTarget = i.smarthost ? { smarthost: { host: i.smarthost.servername ?? i.smarthost.host } } : i.publicIp ? { publicIp: i.publicIp } : {};
  for (const d of i.domains) {
    out.push(await checkSpf(d, spfTarget, i.resolver, i.hostname));
    out.push(...(await checkDkim(d, i.dkimKeys, i.resolver)));
    out.push(await checkDmarc(d, i.resolver));
    out.push(await checkMtaSts(d, i.resolver, { ...i.mtaSts, timeoutMs: i.timeoutMs }));
  }
  out.push(await checkFcrdns(i.hostname, i.resolver, i.smarthost ? undefined : i.publicIp, i.smarthost ? 'warn' : 'fail'));
  if (i.port25Target) out.push(await checkPort25(i.port25Target.host, i.port25Target.port ?? 25, i.timeoutMs));
  // Direct delivery stands or falls with port 25: say that it was not tried, and how to try it.
  else if (!i.smarthost) out.push(result('port25', 'warn', 'port25.not-tried', {}));
  out.push(await checkSmarthostLogin(i.smarthost, i.timeoutMs));
  return out;
}

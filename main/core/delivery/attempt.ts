/*
 * One delivery attempt of one message: the pending recipients are grouped by destination
 * (next-hop.ts), each group gets one SMTP transaction per hop, hops in order, and deferred
 * recipients move on to the next hop after a connection failure or 4xx (not after a
 * connection lost once the message was sent: it may have arrived). Groups run concurrently;
 * the transport pool enforces the connection caps. Returns the final per-recipient result
 * and every hop tried (one senderlog line each); route health is updated as hops answer.
 * Never throws: DNS trouble, unreachable hosts and refusals all become results.
 */
import type { GatehouseConfig } from '../../shared/types.js';
import type { TlsPolicyOutcome } from '../../shared/deliverability.js';
import type { HealthBook } from './health.js';
import { destinationFor, planHops, type Destination, type Hop, type RouteContext, type Via } from './next-hop.js';
import { classify, enhancedStatus, type Classified, type RcptResult } from './outcome.js';
import type { ConnectSettings, Transport } from './transport-pool.js';
import type { MxResolver, QueuedHeader, TlsInfo } from './types.js';
import { prepareOutbound, type OutboundOptions, type Prepared } from './outbound.js';
import { normDomain } from './next-hop.js';

/** A recipient's result, with the host that gave it (for the DSN's Remote-MTA). */
export interface FinalResult extends RcptResult {
  remoteMta?: string;
  at: Date;
}

/** One hop tried (or a destination that could not be planned): one senderlog line. */
export interface HopTry {
  label: string;
  via: Via;
  mx?: string;
  recipients: string[];
  classified: Classified;
  tls: boolean;
  durationMs: number;
  at: Date;
  /** DKIM outcome of the bytes sent (`d=... s=...` or `error: ...`). */
  dkim?: string;
  /** Lines folded to 998 octets in the bytes sent. */
  foldedLines?: number;
  tlsInfo?: TlsInfo;
  tlsPolicy?: TlsPolicyOutcome;
}

export interface AttemptResult {
  results: Map<string, FinalResult>;
  tries: HopTry[];
}

export interface AttemptDeps {
  pool: Transport;
  resolver: MxResolver;
  health: HealthBook;
  now(): Date;
  /** True once stop() began: hops not yet started are not tried. */
  stopping(): boolean;
  /** MX port (25; tests use another). */
  mxPort?: number;
  /** Signing and the other last changes before sending; absent = long lines folded, nothing signed. */
  outbound?: OutboundOptions;
}

export function connectSettings(hop: Hop, cfg: GatehouseConfig, ca?: readonly string[]): ConnectSettings {
  const s: ConnectSettings = {
    host: hop.host,
    port: hop.port,
    security: hop.security,
    rejectUnauthorized: hop.rejectUnauthorized,
    name: cfg.hostname,
    connectTimeoutMs: cfg.delivery.connectTimeoutMs,
  };
  if (hop.servername) s.servername = hop.servername;
  if (hop.auth) s.auth = hop.auth;
  if (ca && ca.length > 0) s.ca = ca;
  return s;
}

/** Pending recipients by destination, first-seen order kept. */
export function groupRecipients(pending: readonly string[], cfg: GatehouseConfig, ctx: RouteContext = {}): { dest: Destination; recipients: string[] }[] {
  const groups = new Map<string, { dest: Destination; recipients: string[] }>();
  for (const rcpt of pending) {
    const dest = destinationFor(rcpt, cfg, ctx);
    const g = groups.get(dest.key);
    if (g) g.recipients.push(rcpt);
    else groups.set(dest.key, { dest, recipients: [rcpt] });
  }
  return [...groups.values()];
}

function uniform(recipients: readonly string[], outcome: RcptResult['outcome'], reply: string, status: string): Classified {
  return {
    results: recipients.map((recipient) => ({ recipient, outcome, reply, status })),
    hopOk: false,
    tryNextHop: outcome === 'deferred',
    reply,
  };
}

/** Whether this try met its TLS requirement: TLS ran and the certificate verified (and, for MTA-STS, the MX was listed). */
function settlePolicy(p: TlsPolicyOutcome, info: TlsInfo | undefined, c: Classified, untried: Hop['error']): TlsPolicyOutcome {
  const out: TlsPolicyOutcome = { ...p };
  if (!p.ok) return out; // already failed at planning (testing mode: MX not in the policy)
  if (untried) return { ...out, ok: false, reason: untried.reply };
  if (!info) return { ...out, ok: false, reason: c.hopOk ? 'no TLS' : `no TLS session (${c.reply})` };
  if (!info.verified) return { ...out, ok: false, reason: `certificate not verified (${info.verifyError ?? 'unknown'})` };
  return out;
}

/** Internal (office) and external destinations may get different bytes (only external mail is signed). */
function isExternal(dest: Destination, cfg: GatehouseConfig): boolean {
  return !cfg.internalDomains.some((d) => normDomain(d) === dest.domain);
}

async function deliverGroup(
  header: QueuedHeader,
  dest: Destination,
  recipients: string[],
  bytesFor: (external: boolean) => Promise<Prepared>,
  cfg: GatehouseConfig,
  deps: AttemptDeps,
  out: AttemptResult,
): Promise<void> {
  const o = deps.outbound ?? {};
  const plan = await planHops(dest, deps.resolver, { mxPort: deps.mxPort, credentials: o.credentials, routeTls: o.routeTls, mtaSts: o.mtaSts });
  if (!plan.ok) {
    const c = uniform(recipients, plan.permanent ? 'bounced' : 'deferred', plan.reply, plan.status);
    const at = deps.now();
    out.tries.push({ label: plan.label, via: dest.via, recipients, classified: c, tls: false, durationMs: 0, at });
    for (const r of c.results) out.results.set(r.recipient, { ...r, at });
    return;
  }
  const prepared = await bytesFor(isExternal(dest, cfg));
  const raw = prepared.raw;
  let remaining = recipients;
  const lastDeferred = new Map<string, FinalResult>();
  for (const hop of plan.hops) {
    if (remaining.length === 0 || deps.stopping()) break;
    let c: Classified;
    let tls = false;
    let durationMs = 0;
    let tlsInfo: TlsInfo | undefined;
    let untried = hop.error;
    const auth = hop.auth;
    if (!untried && auth && 'xoauth2' in auth) {
      // Get the token before connecting: a refresh failure defers the mail with its own
      // status (4.7.0), and says why, instead of an AUTH failure at the server.
      try {
        await auth.xoauth2.token(false);
      } catch (err) {
        untried = { reply: `XOAUTH2 login for ${auth.user}: cannot get an access token (${(err as Error).message}); the mail waits and is retried`, status: '4.7.0' };
      }
    }
    if (untried) {
      c = uniform(remaining, 'deferred', untried.reply, untried.status);
    } else {
      const sent = await deps.pool.send(connectSettings(hop, cfg, o.tlsCa), { from: header.sender, to: remaining }, raw);
      c = classify(remaining, sent.transaction);
      tls = sent.tls;
      tlsInfo = sent.tlsInfo;
      durationMs = sent.durationMs;
    }
    const at = deps.now();
    if (c.hopOk) deps.health.success(hop.label, hop.via, at);
    // A session cut by our own shutdown says nothing about the hop.
    else if (!deps.stopping()) deps.health.failure(hop.label, hop.via, at, c.reply);
    const t: HopTry = { label: hop.label, via: hop.via, recipients: remaining, classified: c, tls, durationMs, at };
    if (hop.mx) t.mx = hop.mx;
    if (prepared.dkim && !untried) t.dkim = prepared.dkim;
    if (prepared.foldedLines && !untried) t.foldedLines = prepared.foldedLines;
    if (tlsInfo) t.tlsInfo = tlsInfo;
    if (hop.tlsPolicy) t.tlsPolicy = settlePolicy(hop.tlsPolicy, tlsInfo, c, untried);
    out.tries.push(t);
    const remoteMta = hop.mx ?? hop.servername ?? hop.host;
    for (const r of c.results) {
      const fr: FinalResult = { ...r, remoteMta, at };
      if (r.outcome === 'deferred') lastDeferred.set(r.recipient, fr);
      else out.results.set(r.recipient, fr);
    }
    remaining = c.results.filter((r) => r.outcome === 'deferred').map((r) => r.recipient);
    if (!c.tryNextHop) break;
  }
  for (const rcpt of remaining) {
    const fr = lastDeferred.get(rcpt);
    out.results.set(
      rcpt,
      fr ?? { recipient: rcpt, outcome: 'deferred', reply: 'not tried: delivery is stopping', status: enhancedStatus('', undefined, '4.3.2'), at: deps.now() },
    );
  }
}

/** Try every pending recipient once. */
export async function runAttempt(header: QueuedHeader, pending: readonly string[], raw: Buffer, cfg: GatehouseConfig, deps: AttemptDeps): Promise<AttemptResult> {
  const out: AttemptResult = { results: new Map(), tries: [] };
  const groups = groupRecipients(pending, cfg, { sender: header.sender, senderRoutes: deps.outbound?.senderRoutes });
  // Prepared once per kind and attempt, whatever the number of groups and hops.
  const memo = new Map<boolean, Promise<Prepared>>();
  const bytesFor = (external: boolean): Promise<Prepared> => {
    let p = memo.get(external);
    if (!p) {
      p = prepareOutbound(raw, deps.outbound ?? {}, external, deps.now());
      memo.set(external, p);
    }
    return p;
  };
  await Promise.all(groups.map((g) => deliverGroup(header, g.dest, g.recipients, bytesFor, cfg, deps, out)));
  return out;
}

/*
 * The last changes to a message before it leaves, in this order: lines over 998 octets are
 * folded (long-lines.ts; on by default, for every destination), then external mail is DKIM
 * signed (the signature goes on last, over the exact bytes sent). prepareOutbound() returns
 * the bytes to send and what was done; `OutboundOptions` are read per attempt so a config
 * change applies to the next one. Without keys nothing is signed, and a message without long
 * lines goes out exactly as spooled. Never throws: a key that cannot sign leaves the message
 * unsigned and says so in `dkim` (the senderlog shows it).
 */
import type { DkimKey, RouteTls, SenderRoute } from '../../shared/deliverability.js';
import type { CredentialTarget, Via } from './next-hop.js';
import type { HopAuth } from './types.js';
import type { MtaStsLookup } from '../tls/mta-sts.js';
import { signMessage } from '../dkim/sign.js';
import { foldLongLines, MAX_LINE } from './long-lines.js';

/**
 * The deliverability engines' settings for one attempt (DeliveryDeps.outbound() reads them
 * per attempt). Every field is optional; absent = the behaviour before these engines, except
 * long-line folding, which is on unless turned off.
 */
export interface OutboundOptions {
  /** Routes with sender conditions (external mail): before the smarthost and MX. */
  senderRoutes?: readonly SenderRoute[];
  /** Credentials for the smarthost (e.g. XOAUTH2 instead of its password) and for routes with `auth`. */
  credentials?(target: CredentialTarget): HopAuth | undefined;
  /** `tls: required` per classic route / override domain. */
  routeTls?(domain: string, via: Via): RouteTls | undefined;
  /** MTA-STS policies for direct-MX delivery (core/tls/mta-sts.ts's MtaStsCache.lookup fits). */
  mtaSts?: MtaStsLookup;
  /** Extra trust anchors (PEM) for verifying servers' certificates, besides Node's CAs. */
  tlsCa?: readonly string[];
  /** Fold lines over 998 octets. Default true; false sends them as they came (not advised). */
  foldLongLines?: boolean;
  /** Opened DKIM keys; mail to external domains whose From: domain has one is signed. */
  dkimKeys?: readonly DkimKey[];
}

export interface Prepared {
  raw: Buffer;
  /** `d=test.jp s=s1`, or `error: ...` when signing failed. */
  dkim?: string;
  /** Lines that were over 998 octets and were folded. */
  foldedLines?: number;
}

export async function prepareOutbound(raw: Buffer, o: OutboundOptions, external: boolean, now: Date): Promise<Prepared> {
  let out = raw;
  const p: Prepared = { raw: out };
  if (o.foldLongLines !== false) {
    const f = foldLongLines(out, MAX_LINE);
    out = f.raw;
    if (f.folded > 0) p.foldedLines = f.folded;
  }
  if (external && o.dkimKeys && o.dkimKeys.length > 0) {
    const s = await signMessage(out, o.dkimKeys, now);
    out = s.raw;
    if (s.signed) p.dkim = s.signed;
    else if (s.error) p.dkim = `error: ${s.error}`;
  }
  p.raw = out;
  return p;
}

/*
 * The last changes to a message before it leaves: DKIM signing of external mail (the
 * signature goes on last, over the exact bytes sent). prepareOutbound() returns the bytes to
 * send and what was done; `OutboundOptions` are read per attempt so a config change applies
 * to the next one. With no options the message goes out exactly as spooled (the behaviour
 * before these engines). Never throws: a key that cannot sign leaves the message unsigned and
 * says so in `dkim` (the senderlog shows it).
 */
import type { DkimKey } from '../../shared/deliverability.js';
import { signMessage } from '../dkim/sign.js';

export interface OutboundOptions {
  /** Opened DKIM keys; mail to external domains whose From: domain has one is signed. */
  dkimKeys?: readonly DkimKey[];
}

export interface Prepared {
  raw: Buffer;
  /** `d=test.jp s=s1`, or `error: ...` when signing failed. */
  dkim?: string;
}

export async function prepareOutbound(raw: Buffer, o: OutboundOptions, external: boolean, now: Date): Promise<Prepared> {
  let out = raw;
  const p: Prepared = { raw: out };
  if (external && o.dkimKeys && o.dkimKeys.length > 0) {
    const s = await signMessage(out, o.dkimKeys, now);
    out = s.raw;
    if (s.signed) p.dkim = s.signed;
    else if (s.error) p.dkim = `error: ${s.error}`;
  }
  p.raw = out;
  return p;
}

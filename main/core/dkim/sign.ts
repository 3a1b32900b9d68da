/*
 * DKIM signing of one outgoing message, on the exact bytes that will be sent: signMessage()
 * picks the key for the message's From: domain (the first From: address; a key for a parent
 * domain does not count, d= must match what DMARC aligns on), signs with mailauth's signer
 * (relaxed/relaxed, rsa-sha256 or ed25519-sha256, mailauth's default header list) and returns
 * the DKIM-Signature header followed by the message. It must run after every change
 * Gatehouse makes to the message (long-line folding included). Returns `{ raw }` unchanged
 * with no `signed` when no key applies; a signing failure (a broken key) comes back as
 * `error` with the message unsigned, never as an exception.
 */
import type { DkimKey } from '../../shared/deliverability.js';
import { lowerAscii } from '../../shared/address.js';
import { headerFromAddresses } from '../smtp/message-checks.js';

export interface SignResult {
  raw: Buffer;
  /** `d=test.jp s=s1` when signed. */
  signed?: string;
  error?: string;
}

export function fromDomain(raw: Buffer): string {
  const from = headerFromAddresses(raw)[0] ?? '';
  const at = from.lastIndexOf('@');
  return at < 0 ? '' : lowerAscii(from.slice(at + 1)).replace(/\.$/, '');
}

export function keyFor(raw: Buffer, keys: readonly DkimKey[]): DkimKey | undefined {
  const domain = fromDomain(raw);
  if (!domain) return undefined;
  return keys.find((k) => lowerAscii(k.domain) === domain);
}

type Signer = typeof import('mailauth/lib/dkim/sign.js');
/**
 * mailauth's signer is loaded at the first signature, not at start: with what it pulls in
 * (libmime's charset tables, tldts, Joi) it was ~20 MB of the gateway's memory, and most
 * gateways sign nothing (measured with process.memoryUsage().rss around the import).
 */
let signer: Promise<Signer> | null = null;
const loadSigner = (): Promise<Signer> => (signer ??= import('mailauth/lib/dkim/sign.js'));

export async function signMessage(raw: Buffer, keys: readonly DkimKey[], now: Date = new Date()): Promise<SignResult> {
  const key = keyFor(raw, keys);
  if (!key) return { raw };
  try {
    const { dkimSign } = await loadSigner();
    const res = await dkimSign(raw, {
      canonicalization: 'relaxed/relaxed',
      algorithm: key.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
      signTime: now,
      signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey, algorithm: key.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256', canonicalization: 'relaxed/relaxed' }],
    } as Parameters<Signer['dkimSign']>[1]);
    if (res.errors && res.errors.length > 0) return { raw, error: `DKIM signing failed: ${res.errors.map((e) => e.message).join('; ')}` };
    const header = res.signatures.trim();
    if (!header) return { raw, error: 'DKIM signing produced no signature' };
    return { raw: Buffer.concat([Buffer.from(`${header}\r\n`, 'latin1'), raw]), signed: `d=${key.domain} s=${key.selector}` };
  } catch (err) {
    return { raw, error: `DKIM signing failed: ${(err as Error).message}` };
  }
}

/*
 * Does the DKIM key published in DNS match our private key? checkPublishedKey() reads the TXT
 * record at `<selector>._domainkey.<domain>` through the given resolver, parses its tags
 * (RFC 6376 3.6.1: `v=DKIM1` first when present, `k=` defaults to rsa, `p=` empty = revoked)
 * and compares it with our key's public part (stored with the key, so no private key is opened
 * to check). RSA keys compare as
 * keys (an RSAPublicKey published instead of SubjectPublicKeyInfo still matches). Never
 * throws: DNS trouble comes back as `dns-error` with the resolver's code.
 */
import crypto from 'node:crypto';
import type { DkimAlgorithm } from '../../shared/deliverability.js';
import type { DnsLookup } from '../dns/resolver.js';
import { dkimRecordName } from './keys.js';

export type PublishedKeyStatus = 'match' | 'missing' | 'mismatch' | 'revoked' | 'invalid' | 'dns-error';

export interface PublishedKeyCheck {
  status: PublishedKeyStatus;
  name: string;
  /** The record found (joined strings), when one was. */
  found?: string;
  /** Why: the DNS error code, the parse problem, or what differs. */
  detail?: string;
}

export function parseTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    tags.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).replace(/\s+/g, ''));
  }
  return tags;
}

function rsaSpki(p: string): string | null {
  const der = Buffer.from(p, 'base64');
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      return crypto.createPublicKey({ key: der, format: 'der', type }).export({ type: 'spki', format: 'der' }).toString('base64');
    } catch {
      // try the other form
    }
  }
  return null;
}

/** Our key's public part: the algorithm and the `p=` value (a stored DkimKey, or publicKeyTag() of a private key). */
export interface PublicKeyTag {
  algorithm: DkimAlgorithm;
  publicKey: string;
}

export async function checkPublishedKey(domain: string, selector: string, ours: PublicKeyTag, resolver: Pick<DnsLookup, 'resolveTxt'>): Promise<PublishedKeyCheck> {
  const name = dkimRecordName(domain, selector);
  let txt: string[][];
  try {
    txt = await resolver.resolveTxt(name);
  } catch (err) {
    const code = String((err as { code?: string })?.code ?? err);
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { status: 'missing', name, detail: code };
    return { status: 'dns-error', name, detail: code };
  }
  const records = txt.map((r) => r.join('')).filter((r) => /^\s*v\s*=\s*DKIM1\b/i.test(r) || /(^|;)\s*p\s*=/.test(r));
  if (records.length === 0) return { status: 'missing', name, detail: 'no DKIM record among the TXT records' };
  if (records.length > 1) return { status: 'invalid', name, found: records.join(' | '), detail: 'more than one DKIM record' };
  const found = records[0];
  const tags = parseTags(found);
  const v = tags.get('v');
  if (v !== undefined && v !== 'DKIM1') return { status: 'invalid', name, found, detail: `v=${v}` };
  const p = tags.get('p');
  if (p === undefined) return { status: 'invalid', name, found, detail: 'no p= tag' };
  if (p === '') return { status: 'revoked', name, found, detail: 'p= is empty (key revoked)' };
  const k = (tags.get('k') ?? 'rsa').toLowerCase() as DkimAlgorithm;
  if (k !== ours.algorithm) return { status: 'mismatch', name, found, detail: `k=${k}, our key is ${ours.algorithm}` };
  const same = k === 'rsa' ? rsaSpki(p) === ours.publicKey : p === ours.publicKey;
  if (!same) return { status: 'mismatch', name, found, detail: 'p= is another key' };
  return { status: 'match', name, found };
}

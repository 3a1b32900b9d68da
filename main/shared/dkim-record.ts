/*
 * The TXT record that publishes a DKIM key, built from its public part alone (so the window,
 * the CLI and the config view show it without opening the sealed private key): the name
 * `<selector>._domainkey.<domain>`, the value as one string (what DNS consoles take) and the
 * zone-file line with the value split into quoted strings of at most 255 octets (what zone
 * files and some consoles need). Pure string work; nothing here fails.
 */
import type { DkimAlgorithm, DkimRecord } from './deliverability.js';

/** The value split into quoted strings of at most 255 octets (the record is ASCII). */
export function quotedStrings(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return parts.join(' ');
}

export function dkimRecordName(domain: string, selector: string): string {
  return `${selector}._domainkey.${domain}`;
}

export function dkimRecordOf(domain: string, selector: string, algorithm: DkimAlgorithm, publicKey: string): DkimRecord {
  const name = dkimRecordName(domain, selector);
  const value = `v=DKIM1; k=${algorithm}; p=${publicKey}`;
  return { name, value, zoneLine: `${name}. IN TXT ( ${quotedStrings(value)} )` };
}

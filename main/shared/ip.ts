/*
 * IP addresses and CIDR networks as text, without Node: isIP() answers exactly as node:net's
 * isIP does (the same expressions; a property test holds the two together), so the renderer
 * can check an address as it is typed and the core refuses nothing the form accepted.
 * parseCidr() reads `192.168.0.0/24`, `fd00::/8` or a single address (a /32 or /128) and
 * returns the parts or a Problem saying what is wrong; `/0` is refused, since it would trust
 * every address (an open relay). Nothing here throws.
 */
import { problem, type Problem } from './issues.js';

const V4_SEG = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const V4_STR = `(?:${V4_SEG}\\.){3}${V4_SEG}`;
const V6_SEG = '(?:[0-9a-fA-F]{1,4})';
const IPV4 = new RegExp(`^${V4_STR}$`);
const IPV6 = new RegExp(
  '^(?:' +
    `(?:${V6_SEG}:){7}(?:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){6}(?:${V4_STR}|:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){5}(?::${V4_STR}|(?::${V6_SEG}){1,2}|:)|` +
    `(?:${V6_SEG}:){4}(?:(?::${V6_SEG}){0,1}:${V4_STR}|(?::${V6_SEG}){1,3}|:)|` +
    `(?:${V6_SEG}:){3}(?:(?::${V6_SEG}){0,2}:${V4_STR}|(?::${V6_SEG}){1,4}|:)|` +
    `(?:${V6_SEG}:){2}(?:(?::${V6_SEG}){0,3}:${V4_STR}|(?::${V6_SEG}){1,5}|:)|` +
    `(?:${V6_SEG}:){1}(?:(?::${V6_SEG}){0,4}:${V4_STR}|(?::${V6_SEG}){1,6}|:)|` +
    `(?::(?:(?::${V6_SEG}){0,5}:${V4_STR}|(?::${V6_SEG}){1,7}|:))` +
    ')(?:%[0-9a-zA-Z-.:]{1,})?$',
);

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

export function isIPv6(s: string): boolean {
  return IPV6.test(s);
}

/** 4, 6 or 0, as node:net isIP. */
export function isIP(s: string): 0 | 4 | 6 {
  return isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0;
}

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export function parseCidr(s: string): Cidr | Problem {
  const text = s.trim();
  if (text === '') return problem('cidr_empty');
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return problem('cidr_address', { value: JSON.stringify(address) });
  if (address.includes('%')) return problem('cidr_zone');
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return problem('cidr_prefix', { value: JSON.stringify(p) });
    prefix = Number(p);
    if (prefix > max) return problem('cidr_prefix_max', { prefix, max });
  }
  if (prefix === 0) return problem('cidr_open', { value: text });
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** What is wrong with a CIDR or single address, or null. */
export function cidrProblem(s: string): Problem | null {
  const r = parseCidr(s);
  return 'code' in r ? r : null;
}

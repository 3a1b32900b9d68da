/*
 * Name checks the config layer owns: domains as stored in the config (lowercase ASCII or
 * punycode, no trailing dot), next-hop hosts (an IP address or such a domain), listener hosts
 * and allow-list entries. Each check returns null when the value is fine, or a short English
 * message that says what to type instead (e.g. the lowercase or punycode spelling); none
 * throws. Address and CIDR rules themselves live in ../policy/ and are reused, so the config
 * cannot accept what the policy would later refuse.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

import { validateAllowEntry, validatePattern } from '../policy/accounts.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * A domain as the config stores it: lowercase LDH labels, IDNs as punycode (`xn--...`), no
 * trailing dot, not an IP address. Single-label names (`office`) are allowed: small offices
 * do run those internally.
 */
export function checkDomain(s: string): string | null {
  if (s === '') return 'must not be empty';
  if (s !== s.trim()) return 'must not have leading or trailing spaces';
  if (s.endsWith('.')) return `must not end with a dot (write '${s.replace(/\.+$/, '')}')`;
  if (NON_ASCII.test(s)) {
    const ascii = domainToASCII(s);
    return ascii
      ? `must be ASCII: write the punycode form '${ascii}'`
      : 'must be ASCII (punycode) and this is not a valid international domain';
  }
  if (s !== s.toLowerCase()) return `must be lowercase (write '${s.toLowerCase()}')`;
  if (s.length > 253) return 'is longer than 253 characters';
  if (isIP(s) !== 0) return 'must be a domain name, not an IP address';
  const labels = s.split('.');
  for (const label of labels) {
    if (label === '') return 'has an empty label (two dots in a row, or a leading dot)';
    if (!LABEL.test(label)) {
      return `has an invalid label '${label}' (letters, digits and inner hyphens only, at most 63)`;
    }
  }
  // '192.168.0.300' is not an IP but must not pass as a domain either: no TLD is numeric.
  if (/^\d+$/.test(labels[labels.length - 1]!)) return 'is neither a valid IP address nor a domain';
  return null;
}

/** Next hop host: an IPv4/IPv6 address or a domain (checkDomain rules). */
export function checkHost(s: string): string | null {
  if (s !== s.trim()) return 'must not have leading or trailing spaces';
  if (s.startsWith('[') && s.endsWith(']') && isIP(s.slice(1, -1)) === 6) {
    return `write the IPv6 address without brackets ('${s.slice(1, -1)}')`;
  }
  if (isIP(s) !== 0) return s.includes('%') ? 'zone index (%) not allowed' : null;
  const e = checkDomain(s);
  return e === null ? null : `must be an IP address or a host name: ${e}`;
}

/** Listener host: an IP address to bind ('0.0.0.0', '::', a LAN address) or 'localhost'. */
export function checkBindHost(s: string): string | null {
  if (s === 'localhost') return null;
  if (isIP(s) !== 0 && !s.includes('%')) return null;
  return "must be an IP address of this machine ('0.0.0.0' = all, '127.0.0.1' = this PC only)";
}

/** The admin HTTP interface must never be reachable from the LAN: it has no login. */
export function checkLoopbackHost(s: string): string | null {
  if (s === 'localhost' || s === '::1') return null;
  if (isIP(s) === 4 && s.startsWith('127.')) return null;
  return "must be a loopback address ('127.0.0.1', '::1' or 'localhost'): the admin interface has no login";
}

/**
 * The domain after the last '@' (if it holds no wildcard), checked like a config domain except
 * for case: the policy matches accounts and allow-lists case-insensitively, so `Partner.Example`
 * means the same and refusing it would only annoy. ASCII/punycode and no trailing dot still hold.
 */
function literalDomainProblem(s: string): string | null {
  const domain = s.slice(s.lastIndexOf('@') + 1);
  if (domain.includes('*')) return null;
  const e = checkDomain(domain.toLowerCase());
  return e === null ? null : `domain '${domain}' ${e}`;
}

/**
 * One allow-list entry of an account: an external domain (`partner.example`) or an address
 * (`a@partner.example`). The policy's rules first, then the config's domain spelling.
 */
export function checkAllowEntry(s: string): string | null {
  return validateAllowEntry(s) ?? literalDomainProblem(s);
}

/** An account pattern: the policy's rules, plus a literal domain spelled as config domains are. */
export function checkAccountPattern(s: string): string | null {
  return validatePattern(s) ?? literalDomainProblem(s);
}

/**
 * The name in the greeting, Received: headers and DSNs: a host name, any case (Windows
 * machine names are often uppercase and nobody should have to retype theirs).
 */
export function checkGreetingName(s: string): string | null {
  return checkDomain(s.toLowerCase());
}

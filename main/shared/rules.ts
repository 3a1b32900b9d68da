/*
 * The field rules of the settings, one function per kind of value: domains as the config
 * stores them (lowercase ASCII or punycode, no trailing dot), next-hop hosts (an IP address
 * or such a domain), listener and admin hosts, account patterns and allow-list entries (the
 * policy's address syntax plus the config's domain spelling), SMTP reply texts and AUTH user
 * names. Each returns null when the value is fine, or a Problem (code, params, English
 * message) that says what to type instead. Pure and without Node: the core's schema and the
 * renderer's forms run the very same rules. None throws.
 */
import { checkAddressSyntax, checkDomainSyntax } from './address.js';
import { isIP } from './ip.js';
import { problem, type Problem } from './issues.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

/** The punycode form of an international domain (WHATWG URL's IDNA), or null when it has none. */
function toAscii(domain: string): string | null {
  if (/[\s/?#@:[\]\\%]/.test(domain)) return null;
  try {
    const host = new URL(`http://${domain}/`).hostname;
    return host && !host.startsWith('[') ? host : null;
  } catch {
    return null;
  }
}

/**
 * A domain as the config stores it: lowercase LDH labels, IDNs as punycode (`xn--...`), no
 * trailing dot, not an IP address. Single-label names (`office`) are allowed: small offices
 * do run those internally.
 */
export function domainProblem(s: string): Problem | null {
  if (s === '') return problem('empty');
  if (s !== s.trim()) return problem('spaces');
  if (s.endsWith('.')) return problem('domain_dot', { suggest: s.replace(/\.+$/, '') });
  if (NON_ASCII.test(s)) {
    const ascii = toAscii(s);
    return ascii ? problem('domain_ascii', { suggest: ascii }) : problem('domain_idn');
  }
  if (s !== s.toLowerCase()) return problem('domain_case', { suggest: s.toLowerCase() });
  if (s.length > 253) return problem('domain_long');
  if (isIP(s) !== 0) return problem('domain_ip');
  const labels = s.split('.');
  for (const label of labels) {
    if (label === '') return problem('domain_empty_label');
    if (!LABEL.test(label)) return problem('domain_label', { label });
  }
  // '192.168.0.300' is not an IP but must not pass as a domain either: no TLD is numeric.
  if (/^\d+$/.test(labels[labels.length - 1]!)) return problem('domain_numeric');
  return null;
}

/** Next hop host: an IPv4/IPv6 address or a domain (domainProblem rules). */
export function hostProblem(s: string): Problem | null {
  if (s !== s.trim()) return problem('spaces');
  if (s.startsWith('[') && s.endsWith(']') && isIP(s.slice(1, -1)) === 6) {
    return problem('host_brackets', { suggest: s.slice(1, -1) });
  }
  if (isIP(s) !== 0) return s.includes('%') ? problem('host_zone') : null;
  const e = domainProblem(s);
  return e === null ? null : problem('host', { ...e.params, reason: e.code, detail: e.message });
}

/** Listener host: an IP address to bind ('0.0.0.0', '::', a LAN address) or 'localhost'. */
export function bindHostProblem(s: string): Problem | null {
  if (s === 'localhost') return null;
  if (isIP(s) !== 0 && !s.includes('%')) return null;
  return problem('bind_host');
}

/** The admin HTTP interface must never be reachable from the LAN. */
export function loopbackHostProblem(s: string): Problem | null {
  if (s === 'localhost' || s === '::1') return null;
  if (isIP(s) === 4 && s.startsWith('127.')) return null;
  return problem('loopback_host');
}

/**
 * The approval page's public address: '' (made from where it listens), or an http(s) origin
 * a browser on the LAN can open (`https://192.168.0.103:8443`, `http://gatehouse.test.jp`);
 * no path, query, fragment or login, since the page's links are appended to it.
 */
export function publicUrlProblem(s: string): Problem | null {
  if (s === '') return null;
  const m = /^(https?):\/\/([^/?#@\s]+?)(?::(\d{1,5}))?\/?$/i.exec(s);
  if (!m) return problem('public_url');
  const host = m[2]!;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return problem('public_url');
  if (isIP(bare) === 6 && host.startsWith('[')) return null;
  if (isIP(bare) === 4) return null;
  return domainProblem(bare.toLowerCase()) === null ? null : problem('public_url');
}

/** A client address (the tester, `gatehouse check --client`): an IP, no network. */
export function ipProblem(s: string): Problem | null {
  return isIP(s.trim()) !== 0 && !s.includes('%') ? null : problem('ip');
}

/**
 * The domain after the last '@' (if it holds no wildcard), checked like a config domain except
 * for case: the policy matches accounts and allow-lists case-insensitively, so `Partner.Example`
 * means the same and refusing it would only annoy. ASCII/punycode and no trailing dot still hold.
 */
function literalDomainProblem(s: string): Problem | null {
  const domain = s.slice(s.lastIndexOf('@') + 1);
  if (domain.includes('*')) return null;
  const e = domainProblem(domain.toLowerCase());
  return e === null ? null : problem('pattern_domain', { ...e.params, reason: e.code, domain, detail: e.message });
}

/** The policy's rule for an account pattern (`*` is any run of characters). */
export function policyPatternProblem(pattern: string): Problem | null {
  if (pattern.trim() !== pattern) return problem('pattern_spaces');
  if (!pattern.includes('*')) {
    const err = checkAddressSyntax(pattern, { smtputf8: true });
    return err ? problem('address', { detail: err }) : null;
  }
  if (pattern.includes('**')) return problem('pattern_star');
  const err = checkAddressSyntax(pattern.replaceAll('*', 'x'), { smtputf8: true });
  return err ? problem('pattern', { detail: err }) : null;
}

/** The policy's rule for an allow-list entry (a domain, or an address). */
export function policyAllowProblem(entry: string): Problem | null {
  if (entry.trim() !== entry) return problem('allow_spaces');
  if (entry.includes('*')) return problem('allow_wildcard');
  const err = entry.includes('@') ? checkAddressSyntax(entry, { smtputf8: true }) : checkDomainSyntax(entry, { smtputf8: true });
  return err ? problem('allow_entry', { detail: err }) : null;
}

/** An account pattern: the policy's rules, plus a literal domain spelled as config domains are. */
export function patternProblem(s: string): Problem | null {
  return policyPatternProblem(s) ?? literalDomainProblem(s);
}

/** One allow-list entry of an account: the policy's rules, then the config's domain spelling. */
export function allowEntryProblem(s: string): Problem | null {
  return policyAllowProblem(s) ?? literalDomainProblem(s);
}

/** Where notices are mailed: empty (no mail) or one plain address. */
export function noticeAddressProblem(s: string): Problem | null {
  if (s === '') return null;
  if (s.trim() !== s) return problem('spaces');
  if (s.includes('*') || !s.includes('@')) return problem('address', { detail: 'expected one address such as admin@test.jp' });
  const err = checkAddressSyntax(s, { smtputf8: true });
  return err ? problem('address', { detail: err }) : null;
}

/**
 * The name in the greeting, Received: headers and DSNs: a host name, any case (Windows
 * machine names are often uppercase and nobody should have to retype theirs).
 */
export function greetingNameProblem(s: string): Problem | null {
  return domainProblem(s.toLowerCase());
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN_PLACEHOLDERS = new Set(['account', 'recipient', 'sender']);

/** SMTP reply text: one printable-ASCII line, only the placeholders the policy substitutes. */
export function replyProblem(s: string): Problem | null {
  if (s.trim() === '') return problem('empty');
  if (!/^[\x20-\x7e]*$/.test(s)) return problem('reply_ascii');
  for (const m of s.matchAll(PLACEHOLDER)) {
    if (!KNOWN_PLACEHOLDERS.has(m[1]!)) return problem('reply_placeholder', { name: m[1]! });
  }
  return null;
}

/** An SMTP AUTH login name. */
export function usernameProblem(s: string): Problem | null {
  return /^[\x21-\x7e]{1,64}$/.test(s) ? null : problem('username');
}

/** Passwords for SMTP AUTH users: long enough to be worth hashing. */
const MIN_PASSWORD = 8;

export function passwordProblem(s: string): Problem | null {
  return s.length >= MIN_PASSWORD ? null : problem('password_short', { min: MIN_PASSWORD });
}

/** A DNS server to ask: an IP address (port 53), `ip:port`, or `[v6]:port`. */
export function dnsServerProblem(s: string): Problem | null {
  if (isIP(s) !== 0) return s.includes('%') ? problem('host_zone') : null;
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]]+):(\d{1,5})$/.exec(s);
  if (!m || isIP(m[1]!) === 0 || m[1]!.includes('%')) return problem('dns_server');
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? null : problem('int_range', { min: 1, max: 65535 });
}

/** A DKIM selector: one or more DNS labels (`s1`, `2026a`, `mail.s1`). */
export function selectorProblem(s: string): Problem | null {
  return /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(s) && s.length <= 63
    ? null
    : problem('dkim_selector');
}

/** Where a route with a sender condition goes: `*` (every external domain) or a domain. */
export function routeDestinationProblem(s: string): Problem | null {
  return s === '*' ? null : domainProblem(s);
}

/** A route's envelope sender condition: an exact address, or a domain (every sender of it). */
export function senderConditionProblem(s: string): Problem | null {
  if (s !== s.trim()) return problem('spaces');
  if (!s.includes('@')) return domainProblem(s);
  const err = checkAddressSyntax(s, { smtputf8: false });
  if (err) return problem('address', { detail: err });
  return literalDomainProblem(s);
}

/** A trust anchor: one or more PEM certificates. */
export function pemCertificateProblem(s: string): Problem | null {
  return /^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(s) ? null : problem('pem_certificate');
}

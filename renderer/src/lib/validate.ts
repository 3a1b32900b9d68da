/*
 * Client-side checks that give an inline message before anything is sent: domain names,
 * hosts, ports, CIDR networks, account patterns, addresses. Each returns a dictionary key
 * for the problem or null when the value is fine; the core validates again and its issues
 * are shown too. Pure; never throws.
 */
import type { MessageKey } from './i18n/index.svelte.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

export function checkDomain(v: string): MessageKey | null {
  const d = v.trim().replace(/\.$/, '');
  if (!d) return 'v.required';
  if (d.length > 253 || !d.includes('.') || !d.split('.').every((l) => LABEL.test(l))) return 'v.domain';
  return null;
}

function isIPv4(v: string): boolean {
  const parts = v.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIPv6(v: string): boolean {
  return /^[0-9a-f:]+$/i.test(v) && v.includes(':') && (v.match(/::/g) ?? []).length <= 1;
}

export function checkHost(v: string): MessageKey | null {
  const h = v.trim().replace(/^\[(.*)\]$/, '$1');
  if (!h) return 'v.required';
  if (isIPv4(h) || isIPv6(h)) return null;
  if (/^[\d.]+$/.test(h)) return 'v.host';
  if (h.length > 253 || !h.split('.').every((l) => LABEL.test(l))) return 'v.host';
  return null;
}

export function checkPort(v: string | number, allowZero = false): MessageKey | null {
  const s = String(v).trim();
  if (!s) return 'v.required';
  const bad = allowZero ? 'v.portOrZero' : 'v.port';
  if (!/^\d+$/.test(s)) return bad;
  const n = Number(s);
  return n >= (allowZero ? 0 : 1) && n <= 65535 ? null : bad;
}

export function checkCidr(v: string): MessageKey | null {
  const s = v.trim();
  if (!s) return 'v.required';
  const [ip, bits, extra] = s.split('/');
  if (extra !== undefined || !ip) return 'v.cidr';
  if (isIPv4(ip)) return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= 32) ? null : 'v.cidr';
  if (isIPv6(ip)) return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= 128) ? null : 'v.cidr';
  return 'v.cidr';
}

/** An address or a wildcard pattern with `*` (e.g. `*@part.test.jp`, `baito*@test.jp`). */
export function checkPattern(v: string): MessageKey | null {
  const s = v.trim();
  if (!s) return 'v.required';
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1 || /\s/.test(s)) return 'v.pattern';
  const domain = s.slice(at + 1);
  if (!domain.includes('*') && checkDomain(domain)) return 'v.pattern';
  return null;
}

export function checkAddress(v: string, allowEmpty = false): MessageKey | null {
  const s = v.trim();
  if (!s) return allowEmpty ? null : 'v.required';
  const at = s.lastIndexOf('@');
  if (at <= 0 || /\s/.test(s) || checkDomain(s.slice(at + 1))) return 'v.address';
  return null;
}

/** An allow-list entry: an external domain or an address. */
export function checkAllowEntry(v: string): MessageKey | null {
  const s = v.trim();
  if (!s) return 'v.required';
  if (s.includes('*')) return 'v.allowWildcard';
  return s.includes('@') ? (checkAddress(s) ? 'v.allow' : null) : checkDomain(s) ? 'v.allow' : null;
}

export function checkIp(v: string): MessageKey | null {
  const s = v.trim();
  if (!s) return 'v.required';
  return isIPv4(s) || isIPv6(s) ? null : 'v.ip';
}

/** Splits a textarea into trimmed, non-empty lines (commas and spaces also separate). */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,、]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

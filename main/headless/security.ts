/*
 * The admin host's request checks, each a small pure function: is a bind address loopback,
 * is the Host header one of ours (DNS rebinding), is the Origin ours (cross-site requests),
 * does the presented token match (constant time), and a per-IP counter of failed logins.
 * They return booleans or a verdict; none throws. The failure counter keeps at most one
 * minute of timestamps per address (and no more than it needs), so a flood cannot grow its
 * memory without bound. It only ever judges wrong tokens: the host checks the token first, so
 * a flood of bad tokens (every local process is 127.0.0.1) can never lock the real one out.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** True for 127.0.0.0/8, ::1 and `localhost`; the admin host refuses to bind anything else. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** The Host header values a browser on this machine sends for our port. */
export function allowedHosts(boundHost: string, port: number): Set<string> {
  const set = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const h = boundHost.toLowerCase();
  if (isIP(h) === 4) set.add(`${h}:${port}`);
  if (isIP(h) === 6) set.add(`[${h}]:${port}`);
  return set;
}

export function hostAllowed(hostHeader: string | undefined, allowed: Set<string>): boolean {
  return typeof hostHeader === 'string' && allowed.has(hostHeader.trim().toLowerCase());
}

/**
 * An absent Origin is fine (same-origin GETs, the CLI); a present one must be exactly
 * `http://<one of our hosts>`. `Origin: null` (sandboxed frames, file://) is refused.
 */
export function originAllowed(origin: string | undefined, allowed: Set<string>): boolean {
  if (origin === undefined) return true;
  const o = origin.trim().toLowerCase();
  if (!o.startsWith('http://')) return false;
  return allowed.has(o.slice('http://'.length));
}

/** Constant-time comparison: both sides are hashed first so lengths leak nothing either. */
export function tokenMatches(presented: string | null | undefined, expected: string): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` -> token, else null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** The per-address counter of failed logins (shared with the LAN approval page's tokens). */
export { FailureLimiter } from '../core/failure-limiter.js';

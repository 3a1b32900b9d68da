/*
 * Link tokens for the LAN approval page (served by the admin-side page, not here): each is 32
 * random bytes (256 bits) as base64url, handed out once inside a notice and stored only as its
 * sha256, with its purpose (an approver's approve/reject, or a sender's cancel/send-now of
 * delayed mail), the address it was issued to, when it expires and when it was used. A token is
 * single-use: the held queue marks it used (durably) before the decision it carries runs.
 * Pure functions; none throws.
 */
import { createHash, randomBytes } from 'node:crypto';

export type TokenPurpose = 'approver' | 'sender';

export interface TokenRecord {
  /** sha256 of the token, hex. */
  hash: string;
  purpose: TokenPurpose;
  /** Who it was issued to (the approver, or the sender). */
  address: string;
  expiresAt: string;
  usedAt?: string;
}

export type TokenCheck = 'ok' | 'expired' | 'used';

export const TOKEN_BYTES = 32;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh token and its record (store the record, send the token). */
export function newToken(purpose: TokenPurpose, address: string, expiresAt: Date): { token: string; record: TokenRecord } {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  return { token, record: { hash: hashToken(token), purpose, address, expiresAt: expiresAt.toISOString() } };
}

/** A token that is not 43 base64url characters cannot be one of ours: no lookup needed. */
export function wellFormed(token: string): boolean {
  return typeof token === 'string' && /^[A-Za-z0-9_-]{43}$/.test(token);
}

export function checkToken(r: TokenRecord, now: Date): TokenCheck {
  if (r.usedAt) return 'used';
  return Date.parse(r.expiresAt) <= now.getTime() ? 'expired' : 'ok';
}

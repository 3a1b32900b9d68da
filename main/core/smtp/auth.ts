/*
 * SMTP AUTH for clients outside the trusted networks: scrypt password hashes (the password
 * itself is never stored) and sender-login binding (an authenticated user may use only its
 * own addresses or patterns in MAIL FROM and From:). Pure apart from scrypt's CPU work;
 * a malformed hash verifies as false, never throws.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { compileGlob } from '../policy/index.js';
import type { AuthUser } from '../../shared/types.js';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 1 << 20) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (expected.length === 0) return false;
  const key = await scrypt(password, salt, expected.length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 });
  return timingSafeEqual(key, expected);
}

export function findUser(users: readonly AuthUser[], username: string): AuthUser | undefined {
  const u = username.toLowerCase();
  return users.find((x) => x.username.toLowerCase() === u);
}

/** May this login use `address` as its sender? Exact addresses and `*` patterns, any case. */
export function senderAllowed(user: AuthUser, address: string): boolean {
  const a = address.toLowerCase();
  return user.addresses.some((pattern) => (pattern.includes('*') ? compileGlob(pattern.toLowerCase())(a) : pattern.toLowerCase() === a));
}

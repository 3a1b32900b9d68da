/*
 * The admin token of the headless host: 32 random bytes, base64url, kept in
 * `<dataDir>/admin-token` with mode 0600 and made on first run. `loadOrCreateToken` returns
 * the token text. It fails (rejects) when the data folder cannot be read or written, or when
 * an existing token file is empty or malformed (we refuse to guess rather than silently
 * replacing a token that another tool may hold).
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PRIVATE_FILE_MODE, chmodPrivate, makePrivateDir } from '../core/private-files.js';

export const TOKEN_FILE = 'admin-token';
const TOKEN_RE = /^[A-Za-z0-9_-]{32,128}$/;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function loadOrCreateToken(dataDir: string): Promise<string> {
  const file = path.join(dataDir, TOKEN_FILE);
  try {
    const text = (await fsp.readFile(file, 'utf8')).trim();
    if (!TOKEN_RE.test(text)) throw new Error(`${file} does not hold a valid admin token; delete it to make a new one`);
    // Tighten the mode if someone loosened it (no-op on Windows).
    await chmodPrivate(file).catch(() => undefined);
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await makePrivateDir(dataDir);
  const token = newToken();
  try {
    // 'wx': never overwrite a token another process made in the meantime.
    await fsp.writeFile(file, token + '\n', { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateToken(dataDir);
    throw err;
  }
  return token;
}

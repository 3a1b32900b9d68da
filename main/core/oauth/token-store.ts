/*
 * Where the XOAUTH2 login's refresh token is kept: <data>/oauth-token.json, owner-only, the
 * token sealed like every secret of the settings (config/secrets.ts), written atomically
 * (temp file and rename). Not in config.json: providers rotate the refresh token on every
 * refresh (Microsoft does, hourly under load), and each rotation would otherwise be a change
 * in the audit trail; restoring an old config must not bring back a revoked token either.
 * The file names the registration the token belongs to (`login`, see loginId()); a token for
 * another registration (the app or the mailbox changed) does not count. read() returns null
 * when there is no usable file (missing, torn, unreadable); write() rejects with the file
 * system's error.
 */
import fs from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import type { OAuthSettings } from '../../shared/deliverability.js';
import { sealSecret, useFileKey } from '../config/secrets.js';
import { writePrivateFile } from '../private-files.js';

export const OAUTH_TOKEN_FILE = 'oauth-token.json';

export interface StoredToken {
  /** loginId() of the registration the token was issued for. */
  login: string;
  /** Sealed (`enc:v1:...`). */
  refreshToken: string;
  /** When the admin signed in (kept across rotations). */
  signedInAt: string;
  savedAt: string;
}

/** What a token is bound to: a change of any of these needs a new sign-in. */
export function loginId(s: Pick<OAuthSettings, 'provider' | 'clientId' | 'tenant' | 'tokenUrl' | 'user'>): string {
  return JSON.stringify([s.provider, s.clientId, s.tenant ?? '', s.tokenUrl ?? '', s.user.toLowerCase()]);
}

export class TokenStore {
  readonly file: string;

  constructor(private readonly dataDir: string) {
    this.file = path.join(dataDir, OAUTH_TOKEN_FILE);
  }

  read(): StoredToken | null {
    try {
      const t = JSON.parse(fs.readFileSync(this.file, 'utf8')) as StoredToken;
      return typeof t.login === 'string' && typeof t.refreshToken === 'string' && t.refreshToken ? t : null;
    } catch {
      return null;
    }
  }

  /** Seals and stores `refreshToken` for `login`; `signedInAt` stays when only the token rotated. */
  async write(login: string, refreshToken: string, signedInAt: string): Promise<StoredToken> {
    useFileKey(this.dataDir);
    const t: StoredToken = { login, refreshToken: sealSecret(refreshToken), signedInAt, savedAt: new Date().toISOString() };
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writePrivateFile(tmp, `${JSON.stringify(t, null, 2)}\n`);
    await rename(tmp, this.file);
    return t;
  }
}

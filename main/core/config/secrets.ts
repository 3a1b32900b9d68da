/*
 * Secrets at rest (every one the settings hold, listed in secret-fields.ts, and the XOAUTH2
 * refresh token in its own file). A secret is stored sealed as
 * `enc:v1:<provider>:<base64>`; plain text (a hand-edited config) is still read and gets
 * sealed on the next save. The provider is 'file': AES-256-GCM with a random key in
 * <data>/secret.key (0600, in the owner-only data folder). It keeps the secrets out of
 * config.json, its backups, the audit trail and exports, not away from someone who can read the
 * whole data folder (its owner, administrators, a backup of the folder); the README says so.
 *
 * Not Electron's safeStorage: the process that delivers mail is not always the desktop app
 * (`gatehouse serve` and the Windows service run the gateway under plain Node). On Windows the
 * gateway's entry points add DPAPI instead (dpapi.ts, through PowerShell: user scope in desktop
 * mode, machine scope for the service, sealed again when the data moves between them); when
 * DPAPI cannot be reached the file key seals and onSealFallback is told.
 * `openSecret` throws a clear error when the provider that sealed a value is not available:
 * the admin enters it again.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files.js';

export interface SecretProvider {
  id: string;
  encrypt(plain: string): Buffer;
  decrypt(data: Buffer): string;
}

const PREFIX = 'enc:v1:';
const providers = new Map<string, SecretProvider>();
let preferred: string | null = null;

/** Registers a provider; `prefer` makes new secrets use it. */
export function registerSecretProvider(p: SecretProvider, prefer = false): void {
  providers.set(p.id, p);
  if (prefer || preferred === null) preferred = p.id;
}

/** The AES-256-GCM file-key provider for a data folder (made once, then reused). */
export function useFileKey(dataDir: string): void {
  if (providers.has('file')) return;
  const file = path.join(dataDir, 'secret.key');
  let key: Buffer;
  try {
    key = fs.readFileSync(file);
  } catch {
    key = randomBytes(32);
    fs.mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    fs.writeFileSync(file, key, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  }
  if (key.length !== 32) throw new Error(`${file} is not a 32-byte key; remove it and enter the passwords again`);
  registerSecretProvider({
    id: 'file',
    encrypt(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decrypt(data) {
      const d = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      d.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([d.update(data.subarray(28)), d.final()]).toString('utf8');
    },
  });
}

export function isSealed(s: string): boolean {
  return s.startsWith(PREFIX);
}

let onSealProblem: ((message: string) => void) | null = null;

/** Told when the preferred seal failed and the file key was used instead (the gateway logs it). */
export function onSealFallback(cb: ((message: string) => void) | null): void {
  onSealProblem = cb;
}

export function sealSecret(plain: string): string {
  if (plain === '' || isSealed(plain)) return plain;
  const p = preferred ? providers.get(preferred) : undefined;
  if (!p) throw new Error('no secret provider registered (call useFileKey(dataDir) first)');
  try {
    return `${PREFIX}${p.id}:${p.encrypt(plain).toString('base64')}`;
  } catch (err) {
    // DPAPI unreachable (no PowerShell): the file key, today's seal, rather than a lost change.
    const file = providers.get('file');
    if (!file || p === file) throw err;
    onSealProblem?.(`${(err as Error).message}; the secret was sealed with the file key instead`);
    return `${PREFIX}file:${file.encrypt(plain).toString('base64')}`;
  }
}

/** Seals with one named provider (a data folder moving to another seal); throws when it is absent. */
export function sealWith(providerId: string, plain: string): string {
  const p = providers.get(providerId);
  if (!p) throw new Error(`secret provider '${providerId}' is not available here`);
  return plain === '' ? plain : `${PREFIX}${p.id}:${p.encrypt(plain).toString('base64')}`;
}

/** The provider a stored value was sealed with ('' for plain text). */
export function sealedWith(stored: string): string {
  if (!isSealed(stored)) return '';
  const rest = stored.slice(PREFIX.length);
  return rest.slice(0, rest.indexOf(':'));
}

export function openSecret(stored: string): string {
  if (!isSealed(stored)) return stored;
  const rest = stored.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  const id = rest.slice(0, colon);
  const p = providers.get(id);
  if (!p) throw new Error(`a secret was sealed with '${id}', which is not available here; enter it again (a password, the OAuth sign-in; a DKIM key: make a new one)`);
  try {
    return p.decrypt(Buffer.from(rest.slice(colon + 1), 'base64'));
  } catch {
    throw new Error(`a secret cannot be decrypted (${id} key changed?); enter it again (a password, the OAuth sign-in; a DKIM key: make a new one)`);
  }
}

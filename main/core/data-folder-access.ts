/*
 * Owner-only access to the data folder, made when the folder is created and repaired at start.
 * The folder holds password hashes (config.json, its last-good and rejected copies, the audit
 * trail), the sealed smarthost password and the key that opens it (secret.key), the admin
 * token and admin.json, the TLS key, the logs and the spool. One function per platform:
 *
 *   restrictPosix(root)     Linux, macOS: the folder and its spool/, logs/ and tls/ folders
 *                           0700, every file directly in root, logs/ and tls/ 0600 (the spool
 *                           makes its own files 0600; a 0700 root already shuts everyone else
 *                           out of everything below it). Symbolic links are left alone.
 *   restrictWindows(root, principals)
 *                           the folder's ACL without inherited entries and with full control
 *                           for `principals` only, inherited by everything in it (icacls).
 *                           The desktop app passes desktopPrincipals(): the user, SYSTEM and
 *                           Administrators; a service will pass SYSTEM, Administrators and
 *                           its own account.
 *
 * secureDataFolder(root) creates the folder when it is missing and runs the one for this
 * platform. Each returns one line per change it made (the caller logs them) and never throws:
 * what it cannot change (a file of another user, icacls missing) becomes a line saying so,
 * because a gateway that will not start is worse than one that says what to fix.
 */
import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import { chmod, lstat, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, makePrivateDir } from './private-files.js';

/** icacls names for the well-known accounts, by SID: the same on every Windows language. */
export const WINDOWS_SYSTEM = '*S-1-5-18';
export const WINDOWS_ADMINISTRATORS = '*S-1-5-32-544';

const oct = (mode: number): string => `0${(mode & 0o777).toString(8)}`;
const errText = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Linux and macOS: 0700 folders, 0600 files (see the header for which). */
export async function restrictPosix(root: string): Promise<string[]> {
  const notes: string[] = [];
  const fix = async (p: string, st: Stats, want: number): Promise<void> => {
    const mode = st.mode & 0o777;
    if ((mode & 0o077) === 0) return; // nobody but the owner has any access already
    try {
      await chmod(p, want);
      notes.push(`${p} was ${oct(mode)}, now ${oct(want)} (owner only)`);
    } catch (err) {
      notes.push(`${p} is ${oct(mode)} (readable by others) and could not be changed (${errText(err)}); make it ${oct(want)}`);
    }
  };
  const spool = path.join(root, 'spool');
  const folders = [root, spool, path.join(root, 'logs'), path.join(root, 'tls')];
  const spoolEntries = await readdir(spool, { withFileTypes: true }).catch(() => []);
  for (const e of spoolEntries) if (e.isDirectory()) folders.push(path.join(spool, e.name));
  for (const dir of folders) {
    const st = await lstatOrNull(dir);
    if (st?.isDirectory()) await fix(dir, st, PRIVATE_DIR_MODE);
  }
  for (const dir of [root, path.join(root, 'logs'), path.join(root, 'tls')]) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isFile()) continue;
      const file = path.join(dir, e.name);
      const st = await lstatOrNull(file);
      if (st?.isFile()) await fix(file, st, PRIVATE_FILE_MODE);
    }
  }
  return notes;
}

/** The desktop app's principals: the signed-in user, SYSTEM and Administrators. */
export function desktopPrincipals(env: NodeJS.ProcessEnv = process.env, username: string = os.userInfo().username): string[] {
  const user = env.USERDOMAIN ? `${env.USERDOMAIN}\\${username}` : username;
  return [user, WINDOWS_SYSTEM, WINDOWS_ADMINISTRATORS];
}

/**
 * icacls arguments that make `dir`'s ACL exactly `principals` with full control, inherited by
 * files (OI) and folders (CI) inside: inherited entries removed, earlier grants to these
 * principals replaced.
 */
export function windowsAclArgs(dir: string, principals: readonly string[]): string[] {
  return [dir, '/inheritance:r', '/grant:r', ...principals.map((p) => `${p}:(OI)(CI)F`)];
}

/**
 * Does an `icacls <dir>` listing show inherited entries, i.e. access the folder got from its
 * parent (`(I)`; icacls prints the flags untranslated on every Windows language)?
 */
export function hasInheritedEntries(listing: string): boolean {
  return /\(I\)/.test(listing);
}

export type RunIcacls = (args: string[]) => Promise<string>;

/** Runs icacls (Windows); resolves with what it printed. */
export const runIcacls: RunIcacls = (args) =>
  new Promise((resolve, reject) => {
    execFile('icacls', args, { windowsHide: true, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`icacls ${args.join(' ')}: ${String(stderr || stdout).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });

/**
 * Windows: limits `root` to `principals` when it still inherits access from its parent (a
 * folder made under C:\ would otherwise be readable by every user of the PC). Entries someone
 * added to the folder explicitly are left as they are.
 */
export async function restrictWindows(root: string, principals: readonly string[], run: RunIcacls = runIcacls): Promise<string[]> {
  try {
    if (!hasInheritedEntries(await run([root]))) return [];
    await run(windowsAclArgs(root, principals));
    return [`${root}: access limited to ${principals.join(', ')} (permissions inherited from the parent folder removed)`];
  } catch (err) {
    return [`cannot limit access to ${root}: ${(err as Error).message}`];
  }
}

export interface SecureDataFolderOptions {
  platform?: NodeJS.Platform;
  /** Windows: who gets full control (default desktopPrincipals()). */
  principals?: readonly string[];
  /** Windows: how icacls is run (tests record the arguments). */
  run?: RunIcacls;
  /**
   * Windows: also look at a folder that already existed (one icacls run). The gateway does at
   * every start; the CLI only for a folder it creates.
   */
  checkExisting?: boolean;
}

/** Creates `root` owner-only when missing, else repairs it; one line per change made. */
export async function secureDataFolder(root: string, opts: SecureDataFolderOptions = {}): Promise<string[]> {
  const platform = opts.platform ?? process.platform;
  let existed: boolean;
  try {
    existed = (await lstatOrNull(root)) !== null;
    await makePrivateDir(root);
  } catch (err) {
    return [`cannot create the data folder ${root}: ${errText(err)}`];
  }
  if (platform === 'win32') {
    if (existed && opts.checkExisting === false) return [];
    return restrictWindows(root, opts.principals ?? desktopPrincipals(), opts.run);
  }
  return restrictPosix(root).catch((err: unknown) => [`cannot check access to ${root}: ${errText(err)}`]);
}

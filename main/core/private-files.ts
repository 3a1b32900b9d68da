/*
 * Files and folders only their owner may read: what every writer in the data folder uses
 * (settings with password hashes, the sealed smarthost password and its key, the audit trail,
 * the admin token, the TLS key, the logs, the spool). On Linux and macOS a folder is made 0700
 * and a file 0600 when created, and set so again after a write that could have left it wider
 * (a file that already existed keeps its mode when it is rewritten). On Windows the modes mean
 * nothing; the data folder's ACL, which new files inherit, does the job (data-folder-access.ts).
 * Each function rejects with the file system's error; none swallows one.
 */
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const posix = (platform: NodeJS.Platform): boolean => platform !== 'win32';

/** mkdir -p with mode 0700 for every folder it creates. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Sets an existing file to 0600 (nothing on Windows). */
export async function chmodPrivate(file: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  if (posix(platform)) await chmod(file, PRIVATE_FILE_MODE);
}

/** writeFile, created 0600 and set to 0600 when it existed with a wider mode. */
export async function writePrivateFile(file: string, data: string | Uint8Array): Promise<void> {
  await writeFile(file, data, { mode: PRIVATE_FILE_MODE });
  await chmodPrivate(file);
}

/** copyFile whose copy is 0600 whatever the source's mode. */
export async function copyPrivateFile(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  await chmodPrivate(to);
}

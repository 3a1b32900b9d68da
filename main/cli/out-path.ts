/*
 * Paths the CLI writes to where the admin says: `accounts export FILE`, `routes export FILE`,
 * `export postfix --out DIR`, and the folders `service install --from DIR` and
 * `service uninstall --to DIR` move the data out of and into. On Windows a name Windows
 * refuses or misreads (CON, NUL, COM1, a colon or other forbidden character, a trailing dot or
 * space, a path past MAX_PATH) is refused before anything is read, changed or written.
 *
 * outputPath() returns the path made absolute, or throws a UsageError (exit 2) that names the
 * option, the path and the problem (paths.ts's windowsPathProblem). Elsewhere it only
 * resolves the path: Linux and macOS accept these names.
 */
import path from 'node:path';
import { dataDirProblem, windowsPathProblem } from '../core/paths.js';
import { UsageError } from './args.js';

export interface OutputPathOptions {
  /** A folder the CLI writes files into (the message says "folder"). */
  folder?: boolean;
  /** Characters that will be added below the path (the longest file name written in a folder). */
  within?: number;
  /** A data folder: the files Gatehouse keeps inside it count too (paths.ts's dataDirProblem). */
  dataDir?: boolean;
  /** Platform whose rules apply (tests). Default process.platform. */
  platform?: NodeJS.Platform;
}

export function outputPath(given: string, what: string, opts: OutputPathOptions = {}): string {
  const platform = opts.platform ?? process.platform;
  const full = platform === 'win32' ? path.win32.resolve(given) : path.posix.resolve(given);
  if (platform !== 'win32') return full;
  const problem = opts.dataDir ? dataDirProblem(full) : windowsPathProblem(full, opts.within ?? 0);
  if (problem) throw new UsageError(`${what} ${given}: ${problem}; choose another ${opts.folder || opts.dataDir ? 'folder' : 'file name'}`);
  return full;
}

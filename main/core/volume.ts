/*
 * What kind of file system the data folder is on, for the spool's promise: `250` means the
 * message survives a power cut. That rests on a journaled local file system (NTFS, ReFS;
 * ext4, XFS, APFS...). FAT32 / exFAT (USB sticks, SD cards) have no journal, and a network
 * share flushes only as far as its server says; there a message that got its 250 can be lost
 * at a power cut. The gateway warns (it does not refuse: a NAS or a stick may be the
 * office's informed choice) with one line saying what to do.
 *
 * How it is found: on Windows a UNC path (`\\server\share`) is a share by its form; for a
 * drive letter, .NET's DriveInfo through PowerShell gives the drive type and format (Node
 * has no GetVolumeInformation, and DriveInfo needs no admin rights, unlike fsutil). On Linux
 * statfs()'s file system magic number; elsewhere `unknown`. checkVolume() never throws: whatever cannot be
 * determined is `unknown` with no warning.
 */
import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import path from 'node:path';

export type VolumeKind = 'journaled' | 'no-journal' | 'network' | 'unknown';

export interface VolumeInfo {
  kind: VolumeKind;
  /** File system name as the OS reports it (`NTFS`, `FAT32`, `nfs`), or null. */
  fs: string | null;
  /** The line for the operator, or null when nothing is wrong (or nothing is known). */
  warning: string | null;
}

/** Runs a program, resolves with its stdout (tests inject one). */
export type RunProgram = (file: string, args: string[]) => Promise<string>;

const defaultRun: RunProgram = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 15_000, windowsHide: true, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

/** `\\server\share\x`, `//server/share/x`, `\\?\UNC\server\share\x`: a network share. */
export function isUncPath(p: string): boolean {
  return /^(\\\\|\/\/)(\?\\UNC\\|[^\\/?.][^\\/]*[\\/])/i.test(p);
}

/** Drive letter of a Windows path (`C`), or null. */
export function driveLetter(p: string): string | null {
  const m = /^(?:\\\\\?\\)?([A-Za-z]):/.exec(p);
  return m ? m[1]!.toUpperCase() : null;
}

/** Kind of a Windows drive from DriveInfo's DriveType and DriveFormat. */
export function classifyWindowsDrive(driveType: string, format: string): VolumeKind {
  if (/^network$/i.test(driveType)) return 'network';
  if (/^(ntfs|refs)$/i.test(format)) return 'journaled';
  if (/^(fat|fat12|fat16|fat32|exfat|vfat)$/i.test(format)) return 'no-journal';
  return 'unknown';
}

/** statfs() magic numbers (Linux) of the file systems that matter here. */
const LINUX_MAGIC: Record<number, { fs: string; kind: VolumeKind }> = {
  0xef53: { fs: 'ext4', kind: 'journaled' },
  0x58465342: { fs: 'xfs', kind: 'journaled' },
  0x9123683e: { fs: 'btrfs', kind: 'journaled' },
  0x794c7630: { fs: 'overlayfs', kind: 'journaled' },
  0x01021994: { fs: 'tmpfs', kind: 'unknown' },
  0x4d44: { fs: 'vfat', kind: 'no-journal' },
  0x2011bab0: { fs: 'exfat', kind: 'no-journal' },
  0x6969: { fs: 'nfs', kind: 'network' },
  0xff534d42: { fs: 'cifs', kind: 'network' },
  0xfe534d42: { fs: 'smb2', kind: 'network' },
  0x65735546: { fs: 'fuse', kind: 'unknown' },
};

export function classifyStatfsType(type: number): { fs: string | null; kind: VolumeKind } {
  return LINUX_MAGIC[type >>> 0] ?? { fs: null, kind: 'unknown' };
}

export function volumeWarning(dir: string, kind: VolumeKind, fs: string | null): string | null {
  if (kind === 'network') {
    return `the data folder ${dir} is on a network share${fs ? ` (${fs})` : ''}: a message answered 250 can be lost if the share's server loses power. Put the data folder on a local NTFS drive (--data or GATEHOUSE_DATA).`;
  }
  if (kind === 'no-journal') {
    return `the data folder ${dir} is on ${fs ?? 'a file system'} without a journal (a USB stick or SD card?): a message answered 250 can be lost at a power cut. Put the data folder on a local NTFS drive (--data or GATEHOUSE_DATA).`;
  }
  return null;
}

const driveCache = new Map<string, Promise<{ type: string; format: string } | null>>();

async function askDrive(run: RunProgram, letter: string): Promise<{ type: string; format: string } | null> {
  try {
    // Single-quoted PowerShell string: the letter is [A-Z], nothing to escape.
    const out = await run('powershell.exe', [
      '-NoProfile',
      '-NonInteractive',
      '-Command',
      `$d = New-Object System.IO.DriveInfo('${letter}'); Write-Output ($d.DriveType.ToString() + ' ' + $d.DriveFormat)`,
    ]);
    const m = /^\s*(\w+)\s+(\S+)\s*$/m.exec(out);
    return m ? { type: m[1]!, format: m[2]! } : null;
  } catch {
    return null;
  }
}

/** Inspect the file system under `dir` (see the file header). Never throws. */
export async function checkVolume(dir: string, opts: { platform?: NodeJS.Platform; run?: RunProgram } = {}): Promise<VolumeInfo> {
  const platform = opts.platform ?? process.platform;
  const run = opts.run ?? defaultRun;
  const done = (kind: VolumeKind, fs: string | null): VolumeInfo => ({ kind, fs, warning: volumeWarning(dir, kind, fs) });
  try {
    if (platform === 'win32') {
      if (isUncPath(dir)) return done('network', null);
      const letter = driveLetter(path.win32.resolve(dir));
      if (!letter) return done('unknown', null);
      // One PowerShell start per drive and process (a drive's format does not change under us).
      const key = `${letter}:`;
      let asked = opts.run ? undefined : driveCache.get(key);
      if (!asked) {
        asked = askDrive(run, letter);
        if (!opts.run) driveCache.set(key, asked);
      }
      const d = await asked;
      return d ? done(classifyWindowsDrive(d.type, d.format), d.format) : done('unknown', null);
    }
    // statfs() magic numbers are Linux's; macOS numbers mean other things.
    if (platform !== 'linux') return done('unknown', null);
    const st = await statfs(dir);
    const c = classifyStatfsType(Number(st.type));
    return done(c.kind, c.fs);
  } catch {
    return done('unknown', null);
  }
}

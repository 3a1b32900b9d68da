/*
 * volume.ts: the data folder's file system, and the warning when it cannot keep the 250's
 * promise (FAT/exFAT, network shares). The Windows answers come from an injected PowerShell
 * runner (what DriveInfo prints), so every case runs on every platform; a real gateway gets
 * the warning into its receivelog and onto the console, and a journaled disk gets none.
 */
import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { checkVolume, classifyStatfsType, classifyWindowsDrive, driveLetter, isUncPath, type RunProgram } from '../../main/core/volume.js';
import { Gateway } from '../../main/core/gateway.js';
import { NO_DNS, officeConfig, tempDir } from '../helpers/gateway.js';

const answers = (line: string): { run: RunProgram; calls: string[][] } => {
  const calls: string[][] = [];
  return {
    calls,
    run: async (file, args) => {
      calls.push([file, ...args]);
      return `${line}\r\n`;
    },
  };
};

describe('classifying', () => {
  it('UNC paths are shares by their form; drive paths are not', () => {
    expect(isUncPath('\\\\nas\\mail\\Gatehouse')).toBe(true);
    expect(isUncPath('//nas/mail/Gatehouse')).toBe(true);
    expect(isUncPath('\\\\?\\UNC\\nas\\mail')).toBe(true);
    expect(isUncPath('\\\\?\\C:\\Gatehouse')).toBe(false);
    expect(isUncPath('C:\\Users\\a\\AppData\\Roaming\\Gatehouse')).toBe(false);
    expect(isUncPath('/var/lib/gatehouse')).toBe(false);
    expect(driveLetter('c:\\x')).toBe('C');
    expect(driveLetter('\\\\?\\D:\\x')).toBe('D');
    expect(driveLetter('/x')).toBe(null);
  });

  it('DriveInfo type and format', () => {
    expect(classifyWindowsDrive('Fixed', 'NTFS')).toBe('journaled');
    expect(classifyWindowsDrive('Fixed', 'ReFS')).toBe('journaled');
    expect(classifyWindowsDrive('Removable', 'FAT32')).toBe('no-journal');
    expect(classifyWindowsDrive('Removable', 'exFAT')).toBe('no-journal');
    expect(classifyWindowsDrive('Network', 'NTFS')).toBe('network');
    expect(classifyWindowsDrive('Fixed', 'UDF')).toBe('unknown');
  });

  it('Linux statfs magic numbers', () => {
    expect(classifyStatfsType(0xef53)).toEqual({ fs: 'ext4', kind: 'journaled' });
    expect(classifyStatfsType(0x4d44)).toEqual({ fs: 'vfat', kind: 'no-journal' });
    expect(classifyStatfsType(0x6969)).toEqual({ fs: 'nfs', kind: 'network' });
    expect(classifyStatfsType(-11317950)).toEqual({ fs: 'cifs', kind: 'network' }); // 0xff534d42 as a signed 32-bit number
    expect(classifyStatfsType(123)).toEqual({ fs: null, kind: 'unknown' });
  });
});

describe('checkVolume on Windows (PowerShell answers injected)', () => {
  it('NTFS: no warning; the drive letter is what PowerShell is asked about', async () => {
    const a = answers('Fixed NTFS');
    const v = await checkVolume('C:\\Users\\a\\AppData\\Roaming\\Gatehouse', { platform: 'win32', run: a.run });
    expect(v).toEqual({ kind: 'journaled', fs: 'NTFS', warning: null });
    expect(a.calls[0]![0]).toBe('powershell.exe');
    expect(a.calls[0]!.join(' ')).toContain("DriveInfo('C')");
  });

  it('FAT32 and exFAT: a warning that says what to do', async () => {
    for (const fsName of ['FAT32', 'exFAT']) {
      const v = await checkVolume('E:\\Gatehouse', { platform: 'win32', run: answers(`Removable ${fsName}`).run });
      expect(v.kind).toBe('no-journal');
      expect(v.warning).toMatch(new RegExp(`E:\\\\Gatehouse is on ${fsName} without a journal.*can be lost at a power cut.*local NTFS drive`));
    }
  });

  it('a mapped network drive, and a UNC path without asking PowerShell', async () => {
    expect((await checkVolume('Z:\\mail', { platform: 'win32', run: answers('Network NTFS').run })).kind).toBe('network');
    const a = answers('Fixed NTFS');
    const v = await checkVolume('\\\\nas\\mail\\Gatehouse', { platform: 'win32', run: a.run });
    expect(v.kind).toBe('network');
    expect(v.warning).toMatch(/network share/);
    expect(a.calls).toEqual([]);
  });

  it('PowerShell missing or saying nothing useful: unknown, no warning, no throw', async () => {
    const broken: RunProgram = async () => {
      throw Object.assign(new Error('spawn powershell.exe ENOENT'), { code: 'ENOENT' });
    };
    expect(await checkVolume('C:\\g', { platform: 'win32', run: broken })).toEqual({ kind: 'unknown', fs: null, warning: null });
    expect(await checkVolume('C:\\g', { platform: 'win32', run: answers('').run })).toEqual({ kind: 'unknown', fs: null, warning: null });
  });
});

describe('the gateway', () => {
  it('warns in the receivelog and on the console when the data folder is on exFAT', async () => {
    const dir = await tempDir();
    const said: string[] = [];
    const gw = await Gateway.open({
      dataDir: dir,
      createWith: officeConfig(),
      resolver: NO_DNS,
      report: (m) => said.push(m),
      // What a Windows machine with the data folder on a USB stick answers.
      checkVolume: () => checkVolume('E:\\Gatehouse', { platform: 'win32', run: answers('Removable exFAT').run }),
    });
    try {
      for (let i = 0; i < 100 && said.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(said.some((m) => /^data folder: .* exFAT without a journal/.test(m))).toBe(true);
      await gw.receivelog.flush();
      const lines = await gw.receivelog.tail(50);
      expect(lines.some((e) => e.event === 'error' && /exFAT without a journal/.test(e.error ?? ''))).toBe(true);
    } finally {
      await gw.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('says nothing for this machine\'s temp folder (a journaled local disk, or one it cannot tell)', async () => {
    const dir = await tempDir();
    const said: string[] = [];
    const gw = await Gateway.open({ dataDir: dir, createWith: officeConfig(), resolver: NO_DNS, report: (m) => said.push(m) });
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(said.filter((m) => m.startsWith('data folder:'))).toEqual([]);
    } finally {
      await gw.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

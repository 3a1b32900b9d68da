/*
 * Names Windows refuses, wherever a path comes from input: windowsPathProblem() on every
 * platform, and the CLI's output paths (outputPath: exports, --out, the service's --from and
 * --to) asked as Windows would; on win32 (the Windows lane) `--data` with such a name is a
 * usage error (exit 2) and Gateway.open refuses the folder before it creates anything (the
 * CLI's exports are run as win32 in test/cli/cli.test.ts). Under Wine the names
 * themselves would work (Wine keeps Linux's rules), which is why the check is by name.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataDirProblem, windowsPathProblem } from '../../main/core/paths.js';
import { Gateway } from '../../main/core/gateway.js';
import { outputPath } from '../../main/cli/out-path.js';
import { UsageError } from '../../main/cli/args.js';
import { spawnWait } from '../helpers/slow.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'gatehouse.js');

describe('windowsPathProblem', () => {
  it('accepts ordinary paths: drive, UNC, \\\\?\\, Japanese, spaces inside names', () => {
    for (const p of ['C:\\Users\\山田\\AppData\\Roaming\\Gatehouse', 'D:\\メール データ\\gw', '\\\\nas\\share\\Gatehouse', '\\\\?\\C:\\g', 'C:\\con-fig\\nullable\\COM10', 'C:\\a\\.\\b\\..\\c', '/tmp/x']) {
      expect(windowsPathProblem(p), p).toBeNull();
    }
  });

  it('refuses device names, with or without an extension, in any part', () => {
    for (const name of ['CON', 'con', 'NUL', 'Nul.txt', 'PRN', 'AUX', 'COM1', 'com9.log', 'LPT1', 'LPT3.csv', 'CONIN$']) {
      expect(windowsPathProblem(`C:\\data\\${name}\\x`), name).toMatch(/a name Windows keeps for a device/);
    }
  });

  it('refuses characters Windows does not allow, but not the drive colon', () => {
    for (const p of ['C:\\data\\a:b', 'C:\\da?ta', 'C:\\x\\<y>', 'C:\\x\\a|b', 'C:\\x\\"q"', 'C:\\x\\a*', 'C:\\x\\a\u0001b']) {
      expect(windowsPathProblem(p), p).toMatch(/character Windows does not allow/);
    }
  });

  it('refuses a trailing dot or space', () => {
    expect(windowsPathProblem('C:\\data.\\x')).toMatch(/ends with a dot or a space/);
    expect(windowsPathProblem('C:\\data \\x')).toMatch(/ends with a dot or a space/);
  });

  it('MAX_PATH: a data folder whose files would pass 260 characters', () => {
    const deep = `C:\\${'a'.repeat(100)}\\${'b'.repeat(120)}`;
    expect(windowsPathProblem(deep)).toBeNull(); // 224 characters is a fine file path
    expect(dataDirProblem(deep)).toMatch(/passes 260/); // but not a fine data folder
    expect(dataDirProblem('C:\\Users\\a\\AppData\\Roaming\\Gatehouse')).toBeNull();
  });
});

describe('outputPath (the files and folders the CLI writes)', () => {
  const win = { platform: 'win32' as const };
  it('on Windows: a usage error naming the option, the path and the problem', () => {
    const call = (p: string, what: string, o = {}) => () => outputPath(p, what, { ...win, ...o });
    expect(call('C:\\exports\\CON.csv', 'accounts export')).toThrow(UsageError);
    expect(call('C:\\exports\\CON.csv', 'accounts export')).toThrow('accounts export C:\\exports\\CON.csv: "CON.csv" is a name Windows keeps for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9); choose another file name');
    expect(call('C:\\exports\\a?.dat', 'routes export')).toThrow(/"a\?\.dat" has a character Windows does not allow/);
    expect(call('C:\\postfix.', '--out', { folder: true, within: 10 })).toThrow(/ends with a dot or a space.*choose another folder$/);
    // The longest file written inside counts: fine alone, too long with it.
    const deep = `C:\\${'d'.repeat(240)}`;
    expect(outputPath(deep, '--out', win)).toBe(deep);
    expect(call(deep, '--out', { within: 30 })).toThrow(/passes 260/);
    expect(call(`C:\\${'d'.repeat(220)}`, '--to', { dataDir: true })).toThrow(/passes 260/);
    expect(outputPath('C:\\exports\\accounts.csv', 'accounts export', win)).toBe('C:\\exports\\accounts.csv');
  });

  it('elsewhere: the same names are fine (Linux and macOS accept them)', () => {
    expect(outputPath('/tmp/CON.csv', 'accounts export', { platform: 'linux' })).toBe('/tmp/CON.csv');
    expect(outputPath('/tmp/a:b', '--out', { platform: 'darwin', within: 300 })).toBe('/tmp/a:b');
  });
});

describe.skipIf(process.platform !== 'win32')('on win32', () => {
  it('gatehouse --data with a device name: exit 2 and the reason', () => {
    const dir = path.join(os.tmpdir(), 'gatehouse-paths', 'NUL');
    const r = spawnSync(process.execPath, [BIN, 'domains', 'list', '--data', dir], { encoding: 'utf8', timeout: spawnWait(30_000) });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--data .*NUL: "NUL" is a name Windows keeps for a device/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('Gateway.open refuses such a folder before it creates anything', async () => {
    const dir = path.join(os.tmpdir(), 'gatehouse-paths', 'a:b');
    await expect(Gateway.open({ dataDir: dir })).rejects.toThrow(/data folder .*"a:b" has a character Windows does not allow.*choose another folder/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

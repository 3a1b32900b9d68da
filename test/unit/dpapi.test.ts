/*
 * DPAPI as a seal (main/core/config/dpapi.ts). Here: the PowerShell command line (the secret is
 * never on it, only an encoded script naming the scope), the provider registry on Windows (both
 * scopes registered, the mode's one preferred, a sealed value tagged with it, the plain text
 * kept after the first open so PowerShell runs once per value), the reseal a mode switch uses,
 * and the fallback to the file key when PowerShell cannot be run, reported once. The runner is
 * a stand-in here (DPAPI does not exist on Linux); on a real Windows the last test runs the
 * real PowerShell in both scopes (npm test on the Windows runner; Wine has no PowerShell).
 */
import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  DPAPI_PROVIDER,
  dpapiCommand,
  dpapiProvider,
  dpapiScript,
  onSealFallback,
  openSecret,
  resealFor,
  sealedWith,
  sealSecret,
  useDpapi,
  useFileKey,
  type RunSync,
} from '../../main/core/config/index.js';
import { tempDir } from '../helpers/gateway.js';

/** Stands in for powershell.exe: decodes the script to learn the operation and scope. */
function fakePowerShell(calls: { script: string; input: string }[]): RunSync {
  return (file, args, input) => {
    expect(file).toMatch(/WindowsPowerShell\\v1\.0\\powershell\.exe$/);
    const script = Buffer.from(args[args.indexOf('-EncodedCommand') + 1]!, 'base64').toString('utf16le');
    calls.push({ script, input });
    const scope = /DataProtectionScope\]::(\w+)/.exec(script)![1]!;
    const data = Buffer.from(input, 'base64');
    if (script.includes('::Protect(')) return Buffer.concat([Buffer.from(`${scope}|`), data]).toString('base64');
    const text = data.toString('utf8');
    if (!text.startsWith(`${scope}|`)) throw Object.assign(new Error('Command failed'), { stderr: 'Key not valid for use in specified state.\r\n' });
    return data.subarray(scope.length + 1).toString('base64');
  };
}

describe('DPAPI through PowerShell', () => {
  it('runs an encoded script with the scope in it; the secret goes on stdin only', () => {
    const cmd = dpapiCommand('protect', 'LocalMachine', { SystemRoot: 'C:\\Windows' });
    expect(cmd.file).toBe('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    expect(cmd.args.slice(0, 5)).toEqual(['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
    const script = Buffer.from(cmd.args[5]!, 'base64').toString('utf16le');
    expect(script).toBe(dpapiScript('protect', 'LocalMachine'));
    expect(script).toContain('[Security.Cryptography.ProtectedData]::Protect($data, $entropy, [Security.Cryptography.DataProtectionScope]::LocalMachine)');
    expect(script).toContain('[Console]::In.ReadToEnd()');
    expect(dpapiScript('unprotect', 'CurrentUser')).toContain('::Unprotect($data, $entropy, [Security.Cryptography.DataProtectionScope]::CurrentUser)');

    const calls: { script: string; input: string }[] = [];
    const p = dpapiProvider('LocalMachine', fakePowerShell(calls));
    const sealed = p.encrypt('smarthost secret');
    expect(calls[0]!.input).toBe(Buffer.from('smarthost secret').toString('base64'));
    expect(p.decrypt(sealed)).toBe('smarthost secret');
    expect(p.decrypt(sealed)).toBe('smarthost secret');
    expect(calls).toHaveLength(2); // one protect, one unprotect: the second open is from memory
  });

  it('says why when DPAPI refuses (a value of another user or scope)', () => {
    const run = fakePowerShell([]);
    const sealedForUser = dpapiProvider('CurrentUser', run).encrypt('x');
    expect(() => dpapiProvider('LocalMachine', run).decrypt(sealedForUser)).toThrow('DPAPI (LocalMachine) unprotect failed: Key not valid for use in specified state.');
  });

  it('on Windows: both scopes registered, the mode prefers its own, a mode switch seals again', async () => {
    const dir = await tempDir('gh-dpapi-');
    try {
      useFileKey(dir);
      expect(useDpapi('CurrentUser', { platform: 'linux' })).toBeNull();
      const calls: { script: string; input: string }[] = [];
      expect(useDpapi('CurrentUser', { platform: 'win32', run: fakePowerShell(calls) })).toBe('dpapi-user');
      const desktop = sealSecret('pw');
      expect(sealedWith(desktop)).toBe(DPAPI_PROVIDER.CurrentUser);
      expect(openSecret(desktop)).toBe('pw');
      // desktop -> service: opened with the user's key, sealed for the machine.
      const toService = resealFor('service', 'win32')(desktop);
      expect(sealedWith(toService)).toBe('dpapi-machine');
      expect(openSecret(toService)).toBe('pw');
      // ... and back; off Windows the file key is the target.
      expect(sealedWith(resealFor('desktop', 'win32')(toService))).toBe('dpapi-user');
      expect(sealedWith(resealFor('service', 'linux')(toService))).toBe('file');
      expect(calls.every((c) => !c.script.includes('pw'))).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('falls back to the file key when PowerShell cannot run, and says so', async () => {
    const dir = await tempDir('gh-dpapi-');
    const told: string[] = [];
    try {
      useFileKey(dir);
      useDpapi('LocalMachine', {
        platform: 'win32',
        run: () => {
          throw Object.assign(new Error('spawnSync powershell.exe ENOENT'), { code: 'ENOENT' });
        },
      });
      onSealFallback((m) => told.push(m));
      const sealed = sealSecret('pw2');
      expect(sealedWith(sealed)).toBe('file');
      expect(openSecret(sealed)).toBe('pw2');
      expect(told).toEqual(['DPAPI (LocalMachine) protect failed: spawnSync powershell.exe ENOENT; the secret was sealed with the file key instead']);
    } finally {
      onSealFallback(null);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it.runIf(process.platform === 'win32' && process.env.GATEHOUSE_WINE !== '1')('real DPAPI on Windows: both scopes round-trip', () => {
    for (const scope of ['CurrentUser', 'LocalMachine'] as const) {
      const p = dpapiProvider(scope);
      const sealed = p.encrypt('日本語 pass');
      expect(sealed.length).toBeGreaterThan(16);
      expect(dpapiProvider(scope).decrypt(sealed)).toBe('日本語 pass');
    }
    // A value from another PC (here: corrupted) does not open.
    expect(() => dpapiProvider('LocalMachine').decrypt(Buffer.from('not a DPAPI blob'))).toThrow(/DPAPI \(LocalMachine\) unprotect failed/);
  }, 60_000);
});

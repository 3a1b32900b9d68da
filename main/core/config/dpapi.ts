/*
 * Windows DPAPI as a seal for the secrets at rest (secrets.ts's provider registry), reached
 * from plain Node without a native addon: Windows PowerShell's
 * [System.Security.Cryptography.ProtectedData]::Protect / Unprotect in a child process. The
 * secret goes in on stdin and comes back on stdout, base64, never on a command line; the
 * script itself is passed -EncodedCommand. A child process costs a fraction of a second, so it
 * runs only when a password is sealed (a Settings change) and the first time a sealed value is
 * opened (then the plain text is kept in memory, as the delivery runner needs it anyway).
 *
 *   dpapi-user     CurrentUser scope: the desktop app and `gatehouse serve` run by the user
 *                  whose %APPDATA% holds the data. Only that Windows user can open it.
 *   dpapi-machine  LocalMachine scope: the Windows service (LocalService) and the elevated
 *                  CLI working on %ProgramData%\Gatehouse. Any process on this PC could open
 *                  it, so it rests on the folder's ACL (SYSTEM, Administrators, the service);
 *                  what it adds to the file key is that it opens on this PC only: a copy of
 *                  the folder (a backup, a stolen disk image) carries the value but not the key.
 *
 * A fixed entropy ties each value to Gatehouse. Both providers are registered on Windows, so a
 * value sealed in the other mode still opens where DPAPI allows; new values use the mode's
 * own. A mode switch seals again (data-move.ts's reseal, with `resealFor`). Linux and macOS
 * keep the file key. Failures (PowerShell missing, a value of another user) throw an Error
 * whose message says so; secrets.ts turns that into "enter the password again".
 */
import { execFileSync } from 'node:child_process';
import { encodePowerShell, powershellExe } from '../service/windows-commands.js';
import { openSecret, registerSecretProvider, sealWith, type SecretProvider } from './secrets.js';

export type DpapiScope = 'CurrentUser' | 'LocalMachine';
export const DPAPI_PROVIDER: Record<DpapiScope, string> = { CurrentUser: 'dpapi-user', LocalMachine: 'dpapi-machine' };
/** Additional entropy: a value sealed by Gatehouse opens only with it (the wording predates the other secrets; changing it would leave stored values unopenable). */
export const DPAPI_ENTROPY = 'Gatehouse smarthost password v1';

/** Runs a program with `input` on stdin and returns its stdout (synchronous: see the header). */
export type RunSync = (file: string, args: string[], input: string) => string;

const runSync: RunSync = (file, args, input) =>
  execFileSync(file, args, { input, encoding: 'utf8', windowsHide: true, timeout: 60_000, maxBuffer: 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });

/** The PowerShell script for one operation (reads base64 on stdin, writes base64). */
export function dpapiScript(op: 'protect' | 'unprotect', scope: DpapiScope): string {
  const method = op === 'protect' ? 'Protect' : 'Unprotect';
  return [
    "$ErrorActionPreference = 'Stop'",
    'Add-Type -AssemblyName System.Security',
    '$data = [Convert]::FromBase64String([Console]::In.ReadToEnd().Trim())',
    `$entropy = [Text.Encoding]::UTF8.GetBytes('${DPAPI_ENTROPY}')`,
    `$out = [Security.Cryptography.ProtectedData]::${method}($data, $entropy, [Security.Cryptography.DataProtectionScope]::${scope})`,
    '[Console]::Out.Write([Convert]::ToBase64String($out))',
  ].join('; ');
}

/** The command line for one operation: no secret in it, only the encoded script. */
export function dpapiCommand(op: 'protect' | 'unprotect', scope: DpapiScope, env: NodeJS.ProcessEnv = process.env): { file: string; args: string[] } {
  return { file: powershellExe(env), args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encodePowerShell(dpapiScript(op, scope))] };
}

export function dpapiProvider(scope: DpapiScope, run: RunSync = runSync): SecretProvider {
  const opened = new Map<string, string>();
  const call = (op: 'protect' | 'unprotect', data: Buffer): Buffer => {
    const { file, args } = dpapiCommand(op, scope);
    let out: string;
    try {
      out = run(file, args, data.toString('base64'));
    } catch (err) {
      const e = err as { stderr?: unknown; message: string };
      const why = String(e.stderr ?? '').trim().split(/\r?\n/).find((l) => l.trim()) ?? e.message;
      throw new Error(`DPAPI (${scope}) ${op} failed: ${why}`);
    }
    return Buffer.from(out.trim(), 'base64');
  };
  return {
    id: DPAPI_PROVIDER[scope],
    encrypt: (plain) => call('protect', Buffer.from(plain, 'utf8')),
    decrypt: (data) => {
      const key = data.toString('base64');
      const hit = opened.get(key);
      if (hit !== undefined) return hit;
      const plain = call('unprotect', data).toString('utf8');
      opened.set(key, plain);
      return plain;
    },
  };
}

/**
 * Windows: registers both DPAPI providers and makes `scope` the one new secrets use.
 * Elsewhere: nothing (the file key stays). Returns the preferred provider's id, or null.
 */
export function useDpapi(scope: DpapiScope, opts: { platform?: NodeJS.Platform; run?: RunSync } = {}): string | null {
  if ((opts.platform ?? process.platform) !== 'win32') return null;
  const other: DpapiScope = scope === 'CurrentUser' ? 'LocalMachine' : 'CurrentUser';
  registerSecretProvider(dpapiProvider(other, opts.run));
  registerSecretProvider(dpapiProvider(scope, opts.run), true);
  return DPAPI_PROVIDER[scope];
}

/**
 * The reseal for a data folder moving to `mode` (data-move.ts): opened with whatever sealed it,
 * sealed with the mode's provider (DPAPI on Windows, the file key elsewhere).
 */
export function resealFor(mode: 'service' | 'desktop', platform: NodeJS.Platform = process.platform): (stored: string) => string {
  const target = platform === 'win32' ? DPAPI_PROVIDER[mode === 'service' ? 'LocalMachine' : 'CurrentUser'] : 'file';
  return (stored) => sealWith(target, openSecret(stored));
}

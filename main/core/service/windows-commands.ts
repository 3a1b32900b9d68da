/*
 * Windows command lines as the service commands print and run them: one quoting function, so
 * what `--dry-run` prints is exactly the text Windows gets (the runner passes it verbatim).
 * Also the service's own SID, computed the way Windows does (S-1-5-80 and the SHA-1 of the
 * upper-cased service name in UTF-16LE, as five little-endian 32-bit numbers), so icacls can
 * name it before the service exists, and the system tools by full path (System32), so a
 * program of the same name in the current folder or on PATH is never run instead.
 * Pure functions; none throws.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * One argument for a Windows command line (the rules CommandLineToArgvW and the C runtime
 * read). netsh-style `key=value` with a space gets its quotes around the value only
 * (`name="Gatehouse SMTP"`), which is how netsh expects it.
 */
export function winQuote(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  const kv = /^([A-Za-z]+)=(.*)$/.exec(arg);
  if (kv && !kv[2]!.includes('"')) return `${kv[1]}=${quoteWhole(kv[2]!)}`;
  return quoteWhole(arg);
}

function quoteWhole(s: string): string {
  // Backslashes are literal except before a quote: double those, and the ones at the end.
  let out = '"';
  let slashes = 0;
  for (const ch of s) {
    if (ch === '\\') {
      slashes++;
      continue;
    }
    if (ch === '"') out += '\\'.repeat(slashes * 2 + 1) + '"';
    else out += '\\'.repeat(slashes) + ch;
    slashes = 0;
  }
  return out + '\\'.repeat(slashes * 2) + '"';
}

/** The whole command line: the program, then each argument quoted as needed. */
export function commandLine(file: string, args: readonly string[]): string {
  return [winQuote(file), ...args.map(winQuote)].join(' ');
}

/** A program in %SystemRoot%\System32 (sc.exe, netsh.exe, icacls.exe, whoami.exe). */
export function systemTool(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.win32.join(env.SystemRoot || env.SYSTEMROOT || 'C:\\Windows', 'System32', name);
}

/** Windows PowerShell 5.1, present on every supported Windows. */
export function powershellExe(env: NodeJS.ProcessEnv = process.env): string {
  return path.win32.join(env.SystemRoot || env.SYSTEMROOT || 'C:\\Windows', 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe');
}

/** The SID Windows gives a service's processes (NT SERVICE\<name>), e.g. S-1-5-80-956008885-... */
export function serviceSid(serviceName: string): string {
  const digest = createHash('sha1').update(Buffer.from(serviceName.toUpperCase(), 'utf16le')).digest();
  const parts: number[] = [];
  for (let i = 0; i < 20; i += 4) parts.push(digest.readUInt32LE(i));
  return `S-1-5-80-${parts.join('-')}`;
}

/** PowerShell's -EncodedCommand form of a script (UTF-16LE, base64): no quoting to get wrong. */
export function encodePowerShell(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}

/*
 * Administrator rights for the service commands. `whoAmI()` reads the Windows user (name and
 * SID) and whether this process runs elevated (its integrity level, from `whoami /groups`: the
 * SIDs are the same on every Windows language). `elevatedCommand()` builds the command that
 * runs a command line again with administrator rights: PowerShell's `Start-Process -Verb RunAs
 * -Wait` (the UAC prompt) around `cmd.exe /d /s /c "set VAR=...&& <command> > <log> 2>&1"`,
 * because an elevated process starts with a fresh environment (ELECTRON_RUN_AS_NODE must be
 * set inside it) and its console cannot be read (its output goes to a log file the caller
 * reads back). Its exit code is the command's; 1223 when the user said No to UAC.
 * `runElevated()` runs that and resolves to { code, output }; it never rejects.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import type { RunCommand, RunResult } from './run-plan.js';
import { commandLine, encodePowerShell, powershellExe, systemTool } from './windows-commands.js';

/** ERROR_CANCELLED: the UAC prompt was answered No. */
export const ELEVATION_CANCELLED = 1223;

export interface WhoAmI {
  name: string;
  sid: string;
  elevated: boolean;
}

/** `whoami /user /fo csv /nh` -> name and SID. */
export function parseWhoamiUser(text: string): { name: string; sid: string } | null {
  const m = /^"([^"]+)","(S-1-[\d-]+)"/m.exec(text.trim());
  return m ? { name: m[1]!, sid: m[2]! } : null;
}

/** `whoami /groups /fo csv /nh`: a high (or system) mandatory level means elevated. */
export function parseWhoamiElevated(text: string): boolean {
  return /"S-1-16-(12288|16384)"/.test(text);
}

export async function whoAmI(run: RunCommand, env?: NodeJS.ProcessEnv): Promise<WhoAmI | null> {
  const whoami = systemTool('whoami.exe', env);
  const user = parseWhoamiUser((await run(whoami, ['/user', '/fo', 'csv', '/nh'])).output);
  if (!user) return null;
  const groups = await run(whoami, ['/groups', '/fo', 'csv', '/nh']);
  return { ...user, elevated: parseWhoamiElevated(groups.output) };
}

const psString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * The command that runs `file args` elevated, with `setEnv` set in it and its output in
 * `logFile`. Pure: nothing runs.
 */
export function elevatedCommand(file: string, args: readonly string[], setEnv: Record<string, string>, logFile: string, env?: NodeJS.ProcessEnv): { file: string; args: string[] } {
  const sets = Object.entries(setEnv).map(([k, v]) => `set ${k}=${v}&& `).join('');
  const inner = `/d /s /c "${sets}${commandLine(file, args)} > "${logFile}" 2>&1"`;
  const script = [
    '$ErrorActionPreference = "Stop"',
    'try {',
    `  $p = Start-Process -FilePath ${psString(systemTool('cmd.exe', env))} -ArgumentList ${psString(inner)} -Verb RunAs -Wait -PassThru -WindowStyle Hidden`,
    '  exit $p.ExitCode',
    `} catch { [Console]::Error.WriteLine($_.Exception.Message); exit ${ELEVATION_CANCELLED} }`,
  ].join('\n');
  return { file: powershellExe(env), args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encodePowerShell(script)] };
}

/** Runs a command elevated (UAC prompt) and reads back what it printed. */
export async function runElevated(file: string, args: readonly string[], setEnv: Record<string, string>, logFile: string, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  const cmd = elevatedCommand(file, args, setEnv, logFile, env);
  const code = await new Promise<number>((resolve) => {
    execFile(cmd.file, cmd.args, { windowsHide: true, timeout: 10 * 60_000 }, (err) => {
      const raw = (err as { code?: unknown } | null)?.code;
      resolve(!err ? 0 : typeof raw === 'number' ? raw : -1);
    });
  });
  const output = (await fs.readFile(logFile, 'utf8').catch(() => '')).trim();
  await fs.rm(logFile, { force: true });
  return { code, output: code === ELEVATION_CANCELLED && !output ? 'the administrator prompt (UAC) was declined' : output };
}

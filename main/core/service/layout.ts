/*
 * Where the pieces of the Windows service are, as plain data: the service's name and account,
 * its data folder (%ProgramData%\Gatehouse), the installed app (Gatehouse.exe and app.asar
 * under %ProgramFiles%\Gatehouse), the service wrapper copied there by the installer
 * (resources\service\GatehouseService.exe, WinSW) and the wrapper's XML beside it, and the
 * inbound firewall rule's name. Every path is a Windows path (path.win32) whatever this OS
 * is, so `gatehouse service install --dry-run` prints the same plan on Linux as on Windows.
 * Nothing here touches the system; nothing throws.
 *
 * The account: LocalService with a per-service SID. The wrapper (WinSW 1.x, which installs
 * through WMI) can set LocalService, the documented low-privilege built-in account, but not a
 * virtual account (NT SERVICE\Gatehouse) at install time. `sc.exe sidtype Gatehouse
 * unrestricted` then gives the service's processes the SID NT SERVICE\Gatehouse as well, and the
 * data folder's ACL names that SID, not LocalService: other services that also run as
 * LocalService cannot read the folder. Binding port 25 needs no privilege on Windows, so
 * nothing needs LocalSystem.
 */
import path from 'node:path';

/** The service's key name (sc.exe, the SCM) and WinSW id. */
export const SERVICE_NAME = 'Gatehouse';
export const SERVICE_DISPLAY_NAME = 'Gatehouse SMTP gateway';
export const SERVICE_DESCRIPTION = 'Gatehouse: the office SMTP gateway (relay, per-account external sending block, inbound routing, receivelog and senderlog).';
/** The account the wrapper installs the service with (WinSW <serviceaccount>). */
export const SERVICE_ACCOUNT = { domain: 'NT AUTHORITY', user: 'LocalService' } as const;
/** The per-service SID the service's processes carry (sc.exe sidtype ... unrestricted). */
export const SERVICE_SID_NAME = `NT SERVICE\\${SERVICE_NAME}`;
/** The inbound firewall rule (netsh name=, the same in the installer). */
export const FIREWALL_RULE = 'Gatehouse SMTP';
/** The wrapper's file name in the installed app (the XML beside it has the same base name). */
export const WRAPPER_EXE = 'GatehouseService.exe';
/** The marker and settings of a service data folder (who administers it). */
export const SERVICE_FILE = 'service.json';

export interface AppLayout {
  /** Gatehouse.exe: the app's Electron executable, the service's Node (ELECTRON_RUN_AS_NODE). */
  exe: string;
  /** The CLI's entry inside app.asar, which the service runs as `serve --service`. */
  cliScript: string;
  /** The wrapper (WinSW) and its XML. */
  wrapperExe: string;
  wrapperXml: string;
  /** The service's own log folder (WinSW's and the gateway's stdout/stderr). */
  serviceLogDir: string;
}

const win = path.win32;

/** %ProgramData%\Gatehouse: the service's data folder. */
export function serviceDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return win.join(env.ProgramData || env.PROGRAMDATA || 'C:\\ProgramData', 'Gatehouse');
}

/** A user's desktop data folder as Windows names it (%APPDATA%\Gatehouse). */
export function desktopDataDirWin(env: NodeJS.ProcessEnv = process.env): string {
  return win.join(env.APPDATA || win.join('C:\\Users', env.USERNAME || 'user', 'AppData', 'Roaming'), 'Gatehouse');
}

/** The installer's default folder: %ProgramFiles%\Gatehouse. */
export function defaultInstallDir(env: NodeJS.ProcessEnv = process.env): string {
  return win.join(env.ProgramFiles || env.PROGRAMFILES || 'C:\\Program Files', 'Gatehouse');
}

/** The files of an installed Gatehouse in `installDir`, with the service's data folder `dataDir`. */
export function appLayout(installDir: string, dataDir: string): AppLayout {
  const resources = win.join(installDir, 'resources');
  const wrapperExe = win.join(resources, 'service', WRAPPER_EXE);
  return {
    exe: win.join(installDir, 'Gatehouse.exe'),
    cliScript: win.join(resources, 'app.asar', 'dist', 'main', 'cli', 'run.js'),
    wrapperExe,
    wrapperXml: wrapperExe.replace(/\.exe$/i, '.xml'),
    serviceLogDir: win.join(dataDir, 'service-logs'),
  };
}

/**
 * The install folder of the Gatehouse this process belongs to: the folder of Gatehouse.exe
 * when this is the installed app (the desktop app, or the CLI run by it with
 * ELECTRON_RUN_AS_NODE), else the installer's default (a CLI run from a checkout, dry runs).
 */
export function installDirOf(execPath: string = process.execPath, env: NodeJS.ProcessEnv = process.env): string {
  return /(^|[\\/])gatehouse\.exe$/i.test(execPath) ? win.dirname(execPath) : defaultInstallDir(env);
}

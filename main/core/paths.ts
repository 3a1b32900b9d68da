/*
 * Where Gatehouse keeps its files. The default data folder matches Electron's
 * app.getPath('userData') for an app named "Gatehouse", so the headless host and the
 * desktop app share one folder: %APPDATA%\Gatehouse on Windows, ~/Library/Application
 * Support/Gatehouse on macOS, $XDG_CONFIG_HOME/Gatehouse (~/.config/Gatehouse) elsewhere.
 * windowsPathProblem() says why Windows would refuse a name that comes from input (a data
 * folder, an export file): device names, forbidden characters, trailing dots, MAX_PATH.
 */
import os from 'node:os';
import path from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.GATEHOUSE_DATA) return path.resolve(env.GATEHOUSE_DATA);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'Gatehouse');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Gatehouse');
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'Gatehouse');
}

export interface DataPaths {
  root: string;
  spool: string;
  logs: string;
}

export function dataPaths(root: string): DataPaths {
  return { root, spool: path.join(root, 'spool'), logs: path.join(root, 'logs') };
}

/** Longest path Gatehouse makes inside the data folder (a quarantined state file's note). */
const LONGEST_INSIDE = '\\spool\\quarantine\\xxxxxxxx-xxxx-xxxx.state.99.why.json'.length;
/** Explorer, Notepad and most tools still stop at MAX_PATH, whatever Node can open itself. */
const MAX_PATH = 260;
const DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])$/i;

/**
 * Why Windows would refuse or misread `p` as a folder or file name, or null when it is fine:
 * a device name (CON, NUL, COM1, ... with or without an extension), a character Windows does
 * not allow (< > : " | ? * and control characters; the drive's colon is fine), a name ending
 * in a dot or space (Windows drops it), or a path that with `within` more characters would
 * pass 260 (MAX_PATH). Pure: callers decide on which platform to ask.
 */
export function windowsPathProblem(p: string, within = 0): string | null {
  let rest = p.replace(/^\\\\\?\\(UNC\\)?/i, (_m, unc: string | undefined) => (unc ? '\\\\' : ''));
  const unc = /^[\\/]{2}[^\\/]+[\\/][^\\/]+/.exec(rest);
  if (unc) rest = rest.slice(unc[0].length);
  else rest = rest.replace(/^[A-Za-z]:/, '');
  for (const part of rest.split(/[\\/]+/)) {
    if (part === '' || part === '.' || part === '..') continue;
    if (/[<>:"|?*\u0000-\u001f]/.test(part)) return `"${part}" has a character Windows does not allow in a name (< > : " | ? * or a control character)`;
    const stem = part.replace(/[. ]+$/, '').split('.')[0]!;
    if (DEVICE.test(stem)) return `"${part}" is a name Windows keeps for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9)`;
    if (/[. ]$/.test(part)) return `"${part}" ends with a dot or a space, which Windows drops from names`;
  }
  if (p.length + within > MAX_PATH) return `the path is ${p.length} characters long; with the files inside it that passes ${MAX_PATH}, which Explorer, Notepad and many tools cannot open`;
  return null;
}

/** windowsPathProblem for a data folder: the files Gatehouse makes inside it count too. */
export function dataDirProblem(dir: string): string | null {
  return windowsPathProblem(dir, LONGEST_INSIDE);
}

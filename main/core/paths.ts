/*
 * Where Gatehouse keeps its files. The default data folder matches Electron's
 * app.getPath('userData') for an app named "Gatehouse", so the headless host and the
 * desktop app share one folder: %APPDATA%\Gatehouse on Windows, ~/Library/Application
 * Support/Gatehouse on macOS, $XDG_CONFIG_HOME/Gatehouse (~/.config/Gatehouse) elsewhere.
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

/*
 * Settings that belong to the desktop shell, not to the gateway: whether the SMTP listener
 * starts with the app. Kept in <data>/desktop.json so config.json stays the core's alone.
 * `loadDesktopSettings` never throws: a missing file gives the defaults, an unreadable or
 * malformed one gives the defaults plus a `problem` to log. `saveDesktopSettings` writes a
 * temp file and renames it over the old one; it rejects with the fs error if it cannot.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PRIVATE_FILE_MODE, makePrivateDir } from '../core/private-files.js';

export const DESKTOP_FILE = 'desktop.json';

export interface DesktopSettings {
  /** Start the SMTP listener when the app starts (default true). */
  startGatewayOnLaunch: boolean;
}

export const DEFAULT_DESKTOP_SETTINGS: DesktopSettings = { startGatewayOnLaunch: true };

export function loadDesktopSettings(dataDir: string): { settings: DesktopSettings; problem?: string } {
  const file = path.join(dataDir, DESKTOP_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { settings: { ...DEFAULT_DESKTOP_SETTINGS } };
    return { settings: { ...DEFAULT_DESKTOP_SETTINGS }, problem: `cannot read ${file}: ${(err as Error).message}` };
  }
  try {
    const raw = JSON.parse(text) as Partial<DesktopSettings> | null;
    const settings = { ...DEFAULT_DESKTOP_SETTINGS };
    if (raw && typeof raw === 'object' && typeof raw.startGatewayOnLaunch === 'boolean') settings.startGatewayOnLaunch = raw.startGatewayOnLaunch;
    return { settings };
  } catch (err) {
    return { settings: { ...DEFAULT_DESKTOP_SETTINGS }, problem: `${file} is not valid JSON (${(err as Error).message}); using the defaults` };
  }
}

export async function saveDesktopSettings(dataDir: string, settings: DesktopSettings): Promise<void> {
  const file = path.join(dataDir, DESKTOP_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await makePrivateDir(dataDir);
  await fsp.writeFile(tmp, JSON.stringify(settings, null, 2) + '\n', { encoding: 'utf8', mode: PRIVATE_FILE_MODE });
  await fsp.rename(tmp, file);
}

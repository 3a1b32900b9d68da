/*
 * Where the Electron binary is, without downloading it. `require('electron')` would try to
 * download a missing binary (electron >= 40 fetches it lazily); this reads the same files it
 * reads (node_modules/electron/path.txt and dist/) and only looks. `electronBinary(root)`
 * returns { present: true, path, version } or { present: false, reason, version? }; it
 * never throws.
 */
import fs from 'node:fs';
import path from 'node:path';

/** @param {string} root project folder (holds node_modules) */
export function electronBinary(root = process.cwd()) {
  const dir = path.join(root, 'node_modules', 'electron');
  let version;
  try {
    version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return { present: false, reason: 'the electron package is not installed (dev dependencies omitted?)' };
  }
  let rel;
  try {
    rel = fs.readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
  } catch {
    return { present: false, version, reason: `the Electron ${version} binary was never downloaded (node_modules/electron/path.txt is missing)` };
  }
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(dir, 'dist');
  const exe = path.join(distDir, rel);
  if (!fs.existsSync(exe)) return { present: false, version, reason: `the Electron binary ${exe} is missing` };
  return { present: true, version, path: exe };
}

/*
 * `npm install` / `npm ci` postinstall: fetches the Electron binary when it can and says
 * what happened, but never fails the install. Electron's npm package (>= 40) has no install
 * script of its own; its binary comes from the internet, which some machines (CI, offices
 * behind a strict proxy) cannot reach. Without the binary Gatehouse still builds, tests and
 * runs headless (`npm start` falls back to `gatehouse serve`), so a failed download is a
 * notice, not an error. ELECTRON_SKIP_BINARY_DOWNLOAD=1 skips the attempt. Exit code: 0.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from './electron-binary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stdout.write(`gatehouse postinstall: ${line}\n`);
const headless = 'npm start will run the headless host (admin UI in a browser) instead of the desktop app.';

function main() {
  let bin = electronBinary(root);
  if (bin.present) return say(`Electron ${bin.version} binary present (${bin.path}).`);
  if (!bin.version) return say(`${bin.reason}; ${headless}`);
  const skip = process.env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  if (skip && skip !== '0' && skip !== 'false') {
    return say(`ELECTRON_SKIP_BINARY_DOWNLOAD is set: Electron binary not downloaded. ${headless}`);
  }
  const installer = path.join(root, 'node_modules', 'electron', 'install.js');
  if (!fs.existsSync(installer)) return say(`node_modules/electron/install.js is missing; ${headless}`);
  say(`downloading the Electron ${bin.version} binary...`);
  const r = spawnSync(process.execPath, [installer], {
    cwd: path.dirname(installer),
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
    timeout: Number(process.env.GATEHOUSE_ELECTRON_DOWNLOAD_TIMEOUT_MS) || 10 * 60 * 1000,
  });
  bin = electronBinary(root);
  if (bin.present) return say(`Electron ${bin.version} binary installed (${bin.path}).`);
  const why = r.error
    ? r.error.message
    : (r.stderr || '')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('at '))
        .slice(0, 2)
        .join(' / ') || `install.js exited with ${r.status ?? r.signal}`;
  say(`could not download the Electron binary (${why}).`);
  say(`${headless} Retry later with: npx install-electron`);
}

try {
  main();
} catch (err) {
  say(`unexpected problem (${err && err.message ? err.message : err}); the install itself is fine.`);
}
process.exitCode = 0;

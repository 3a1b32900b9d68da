/*
 * Runs once before all test files: makes sure dist/ (the compiled core the CLI and
 * child-process tests run) is at least as new as main/**. `npm test` builds first, so this
 * only compiles when someone runs vitest directly after editing sources. Building here, once,
 * keeps test files from compiling into dist/ concurrently and reading half-written files.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const built = path.join(ROOT, 'dist', 'main', 'cli', 'index.js');
  const builtAt = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
  if (builtAt >= newestSource(path.join(ROOT, 'main'))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  // tsc only rewrites changed outputs: touch the marker so the check above holds next time.
  const now = new Date();
  fs.utimesSync(built, now, now);
}

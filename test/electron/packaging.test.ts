/*
 * Packs the app the way the installer does, on this machine: `electron-builder --linux dir`
 * with a placeholder Electron distribution (a fake `electron` executable: the real binary
 * cannot be downloaded here; packing does not run it), into a temp folder. Then reads
 * app.asar with @electron/asar and checks it holds the built output (dist/main, the shell,
 * the preload, dist/renderer), package.json and the production dependencies only: no tests,
 * no TypeScript sources, no source maps, no devDependencies. Builds dist/ first if missing.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
const projectRequire = createRequire(path.join(root, 'package.json'));
const builderPkg = projectRequire.resolve('electron-builder/package.json');
const builderCli = path.join(path.dirname(builderPkg), 'cli.js');
const asar = createRequire(builderPkg)('@electron/asar') as { listPackage(archive: string, opts: { isPack: boolean }): string[]; extractFile(archive: string, file: string): Buffer };

const NEEDED = ['dist/main/electron/main.js', 'dist/main/electron/preload.cjs', 'dist/main/core/gateway.js', 'dist/renderer/index.html'];

let tmp: string;
let files: string[];
let archive: string;
let unpacked: string;
// electron-builder walks and packs every production dependency: under Wine (node.exe is slow at
// file I/O, and the lane runs beside npm test) that takes minutes, not seconds.
const BUILD_MS = process.env.GATEHOUSE_WINE === '1' ? 300_000 : 100_000;

beforeAll(async () => {
  if (NEEDED.some((f) => !fs.existsSync(path.join(root, f)))) {
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-pack-'));
  const electronDist = path.join(tmp, 'electron-dist');
  fs.mkdirSync(electronDist);
  fs.writeFileSync(path.join(electronDist, 'electron'), '#!/bin/sh\necho "placeholder: not a real Electron"\nexit 1\n', { mode: 0o755 });
  fs.writeFileSync(path.join(electronDist, 'LICENSE'), 'placeholder');
  const out = path.join(tmp, 'out');
  await promisify(execFile)(
    process.execPath,
    [builderCli, '--linux', 'dir', '--x64', '--config', 'electron-builder.yml', `-c.electronDist=${electronDist}`, `-c.directories.output=${out}`, '--publish', 'never'],
    { cwd: root, timeout: BUILD_MS, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } },
  );
  unpacked = path.join(out, 'linux-unpacked');
  archive = path.join(unpacked, 'resources', 'app.asar');
  files = asar.listPackage(archive, { isPack: false }).map((f) => f.replace(/\\/g, '/').replace(/^\//, ''));
}, BUILD_MS + 10_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Production packages per package-lock.json (everything not marked dev). */
function productionPackages(): Set<string> {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  const names = new Set<string>();
  for (const [key, info] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || info.dev || info.devOptional) continue;
    names.add(key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));
  }
  return names;
}

describe('packaged app (linux --dir, placeholder electronDist)', () => {
  it('app.asar holds the built output and package.json', () => {
    for (const f of ['package.json', ...NEEDED, 'dist/main/core/commands/index.js', 'dist/main/core/delivery/transport-worker.js', 'dist/main/core/smtp/listener-process.js', 'dist/main/shared/contract.js', 'dist/main/headless/static-files.js']) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => /^dist\/renderer\/assets\/.+\.js$/.test(f))).toBe(true);
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8'));
    expect(files).toContain(pkg.main);
  });

  it('app.asar holds the production dependencies and nothing from devDependencies', () => {
    const modules = new Set(files.filter((f) => f.startsWith('node_modules/')).map((f) => {
      const parts = f.split('/');
      return parts[1]!.startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1]!;
    }).filter((m) => m && !m.endsWith('/undefined')));
    for (const m of ['smtp-server', 'nodemailer', 'lowdb']) expect(modules, m).toContain(m);
    const prod = productionPackages();
    for (const m of modules) expect(prod.has(m), `${m} is not a production dependency`).toBe(true);
    for (const dev of ['electron', 'electron-builder', 'vitest', 'vite', 'svelte', 'typescript', 'playwright-core', '@sveltejs/vite-plugin-svelte', 'fast-check']) {
      expect(modules.has(dev), dev).toBe(false);
    }
  });

  it('app.asar holds no tests, sources, maps or project files', () => {
    const bad = files.filter(
      (f) =>
        !f.startsWith('node_modules/') &&
        (/^(test|main|renderer\/src|scripts|bench|resources|\.github|\.ci)\//.test(f) || /\.(ts|cts|svelte|map)$/.test(f) || /^(electron-builder\.yml|tsconfig\.json|package-lock\.json|README\.md|\.npmrc)$/.test(f)),
    );
    expect(bad).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it('icons sit beside app.asar, where the OS can read them', () => {
    for (const f of ['tray/tray-running.png', 'tray/tray-running@2x.png', 'tray/tray-stopped.png', 'tray/tray-error.png', 'icon.png']) {
      expect(fs.existsSync(path.join(unpacked, 'resources', f)), f).toBe(true);
    }
    expect(fs.existsSync(path.join(unpacked, 'gatehouse'))).toBe(true);
  });
});

/*
 * The install/start scripts: postinstall never fails the install and says what happened
 * (no electron package, download failure, skip variable, success, a hung download);
 * start.mjs picks Electron only where its binary (and a display) exists and otherwise runs
 * the headless host, printing why and the admin URL. Runs the scripts as child processes
 * on temp project folders with a stand-in node_modules/electron.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs script without type declarations
import { electronBinary } from '../../scripts/electron-binary.mjs';
// @ts-expect-error: plain .mjs script without type declarations
import { choose } from '../../scripts/start.mjs';

const root = path.join(__dirname, '..', '..');
const temps: string[] = [];
afterAll(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));

/** A project folder with the real scripts and a stand-in electron package whose install.js runs `installJs`. */
function project(installJs: string | null): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-scripts-'));
  temps.push(dir);
  fs.cpSync(path.join(root, 'scripts'), path.join(dir, 'scripts'), { recursive: true });
  if (installJs !== null) {
    const e = path.join(dir, 'node_modules', 'electron');
    fs.mkdirSync(e, { recursive: true });
    fs.writeFileSync(path.join(e, 'package.json'), JSON.stringify({ name: 'electron', version: '45.5.0' }));
    fs.writeFileSync(path.join(e, 'install.js'), installJs);
  }
  return dir;
}

const FAILS = `require('fs').writeFileSync(require('path').join(__dirname, 'ran'), '1');
console.error('TypeError: fetch failed\\n    at node:internal/deps/undici/undici:14976:13');
process.exit(1);`;
const WORKS = `const fs = require('fs'), path = require('path');
fs.mkdirSync(path.join(__dirname, 'dist'), { recursive: true });
fs.writeFileSync(path.join(__dirname, 'dist', 'electron'), '#!/bin/sh\\n', { mode: 0o755 });
fs.writeFileSync(path.join(__dirname, 'path.txt'), 'electron');`;

function postinstall(dir: string, env: NodeJS.ProcessEnv = {}) {
  const clean = { ...process.env };
  delete clean.ELECTRON_SKIP_BINARY_DOWNLOAD;
  const r = spawnSync(process.execPath, [path.join(dir, 'scripts', 'postinstall.mjs')], { cwd: dir, encoding: 'utf8', env: { ...clean, ...env }, timeout: 30_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('postinstall', () => {
  it('a failed download is a notice, not a failed install', () => {
    const dir = project(FAILS);
    const r = postinstall(dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/could not download the Electron binary \(TypeError: fetch failed\)/);
    expect(r.out).toMatch(/npm start will run the headless host/);
    expect(fs.existsSync(path.join(dir, 'node_modules', 'electron', 'ran'))).toBe(true);
  });

  it('ELECTRON_SKIP_BINARY_DOWNLOAD=1 skips the attempt and says so', () => {
    const dir = project(FAILS);
    const r = postinstall(dir, { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ELECTRON_SKIP_BINARY_DOWNLOAD is set/);
    expect(fs.existsSync(path.join(dir, 'node_modules', 'electron', 'ran'))).toBe(false);
  });

  it('reports a successful download, and a binary already there', () => {
    const dir = project(WORKS);
    expect(postinstall(dir).out).toMatch(/Electron 45\.5\.0 binary installed/);
    expect(postinstall(dir).out).toMatch(/Electron 45\.5\.0 binary present/);
    expect(electronBinary(dir)).toMatchObject({ present: true, path: path.join(dir, 'node_modules', 'electron', 'dist', 'electron') });
  });

  it('a production install without electron, and a hung download, still end with 0', () => {
    expect(postinstall(project(null))).toMatchObject({ code: 0, out: expect.stringMatching(/electron package is not installed/) });
    const hung = postinstall(project('setInterval(() => {}, 1000);'), { GATEHOUSE_ELECTRON_DOWNLOAD_TIMEOUT_MS: '300' });
    expect(hung.code).toBe(0);
    expect(hung.out).toMatch(/could not download/);
  });
});

describe('start: Electron or headless', () => {
  it('picks the headless host when the binary is absent, saying why', () => {
    const dir = project(FAILS);
    expect(choose([], { DISPLAY: ':0' }, 'linux', dir)).toEqual({ kind: 'headless', why: expect.stringMatching(/never downloaded/) });
    expect(choose([], {}, 'win32', project(null))).toEqual({ kind: 'headless', why: expect.stringMatching(/not installed/) });
  });

  it('picks Electron where the binary exists (and on Linux a display), unless --headless', () => {
    const dir = project(WORKS);
    postinstall(dir);
    expect(choose([], { DISPLAY: ':0' }, 'linux', dir)).toMatchObject({ kind: 'electron', path: path.join(dir, 'node_modules', 'electron', 'dist', 'electron') });
    expect(choose([], {}, 'win32', dir)).toMatchObject({ kind: 'electron' });
    expect(choose([], {}, 'linux', dir)).toEqual({ kind: 'headless', why: expect.stringMatching(/no display/) });
    expect(choose(['--headless'], { DISPLAY: ':0' }, 'linux', dir)).toMatchObject({ kind: 'headless' });
  });

  it('this machine: npm start falls back to the headless host and prints the admin URL', async () => {
    if (!fs.existsSync(path.join(root, 'dist', 'main', 'cli', 'index.js'))) return void console.log('skipped: dist/ not built (npm run build)');
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-start-'));
    temps.push(data);
    // Where the binary exists, npm start would open the desktop app: ask for headless there.
    const bin = electronBinary(root);
    const extra = bin.present ? ['--headless'] : [];
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs'), ...extra, '--data', data, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], {
      cwd: root,
      env: { ...process.env, GATEHOUSE_START_NO_BUILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const end = Date.now() + 15_000;
      while (!/Admin UI: http:\/\/127\.0\.0\.1:\d+\/#token=/.test(out)) {
        if (Date.now() > end || child.exitCode !== null) throw new Error(`no admin URL printed:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(out).toContain(`Electron not launched: ${bin.present ? 'asked for with --headless' : bin.reason}`);
      expect(out).toMatch(/running the headless host instead/);
    } finally {
      child.kill('SIGTERM');
      // 'close', not 'exit': the last lines can still be in the pipe when the process has exited.
      await new Promise((r) => child.once('close', r));
    }
    // On Windows child.kill() is TerminateProcess: no SIGTERM handler runs, so no "stopped".
    if (process.platform !== 'win32') expect(out).toMatch(/stopped/);
  });
});

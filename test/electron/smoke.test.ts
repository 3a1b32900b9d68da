/*
 * Desktop smoke test with Playwright's `_electron`: launches the real app (Electron binary,
 * dist/ built output) on a seeded temp data folder with SMTP on 127.0.0.1 port 0, toggles
 * "block external sending" for baito@test.jp in the window, sends one message over SMTP
 * and sees the block-external line in the live log, then quits through the app (which
 * closes the gateway first). It runs wherever `node_modules/electron` has its binary (and,
 * on Linux, a display); elsewhere it is skipped, and says so and why. The binary is found
 * without `require('electron')`, which would try to download it. With GATEHOUSE_APP_EXE set
 * (the Windows workflow: C:\Program Files\Gatehouse\Gatehouse.exe after a silent install)
 * it drives that installed app instead, and saves a screenshot of the window either way
 * (test-results/screenshots/).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs script without type declarations
import { electronBinary } from '../../scripts/electron-binary.mjs';
import { seedDataDir, smokeFlow } from './smoke-flow.js';

const root = path.join(__dirname, '..', '..');
const installed = process.env.GATEHOUSE_APP_EXE;
const bin = (installed ? { present: fs.existsSync(installed), path: installed, reason: `${installed} does not exist` } : electronBinary(root)) as { present: boolean; path?: string; reason?: string };
const noDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const skipReason = !bin.present ? `the Electron binary is absent (${bin.reason})` : noDisplay ? 'there is no display (DISPLAY / WAYLAND_DISPLAY unset; try xvfb-run)' : '';
const canRun = !skipReason;

if (!canRun) console.log(`test/electron/smoke.test.ts: Electron smoke test SKIPPED because ${skipReason}. It runs where npm install could download the binary.`);

const temps: string[] = [];
afterAll(() => temps.forEach((t) => fs.rmSync(t, { recursive: true, force: true })));

describe('Electron smoke (Playwright _electron)', () => {
  it.skipIf(!canRun)(
    'launches the app, toggles an account in the window, sends one message and sees the log line',
    async () => {
      if (!installed && (!fs.existsSync(path.join(root, 'dist', 'main', 'electron', 'main.js')) || !fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html')))) {
        execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
      }
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-smoke-'));
      temps.push(data);
      await seedDataDir(data);

      const { _electron } = await import('playwright-core');
      // The installed app carries its own app.asar; the development binary is given the project.
      const args = installed ? ['--lang=ja'] : [root, '--lang=ja'];
      if (process.platform === 'linux' && process.getuid?.() === 0) args.push('--no-sandbox'); // Chromium refuses root otherwise
      const env = { ...process.env, GATEHOUSE_DATA: data, GATEHOUSE_LISTEN: '127.0.0.1:0' } as Record<string, string>;
      delete env.ELECTRON_RUN_AS_NODE;
      const app = await _electron.launch({ executablePath: bin.path!, args, env, timeout: 60_000 });
      const output: string[] = [];
      app.process().stdout?.on('data', (d: Buffer) => output.push(String(d)));
      app.process().stderr?.on('data', (d: Buffer) => output.push(String(d)));
      try {
        const page = await app.firstWindow({ timeout: 60_000 });
        await page.waitForFunction(() => location.href === 'app://gatehouse/index.html' && document.readyState !== 'loading', undefined, { timeout: 30_000 });
        // The window talks over IPC: the preload's bridge is there, Node is not.
        expect(await page.evaluate(() => typeof (window as any).gatehouse?.invoke)).toBe('function');
        expect(await page.evaluate(() => typeof (globalThis as any).require)).toBe('undefined');
        const status = await page.evaluate(() => (window as any).gatehouse.invoke('status', undefined));
        expect(status).toMatchObject({ ok: true, value: { running: true, dataDir: data } });
        await smokeFlow(page, status.value.listen.port, (s) => console.log(`smoke: ${s}`));
        const shots = path.join(root, 'test-results', 'screenshots');
        fs.mkdirSync(shots, { recursive: true });
        await page.screenshot({ path: path.join(shots, installed ? 'installed-app-smoke.png' : 'electron-smoke.png') });
      } catch (err) {
        console.log(`app output:\n${output.join('')}`);
        throw err;
      } finally {
        // Quit goes through before-quit: the gateway closes, then the app exits.
        await app.close().catch(() => undefined);
      }
      expect(output.join('')).toMatch(/\[shell\] stopped/);
    },
    180_000,
  );
});

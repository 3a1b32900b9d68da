/*
 * The desktop shell in service mode (bootstrap.ts with electron stubbed): with the service's
 * data folder named (GATEHOUSE_SERVICE_DATA, what `sc.exe query` decides on Windows) the app
 * hosts no gateway and no admin API; the window's IPC reaches the service (a real `gatehouse
 * serve --service` started as the wrapper starts it), the tray says it controls the service
 * and shows "service not running" once the service stops, and Quit ends the app only: the
 * service keeps running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fake, FakeBrowserWindow, FakeTray } from './fake-electron.js';
import type { ShellHandle } from '../../main/electron/bootstrap.js';
import { serviceArguments, serviceEnvironment } from '../../main/core/service/wrapper-config.js';
import { appLayout } from '../../main/core/service/layout.js';
import { readAdminInfo } from '../../main/headless/remote-client.js';
import { officeConfig } from '../helpers/gateway.js';

vi.mock('electron', () => import('./fake-electron.js').then((m) => m.electronModule));
const { bootstrap } = await import('../../main/electron/bootstrap.js');

const CLI = path.resolve(import.meta.dirname, '..', '..', 'dist', 'main', 'cli', 'run.js');
let serviceDir: string;
let desktopDir: string;
let service: ChildProcess;
let serviceExit: Promise<number | null>;
let handle: ShellHandle;
const win = () => FakeBrowserWindow.all.at(-1)!;
const tray = () => FakeTray.all.at(-1)!;
const ipc = (command: string, args?: unknown) =>
  fake.ipcHandlers.get('gatehouse:invoke')!({ sender: { id: win().webContents.id }, senderFrame: { url: 'app://gatehouse/index.html', parent: null } }, command, args) as Promise<{ ok: boolean; value?: any; error?: any }>;

async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  serviceDir = await fs.mkdtemp(path.join(os.tmpdir(), 'gh-svc-'));
  desktopDir = await fs.mkdtemp(path.join(os.tmpdir(), 'gh-desk-'));
  await fs.writeFile(path.join(serviceDir, 'config.json'), JSON.stringify({ ...officeConfig(), admin: { host: '127.0.0.1', port: 0 } }));
  const spec = { layout: { ...appLayout('C:\\Program Files\\Gatehouse', serviceDir), cliScript: CLI }, dataDir: serviceDir };
  service = spawn(process.execPath, serviceArguments(spec), { env: { ...process.env, ...serviceEnvironment(spec) }, stdio: 'ignore' });
  serviceExit = new Promise((r) => service.once('exit', (c) => r(c)));
  await until(() => readAdminInfo(serviceDir), 'the service admin.json');
  const h = await bootstrap(['electron', '.'], { GATEHOUSE_DATA: desktopDir, GATEHOUSE_SERVICE_DATA: serviceDir, GATEHOUSE_LANG: 'en' });
  if (!h) throw new Error('bootstrap returned null');
  handle = h;
});

afterAll(async () => {
  if (service.exitCode === null) {
    service.kill('SIGINT');
    await serviceExit;
  }
  await fs.rm(serviceDir, { recursive: true, force: true });
  await fs.rm(desktopDir, { recursive: true, force: true });
});

describe('bootstrap in service mode', () => {
  it('hosts no gateway: the window and tray are the service\'s remote control', async () => {
    expect(handle.gateway).toBeNull();
    expect(handle.remote).not.toBeNull();
    // No admin API of its own, no gateway files in the desktop folder.
    expect(await readAdminInfo(desktopDir)).toBeNull();
    await expect(fs.access(path.join(desktopDir, 'config.json'))).rejects.toThrow();
    const st = await ipc('status');
    expect(st.ok).toBe(true);
    expect(st.value.role).toBe('service');
    expect(st.value.dataDir).toBe(serviceDir);
    await until(() => tray().tooltip.startsWith('Gatehouse (Windows service): running'), 'the tray to show the running service');
    expect(tray().menu.map((m: { label?: string }) => m.label)).toContain('Controlling the Windows service');
  });

  it('commands from the window change the service; the service commands run here', async () => {
    const r = await ipc('accounts.setBlock', { pattern: 'arubaito@test.jp', block: true });
    expect(r.ok).toBe(true);
    const cfg = JSON.parse(await fs.readFile(path.join(serviceDir, 'config.json'), 'utf8'));
    expect(cfg.accounts.some((a: { pattern: string; blockExternal: boolean }) => a.pattern === 'arubaito@test.jp' && a.blockExternal)).toBe(true);
    const svc = await ipc('service.status');
    expect(svc.value).toMatchObject({ answeredBy: 'desktop', supported: process.platform === 'win32' });
  });

  it('shows "service not running" when the service stops, and Quit leaves the service alone', async () => {
    service.kill('SIGINT');
    // (On Windows the kill is forced: no SIGINT to another process there.)
    const code = await serviceExit;
    if (process.platform !== 'win32') expect(code).toBe(0);
    await until(() => tray().tooltip === 'Gatehouse (Windows service): service not running', 'the tray to say the service is not running');
    const r = await ipc('status');
    expect(r).toMatchObject({ ok: false, error: { code: 'unreachable' } });

    // Start it again, then quit the app: the service is still there afterwards.
    const spec = { layout: { ...appLayout('C:\\Program Files\\Gatehouse', serviceDir), cliScript: CLI }, dataDir: serviceDir };
    service = spawn(process.execPath, serviceArguments(spec), { env: { ...process.env, ...serviceEnvironment(spec) }, stdio: 'ignore' });
    serviceExit = new Promise((r2) => service.once('exit', (c) => r2(c)));
    await until(() => tray().tooltip.startsWith('Gatehouse (Windows service): running'), 'the tray to find the service again');
    await handle.shell.quit();
    expect(fake.app.exitCode).toBe(0);
    expect(service.exitCode).toBeNull();
    expect(await readAdminInfo(serviceDir)).not.toBeNull();
  });
});

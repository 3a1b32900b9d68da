/*
 * The Electron wiring (bootstrap.ts) with the electron module stubbed (fake-electron.ts) and
 * a real gateway in a temp data folder on 127.0.0.1 port 0: start-up order, the window's
 * security options, the tray, IPC with sender checks, events forwarded to the window,
 * close-to-tray, second launch, tray Stop, and a graceful quit that closes the gateway
 * before exiting. Plus: a second instance quits at once.
 */
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import { demoConfig } from '../../main/core/config/index.js';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { fake, FakeBrowserWindow, FakeNotification, FakeTray } from './fake-electron.js';
import type { ShellHandle } from '../../main/electron/bootstrap.js';

vi.mock('electron', () => import('./fake-electron.js').then((m) => m.electronModule));

const { bootstrap } = await import('../../main/electron/bootstrap.js');

let dir: string;
let handle: ShellHandle;
let smtpPort = 0;
const win = () => FakeBrowserWindow.all.at(-1)!;
const tray = () => FakeTray.all.at(-1)!;
const ipc = (command: string, args?: unknown, sender = { id: win().webContents.id, url: 'app://gatehouse/index.html', parent: null as unknown }) =>
  fake.ipcHandlers.get('gatehouse:invoke')!({ sender: { id: sender.id }, senderFrame: { url: sender.url, parent: sender.parent } }, command, args);
const sentEvents = (name: string) => win().webContents.sent.filter((s) => s.channel === 'gatehouse:event' && s.args[0] === name).map((s) => s.args[1]);

async function until<T>(fn: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gatehouse-shell-'));
  // The demo config, with the admin API on a free port (8025 may be taken by another run).
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...demoConfig(), admin: { host: '127.0.0.1', port: 0 } }));
  const h = await bootstrap(['electron', '.'], { GATEHOUSE_DATA: dir, GATEHOUSE_LISTEN: '127.0.0.1:0', GATEHOUSE_DEMO: '1' });
  if (!h) throw new Error('bootstrap returned null');
  handle = h;
});

afterAll(async () => {
  if (fake.app.exitCode === null) await handle?.gateway?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('bootstrap with electron stubbed', () => {
  it('prepares the app before ready: names, folders, app:// scheme, single-instance lock', () => {
    expect(fake.app.name).toBe('Gatehouse');
    expect(fake.app.paths.userData).toBe(dir);
    expect(fake.app.paths.sessionData).toBe(path.join(dir, 'browser'));
    expect(fake.privilegedSchemes).toContainEqual({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) });
    expect(fake.protocolHandlers.has('app')).toBe(true);
    expect(fake.applicationMenu).toBeNull();
  });

  it('opens one hardened window on app://gatehouse with the preload', async () => {
    expect(FakeBrowserWindow.all).toHaveLength(1);
    const prefs = win().options.webPreferences;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });
    expect(prefs.preload).toBe(path.join(fake.app.appPath, 'dist', 'main', 'electron', 'preload.cjs'));
    expect(win().webContents.url).toBe('app://gatehouse/index.html');
    expect(win().webContents.windowOpenHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    await until(() => win().visible, 'the window to show');
    expect(fake.permissionCheck!(null, 'media', 'app://gatehouse')).toBe(false);
    const cancelled: unknown[] = [];
    fake.beforeRequest!.fn({ url: 'https://example.com/track' }, (r: unknown) => cancelled.push(r));
    expect(cancelled).toEqual([{ cancel: true }]);
  });

  it('starts the gateway and shows it in the tray (Japanese locale)', async () => {
    const st = handle.gateway!.status();
    expect(st.running).toBe(true);
    expect(st.listen!.port).toBeGreaterThan(0);
    expect(tray().image.path).toBe(path.join(fake.app.appPath, 'resources', 'tray', 'tray-running.png'));
    expect(tray().tooltip).toContain('稼働中');
    expect(tray().menu.map((i) => i.label).filter(Boolean)).toEqual(
      expect.arrayContaining(['サービスの開始', 'サービスの停止', 'Gatehouse を開く', 'ログフォルダを開く', 'ログイン時に起動', '終了']),
    );
  });

  it('answers the window over IPC and refuses anyone else', async () => {
    const r = await ipc('status');
    expect(r).toMatchObject({ ok: true, value: { running: true, dataDir: dir } });
    expect(await ipc('status', undefined, { id: 999, url: 'app://gatehouse/index.html', parent: null })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await ipc('status', undefined, { id: win().webContents.id, url: 'https://evil.example/', parent: null })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await ipc('status', undefined, { id: win().webContents.id, url: 'app://gatehouse/index.html', parent: {} })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Refused by the command's schema before the core runs it: the same answer as over HTTP.
    expect(await ipc('accounts.setBlock', { pattern: 42 })).toMatchObject({ ok: false, error: { code: 'validation', issues: [{ path: 'pattern', code: 'string' }, { path: 'block', code: 'required' }] } });
  });

  it('toggling an account over IPC changes what SMTP answers, and the log lines reach the window', async () => {
    const port = (smtpPort = handle.gateway!.status().listen!.port);
    const send = async () => {
      const c = await SmtpTestClient.connect(port);
      await c.greeting;
      await c.cmd('EHLO office.test.jp');
      await c.cmd('MAIL FROM:<baito@test.jp>');
      const r = await c.cmd('RCPT TO:<someone@example.com>');
      await c.quit();
      return r.code;
    };
    expect(await send()).toBe(550);
    await until(() => sentEvents('receivelog').some((e: any) => e.rule === 'block-external'), 'the block-external log line in the window');

    const statusEvents = sentEvents('status').length;
    const toggled = await ipc('accounts.setBlock', { pattern: 'baito@test.jp', block: false });
    expect(toggled).toMatchObject({ ok: true, value: expect.arrayContaining([expect.objectContaining({ pattern: 'baito@test.jp', blockExternal: false })]) });
    // The core announces a config change with a status event (it has no 'config' event yet).
    await until(() => sentEvents('status').length > statusEvents, 'the status event after the change');
    expect(await send()).toBe(250);
    await until(() => sentEvents('receivelog').some((e: any) => e.event === 'rcpt' && e.decision === 'accept' && e.sender === 'baito@test.jp'), 'the accepted RCPT line');
  });

  it('serves the same API over HTTP on loopback and writes admin.json for the CLI', async () => {
    const info = await until(() => fsSync.existsSync(path.join(dir, 'admin.json')) && JSON.parse(fsSync.readFileSync(path.join(dir, 'admin.json'), 'utf8')), 'admin.json');
    const url = new URL(info.url);
    const token = new URLSearchParams(url.hash.slice(1)).get('token');
    const res = await fetch(`${url.origin}/api/status`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}' });
    const body = await res.json();
    expect(body.ok).toBe(true);
    expect(body.value.running).toBe(true);
    const refused = await fetch(`${url.origin}/api/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(401);
  });

  it('closing the window hides it and keeps the gateway running; a second launch shows it again', async () => {
    const e = win().userClose();
    expect(e.defaultPrevented).toBe(true);
    expect(win().visible).toBe(false);
    expect(handle.gateway!.status().running).toBe(true);
    expect(FakeNotification.shown.some((n) => n.title.includes('トレイ'))).toBe(true);
    fake.app.emit('second-instance');
    expect(win().visible).toBe(true);
    expect(FakeBrowserWindow.all).toHaveLength(1);
  });

  it('tray Stop stops the listener without an alarm; Open log folder opens <data>/logs', async () => {
    tray().click('サービスの停止');
    await until(() => !handle.gateway!.status().running, 'the listener to stop');
    await until(() => tray().image.path.endsWith('tray-stopped.png'), 'the stopped icon');
    expect(sentEvents('status').some((s: any) => s.running === false)).toBe(true);
    tray().click('ログフォルダを開く');
    await until(() => fake.openedPaths.length > 0, 'open log folder');
    expect(fake.openedPaths).toEqual([path.join(dir, 'logs')]);
    tray().click('サービスの開始');
    await until(() => handle.gateway!.status().running, 'the listener to start again');
    expect(FakeNotification.shown.some((n) => n.title.includes('停止しました'))).toBe(false);
  });

  it('Start at login sets the login item with --hidden', async () => {
    tray().click('ログイン時に起動');
    await until(() => fake.app.loginItem.openAtLogin, 'the login item');
    expect(fake.app.loginItem.args).toContain('--hidden');
  });

  it('Quit holds Electron until the gateway is closed, then exits 0', async () => {
    const e = fake.app.requestQuit();
    expect(e.defaultPrevented).toBe(true);
    expect(await fake.app.exited).toBe(0);
    expect(handle.gateway!.status().running).toBe(false);
    expect(tray().destroyed).toBe(true);
    expect(fake.app.requestQuit().defaultPrevented).toBe(false);
    // The listener is really gone, and so is the admin API's admin.json.
    await expect(SmtpTestClient.connect(smtpPort)).rejects.toThrow();
    expect(fsSync.existsSync(path.join(dir, 'admin.json'))).toBe(false);
  });

  it('a second instance does not open anything: it quits (the first one gets second-instance)', async () => {
    fake.app.lockGranted = false;
    const quits = fake.app.quitCalls;
    const windows = FakeBrowserWindow.all.length;
    expect(await bootstrap(['electron', '.'], { GATEHOUSE_DATA: dir })).toBeNull();
    expect(fake.app.quitCalls).toBe(quits + 1);
    expect(FakeBrowserWindow.all.length).toBe(windows);
  });
});

/*
 * The desktop window's path without the Electron binary: the built renderer in real
 * Chromium (Debian's), served by the shell's app:// protocol handler (so with its CSP
 * header), with the real built preload (preload.cjs) run in the page against a stand-in
 * ipcRenderer whose calls go to the shell's IPC guard and the core's handlers of a real
 * gateway, and whose events come from that gateway. Checks the renderer picks the IPC
 * transport (no /api request is ever made), then runs the smoke scenario (toggle
 * baito@test.jp, one SMTP message, the block-external line in the live log) with no console
 * error or CSP violation. Skipped, saying how to get one, where no browser is found.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Gateway } from '../../main/core/gateway.js';
import { createCommands, gatewayPorts } from '../../main/core/commands/index.js';
import { EVENT_NAMES } from '../../main/shared/contract.js';
import { createInvokeHandler } from '../../main/electron/ipc-guard.js';
import { APP_ORIGIN, createAppProtocolHandler } from '../../main/electron/window-security.js';
import { seedDataDir, smokeFlow } from './smoke-flow.js';
import { findBrowser, howToGetBrowser, launchOptions } from '../helpers/browser.js';

const root = path.join(__dirname, '..', '..');
const hasChromium = !!(process.env.GATEHOUSE_BROWSER_PATH || process.env.GATEHOUSE_BROWSER_CHANNEL || findBrowser());
if (!hasChromium) console.log(`test/electron/renderer-ipc.test.ts: SKIPPED: ${howToGetBrowser()}`);

const ORIGIN = 'http://gatehouse.test'; // stands in for app://gatehouse, which plain Chromium cannot route
let data: string;
let gw: Gateway;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const apiRequests: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  for (const f of ['dist/renderer/index.html', 'dist/main/electron/preload.cjs']) {
    if (!fs.existsSync(path.join(root, f))) execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  }
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-ipc-ui-'));
  await seedDataDir(data);
  gw = await Gateway.open({ dataDir: data, listen: { host: '127.0.0.1', port: 0 } });
  await gw.start();

  const invoke = createInvokeHandler({ handlers: createCommands(gatewayPorts(gw)), policy: { origin: APP_ORIGIN, allowedContentsId: () => 1 } });
  const serveApp = createAppProtocolHandler(path.join(root, 'dist', 'renderer'));
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    ...launchOptions(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1280, height: 800 } });
  await context.route(`${ORIGIN}/**`, async (route) => {
    const req = route.request();
    const u = new URL(req.url());
    if (u.pathname.startsWith('/api/')) apiRequests.push(u.pathname);
    const res = await serveApp({ url: `app://gatehouse${u.pathname}${u.search}`, method: req.method() });
    await route.fulfill({ status: res.status, headers: Object.fromEntries((res.headers as unknown as Map<string, string>).entries()), body: Buffer.from(await res.arrayBuffer()) });
  });
  // ipcRenderer.invoke('gatehouse:invoke', ...) lands here, as in the main process.
  await context.exposeFunction('__ipcInvoke', (channel: string, command: unknown, args: unknown) => {
    if (channel !== 'gatehouse:invoke') return { ok: false, error: { code: 'bad-request', message: `no handler for ${channel}` } };
    return invoke({ sender: { id: 1 }, senderFrame: { url: 'app://gatehouse/index.html', parent: null } }, command, args);
  });
  const preload = fs.readFileSync(path.join(root, 'dist', 'main', 'electron', 'preload.cjs'), 'utf8');
  await context.addInitScript({
    content: `(() => {
      const listeners = new Map();
      const electron = {
        contextBridge: { exposeInMainWorld: (key, api) => Object.defineProperty(window, key, { value: Object.freeze(api) }) },
        ipcRenderer: {
          invoke: (channel, ...args) => window.__ipcInvoke(channel, ...args),
          on: (channel, l) => { if (!listeners.has(channel)) listeners.set(channel, new Set()); listeners.get(channel).add(l); },
          removeListener: (channel, l) => listeners.get(channel)?.delete(l),
        },
      };
      // webContents.send('gatehouse:event', name, data) from the main process arrives here.
      window.__ipcEmit = (channel, ...args) => { for (const l of listeners.get(channel) ?? []) l({ sender: 'IpcRendererEvent' }, ...args); };
      const require = (id) => { if (id === 'electron') return electron; throw new Error('sandboxed preload cannot require ' + id); };
      const module = { exports: {} };
      (function (exports, require, module) { ${preload}\n })(module.exports, require, module);
      document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
    })();`,
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  for (const name of EVENT_NAMES) {
    gw.on(name, (payload) => void page.evaluate(([n, d]) => (window as any).__ipcEmit('gatehouse:event', n, d), [name, payload] as const).catch(() => undefined));
  }
  await page.goto(`${ORIGIN}/index.html`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  if (data) fs.rmSync(data, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('the renderer over the IPC bridge (built preload, shell guard, real core)', () => {
  it('uses the preload bridge, not HTTP', async () => {
    await page.getByRole('tab', { name: /^(ダッシュボード|Dashboard)/ }).first().waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => Object.keys((window as any).gatehouse).sort())).toEqual(['invoke', 'on']);
    expect(apiRequests).toEqual([]);
  });

  it('runs the smoke scenario: toggle an account, send one message, see the log line', async () => {
    await smokeFlow(page, gw.status().listen!.port);
    expect(apiRequests).toEqual([]);
  });

  it('had no console error or CSP violation', () => {
    expect(problems).toEqual([]);
  });
});

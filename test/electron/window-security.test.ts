/*
 * Window security: the webPreferences, navigation / new-window / webview blocking over a
 * fake WebContents, the permission rule, and the app:// protocol handler serving files
 * from a temp folder (no traversal, CSP on every answer).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_CSP,
  APP_ENTRY,
  createAppProtocolHandler,
  hardenContents,
  isAppUrl,
  permissionAllowed,
  resolveAppFile,
  secureWebPreferences,
  type ContentsLike,
} from '../../main/electron/window-security.js';

describe('secureWebPreferences', () => {
  it('isolates and sandboxes the renderer; the preload is the only bridge', () => {
    const p = secureWebPreferences('/app/dist/main/electron/preload.cjs');
    expect(p).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, webSecurity: true, allowRunningInsecureContent: false });
    expect(p.preload).toMatch(/preload\.cjs$/);
  });

  it('the CSP allows only the app itself (no inline script, no remote connections)', () => {
    expect(APP_CSP).toContain("default-src 'self'");
    expect(APP_CSP).toContain("script-src 'self'");
    expect(APP_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });
});

class FakeContents implements ContentsLike {
  listeners = new Map<string, ((e: { preventDefault(): void }, ...a: unknown[]) => void)[]>();
  openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
  on(event: string, listener: (e: { preventDefault(): void }, ...a: unknown[]) => void) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' }) {
    this.openHandler = h;
  }
  fire(event: string, ...args: unknown[]): boolean {
    let prevented = false;
    for (const l of this.listeners.get(event) ?? []) l({ preventDefault: () => (prevented = true) }, ...args);
    return prevented;
  }
}

describe('hardenContents', () => {
  const blocked: string[] = [];
  const opened: string[] = [];
  const wc = new FakeContents();
  hardenContents(wc, { openExternal: (u) => opened.push(u), onBlocked: (what, url) => blocked.push(`${what} ${url}`) });

  it('cancels navigation and redirects away from the app', () => {
    expect(wc.fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(wc.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(wc.fire('will-redirect', 'http://127.0.0.1:8025/')).toBe(true);
    expect(wc.fire('will-navigate', { url: 'https://evil.example/' })).toBe(true); // Electron's newer event shape
    expect(wc.fire('will-navigate', APP_ENTRY)).toBe(false);
    expect(blocked.some((b) => b.startsWith('navigation https://evil.example/'))).toBe(true);
  });

  it('denies every new window; https links go to the system browser', () => {
    expect(wc.openHandler!({ url: 'https://www.example.jp/help' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'app://gatehouse/index.html' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'file:///C:/Windows/system32/calc.exe' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'https://user:pw@example.jp/' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://www.example.jp/help']);
  });

  it('refuses <webview>', () => {
    expect(wc.fire('will-attach-webview', {}, {})).toBe(true);
  });
});

describe('permissions and URLs', () => {
  it('grants only the clipboard write, only to the app', () => {
    expect(permissionAllowed('clipboard-sanitized-write', 'app://gatehouse/index.html')).toBe(true);
    expect(permissionAllowed('clipboard-sanitized-write', 'app://gatehouse')).toBe(true);
    expect(permissionAllowed('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
    for (const p of ['notifications', 'media', 'geolocation', 'openExternal', 'clipboard-read']) expect(permissionAllowed(p, 'app://gatehouse/')).toBe(false);
  });

  it('isAppUrl knows the app origin only', () => {
    expect(isAppUrl('app://gatehouse/index.html#/log')).toBe(true);
    expect(isAppUrl('app://gatehouse.evil/x')).toBe(false);
    expect(isAppUrl('app://user@gatehouse/x')).toBe(false);
    expect(isAppUrl('apps://gatehouse/x')).toBe(false);
  });
});

describe('app:// protocol handler', () => {
  let root: string;
  beforeAll(async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'gatehouse-proto-'));
    root = path.join(base, 'renderer');
    await fs.mkdir(path.join(root, 'assets'), { recursive: true });
    await fs.writeFile(path.join(root, 'index.html'), '<!doctype html><title>Gatehouse</title>');
    await fs.writeFile(path.join(root, 'assets', 'app.js'), 'console.log(1)');
    await fs.writeFile(path.join(base, 'secret.txt'), 'secret');
  });
  afterAll(async () => {
    await fs.rm(path.dirname(root), { recursive: true, force: true });
  });
  const get = (url: string, method = 'GET') => createAppProtocolHandler(root)({ url, method });

  it('serves index.html and assets with the CSP and the right types', async () => {
    for (const url of ['app://gatehouse/', 'app://gatehouse/index.html']) {
      const r = await get(url);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/text\/html/);
      expect(r.headers.get('content-security-policy')).toBe(APP_CSP);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await r.text()).toContain('Gatehouse');
    }
    const js = await get('app://gatehouse/assets/app.js?v=1');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const head = await get('app://gatehouse/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('never serves a file outside the folder', async () => {
    for (const url of ['app://gatehouse/../secret.txt', 'app://gatehouse/%2e%2e/secret.txt', 'app://gatehouse/assets/..%2f..%2fsecret.txt', 'app://gatehouse/%5c..%5csecret.txt', 'app://gatehouse/a%00b']) {
      const r = await get(url);
      expect([400, 404], url).toContain(r.status);
      expect(await r.text()).not.toContain('secret');
    }
    expect(resolveAppFile(root, 'app://other/index.html')).toBeNull();
    expect((await get('app://other/index.html')).status).toBe(400);
  });

  it('answers 404 for missing files (with a hint for a missing build) and 405 for writes', async () => {
    expect((await get('app://gatehouse/nope.js')).status).toBe(404);
    expect((await get('app://gatehouse/assets')).status).toBe(404);
    expect((await get('app://gatehouse/', 'POST')).status).toBe(405);
    const missing = await createAppProtocolHandler(path.join(root, 'nothing-here'))({ url: 'app://gatehouse/', method: 'GET' });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toMatch(/npm run build:ui/);
  });
});

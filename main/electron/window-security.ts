/*
 * The window's security settings and the app:// protocol that serves the built renderer,
 * written over minimal interfaces so tests need no Electron:
 *  - `secureWebPreferences(preload)`: contextIsolation, sandbox, no nodeIntegration, no
 *    webview, webSecurity on; the preload is the only bridge.
 *  - `hardenContents(contents, opts)`: navigation away from app://gatehouse is cancelled,
 *    every new window is denied (https links go to the system browser instead), <webview>
 *    attachment is refused.
 *  - `permissionAllowed`: the renderer gets no permission except writing to the clipboard.
 *  - `createAppProtocolHandler(root)`: app://gatehouse/<path> -> a file inside `root`
 *    (dist/renderer) with the strict CSP header; anything outside, a bad path or another
 *    host answers 400/404, never a file from elsewhere. Reads through fs, so it works inside
 *    app.asar too. It never throws: I/O failures become a 404/500 response.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CSP, MIME, resolveStaticPath } from '../headless/static-files.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'gatehouse';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** The same policy the headless host sends (default-src 'self'; no inline code). */
export const APP_CSP = CSP;

export interface SecureWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  navigateOnDragDrop: false;
  spellcheck: false;
  safeDialogs: true;
}

export function secureWebPreferences(preload: string): SecureWebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
  };
}

export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** Links the window may hand to the system browser: plain https only. */
export function isExternalLink(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** The parts of Electron's WebContents that hardenContents touches. */
export interface ContentsLike {
  on(event: 'will-navigate' | 'will-redirect' | 'will-attach-webview', listener: (event: { preventDefault(): void }, ...args: any[]) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface HardenOptions {
  openExternal?: (url: string) => void;
  onBlocked?: (what: string, url: string) => void;
}

export function hardenContents(contents: ContentsLike, opts: HardenOptions = {}): void {
  const guardNavigation = (what: string) => (event: { preventDefault(): void }, url: unknown) => {
    const target = typeof url === 'string' ? url : (url as { url?: string } | undefined)?.url ?? '';
    if (isAppUrl(target)) return;
    event.preventDefault();
    opts.onBlocked?.(what, target);
  };
  contents.on('will-navigate', guardNavigation('navigation'));
  contents.on('will-redirect', guardNavigation('redirect'));
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    opts.onBlocked?.('webview', '');
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url) && opts.openExternal) opts.openExternal(url);
    else opts.onBlocked?.('new window', url);
    return { action: 'deny' };
  });
}

/** Electron's permission request/check handlers ask this; only the clipboard write is granted. */
export function permissionAllowed(permission: string, requestingUrl: string): boolean {
  return permission === 'clipboard-sanitized-write' && isAppUrl(requestingUrl);
}


const BASE_HEADERS: Record<string, string> = {
  'content-security-policy': APP_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...BASE_HEADERS, 'content-type': 'text/plain; charset=utf-8' } });
}

export interface RequestLike {
  url: string;
  method: string;
}

/** Maps app://gatehouse/... to a file under root, or null when the URL is not acceptable. */
export function resolveAppFile(root: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  return resolveStaticPath(root, u.pathname);
}

export function createAppProtocolHandler(root: string): (request: RequestLike) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'method not allowed');
    const file = resolveAppFile(root, request.url);
    if (!file) return textResponse(400, 'bad path');
    let body: Buffer;
    try {
      const st = await fsp.stat(file);
      if (!st.isFile()) return textResponse(404, 'not found');
      body = await fsp.readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        const entry = path.basename(file) === 'index.html';
        return textResponse(404, entry ? 'The admin UI is not built. Run: npm run build:ui' : 'not found');
      }
      return textResponse(500, 'cannot read file');
    }
    const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    const headers = { ...BASE_HEADERS, 'content-type': type, 'content-length': String(body.length) };
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
  };
}

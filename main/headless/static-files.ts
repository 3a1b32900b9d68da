/*
 * Serves the built renderer (dist/renderer) for GET/HEAD: `/` is index.html, everything else
 * must be a regular file inside the folder. Paths with `..`, NUL, backslashes or encoded
 * separators are refused (400) before touching the disk; symlinks pointing outside the
 * folder are refused too (404). Every response carries the strict CSP and nosniff headers
 * (`SECURITY_HEADERS`). A missing build answers 503 with a hint, never a stack trace.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Content types of the renderer's build output (shared with the Electron app:// handler). */
export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** Maps a URL pathname to a file inside root, or null when the path is not acceptable. */
export function resolveStaticPath(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || !decoded.startsWith('/')) return null;
  const parts = decoded.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => p === '..' || p === '.' || p.includes(':'))) return null;
  const rel = parts.length === 0 ? 'index.html' : parts.join('/');
  const full = path.resolve(root, rel);
  const base = path.resolve(root);
  if (full !== base && !full.startsWith(base + path.sep)) return null;
  return full;
}

export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return plain(res, 405, 'method not allowed');
  }
  const file = resolveStaticPath(root, pathname);
  if (!file) return plain(res, 400, 'bad path');
  let real: string;
  let stat: fs.Stats;
  try {
    real = await fsp.realpath(file);
    const realRoot = await fsp.realpath(root);
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return plain(res, 404, 'not found');
    stat = await fsp.stat(real);
  } catch {
    if (pathname === '/' || pathname === '/index.html') {
      return plain(res, 503, 'The admin UI is not built. Run: npm run build:ui');
    }
    return plain(res, 404, 'not found');
  }
  if (!stat.isFile()) return plain(res, 404, 'not found');
  const type = MIME[path.extname(real).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': String(stat.size),
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') return void res.end();
  await new Promise<void>((resolve) => {
    const stream = fs.createReadStream(real);
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    stream.on('end', resolve);
    stream.pipe(res);
  });
}

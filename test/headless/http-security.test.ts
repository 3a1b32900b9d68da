/*
 * The headless admin host's transport rules, over real sockets (node:http client, so Host
 * and Origin can be set freely): token required (401), foreign Origin (403), foreign Host
 * (421, DNS rebinding), non-loopback bind refused, failed-login rate limit (429 for wrong
 * tokens only: a flood of bad tokens never locks out the right one), command
 * dispatch and error mapping (ApiError keeps code and issues), body limit, static files
 * with CSP/nosniff and no traversal, SSE delivery, and the token file (0600, reused).
 */
import http from 'node:http';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type CommandHandlers, type EventName, type Events } from '../../main/shared/contract.js';
import { startAdminServer, type AdminServer } from '../../main/headless/http-server.js';
import { loadOrCreateToken } from '../../main/headless/token.js';
import { FailureLimiter } from '../../main/headless/security.js';
import { createFake } from '../e2e/fake-handlers.js';
import { EventEmitter } from 'node:events';

const TOKEN = 'test-token-abcdefghijklmnopqrstuvwxyz012345';

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: { host: `127.0.0.1:${port}`, ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

function api(port: number, command: string, args: unknown, headers: Record<string, string> = {}): Promise<Res> {
  return request(port, {
    method: 'POST',
    path: `/api/${command}`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: JSON.stringify({ args }),
  });
}

let staticDir: string;
let server: AdminServer;
let port: number;
const bus = new EventEmitter();

beforeAll(async () => {
  staticDir = await fs.mkdtemp(path.join(os.tmpdir(), 'gatehouse-static-'));
  await fs.writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  await fs.mkdir(path.join(staticDir, 'assets'));
  await fs.writeFile(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  await fs.writeFile(path.join(path.dirname(staticDir), 'gatehouse-secret.txt'), 'secret');
  const fake = createFake();
  const handlers: CommandHandlers = {
    ...fake.handlers,
    'check': async () => {
      throw new ApiError('bad input', 'validation', [{ path: 'sender', code: 'invalid', message: 'not an address' }]);
    },
    'routes.export': async () => {
      throw new Error('disk on fire');
    },
  };
  server = await startAdminServer({
    handlers,
    subscribe: <E extends EventName>(event: E, cb: (d: Events[E]) => void) => {
      bus.on(event, cb);
      return () => void bus.off(event, cb);
    },
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    staticDir,
  });
  port = server.port;
});

afterAll(async () => {
  await server?.close();
  await fs.rm(staticDir, { recursive: true, force: true });
  await fs.rm(path.join(path.dirname(staticDir), 'gatehouse-secret.txt'), { force: true });
});

describe('admin HTTP host security', () => {
  it('answers a command with the right token', async () => {
    const r = await api(port, 'setup.needed', undefined);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true, value: false });
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
  });

  it('refuses a missing or wrong token with 401', async () => {
    const none = await request(port, { method: 'POST', path: '/api/status', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.code).toBe('unauthorized');
    const wrong = await api(port, 'status', undefined, { authorization: `Bearer ${TOKEN.slice(0, -1)}x` });
    expect(wrong.status).toBe(401);
    // ?token= is for the EventSource only, not for commands.
    const query = await request(port, { method: 'POST', path: `/api/status?token=${TOKEN}`, headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(query.status).toBe(401);
    const sse = await request(port, { path: '/api/events?token=nope' });
    expect(sse.status).toBe(401);
  });

  it('refuses a foreign Origin with 403', async () => {
    const r = await api(port, 'status', undefined, { origin: 'http://evil.example' });
    expect(r.status).toBe(403);
    const nul = await api(port, 'status', undefined, { origin: 'null' });
    expect(nul.status).toBe(403);
    const other = await api(port, 'status', undefined, { origin: `http://127.0.0.1:${port + 1}` });
    expect(other.status).toBe(403);
    const same = await api(port, 'status', undefined, { origin: `http://127.0.0.1:${port}` });
    expect(same.status).toBe(200);
    const staticPage = await request(port, { path: '/', headers: { origin: 'http://evil.example' } });
    expect(staticPage.status).toBe(403);
  });

  it('refuses a foreign Host header (DNS rebinding) with 421', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `192.168.0.5:${port}`]) {
      const r = await api(port, 'status', undefined, { host });
      expect(r.status, host).toBe(421);
    }
    const page = await request(port, { path: '/', headers: { host: 'rebind.example' } });
    expect(page.status).toBe(421);
    for (const host of [`localhost:${port}`, `[::1]:${port}`, `127.0.0.1:${port}`]) {
      const r = await api(port, 'status', undefined, { host });
      expect(r.status, host).toBe(200);
    }
  });

  it('refuses to bind a non-loopback host', async () => {
    const fake = createFake();
    for (const host of ['0.0.0.0', '::', '192.168.0.103', 'example.com', '']) {
      await expect(startAdminServer({ handlers: fake.handlers, subscribe: fake.subscribe, host, port: 0, token: TOKEN, staticDir })).rejects.toThrow(/loopback/);
    }
  });

  it('keeps an ApiError code and issues, and hides nothing else', async () => {
    const r = await api(port, 'check', { sender: 'x', recipient: 'y', clientIp: '127.0.0.1' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: false, error: { code: 'validation', message: 'bad input', issues: [{ path: 'sender', code: 'invalid', message: 'not an address' }] } });
    const internal = await api(port, 'routes.export', undefined);
    expect(internal.status).toBe(200);
    expect(JSON.parse(internal.body).error).toEqual({ code: 'internal', message: 'disk on fire' });
    const unknown = await api(port, 'no.such.command', undefined);
    expect(unknown.status).toBe(404);
    const proto = await api(port, '__proto__', undefined);
    expect(proto.status).toBe(404);
  });

  it('refuses bad bodies: not JSON, wrong content type, wrong method, over 10 MB', async () => {
    const notJson = await request(port, { method: 'POST', path: '/api/status', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{oops' });
    expect(notJson.status).toBe(400);
    const form = await request(port, { method: 'POST', path: '/api/status', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(form.status).toBe(415);
    const get = await request(port, { path: '/api/status', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(405);
    const big = Buffer.alloc(10 * 1024 * 1024 + 10, 0x20);
    const tooBig = await request(port, { method: 'POST', path: '/api/status', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: big }).catch((e: Error) => ({ status: -1, body: e.message, headers: {} }));
    expect([413, -1]).toContain(tooBig.status);
    // Still serving afterwards.
    expect((await api(port, 'status', undefined)).status).toBe(200);
  });

  it('serves static files with CSP and nosniff, and no traversal', async () => {
    const index = await request(port, { path: '/' });
    expect(index.status).toBe(200);
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const js = await request(port, { path: '/assets/app.js' });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    for (const p of ['/../gatehouse-secret.txt', '/%2e%2e/gatehouse-secret.txt', '/assets/..%2f..%2fgatehouse-secret.txt', '/assets%5c..%5c..%5cgatehouse-secret.txt', '/%00', '/assets/']) {
      const r = await request(port, { path: p });
      expect(r.status, p).not.toBe(200);
      expect(r.body).not.toContain('secret');
    }
  });

  it('streams events over SSE to a client with the token in the query', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `/api/events?token=${TOKEN}`, headers: { host: `127.0.0.1:${port}` } }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          if (buf.includes('connected')) bus.emit('receivelog', { ts: '2025-01-01T00:00:00.000Z', event: 'rcpt', session: 's', clientIp: '127.0.0.1', tls: false, rule: 'block-external' });
          const m = /event: receivelog\ndata: (.*)\n\n/.exec(buf);
          if (m) {
            req.destroy();
            resolve(m[1]!);
          }
        });
      });
      req.on('error', reject);
      setTimeout(() => reject(new Error('no event within 2 s')), 2000);
    });
    expect(JSON.parse(got).rule).toBe('block-external');
  });

  it('rate-limits wrong tokens (429 past 20 a minute) and never the right one', async () => {
    // A separate server so the other tests keep their quota.
    const fake = createFake();
    const s = await startAdminServer({ handlers: fake.handlers, subscribe: fake.subscribe, host: '127.0.0.1', port: 0, token: TOKEN, staticDir });
    try {
      // A local process floods bad tokens from 127.0.0.1, the address the UI and CLI use too.
      const bad: Res[] = [];
      for (let i = 0; i < 30; i++) bad.push(await api(s.port, 'status', undefined, { authorization: `Bearer wrong-${i}` }));
      expect(bad.slice(0, 20).map((r) => r.status)).toEqual(Array(20).fill(401));
      expect(bad.slice(20).map((r) => r.status)).toEqual(Array(10).fill(429));
      const retry = Number(bad[29]!.headers['retry-after']);
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
      expect(JSON.parse(bad[29]!.body).error.code).toBe('rate-limited');
      // The right token works at once, for commands and for the event stream.
      const ok = await api(s.port, 'status', undefined);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).ok).toBe(true);
      const events = await new Promise<number>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: s.port, path: `/api/events?token=${TOKEN}`, headers: { host: `127.0.0.1:${s.port}` } }, (res) => {
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.on('error', reject);
      });
      expect(events).toBe(200);
      // Interleaved: bad ones stay throttled, good ones keep working.
      for (let i = 0; i < 5; i++) {
        expect((await api(s.port, 'status', undefined, { authorization: 'Bearer wrong' })).status).toBe(429);
        expect((await api(s.port, 'status', undefined)).status).toBe(200);
      }
      // No token at all counts as a failure too.
      const none = await request(s.port, { method: 'POST', path: '/api/status', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(none.status).toBe(429);
    } finally {
      await s.close();
    }
  });

  it('FailureLimiter: a sliding minute per address, Retry-After until it frees, bounded memory', () => {
    let now = 1_000_000;
    const l = new FailureLimiter(20, 60_000, () => now);
    for (let i = 0; i < 20; i++) {
      l.fail('127.0.0.1');
      now += 1000;
    }
    expect(l.limited('127.0.0.1')).toBe(false);
    expect(l.retryAfterSeconds('127.0.0.1')).toBe(0);
    l.fail('127.0.0.1'); // the 21st, at +20 s
    expect(l.limited('127.0.0.1')).toBe(true);
    expect(l.limited('127.0.0.9')).toBe(false);
    // The first failure (at +0 s) leaves the window at +60 s: 40 s from now.
    expect(l.retryAfterSeconds('127.0.0.1')).toBe(40);
    now += 40_001;
    expect(l.limited('127.0.0.1')).toBe(false);
    for (let i = 0; i < 10_000; i++) l.fail('127.0.0.1');
    expect((l as unknown as { failures: Map<string, number[]> }).failures.get('127.0.0.1')!.length).toBe(21);
    now += 60_001;
    expect(l.limited('127.0.0.1')).toBe(false);
    expect((l as unknown as { failures: Map<string, number[]> }).failures.size).toBe(0);
  });
});

describe('admin token file', () => {
  it('is made once with mode 0600 and reused', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gatehouse-token-'));
    try {
      const a = await loadOrCreateToken(dir);
      expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const st = await fs.stat(path.join(dir, 'admin-token'));
      if (process.platform !== 'win32') expect(st.mode & 0o777).toBe(0o600);
      expect(await loadOrCreateToken(dir)).toBe(a);
      await fs.writeFile(path.join(dir, 'admin-token'), 'short');
      await expect(loadOrCreateToken(dir)).rejects.toThrow(/valid admin token/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

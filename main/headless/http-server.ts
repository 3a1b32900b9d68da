/*
 * The headless admin host (`gatehouse serve`): node:http on a loopback address serving the
 * built renderer, `POST /api/<command>` (JSON `{args}` -> JSON ApiResult) and
 * `GET /api/events` (SSE). `startAdminServer` resolves to the bound URL (no trailing slash),
 * port and a `close()`; it rejects for a non-loopback host or when the port cannot be bound.
 *
 * Every request: the Host header must name this port on 127.0.0.1 / localhost / [::1]
 * (else 421, against DNS rebinding); a present Origin must be ours (else 403). Every /api
 * request: the token (Bearer header, or `?token=` for the EventSource only) is compared in
 * constant time, before anything else is decided: the right token is always let through.
 * A wrong one gets 401, or 429 (with Retry-After) once its address has failed more than 20
 * times in the last minute; failures never lock out the right token, which matters because
 * every local process, the UI's and a hostile one alike, is 127.0.0.1. A command's outcome
 * is always HTTP 200 with an ApiResult: the command goes through the core's dispatcher
 * (arguments checked against the command's schema, then its function), so a refusal keeps
 * its code and issues (bad arguments are 'validation'), any other throw becomes code
 * 'internal'. The body is `{args, via?}`: `via` ('ui' from the window, 'cli' from the CLI,
 * else 'api') is what the audit trail records.
 * Nothing a client sends can crash the process.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isCommandName, type ApiResult, type CommandHandlers } from '../shared/contract.js';
import type { ChangeVia } from '../shared/types.js';
import { createDispatcher } from '../core/commands/dispatch.js';
import { FailureLimiter, allowedHosts, bearerToken, hostAllowed, isLoopbackHost, originAllowed, tokenMatches } from './security.js';
import { SseHub, type Subscribe } from './sse.js';
import { SECURITY_HEADERS, serveStatic } from './static-files.js';

export interface AdminServerOptions {
  handlers: CommandHandlers;
  subscribe: Subscribe;
  /** Must be loopback (127.0.0.0/8, ::1, localhost); anything else is refused. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** Tests only: a shorter SSE heartbeat. */
  heartbeatMs?: number;
}

export interface AdminServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: ApiResult<unknown>): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { ok: false, error: { code, message } });
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  if (!isLoopbackHost(opts.host)) {
    throw new Error(`admin host must be a loopback address (127.0.0.1, ::1 or localhost), not "${opts.host}"`);
  }
  if (!opts.token || opts.token.length < 16) throw new Error('admin token is missing or too short');
  const bindHost = opts.host.toLowerCase() === 'localhost' ? '127.0.0.1' : opts.host.replace(/^\[(.*)\]$/, '$1');
  const limiter = new FailureLimiter();
  let allowed = new Set<string>();
  const hub = new SseHub(opts.subscribe, opts.heartbeatMs);

  const dispatch = createDispatcher(opts.handlers);

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const isEvents = url.pathname === '/api/events';
    const presented = bearerToken(req.headers.authorization) ?? (isEvents ? url.searchParams.get('token') : null);
    // The token first: the limiter only ever sees (and slows) wrong ones.
    if (!tokenMatches(presented, opts.token)) {
      const ip = req.socket.remoteAddress ?? 'unknown';
      limiter.fail(ip);
      if (limiter.limited(ip)) {
        res.setHeader('retry-after', String(limiter.retryAfterSeconds(ip)));
        return sendError(res, 429, 'rate-limited', 'too many failed logins from this address; wait a minute');
      }
      res.setHeader('www-authenticate', 'Bearer');
      return sendError(res, 401, 'unauthorized', 'missing or wrong admin token; open the URL printed by gatehouse serve');
    }

    if (isEvents) {
      if (req.method !== 'GET') return sendError(res, 405, 'bad-request', 'use GET for /api/events');
      hub.add(res);
      return;
    }

    const name = url.pathname.slice('/api/'.length);
    if (!isCommandName(name)) return sendError(res, 404, 'not-found', `unknown command "${name}"`);
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendError(res, 405, 'bad-request', 'use POST for commands');
    }
    const ctype = String(req.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(ctype)) {
      return sendError(res, 415, 'bad-request', 'send Content-Type: application/json');
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        sendError(res, 413, 'too-large', `request body over ${MAX_BODY_BYTES} bytes`);
        res.on('finish', () => req.destroy());
        return;
      }
      return sendError(res, 400, 'bad-request', 'could not read the request body');
    }
    let args: unknown = undefined;
    let via: ChangeVia = 'api';
    if (body.length) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendError(res, 400, 'bad-request', 'request body is not valid JSON');
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        return sendError(res, 400, 'bad-request', 'request body must be a JSON object {"args": ...}');
      }
      args = (parsed as { args?: unknown }).args;
      const claimed = (parsed as { via?: unknown }).via;
      if (claimed === 'ui' || claimed === 'cli') via = claimed;
    }
    // The transport worked; the command's own failure is 200 with ok:false (the HTTP status
    // is kept for refusals by the transport itself, so a form error is not a browser error).
    sendJson(res, 200, await dispatch(name, args, { via }));
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      if (!hostAllowed(req.headers.host, allowed)) {
        return sendError(res, 421, 'forbidden', 'unknown Host header; use the URL printed by gatehouse serve');
      }
      const origin = req.headers.origin;
      if (!originAllowed(typeof origin === 'string' ? origin : undefined, allowed)) {
        return sendError(res, 403, 'forbidden', 'cross-origin requests are refused');
      }
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        return sendError(res, 400, 'bad-request', 'bad URL');
      }
      if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return handleApi(req, res, url);
      return serveStatic(opts.staticDir, req, res, url.pathname);
    })().catch((err: unknown) => {
      sendError(res, 500, 'internal', err instanceof Error ? err.message : String(err));
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    hub.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  allowed = allowedHosts(bindHost, port);
  const urlHost = bindHost.includes(':') ? `[${bindHost}]` : bindHost;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        hub.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

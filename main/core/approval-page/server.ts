/*
 * The LAN approval page's HTTP(S) server: `GET /h/<token>` shows the one message the token was
 * made for (verifyToken: nothing is used up), `POST /h` with the token, the action and the
 * reason in a urlencoded form decides it (consumeToken: the token is used up first). Anything
 * else is a small "open the link from the notice" page (404) or 405. `startPageServer`
 * resolves once it listens (the bound port) or rejects when it cannot bind.
 *
 * Security, in the order a request meets it:
 *  - No cookies, no session, no script: the token in the URL (GET) or in the body (POST) is
 *    the only credential, so a cross-site form cannot forge a decision without it (CSRF), and
 *    a rebinding DNS name gains nothing (no ambient authority to borrow). A present Origin
 *    other than `null` and our own host is refused all the same.
 *  - Tokens are looked up before the limiter is asked: a valid token, or one that once was
 *    (used, expired, its message decided), is always answered; only unknown ones count as
 *    failures per client address, and past 20 a minute they get 429 with Retry-After. So a
 *    flood of guesses (hopeless anyway: 256 bits) never locks out an approver's real link.
 *  - Every answer: a strict CSP (no script, one hashed style, forms to ourselves, no frames),
 *    no-referrer (the token never leaks in a Referer), no-store, nosniff, DENY framing.
 *  - Bodies over 16 KB are refused (413); nothing a client sends can crash the process.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import type { HeldItem } from '../../shared/outbound.js';
import { FailureLimiter } from '../failure-limiter.js';
import type { TokenPurpose } from '../outbound/tokens.js';
import type { TokenAction, TokenRefusal } from '../outbound/held-queue.js';
import { PAGE_CSP, donePage, messagePage, refusalPage, type Done } from './html.js';
import { pickLang, type PageLang, type PageTextKey } from './texts.js';

export interface PageHandlers {
  verify(token: string): Promise<{ ok: true; item: HeldItem; purpose: TokenPurpose; address: string; expiresAt: string } | { ok: false; reason: TokenRefusal }>;
  consume(token: string, action: TokenAction, reason: string): Promise<{ ok: true } | { ok: false; reason: TokenRefusal }>;
}

export interface PageServerOptions {
  host: string;
  port: number;
  /** PEM key and certificate: HTTPS; absent: plain HTTP. */
  tls?: { key: Buffer; cert: Buffer } | null;
  handlers: PageHandlers;
  /** Tests: a limiter with a clock. */
  limiter?: FailureLimiter;
  /** Something went wrong inside (a decision that threw): for the receivelog. */
  onError?(message: string): void;
}

export interface PageServer {
  port: number;
  https: boolean;
  close(): Promise<void>;
}

export const MAX_FORM_BYTES = 16 * 1024;

const HEADERS: Record<string, string> = {
  'content-security-policy': PAGE_CSP,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-robots-tag': 'noindex, nofollow',
};

const REFUSAL_TEXT: Record<TokenRefusal, PageTextKey> = {
  unknown: 'unknown',
  expired: 'expired',
  used: 'used',
  decided: 'decided',
  'wrong-action': 'wrongAction',
};

const REFUSAL_STATUS: Record<TokenRefusal, number> = { unknown: 404, expired: 410, used: 410, decided: 409, 'wrong-action': 400 };

const ACTIONS = new Set<TokenAction>(['approve', 'reject', 'cancel', 'send-now']);

function send(res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { ...HEADERS, ...extra, 'content-type': 'text/html; charset=utf-8', 'content-length': String(Buffer.byteLength(html)) });
  res.end(html);
}

class TooLarge extends Error {}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_FORM_BYTES) return reject(new TooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORM_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        return reject(new TooLarge());
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/** An Origin is fine when absent, `null` (no-referrer makes browsers send that), or our own host. */
function originOk(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return true;
  try {
    return new URL(origin).host.toLowerCase() === String(req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

export async function startPageServer(opts: PageServerOptions): Promise<PageServer> {
  const limiter = opts.limiter ?? new FailureLimiter();
  const { handlers } = opts;

  /** Counts an unknown token; true (and the 429 page sent) once the address is over the limit. */
  const limited = (req: IncomingMessage, res: ServerResponse, lang: PageLang): boolean => {
    const ip = req.socket.remoteAddress ?? 'unknown';
    limiter.fail(ip);
    if (!limiter.limited(ip)) return false;
    const seconds = String(limiter.retryAfterSeconds(ip));
    send(res, 429, refusalPage(lang, 'limited', { seconds }, 'limitedTitle'), { 'retry-after': seconds });
    return true;
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, lang: PageLang, reason: TokenRefusal, self: string | null): void => {
    if (reason === 'unknown' && limited(req, res, lang)) return;
    send(res, REFUSAL_STATUS[reason], refusalPage(lang, REFUSAL_TEXT[reason], {}, 'refusedTitle', self));
  };

  const show = async (req: IncomingMessage, res: ServerResponse, url: URL, token: string): Promise<void> => {
    const lang = pickLang(url.searchParams.get('lang'), req.headers['accept-language']);
    const self = `/h/${encodeURIComponent(token)}`;
    const v = await handlers.verify(token);
    if (!v.ok) return refuse(req, res, lang, v.reason, self);
    send(res, 200, messagePage({ lang, item: v.item, token, address: v.address, expiresAt: v.expiresAt, self }));
  };

  const decide = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let form: URLSearchParams;
    try {
      form = await readForm(req);
    } catch (err) {
      const lang = pickLang(null, req.headers['accept-language']);
      if (err instanceof TooLarge) {
        res.setHeader('connection', 'close');
        send(res, 413, refusalPage(lang, 'unknown'));
        res.on('finish', () => req.destroy());
        return;
      }
      return send(res, 400, refusalPage(lang, 'unknown'));
    }
    const lang = pickLang(form.get('lang'), req.headers['accept-language']);
    const token = form.get('token') ?? '';
    const action = form.get('action') as TokenAction | null;
    const reason = (form.get('reason') ?? '').trim().slice(0, 1000);
    const self = `/h/${encodeURIComponent(token)}`;
    const v = await handlers.verify(token);
    if (!v.ok) return refuse(req, res, lang, v.reason, null);
    if (!action || !ACTIONS.has(action)) return refuse(req, res, lang, 'wrong-action', null);
    if (action === 'reject' && reason === '') {
      // The sender deserves to know why: the page comes back with the problem, nothing used up.
      return send(res, 400, messagePage({ lang, item: v.item, token, address: v.address, expiresAt: v.expiresAt, self, problem: 'reasonNeeded' }));
    }
    const r = await handlers.consume(token, action, reason);
    if (!r.ok) return refuse(req, res, lang, r.reason, null);
    send(res, 200, donePage(lang, action satisfies Done));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://page.invalid');
    } catch {
      return send(res, 400, refusalPage('ja', 'notFound'));
    }
    const lang = () => pickLang(url.searchParams.get('lang'), req.headers['accept-language']);
    if (!originOk(req)) return send(res, 403, refusalPage(lang(), 'notFound'));
    const m = /^\/h\/([^/]*)$/.exec(url.pathname);
    if (m) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, refusalPage(lang(), 'notFound'), { allow: 'GET' });
      let token: string;
      try {
        token = decodeURIComponent(m[1]!);
      } catch {
        token = '';
      }
      return show(req, res, url, token);
    }
    if (url.pathname === '/h') {
      if (req.method !== 'POST') return send(res, 405, refusalPage(lang(), 'notFound'), { allow: 'POST' });
      return decide(req, res);
    }
    return send(res, 404, refusalPage(lang(), 'notFound', {}, 'refusedTitle'));
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      opts.onError?.(`approval page: ${message}`);
      // The details go to the log, not to a page anyone on the LAN may open (and they are English).
      send(res, 500, refusalPage(pickLang(null, req.headers['accept-language']), 'failed', {}, 'failedTitle'));
    });
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, listener) : http.createServer(listener);
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  const bindHost = opts.host.replace(/^\[(.*)\]$/, '$1');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    https: Boolean(opts.tls),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

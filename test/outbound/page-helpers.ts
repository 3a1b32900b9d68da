/*
 * Helpers for the LAN approval page tests: a plain HTTP(S) request that keeps the status, the
 * headers and the body (self-signed certificates accepted only when the test says so), a form
 * post, and the page links found in the notice mails an office sink received.
 */
import http from 'node:http';
import https from 'node:https';
import type { TestSink } from '../hardening/helpers.js';
import { readable } from './helpers.js';

export interface PageAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(url: string, opts: { method?: string; body?: string; headers?: Record<string, string>; ca?: Buffer | string; localAddress?: string } = {}): Promise<PageAnswer> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers: { ...(opts.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        ...(u.protocol === 'https:' ? { ca: opts.ca, servername: undefined, checkServerIdentity: () => undefined } : {}),
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** POSTs the page's form: the token, the action, a reason, a language. */
export function postForm(base: string, fields: Record<string, string>, opts: { ca?: Buffer | string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<PageAnswer> {
  return request(`${base}/h`, { method: 'POST', body: new URLSearchParams(fields).toString(), ...opts });
}

/** Every approval page link in the notices `rcpt` got, oldest first. */
export function pageLinks(sink: TestSink, rcpt: string): string[] {
  const out: string[] = [];
  for (const m of sink.messages) {
    if (!m.to.includes(rcpt) || m.from !== '') continue;
    for (const x of readable(m.raw).matchAll(/https?:\/\/[^\s/]+\/h\/[A-Za-z0-9_-]{43}/g)) if (!out.includes(x[0])) out.push(x[0]);
  }
  return out;
}

export function tokenOf(link: string): string {
  return link.slice(link.lastIndexOf('/') + 1);
}

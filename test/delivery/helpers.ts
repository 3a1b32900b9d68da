/*
 * Test fixtures for delivery: real smtp-server sinks on loopback (office server, smarthost,
 * remote MX) whose replies a test scripts per RCPT / DATA, a real Spool in a temp dir, a scripted
 * resolver that maps names to 127.x addresses (for tests that need no DNS server; the others
 * use test/helpers/dns-server.ts), a config for the office,
 * a bounded waitFor, a small multipart parser for DSNs, and the per-test cleanups.
 */
import { afterEach } from 'vitest';
import { loadTlsMaterial } from '../../main/core/smtp/tls.js';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { Spool } from '../../main/core/spool/index.js';
import { defaultConfig } from '../../main/core/config/index.js';
import type { GatehouseConfig, SenderLogEntry } from '../../main/shared/types.js';
import type { MxResolver } from '../../main/core/delivery/index.js';
import { DeliveryRunner, type DeliveryDeps } from '../../main/core/delivery/index.js';

export interface Received {
  from: string;
  to: string[];
  raw: Buffer;
  secure: boolean;
  user?: string;
  /** MAIL FROM's BODY= parameter (8BITMIME), if the client gave one. */
  body?: string;
}

export type Reply = { code: number; message: string } | null;

export interface SinkOptions {
  host?: string;
  port?: number;
  /** null = accept. */
  rcpt?(addr: string, n: number): Reply;
  mail?(addr: string): Reply;
  /** Reply to the message (after it is recorded); may delay. */
  data?(msg: Received, n: number): Reply | Promise<Reply>;
  tls?: { key: Buffer; cert: Buffer };
  auth?: { user: string; pass: string };
  /** Offer STARTTLS (smtp-server's own certificate unless tls is given). Default false. */
  starttls?: boolean;
  /** Implicit TLS (port-465 style) with `tls`. */
  implicitTls?: boolean;
  /** Greeting reply instead of 220 (e.g. 421 busy): the connection is refused politely. */
  greet?: Reply;
}

export interface Sink {
  host: string;
  port: number;
  messages: Received[];
  connections: number;
  maxConcurrent: number;
  rcptCalls: number;
  close(): Promise<void>;
}

function smtpError(r: NonNullable<Reply>): Error {
  return Object.assign(new Error(r.message), { responseCode: r.code });
}

export async function startSink(o: SinkOptions = {}): Promise<Sink> {
  const host = o.host ?? '127.0.0.1';
  let concurrent = 0;
  let rcptN = 0;
  let dataN = 0;
  const sink: Sink = { host, port: 0, messages: [], connections: 0, maxConcurrent: 0, rcptCalls: 0, close: async () => undefined };
  const opts: SMTPServerOptions = {
    logger: false,
    // smtp-server would ask DNS for the client's PTR record: never from tests.
    disableReverseLookup: true,
    closeTimeout: 200,
    hideSTARTTLS: !o.starttls && !o.tls,
    authOptional: !o.auth,
    disabledCommands: o.auth ? [] : ['AUTH'],
    onConnect(_s: SMTPServerSession, cb: (err?: Error | null) => void) {
      sink.connections++;
      concurrent++;
      sink.maxConcurrent = Math.max(sink.maxConcurrent, concurrent);
      cb(o.greet ? smtpError(o.greet) : undefined);
    },
    onClose() {
      concurrent--;
    },
    onAuth(auth, _session, cb) {
      if (o.auth && auth.username === o.auth.user && auth.password === o.auth.pass) return cb(null, { user: auth.username });
      return cb(smtpError({ code: 535, message: '5.7.8 Authentication credentials invalid' }));
    },
    onMailFrom(addr, _s, cb) {
      const r = o.mail?.(addr.address) ?? null;
      cb(r ? smtpError(r) : undefined);
    },
    onRcptTo(addr, _s, cb) {
      sink.rcptCalls++;
      const r = o.rcpt?.(addr.address, ++rcptN) ?? null;
      cb(r ? smtpError(r) : undefined);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const msg: Received = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          secure: session.secure,
        };
        if (session.user) msg.user = String(session.user);
        const args = session.envelope.mailFrom ? session.envelope.mailFrom.args : false;
        if (args && typeof args.BODY === 'string') msg.body = args.BODY;
        sink.messages.push(msg);
        Promise.resolve(o.data?.(msg, ++dataN) ?? null).then(
          (r) => cb(r ? smtpError(r) : null),
          () => cb(null),
        );
      });
    },
  };
  if (o.tls) {
    opts.key = o.tls.key;
    opts.cert = o.tls.cert;
    if (o.implicitTls) opts.secure = true;
  }
  const server = new SMTPServer(opts);
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  sink.port = (server.server.address() as net.AddressInfo).port;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

/** A port on `host` where nothing listens (bound, then released). */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Names -> 127.x only. Unknown names fail like NXDOMAIN; `fail` entries with their code. */
export function fakeResolver(t: {
  mx?: Record<string, { exchange: string; priority: number }[] | string>;
  hosts?: Record<string, string[] | string>;
}): MxResolver & { asked: string[] } {
  const asked: string[] = [];
  const err = (code: string, name: string) => Object.assign(new Error(`fake DNS: ${code} ${name}`), { code });
  return {
    asked,
    async resolveMx(domain) {
      asked.push(`MX ${domain}`);
      const v = t.mx?.[domain];
      if (v === undefined) throw err('ENODATA', domain);
      if (typeof v === 'string') throw err(v, domain);
      return v;
    },
    async resolveHost(name) {
      asked.push(`A ${name}`);
      const v = t.hosts?.[name];
      if (v === undefined) throw err('ENOTFOUND', name);
      if (typeof v === 'string') throw err(v, name);
      for (const a of v) if (!a.startsWith('127.')) throw new Error(`test resolver must map to loopback, not ${a}`);
      return v;
    },
  };
}

export async function tempDir(prefix = 'gatehouse-delivery-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function openSpool(dir?: string): Promise<{ spool: Spool; dir: string }> {
  const d = dir ?? (await tempDir());
  const spool = new Spool(path.join(d, 'spool'));
  await spool.open();
  return { spool, dir: d };
}

/** The office: test.jp internal, routed to `office`; tiny timings for tests. */
export function testConfig(patch?: (c: GatehouseConfig) => void): GatehouseConfig {
  const c = defaultConfig('linux');
  c.hostname = 'gw.test.jp';
  c.internalDomains = ['test.jp'];
  c.routes = [];
  c.delivery = {
    ...c.delivery,
    smarthost: null,
    transportOverrides: [],
    retrySchedule: [0.2],
    maxLifetimeSeconds: 60,
    delayWarningSeconds: 0,
    maxConnectionsPerHop: 5,
    maxConnectionsTotal: 20,
    connectTimeoutMs: 2000,
  };
  patch?.(c);
  return c;
}

export interface Harness {
  runner: DeliveryRunner;
  spool: Spool;
  dir: string;
  log: SenderLogEntry[];
  config: GatehouseConfig;
  send(sender: string, recipients: string[], extraHeaders?: string, body?: string): Promise<string>;
  close(): Promise<void>;
}

let seq = 0;

export function message(sender: string, recipients: string[], extraHeaders = '', body = 'Hello from the test.\r\n'): Buffer {
  const id = `<t${process.pid}.${++seq}.${Date.now()}@test.jp>`;
  return Buffer.from(
    `From: ${sender || 'MAILER-DAEMON@test.jp'}\r\nTo: ${recipients.join(', ')}\r\nSubject: test ${seq}\r\nMessage-ID: ${id}\r\n${extraHeaders}\r\n${body}`,
    'utf8',
  );
}

export async function harness(config: GatehouseConfig, extra: Partial<DeliveryDeps> = {}, spoolDir?: string): Promise<Harness> {
  const { spool, dir } = await openSpool(spoolDir);
  const log: SenderLogEntry[] = [];
  const runner = new DeliveryRunner({ spool, config: () => config, log: (e) => log.push(e), ...extra });
  runner.start([]);
  return {
    runner,
    spool,
    dir,
    log,
    config,
    async send(sender, recipients, extraHeaders, body) {
      const h = await spool.write({ sender, recipients, clientIp: '127.0.0.2', session: 'test', trusted: true }, message(sender, recipients, extraHeaders, body));
      runner.enqueue(h);
      return h.id;
    },
    async close() {
      await runner.stop();
      await spool.close();
      if (!spoolDir) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Poll until `fn` is truthy; fails after `ms`. Bounded. */
export async function waitFor<T>(fn: () => T | Promise<T>, ms = 8000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Part {
  headers: Record<string, string>;
  body: string;
}

function parseHeaders(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

/** Split a message into its headers and (one level of) MIME parts. */
export function parseMime(raw: Buffer | string): { headers: Record<string, string>; parts: Part[] } {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
  const sep = text.indexOf('\r\n\r\n');
  const headers = parseHeaders(text.slice(0, sep));
  const m = /boundary="([^"]+)"/.exec(headers['content-type'] ?? '');
  if (!m) return { headers, parts: [] };
  const chunks = text.slice(sep + 4).split(`--${m[1]}`);
  const parts: Part[] = [];
  for (const c of chunks.slice(1)) {
    if (c.startsWith('--')) break;
    const body = c.replace(/^\r\n/, '');
    const s = body.indexOf('\r\n\r\n');
    const ph = parseHeaders(body.slice(0, s));
    let b = body.slice(s + 4).replace(/\r\n$/, '');
    if ((ph['content-transfer-encoding'] ?? '').toLowerCase() === 'base64') b = Buffer.from(b.replace(/\s+/g, ''), 'base64').toString('utf8');
    parts.push({ headers: ph, body: b });
  }
  return { headers, parts };
}

/** Per-recipient field groups of a message/delivery-status body (the first group is per-message). */
export function statusGroups(body: string): Record<string, string>[] {
  return body
    .split(/\r\n\r\n/)
    .map((g) => g.trim())
    .filter(Boolean)
    .map((g) => parseHeaders(g));
}

/** Self-signed cert for localhost, or null when openssl is missing. */
/** A self-signed certificate for a test server, made by the gateway's own first-run code. */
export async function makeCert(dir: string): Promise<{ key: Buffer; cert: Buffer }> {
  const m = await loadTlsMaterial(dir, { mode: 'auto', certFile: '', keyFile: '' }, 'localhost');
  return { key: m!.key, cert: m!.cert };
}

/**
 * Cleanups that run after each test of the file, last added first; one that fails does not
 * stop the others. Call once per file, at top level (it registers the afterEach hook).
 * sinkOf starts a sink that is closed after the test.
 */
export function cleanupsAfterEach(): { cleanups: (() => Promise<unknown>)[]; sinkOf(...args: Parameters<typeof startSink>): Promise<Sink> } {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  return {
    cleanups,
    async sinkOf(...args: Parameters<typeof startSink>): Promise<Sink> {
      const sink = await startSink(...args);
      cleanups.push(() => sink.close());
      return sink;
    },
  };
}

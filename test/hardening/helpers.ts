/*
 * Fixtures for the hardening tests (issue 7): a real SMTP sink on loopback that stands for
 * the office server or a smarthost (records every message with its raw bytes and Message-ID,
 * answers as the test scripts it, can go down and come back on the same port), an in-process
 * Gateway opener that takes a resolver and a data dir, `gatehouse serve` as a child process
 * (start, read the port, kill -9), a bounded waitFor, and byte checks for forwarded mail.
 * Nothing here talks to anything but 127.0.0.0/8. Helpers throw on timeouts with a message
 * saying what was awaited; they never retry silently.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { Gateway, type GatewayOptions } from '../../main/core/gateway.js';
import type { MxResolver } from '../../main/core/delivery/index.js';
import type { GatehouseConfig, ReceiveLogEntry, SenderLogEntry } from '../../main/shared/types.js';
import { NO_DNS, officeConfig, tempDir } from '../helpers/gateway.js';
import { spawnWait } from '../helpers/slow.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'gatehouse.js');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll until `fn` is truthy; throws after `ms` naming `what`. */
export async function waitFor<T>(fn: () => T | Promise<T>, ms: number, what: string): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

// ---------------------------------------------------------------------------------------------
// The sink

export interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
  messageId: string | null;
  clientIp: string;
}

export type SinkReply = { code: number; message: string } | null;

/** What the sink does; tests change these fields while it runs. */
export interface SinkBehaviour {
  /** Delay before the 220 greeting (a slow upstream). */
  greetDelayMs: number;
  /** Reply to RCPT (null = 250). */
  rcpt(addr: string): SinkReply;
  /** Reply after the message was received (null = 250); recorded only when accepted. */
  data(msg: SinkMessage): SinkReply;
  /** Delay before the reply to the end of DATA. */
  dataDelayMs: number;
}

export function messageIdOf(raw: Buffer): string | null {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const m = /^message-id:\s*(<[^>\r\n]*>)/im.exec(head);
  return m ? m[1] : null;
}

export class TestSink {
  readonly messages: SinkMessage[] = [];
  /** Every DATA the sink saw, accepted or refused. */
  readonly seen: SinkMessage[] = [];
  readonly behaviour: SinkBehaviour = { greetDelayMs: 0, rcpt: () => null, data: () => null, dataDelayMs: 0 };
  connections = 0;
  private server: SMTPServer | null = null;

  private constructor(
    readonly host: string,
    public port: number,
  ) {}

  static async start(opts: { host?: string; port?: number } = {}): Promise<TestSink> {
    const sink = new TestSink(opts.host ?? '127.0.0.1', opts.port ?? 0);
    await sink.up();
    return sink;
  }

  /** Per-Message-ID delivery counts of accepted messages. */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const x of this.messages) if (x.messageId) m.set(x.messageId, (m.get(x.messageId) ?? 0) + 1);
    return m;
  }

  get running(): boolean {
    return this.server !== null;
  }

  /** Listen (again) on the same port. */
  async up(): Promise<void> {
    if (this.server) return;
    const b = this.behaviour;
    const server = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      closeTimeout: 200,
      hideSTARTTLS: true,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: 64 * 1024 * 1024,
      onConnect: (_s: SMTPServerSession, cb: (err?: Error | null) => void) => {
        this.connections++;
        if (b.greetDelayMs > 0) setTimeout(() => cb(), b.greetDelayMs);
        else cb();
      },
      onRcptTo: (addr, _s, cb) => {
        const r = b.rcpt(addr.address);
        cb(r ? Object.assign(new Error(r.message), { responseCode: r.code }) : undefined);
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          const msg: SinkMessage = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            messageId: messageIdOf(raw),
            clientIp: session.remoteAddress,
          };
          this.seen.push(msg);
          const r = b.data(msg);
          if (!r) this.messages.push(msg);
          const reply = () => cb(r ? Object.assign(new Error(r.message), { responseCode: r.code }) : null);
          if (b.dataDelayMs > 0) setTimeout(reply, b.dataDelayMs);
          else reply();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Stop listening and drop open sessions (the office server goes down). */
  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A loopback port where nothing listens (bound, then released). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Bytes

/** Offsets of bare CR, bare LF and NUL in `raw` (empty when clean). */
export function badBytes(raw: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length && out.length < 10; i++) {
    const c = raw[i];
    if (c === 0) out.push(`NUL@${i}`);
    else if (c === 0x0d && raw[i + 1] !== 0x0a) out.push(`bare CR@${i}`);
    else if (c === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) out.push(`bare LF@${i}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// In-process gateway

export interface TestGateway {
  gw: Gateway;
  port: number;
  dir: string;
  receive(): Promise<ReceiveLogEntry[]>;
  send(): Promise<SenderLogEntry[]>;
  close(): Promise<void>;
}

export interface OpenOptions {
  resolver?: MxResolver;
  /** Use this data dir (not removed on close); default a fresh temp dir that is. */
  dir?: string;
  /** Called after the config file is written and before Gateway.open (break things here). */
  beforeOpen?(dir: string): Promise<void>;
  /** Do not start the listener. */
  noStart?: boolean;
  /** More Gateway.open options (spool retry waits, a volume check...). */
  gateway?: Partial<GatewayOptions>;
}

/** A Gateway on 127.0.0.1:0 with the office config (test/helpers/gateway.ts) plus `patch`. */
export async function openGateway(patch?: (c: GatehouseConfig) => void, o: OpenOptions = {}): Promise<TestGateway> {
  const dir = o.dir ?? (await tempDir('gatehouse-hard-'));
  const cfg = officeConfig((c) => {
    c.delivery.retrySchedule = [1];
    c.delivery.connectTimeoutMs = 1000;
    c.delivery.delayWarningSeconds = 0;
    patch?.(c);
  });
  await o.beforeOpen?.(dir);
  const gw = await Gateway.open({ ...o.gateway, dataDir: dir, createWith: cfg, resolver: o.resolver ?? NO_DNS });
  const st = o.noStart ? null : await gw.start();
  return {
    gw,
    dir,
    port: st?.listen?.port ?? 0,
    async receive() {
      await gw.receivelog.flush().catch(() => undefined);
      return gw.receivelog.tail(100_000);
    },
    async send() {
      await gw.senderlog.flush().catch(() => undefined);
      return gw.senderlog.tail(100_000);
    },
    async close() {
      await gw.close();
      if (!o.dir) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// `gatehouse serve` as a child process

export interface Served {
  child: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<void>;
}

export async function serve(dir: string, timeoutMs = spawnWait(20_000)): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--no-admin'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = /SMTP listening on [^\s]+:(\d+)/.exec(out);
    if (m) return { child, port: Number(m[1]), output: () => out, exited };
    if (child.exitCode !== null || child.signalCode !== null) break;
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not start:\n${out}`);
}

export async function kill9(s: Served): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await s.exited;
}

export async function stopServe(s: Served): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), spawnWait(15_000));
  await s.exited;
  clearTimeout(t);
}

export async function writeConfig(dir: string, cfg: GatehouseConfig): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
}

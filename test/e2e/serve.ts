/*
 * Runs the real `gatehouse serve` (bin/gatehouse.js, the compiled core in dist/) on a temp
 * data folder with SMTP and the admin host on loopback port 0, and reads the URLs it prints.
 * Also small SMTP sinks (smtp-server) standing in for the office mail server and the
 * provider's smarthost, and a nodemailer send from a trusted client. `startServe` rejects
 * with the process output when serve does not print its admin URL within 20 s, or when
 * dist/ is not built (run `npm run build:core`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { ROOT } from './harness.js';

export interface Serve {
  dataDir: string;
  /** Admin URL with #token=... as printed. */
  adminUrl: string;
  origin: string;
  token: string;
  smtpPort: number | null;
  output(): string;
  stop(): Promise<void>;
}

export async function startServe(dataDir?: string): Promise<Serve> {
  const cli = path.join(ROOT, 'dist', 'main', 'cli', 'index.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build:core first`);
  const dir = dataDir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'gatehouse-e2e-')));
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const adminUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatehouse serve printed no admin URL in 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m = /Admin UI: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse serve exited (${code}):\n${out}`));
    });
  });
  const smtp = /SMTP listening on [^\s:]+:(\d+)/.exec(out);
  const url = new URL(adminUrl);
  return {
    dataDir: dir,
    adminUrl,
    origin: url.origin,
    token: new URLSearchParams(url.hash.slice(1)).get('token') ?? '',
    smtpPort: smtp ? Number(smtp[1]) : null,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(t);
      if (!dataDir) await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Sink {
  port: number;
  messages: { from: string; to: string[]; data: string }[];
  close(): Promise<void>;
}

/** A plain SMTP server on 127.0.0.1 that accepts everything (office server / smarthost). */
export async function startSink(): Promise<Sink> {
  const messages: Sink['messages'] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (data += d));
      stream.on('end', () => {
        messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Sends one message through the gateway from 127.0.0.1; resolves to accepted/rejected or the error. */
export async function send(port: number, from: string, to: string, subject = 'test'): Promise<{ ok: true; accepted: string[] } | { ok: false; error: string }> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10_000 });
  try {
    const info = await transport.sendMail({ from, to, subject, text: 'Gatehouse e2e' });
    return { ok: true, accepted: info.accepted.map(String) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    transport.close();
  }
}

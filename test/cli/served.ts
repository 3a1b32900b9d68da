/*
 * `gatehouse serve` with its admin API on loopback (so every other `gatehouse` command goes to
 * it, as on an admin's PC), the CLI run asynchronously against the same data folder (the test's
 * own SMTP sinks keep answering while it runs), and one SMTP transaction from the office
 * server (127.0.0.2, trusted). serve() throws with serve's output when it does not start.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { spawnWait } from '../helpers/slow.js';
import { BIN, waitFor } from '../hardening/helpers.js';

export interface Served {
  child: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<void>;
}

export async function serveWithAdmin(dir: string): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(() => /Admin UI: /.test(out) || child.exitCode !== null, spawnWait(20_000), `serve to start:\n${out}`);
  const m = /SMTP listening on [^\s]+:(\d+)/.exec(out);
  if (!m) throw new Error(`serve did not start:\n${out}`);
  return { child, port: Number(m[1]), output: () => out, exited };
}

/** SIGTERM (the orderly stop a service manager sends), then waits for the exit. */
export async function stopServed(s: Served): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), spawnWait(15_000));
  await s.exited;
  clearTimeout(t);
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export function cli(dir: string, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--data', dir], { encoding: 'utf8', timeout: spawnWait(30_000) }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

/** One message from the office server; the replies to MAIL, each RCPT and the end of DATA. */
export async function sendFromOffice(
  port: number,
  from: string,
  to: string[],
  data: string,
): Promise<{ mail: { code: number; text: string }; rcpt: { code: number; text: string }[]; end: { code: number; text: string } | null }> {
  const c = await SmtpTestClient.connect(port, { localAddress: '127.0.0.2' });
  await c.greeting;
  await c.cmd('EHLO mail.test.jp');
  const mail = await c.cmd(`MAIL FROM:<${from}>`);
  if (mail.code !== 250) {
    await c.quit();
    return { mail, rcpt: [], end: null };
  }
  const rcpt = [];
  for (const r of to) rcpt.push(await c.cmd(`RCPT TO:<${r}>`));
  if (!rcpt.some((r) => r.code === 250)) {
    await c.quit();
    return { mail, rcpt, end: null };
  }
  const { end } = await c.data(data);
  await c.quit();
  return { mail, rcpt, end };
}

/** A plain message with a Message-ID the sinks can be searched by. */
export function plainMail(from: string, to: string[], subject: string, messageId: string): string {
  return `From: ${from}\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\nMessage-ID: <${messageId}>\r\n\r\nhello\r\n`;
}

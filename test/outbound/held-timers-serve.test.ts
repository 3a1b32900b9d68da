/*
 * The held queue's timers across restarts of the real `gatehouse serve` (dist/, built by
 * `npm run build:core`), on a real data folder, with real sinks on loopback:
 *
 *  - delayed mail (`delay`, 1 minute: the shortest the config allows, waited for in real time):
 *    one message held across a graceful restart and a kill -9, a second one held across the
 *    kill -9 alone. Each external copy reaches the internet sink exactly once, not before the
 *    `until` the gateway listed for it before the restarts and within seconds after it; a
 *    further kill -9 and start after the delivery sends nothing again.
 *  - an approval deadline (`expireHours` 1, the shortest) that passed while the gateway was
 *    down: the first serve runs two hours in the past (libfaketime shifts its clock, nothing
 *    else), takes the message and is killed with -9; the next serve, on the real clock, rejects
 *    it by itself at start with one DSN to the sender, nothing goes outside, the action log has
 *    one `expired` by the timer; a kill -9 and a further start send no second DSN.
 *
 * The CLI runs as its own process (asynchronously: the sinks live in this process and must
 * keep answering). The two cases run at the same time. The second is Linux only: it skips
 * itself without libfaketime (`apt-get install -y faketime`, which .ci/run does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { spawnWait } from '../helpers/slow.js';
import { BIN, TestSink, sleep, waitFor, writeConfig, type SinkMessage } from '../hardening/helpers.js';
import { officeRoutes } from './helpers.js';

interface Served {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
  output(): string;
}

/** Every serve started, to kill -9 whatever a failed test left running. */
const running: Served[] = [];

async function serve(dir: string, env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const s: Served = { child, port: 0, exited, output: () => out };
  running.push(s);
  await waitFor(() => /Admin UI: /.test(out) || child.exitCode !== null, spawnWait(20_000), `serve to start:\n${out}`);
  const m = /SMTP listening on [^\s]+:(\d+)/.exec(out);
  if (!m) throw new Error(`serve did not start:\n${out}`);
  s.port = Number(m[1]);
  return s;
}

async function kill9(s: Served): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await s.exited;
}

async function stop(s: Served): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), spawnWait(15_000));
  await s.exited;
  clearTimeout(t);
  // A graceful stop, not a crash.
  expect(s.child.signalCode === 'SIGKILL').toBe(false);
}

/** The CLI as its own process, without blocking this one (the sinks answer meanwhile). */
function cli(dir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const t = setTimeout(() => child.kill('SIGKILL'), spawnWait(20_000));
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

async function cliJson<T>(dir: string, ...args: string[]): Promise<T> {
  const r = await cli(dir, ...args, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as T;
}

/** Sends one message from the office server (127.0.0.2, trusted); returns the held copy's id. */
async function sendHeld(port: number, from: string, mid: string): Promise<string> {
  const c = await SmtpTestClient.connect(port, { localAddress: '127.0.0.2' });
  try {
    expect((await c.greeting).code).toBe(220);
    await c.cmd('EHLO mail.test.jp');
    expect((await c.cmd(`MAIL FROM:<${from}>`)).code).toBe(250);
    expect((await c.cmd('RCPT TO:<boss@test.jp>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<client@example.com>')).code).toBe(250);
    const { end } = await c.data(`From: ${from}\r\nTo: boss@test.jp, client@example.com\r\nSubject: held ${mid}\r\nMessage-ID: ${mid}\r\n\r\nhello\r\n`);
    expect(end.code, end.text).toBe(250);
    const held = /external copy held as ([^\s)]+)/.exec(end.text)?.[1];
    expect(held, end.text).toBeTruthy();
    await c.quit();
    return held!;
  } finally {
    c.destroy();
  }
}

/** Where the sink stamps each accepted message's arrival (ms, this machine's clock). */
function stampArrivals(sink: TestSink): Map<SinkMessage, number> {
  const at = new Map<SinkMessage, number>();
  sink.behaviour.data = (m) => (at.set(m, Date.now()), null);
  return at;
}

interface Delayed {
  id: string;
  until: string;
}

/** Sinks and a data folder for one test, removed after it. */
interface Site {
  office: TestSink;
  internet: TestSink;
  dir: string;
}
const sites: Site[] = [];

async function site(prefix: string): Promise<Site> {
  const s = { office: await TestSink.start(), internet: await TestSink.start(), dir: await tempDir(prefix) };
  sites.push(s);
  return s;
}

afterAll(async () => {
  for (const s of running) await kill9(s);
  for (const s of sites) {
    await s.office.down();
    await s.internet.down();
    await fs.rm(s.dir, { recursive: true, force: true });
  }
});

/** libfaketime's preload library (Debian's `faketime` package), or null. */
function faketimeLib(): string | null {
  if (process.platform !== 'linux') return null;
  for (const base of ['/usr/lib', '/usr/local/lib']) {
    let dirs: string[] = [];
    try {
      dirs = [base, ...readdirSync(base).map((d) => path.join(base, d))];
    } catch {
      continue;
    }
    for (const d of dirs) {
      const p = path.join(d, 'faketime', 'libfaketimeMT.so.1');
      if (existsSync(p)) return p;
    }
  }
  return null;
}

const faketime = faketimeLib();
if (!faketime) console.warn('held-timers-serve.test.ts: approval expiry across a restart SKIPPED: needs Linux and libfaketime (`apt-get install -y faketime`; .ci/run does)');

// The two cases run at the same time: the second one fits in the first one's minute.
describe.concurrent('held mail across restarts of serve', () => {
  it('delayed mail (1 minute, real time), held across a restart and kill -9: each external copy goes out exactly once, when its minute is up, not before', { timeout: spawnWait(120_000) }, async () => {
    const { office, internet, dir } = await site('gatehouse-held-timers-');
    const arrived = stampArrivals(internet);
    await writeConfig(
      dir,
      officeConfig((c) => {
        officeRoutes(c, office, internet);
        c.delivery.retrySchedule = [1];
        c.accounts = [{ pattern: 'chien@test.jp', blockExternal: false, allow: [], note: '', mode: 'delay', delayMinutes: 1 }];
      }),
    );

    // The first message, then a graceful restart.
    let s = await serve(dir);
    const first = await sendHeld(s.port, 'chien@test.jp', '<delay.1@test.jp>');
    await waitFor(() => office.counts().get('<delay.1@test.jp>') === 1, 10_000, 'the internal copy of the first message');
    const before1 = await cliJson<Delayed[]>(dir, 'queue', 'delayed');
    expect(before1.map((i) => i.id)).toEqual([first]);
    await stop(s);
    s = await serve(dir);

    // The second message, then kill -9 with both held.
    const second = await sendHeld(s.port, 'chien@test.jp', '<delay.2@test.jp>');
    await waitFor(() => office.counts().get('<delay.2@test.jp>') === 1, 10_000, 'the internal copy of the second message');
    const before2 = await cliJson<Delayed[]>(dir, 'queue', 'delayed');
    expect(before2.map((i) => i.id)).toEqual([first, second]);
    expect(before2[0]!.until).toBe(before1[0]!.until);
    await kill9(s);
    s = await serve(dir);

    // The restarted gateway still lists both, with the same times.
    const after = await cliJson<Delayed[]>(dir, 'queue', 'delayed');
    expect(after).toEqual(before2.map((i) => expect.objectContaining({ id: i.id, until: i.until })));
    expect(internet.messages).toHaveLength(0);

    const untilOf = new Map([
      ['<delay.1@test.jp>', Date.parse(before2[0]!.until)],
      ['<delay.2@test.jp>', Date.parse(before2[1]!.until)],
    ]);
    const last = Math.max(...untilOf.values());
    await waitFor(() => internet.messages.length >= 2, last - Date.now() + 15_000, 'both delayed copies');
    for (const m of internet.messages) {
      const until = untilOf.get(m.messageId ?? '');
      expect(until, `unexpected message ${m.messageId}`).toBeDefined();
      expect(m.to).toEqual(['client@example.com']);
      const late = arrived.get(m)! - until!;
      console.info(`held-timers-serve: ${m.messageId} arrived ${late} ms after its until`);
      // Not early (the sink's clock is this machine's), and when its time came.
      expect(late, `${m.messageId} arrived ${late} ms after its until`).toBeGreaterThanOrEqual(0);
      expect(late, `${m.messageId} arrived ${late} ms after its until`).toBeLessThan(10_000);
    }

    // Delivered and gone from both queues; then one more kill -9 and a start send nothing again.
    await waitFor(async () => (await cliJson<unknown[]>(dir, 'queue', 'list')).length === 0, 10_000, 'the queue to drain');
    expect(await cliJson<unknown[]>(dir, 'queue', 'delayed')).toEqual([]);
    await kill9(s);
    s = await serve(dir);
    await sleep(2000);
    expect(Object.fromEntries(internet.counts())).toEqual({ '<delay.1@test.jp>': 1, '<delay.2@test.jp>': 1 });
    expect(Object.fromEntries(office.counts())).toMatchObject({ '<delay.1@test.jp>': 1, '<delay.2@test.jp>': 1 });
    await stop(s);
  });

  it.skipIf(!faketime)('an approval deadline that passed while serve was down: rejected by itself at the next start, one DSN to the sender, nothing outside, also after kill -9', { timeout: spawnWait(60_000) }, async () => {
    const { office, internet, dir } = await site('gatehouse-held-expiry-');
    await writeConfig(
      dir,
      officeConfig((c) => {
        officeRoutes(c, office, internet);
        c.delivery.retrySchedule = [1];
        c.accounts = [{ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '', mode: 'approval', approvers: ['boss@test.jp'], expireHours: 1 }];
      }),
    );
    const dsns = () =>
      office.messages.filter((m) => m.to.includes('baito@test.jp') && /^Content-Type: multipart\/report; report-type=delivery-status/m.test(m.raw.toString('latin1')));

    // Two hours ago: the message is held for approval until one hour ago.
    let s = await serve(dir, { LD_PRELOAD: faketime!, FAKETIME: '-2h' });
    const id = await sendHeld(s.port, 'baito@test.jp', '<expire.1@test.jp>');
    await waitFor(() => office.counts().get('<expire.1@test.jp>') === 1, 10_000, 'the internal copy');
    const listed = await cliJson<{ id: string; until: string }[]>(dir, 'approvals', 'list');
    expect(listed.map((i) => i.id)).toEqual([id]);
    // The faked clock reached the hold: its deadline is in the real past.
    expect(Date.parse(listed[0]!.until)).toBeLessThan(Date.now() - 50 * 60_000);
    await kill9(s);
    expect(dsns()).toHaveLength(0);

    // Now, on the real clock.
    s = await serve(dir);
    await waitFor(() => dsns().length >= 1, 15_000, 'the DSN to the sender');
    const dsn = dsns()[0]!;
    expect(dsn.from).toBe('');
    expect(dsn.raw.toString('latin1')).toContain(`X-Gatehouse-Queue-ID: ${id}`);
    expect(dsn.raw.toString('latin1')).toContain('Diagnostic-Code: X-Gatehouse; approval expired');
    expect(dsn.raw.toString('latin1')).toContain('Message-ID: <expire.1@test.jp>');
    expect(await cliJson<unknown[]>(dir, 'approvals', 'list')).toEqual([]);
    await waitFor(async () => (await cliJson<unknown[]>(dir, 'queue', 'list')).length === 0, 10_000, 'the queue to drain');
    const actions = (await cliJson<{ kind: string; via: string; what: string }[]>(dir, 'history')).filter((a) => a.kind === 'action' && a.what.includes(id));
    expect(actions).toEqual([expect.objectContaining({ via: 'timer', what: expect.stringMatching(new RegExp(`^expired ${id} from baito@test\\.jp`)) })]);

    await kill9(s);
    s = await serve(dir);
    await sleep(2000);
    expect(dsns()).toHaveLength(1);
    expect(internet.messages).toHaveLength(0);
    const again = await cli(dir, 'approvals', 'approve', id);
    expect(again.code).toBe(2);
    expect(again.err).toContain('expired');
    expect(internet.messages).toHaveLength(0);
    await stop(s);
  });
});

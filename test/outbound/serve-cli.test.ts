/*
 * The real `gatehouse serve` and CLI (dist/, built by `npm run build:core`): mail held for
 * approval survives kill -9 of serve; after the restart `gatehouse approvals approve` (through
 * the running serve) delivers the external copy exactly once, also across a second kill -9;
 * approving it again exits 2 saying it was already approved. The new verbs' --help, and
 * `accounts mode` / `accounts bcc` / `accounts unfreeze` without a gateway (the CLI writes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { BIN, TestSink, sleep, waitFor, writeConfig } from '../hardening/helpers.js';
import { officeRoutes } from './helpers.js';

interface Served {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
}

async function serve(dir: string): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(() => /Admin UI: /.test(out) || child.exitCode !== null, 20_000, `serve to start:\n${out}`);
  const m = /SMTP listening on [^\s]+:(\d+)/.exec(out);
  if (!m) throw new Error(`serve did not start:\n${out}`);
  return { child, port: Number(m[1]), exited };
}

async function kill9(s: Served): Promise<void> {
  s.child.kill('SIGKILL');
  await s.exited;
}

function cli(dir: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data', dir], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('approval across kill -9 of serve, with the CLI', () => {
  let office: TestSink;
  let internet: TestSink;
  let dir: string;
  let s: Served | null = null;
  beforeAll(async () => {
    office = await TestSink.start();
    internet = await TestSink.start();
    dir = await tempDir('gatehouse-outbound-serve-');
    await writeConfig(
      dir,
      officeConfig((c) => {
        officeRoutes(c, office, internet);
        c.delivery.retrySchedule = [1];
        c.accounts = [{ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '', mode: 'approval', approvers: ['boss@test.jp'] }];
      }),
    );
  });
  afterAll(async () => {
    if (s) await kill9(s);
    await office.down();
    await internet.down();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('holds, survives kill -9, approves once through serve, refuses a second approval', async () => {
    s = await serve(dir);
    const c = await SmtpTestClient.connect(s.port, { localAddress: '127.0.0.2' });
    await c.greeting;
    await c.cmd('EHLO mail.test.jp');
    await c.cmd('MAIL FROM:<baito@test.jp>');
    await c.cmd('RCPT TO:<boss@test.jp>');
    await c.cmd('RCPT TO:<client@example.com>');
    const { end } = await c.data('From: baito@test.jp\r\nTo: boss@test.jp, client@example.com\r\nSubject: kill test\r\nMessage-ID: <kill.1@test.jp>\r\n\r\nhello\r\n');
    await c.quit();
    expect(end.code).toBe(250);
    const id = /held as ([^\s)]+)/.exec(end.text)![1]!;
    await waitFor(() => office.messages.some((m) => m.to.includes('boss@test.jp') && m.messageId === '<kill.1@test.jp>'), 10_000, 'the internal copy');
    await kill9(s);
    s = await serve(dir);

    const list = cli(dir, 'approvals', 'list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out).map((i: { id: string }) => i.id)).toEqual([id]);
    const approve = cli(dir, 'approvals', 'approve', id, '--as', 'boss@test.jp');
    expect(approve.err).toBe('');
    expect(approve.code).toBe(0);
    expect(approve.out).toContain(`approved ${id}`);
    await waitFor(() => internet.messages.length >= 1, 10_000, 'the external copy');
    // Delivered and removed from the queue: a kill before the removal would repeat the delivery
    // (the queue's at-least-once rule, ARCHITECTURE.md), which is not what this test is about.
    await waitFor(() => JSON.parse(cli(dir, 'queue', 'list', '--json').out).length === 0, 10_000, 'the queue to drain');
    await kill9(s);
    s = await serve(dir);
    await sleep(1500);
    expect(internet.messages.filter((m) => m.messageId === '<kill.1@test.jp>')).toHaveLength(1);
    const again = cli(dir, 'approvals', 'approve', id);
    expect(again.code).toBe(2);
    expect(again.err).toContain('already approved by cli boss@test.jp');
    const history = cli(dir, 'history');
    expect(history.out).toMatch(/-\s+\S+\s+cli boss@test\.jp\s+approved /);
  });
});

describe('CLI verbs without a gateway', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('gatehouse-outbound-cli-');
    await writeConfig(dir, officeConfig());
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('has --help for each new verb', () => {
    for (const args of [['accounts', '--help'], ['approvals', '--help'], ['queue', '--help']]) {
      const r = cli(dir, ...args);
      expect(r.code).toBe(0);
    }
    expect(cli(dir, 'accounts', '--help').out).toContain('mode <address|pattern> relay|delay|approval|block');
    expect(cli(dir, 'approvals', '--help').out).toContain('reject <id> [--reason TEXT]');
    expect(cli(dir, 'queue', '--help').out).toContain('send-now <id>');
  });

  it('accounts mode / bcc change the config; approval needs an approver; decisions need serve', async () => {
    let r = cli(dir, 'accounts', 'mode', 'baito@test.jp', 'approval', '--approver', 'boss@test.jp', '--approver', 'sub@test.jp', '--stand-in', 'dai@test.jp', '--expire-hours', '8');
    expect(r.code).toBe(0);
    expect(r.out).toContain('approvers boss@test.jp, sub@test.jp, stand-in dai@test.jp, expires after 8 h');
    const cfg = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(cfg.accounts[0]).toMatchObject({ pattern: 'baito@test.jp', blockExternal: false, mode: 'approval', approvers: ['boss@test.jp', 'sub@test.jp'], standIn: 'dai@test.jp', expireHours: 8 });
    r = cli(dir, 'accounts', 'mode', 'new@test.jp', 'approval');
    expect(r.code).toBe(2);
    expect(r.err).toContain("is required when mode is 'approval'");
    r = cli(dir, 'accounts', 'mode', 'x@test.jp', 'approval', '--approver', 'boss@example.com');
    expect(r.code).toBe(2);
    expect(r.err).toContain('internal domain');
    r = cli(dir, 'accounts', 'mode', 'x@test.jp', 'sometimes');
    expect(r.code).toBe(2);
    r = cli(dir, 'accounts', 'bcc', '*@test.jp', 'archive@test.jp');
    expect(r.code).toBe(0);
    expect(cli(dir, 'accounts', 'list').out).toMatch(/baito@test\.jp\s+approval \(boss@test\.jp,sub@test\.jp\)/);
    // block / unblock as before: unblocking a blocked account makes it relay.
    expect(cli(dir, 'accounts', 'block', 'baito@test.jp').code).toBe(0);
    let after = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(after.accounts[0].blockExternal).toBe(true);
    expect(after.accounts[0].mode).toBeUndefined();
    expect(cli(dir, 'accounts', 'unblock', 'baito@test.jp').code).toBe(0);
    after = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(after.accounts[0].blockExternal).toBe(false);
    expect(after.accounts[0].approvers).toEqual(['boss@test.jp', 'sub@test.jp']);
    r = cli(dir, 'approvals', 'list');
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not running');
    r = cli(dir, 'accounts', 'unfreeze', 'tanaka@test.jp');
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not frozen');
    expect(cli(dir, 'check', 'baito@test.jp', 'client@example.com', '--client', '127.0.0.2').code).toBe(0);
  });
});

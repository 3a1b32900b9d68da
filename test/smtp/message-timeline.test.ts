/*
 * The message as one unit, end to end over real sockets: after the seed scenario (the office
 * server 127.0.0.2 sends for the blocked part-timer to an outside address and a colleague),
 * the timeline of baito's mail names the connection, both decisions with their rules, the
 * queue id, the attempt to the office server (a real SMTP sink) and the delivery; the CLI's
 * `message show` prints the received, decision, attempt and delivered lines from the files
 * alone; search finds it by address, subject (RFC 2047, Japanese) and Message-ID. With
 * delivery paused, mail is still accepted and queued and nothing reaches the sink until
 * resume; the pause survives a restart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { NO_DNS, officeConfig, tempDir } from '../helpers/gateway.js';
import { Gateway } from '../../main/core/gateway.js';
import { createCommands, createDispatcher, gatewayPorts } from '../../main/core/commands/index.js';
import type { MessageSearchResult, MessageTimeline } from '../../main/shared/contract.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'gatehouse.js');

interface Sink {
  port: number;
  got: { from: string; to: string[] }[];
  close(): Promise<void>;
}

async function sink(): Promise<Sink> {
  const got: Sink['got'] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => {
        got.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as { port: number }).port;
  return { port, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function mime(from: string, to: string[], subject: string, id: string): string {
  return [`From: <${from}>`, `To: ${to.map((t) => `<${t}>`).join(', ')}`, `Subject: ${subject}`, `Message-ID: <${id}>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'hello', ''].join('\r\n');
}

async function sendBaito(port: number): Promise<{ queueId: string }> {
  const c = await SmtpTestClient.connect(port, { localAddress: '127.0.0.2' });
  await c.greeting;
  expect((await c.cmd('EHLO mail.test.jp')).code).toBe(250);
  expect((await c.cmd('MAIL FROM:<baito@test.jp>')).code).toBe(250);
  expect((await c.cmd('RCPT TO:<someone@example.com>')).code).toBe(550);
  expect((await c.cmd('RCPT TO:<boss@test.jp>')).code).toBe(250);
  // 見積書の件 as an RFC 2047 encoded word.
  const { end } = await c.data(mime('baito@test.jp', ['someone@example.com', 'boss@test.jp'], '=?utf-8?b?6KaL56mN5pu444Gu5Lu2?=', 'q1@mail.test.jp'));
  expect(end.code).toBe(250);
  await c.quit();
  return { queueId: /queued as (\S+)/.exec(end.text)![1]! };
}

describe('message timeline after the seed scenario', () => {
  let dir: string;
  let office: Sink;
  let gw: Gateway;
  let port: number;

  beforeEach(async () => {
    dir = await tempDir();
    office = await sink();
    gw = await Gateway.open({
      dataDir: dir,
      createWith: officeConfig((c) => (c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }])),
      resolver: NO_DNS,
    });
    port = (await gw.start()).listen!.port;
  });
  afterEach(async () => {
    await gw.close();
    await office.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('shows received, decisions with their rules, queued, the attempt and the delivery; the CLI prints them', async () => {
    const { queueId } = await sendBaito(port);
    await expect.poll(() => office.got.length, { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => (await gw.delivery.list()).length, { timeout: 10_000 }).toBe(0);
    const dispatch = createDispatcher(createCommands(gatewayPorts(gw)));
    const r = await dispatch('messages.timeline', { ref: queueId }, { via: 'api' });
    expect(r.ok).toBe(true);
    const t = (r as { value: MessageTimeline }).value;
    expect(t.summary.queueId).toBe(queueId);
    expect(t.summary.subject).toBe('見積書の件');
    expect(t.summary.messageId).toBe('<q1@mail.test.jp>');
    expect(t.summary.outcome).toBe('delivered');
    expect(t.summary.rejected).toBe(1);
    expect(t.summary.recipients).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ address: 'someone@example.com', state: 'rejected', rule: 'block-external', code: 550 }),
        expect.objectContaining({ address: 'boss@test.jp', state: 'delivered' }),
      ]),
    );
    const kinds = t.steps.map((s) => `${s.source}:${s.type}${s.rule ? `:${s.rule}` : ''}${s.outcome ? `:${s.outcome}` : ''}`);
    expect(kinds).toEqual(['receive:connect', 'receive:mail:sender-ok', 'receive:rcpt:block-external', 'receive:rcpt:inbound', 'receive:data', 'send:attempt:delivered']);
    expect(t.client).toMatchObject({ ip: '127.0.0.2', helo: 'mail.test.jp', trusted: true });
    const attempt = t.steps.at(-1)!;
    expect(attempt.hop).toBe(`127.0.0.1:${office.port}`);
    expect(attempt.tls).toBe(false);

    // The same by the refused transaction's own ref.
    const byTxn = await dispatch('messages.timeline', { ref: `${t.summary.session}.1` }, { via: 'api' });
    expect(byTxn.ok && (byTxn.value as MessageTimeline).summary.queueId).toBe(queueId);

    // The CLI reads the files itself (no admin API here): one line per step.
    await gw.receivelog.flush();
    await gw.senderlog.flush();
    // The receivelog lines of the session as written: every field, in this order (a reader
    // may rely on neither, but a change of how the lines are built must not move them).
    const logs = path.join(dir, 'logs');
    const lines = (await Promise.all((await fs.readdir(logs)).filter((f) => f.startsWith('receivelog-')).map((f) => fs.readFile(path.join(logs, f), 'utf8'))))
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.session === t.summary.session);
    const refused = lines.find((l) => l.event === 'rcpt' && l.recipient === 'someone@example.com')!;
    expect(Object.keys(refused)).toEqual(['ts', 'event', 'session', 'clientIp', 'helo', 'tls', 'trusted', 'txn', 'sender', 'recipient', 'decision', 'rule', 'account', 'code', 'reply']);
    expect(refused).toMatchObject({ clientIp: '127.0.0.2', helo: 'mail.test.jp', tls: false, trusted: true, txn: 1, sender: 'baito@test.jp', decision: 'reject', rule: 'block-external', account: 'baito@test.jp', code: 550 });
    expect(refused.reply).toMatch(/^550 5\.7\.1 /);
    const mail = lines.find((l) => l.event === 'mail')!;
    expect(Object.keys(mail)).toEqual(['ts', 'event', 'session', 'clientIp', 'helo', 'tls', 'trusted', 'txn', 'sender', 'decision', 'rule', 'code', 'reply']);
    expect(Object.keys(lines.find((l) => l.event === 'connect')!).slice(0, 6)).toEqual(['ts', 'event', 'session', 'clientIp', 'tls', 'trusted']);
    const cli = spawnSync(process.execPath, [BIN, 'message', 'show', queueId, '--data', dir], { encoding: 'utf8', timeout: 30_000 });
    expect(cli.status, cli.stderr).toBe(0);
    const out = cli.stdout;
    expect(out).toContain(`Message ${queueId}: baito@test.jp -> someone@example.com, boss@test.jp`);
    expect(out).toContain('Subject: 見積書の件');
    expect(out).toMatch(/ received +connection from 127\.0\.0\.2 \(mail\.test\.jp\), trusted/);
    expect(out).toMatch(/ decision +recipient someone@example\.com: REFUSED \(block-external: the sender's account may not send outside the office/);
    expect(out).toMatch(/ decision +recipient boss@test\.jp: accepted \(inbound/);
    expect(out).toMatch(new RegExp(` queued +as ${queueId}`));
    expect(out).toMatch(new RegExp(` attempt 1 +127\\.0\\.0\\.1:${office.port} \\(route, no TLS\\): delivered 250`));
    expect(out).toMatch(/ delivered +boss@test\.jp/);
    expect(spawnSync(process.execPath, [BIN, 'message', 'show', 'zzzzzzzz-0000-0000', '--data', dir], { encoding: 'utf8' }).status).toBe(2);
    expect(spawnSync(process.execPath, [BIN, 'message', '--help'], { encoding: 'utf8' }).stdout).toContain('Usage: gatehouse message');
  });

  it('finds the message by address, decoded subject, queue id and Message-ID, across days', async () => {
    const { queueId } = await sendBaito(port);
    await expect.poll(() => office.got.length, { timeout: 10_000 }).toBe(1);
    const dispatch = createDispatcher(createCommands(gatewayPorts(gw)));
    for (const text of ['SOMEONE@example.com', '見積書', queueId, 'q1@mail.test.jp', 'boss@test']) {
      const r = await dispatch('messages.search', { text }, { via: 'api' });
      expect(r.ok, text).toBe(true);
      const found = (r as { value: MessageSearchResult }).value;
      expect(found.messages.map((m) => m.queueId), text).toEqual([queueId]);
    }
    const none = await dispatch('messages.search', { text: 'nobody@nowhere.example' }, { via: 'api' });
    expect(none.ok && (none.value as MessageSearchResult).messages).toEqual([]);
    const short = await dispatch('messages.search', { text: 'a' }, { via: 'api' });
    expect(short.ok).toBe(false);
    await gw.receivelog.flush();
    await gw.senderlog.flush();
    const cli = spawnSync(process.execPath, [BIN, 'message', 'search', 'baito@test.jp', '--days', '3', '--data', dir], { encoding: 'utf8', timeout: 30_000 });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(queueId);
    expect(cli.stdout).toContain('見積書の件');
  });

  it('accepts and queues mail while delivery is paused, sends nothing until resumed, and stays paused across a restart', async () => {
    const dispatch = createDispatcher(createCommands(gatewayPorts(gw)));
    const paused = await dispatch('delivery.pause', undefined, { via: 'ui' });
    expect(paused.ok && (paused.value as { paused: boolean }).paused).toBe(true);
    expect(gw.status().delivery.paused).toBe(true);
    expect(gw.status().health.reasons.map((r) => r.code)).toContain('paused');
    const { queueId } = await sendBaito(port);
    await new Promise((r) => setTimeout(r, 1500));
    expect(office.got).toEqual([]);
    expect((await gw.delivery.list()).map((i) => i.id)).toEqual([queueId]);

    // A restart keeps the pause: the file says so.
    await gw.close();
    gw = await Gateway.open({ dataDir: dir, resolver: NO_DNS });
    port = (await gw.start()).listen!.port;
    expect(gw.status().delivery.paused).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(office.got).toEqual([]);
    const second = await sendBaito(port);
    expect((await gw.delivery.list()).map((i) => i.id).sort()).toEqual([queueId, second.queueId].sort());

    const d2 = createDispatcher(createCommands(gatewayPorts(gw)));
    const resumed = await d2('delivery.resume', undefined, { via: 'ui' });
    expect(resumed.ok && (resumed.value as { paused: boolean }).paused).toBe(false);
    await expect.poll(() => office.got.length, { timeout: 10_000 }).toBe(2);
  });

  it('holds one domain: its recipients wait, the others go', async () => {
    const dispatch = createDispatcher(createCommands(gatewayPorts(gw)));
    await dispatch('delivery.hold', { domain: 'Test.JP' }, { via: 'ui' });
    const { queueId } = await sendBaito(port);
    await new Promise((r) => setTimeout(r, 1200));
    expect(office.got).toEqual([]);
    expect((await gw.delivery.list()).map((i) => i.id)).toEqual([queueId]);
    const st = await dispatch('delivery.status', undefined, { via: 'ui' });
    expect(st.ok && (st.value as { heldDomains: { domain: string }[] }).heldDomains.map((h) => h.domain)).toEqual(['test.jp']);
    await dispatch('delivery.release', { domain: 'test.jp' }, { via: 'ui' });
    await expect.poll(() => office.got.length, { timeout: 10_000 }).toBe(1);
  });
});

/*
 * `gatehouse delivery pause | resume | status | hold DOMAIN | release DOMAIN` through the real
 * CLI against a running `gatehouse serve` (real sockets, a real data folder, two loopback SMTP
 * sinks: the office server for test.jp and "the internet" for example.com). Paused: mail is
 * still accepted and queued and nothing reaches either sink, also after serve is stopped and
 * started again; resumed: it is delivered. Held domain: its recipients wait, the colleague's
 * copy goes; released: delivered. The status text is checked line by line.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { TestSink, sleep, waitFor, writeConfig } from '../hardening/helpers.js';
import { officeRoutes } from '../outbound/helpers.js';
import { cli, plainMail, sendFromOffice, serveWithAdmin, stopServed, type Served } from './served.js';

const TIME = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}';
const KEPT = '(kept across a restart: delivery-control.json in the data folder)';

describe('delivery control through the CLI and a running serve', () => {
  let office: TestSink;
  let internet: TestSink;
  let dir: string;
  let s: Served | null = null;

  beforeAll(async () => {
    office = await TestSink.start();
    internet = await TestSink.start();
    dir = await tempDir('gatehouse-cli-delivery-');
    await writeConfig(
      dir,
      officeConfig((c) => {
        officeRoutes(c, office, internet);
        c.delivery.retrySchedule = [1];
        c.accounts = [];
      }),
    );
    s = await serveWithAdmin(dir);
  });
  afterAll(async () => {
    if (s) await stopServed(s);
    await office.down();
    await internet.down();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('pause: accepted and queued, nothing delivered, kept across a serve restart; resume delivers', async () => {
    let r = await cli(dir, 'delivery', 'status');
    expect(r).toEqual({ code: 0, err: '', out: ['outgoing delivery: running', 'queue: 0 message(s), 0 deferred, 0 on hold', KEPT, ''].join('\n') });

    r = await cli(dir, 'delivery', 'pause');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const pausedLine = new RegExp(`^outgoing delivery: PAUSED since ${TIME} \\(by cli\\); mail is still received and queued$`);
    let lines = r.out.split('\n');
    expect(lines[0]).toMatch(pausedLine);
    expect(lines.slice(1)).toEqual(['queue: 0 message(s), 0 deferred, 0 on hold', KEPT, '']);
    const control = JSON.parse(await fs.readFile(path.join(dir, 'delivery-control.json'), 'utf8'));
    expect(control.paused).toBe(true);

    const sent = await sendFromOffice(s!.port, 'tanaka@test.jp', ['boss@test.jp', 'client@example.com'], plainMail('tanaka@test.jp', ['boss@test.jp', 'client@example.com'], 'paused', 'paused.1@test.jp'));
    expect(sent.end?.code).toBe(250);
    const queueId = /queued as (\S+)/.exec(sent.end!.text)![1]!;
    await sleep(1500);
    expect(office.seen).toEqual([]);
    expect(internet.seen).toEqual([]);
    r = await cli(dir, 'queue', 'list', '--json');
    expect(JSON.parse(r.out).map((i: { id: string; pending: string[] }) => [i.id, [...i.pending].sort()])).toEqual([[queueId, ['boss@test.jp', 'client@example.com']]]);
    r = await cli(dir, 'delivery', 'status');
    lines = r.out.split('\n');
    expect(lines[0]).toMatch(pausedLine);
    expect(lines.slice(1)).toEqual(['queue: 1 message(s), 0 deferred, 0 on hold', KEPT, '']);

    // An orderly stop and a new serve on the same folder: still paused, still nothing out.
    await stopServed(s!);
    s = await serveWithAdmin(dir);
    r = await cli(dir, 'delivery', 'status', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ paused: true, pausedVia: 'cli', heldDomains: [], queue: { total: 1 } });
    const second = await sendFromOffice(s.port, 'tanaka@test.jp', ['boss@test.jp'], plainMail('tanaka@test.jp', ['boss@test.jp'], 'paused 2', 'paused.2@test.jp'));
    expect(second.end?.code).toBe(250);
    await sleep(1500);
    expect(office.seen).toEqual([]);
    expect(internet.seen).toEqual([]);

    r = await cli(dir, 'delivery', 'resume');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('outgoing delivery: running');
    await waitFor(() => office.messages.length === 2 && internet.messages.length === 1, 10_000, 'both messages delivered after resume');
    expect(office.messages.map((m) => m.messageId).sort()).toEqual(['<paused.1@test.jp>', '<paused.2@test.jp>']);
    expect(office.messages.map((m) => m.to)).toEqual(expect.arrayContaining([['boss@test.jp']]));
    expect(internet.messages.map((m) => [m.messageId, m.to])).toEqual([['<paused.1@test.jp>', ['client@example.com']]]);
    await waitFor(async () => JSON.parse((await cli(dir, 'queue', 'list', '--json')).out).length === 0, 10_000, 'the queue to drain');
    expect(JSON.parse(await fs.readFile(path.join(dir, 'delivery-control.json'), 'utf8')).paused).toBe(false);
  });

  it('hold DOMAIN: its recipients wait while the colleague gets the mail; release DOMAIN delivers', async () => {
    office.messages.length = 0;
    internet.messages.length = 0;
    let r = await cli(dir, 'delivery', 'hold', 'Example.COM');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      'outgoing delivery: running',
      expect.stringMatching(new RegExp(`^held: mail to example\\.com \\(since ${TIME}\\)$`)),
      'queue: 0 message(s), 0 deferred, 0 on hold',
      KEPT,
      '',
    ]);
    const sent = await sendFromOffice(s!.port, 'tanaka@test.jp', ['boss@test.jp', 'client@example.com'], plainMail('tanaka@test.jp', ['boss@test.jp', 'client@example.com'], 'held domain', 'held.1@test.jp'));
    expect(sent.end?.code).toBe(250);
    await waitFor(() => office.messages.some((m) => m.messageId === '<held.1@test.jp>'), 10_000, "the colleague's copy");
    await sleep(1000);
    expect(internet.seen.filter((m) => m.messageId === '<held.1@test.jp>')).toEqual([]);
    r = await cli(dir, 'queue', 'list', '--json');
    expect(JSON.parse(r.out).map((i: { pending: string[] }) => i.pending)).toEqual([['client@example.com']]);
    r = await cli(dir, 'delivery', 'status');
    expect(r.out).toMatch(new RegExp(`^held: mail to example\\.com \\(since ${TIME}\\)$`, 'm'));

    r = await cli(dir, 'delivery', 'release', 'example.com');
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('held:');
    await waitFor(() => internet.messages.some((m) => m.messageId === '<held.1@test.jp>'), 10_000, 'the external copy after release');
    expect(internet.messages.map((m) => m.to)).toEqual([['client@example.com']]);
    expect(office.messages.filter((m) => m.messageId === '<held.1@test.jp>')).toHaveLength(1);
  });

  it('refuses bad input with exit code 2 and a sentence', async () => {
    let r = await cli(dir, 'delivery', 'hold');
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toBe('gatehouse: delivery hold needs a domain\n');
    r = await cli(dir, 'delivery', 'stop');
    expect(r.code).toBe(2);
    expect(r.err).toBe('gatehouse: usage: gatehouse delivery pause|resume|status|hold <domain>|release <domain>\n');
    r = await cli(dir, 'delivery', 'hold', 'not a domain');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^gatehouse: /);
    expect(JSON.parse((await cli(dir, 'delivery', 'status', '--json')).out).heldDomains).toEqual([]);
  });
});

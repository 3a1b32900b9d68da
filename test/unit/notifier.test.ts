/*
 * Health at a glance and the notifier, without a gateway: the level and reasons for stopped,
 * a route whose every server fails (red), one failing server (amber), the queue's thresholds,
 * a pause; notices once per episode (route down, then up again; the queue passing its
 * threshold and only again after falling below 80 %; a mail near expiry once; approvals and
 * frozen senders through report()), the off switches, the hourly cap, a mail for each notice
 * when an address is set, and the words of every notice in both languages. Also the delivery
 * control file: paused and held domains survive a reopen, a broken file is reported and
 * ignored.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { healthOf } from '../../main/shared/health.js';
import { NOTICE_KINDS, noticeText, type Notice } from '../../main/shared/notices.js';
import { Notifier } from '../../main/core/notify/notifier.js';
import { noticeMail } from '../../main/core/notify/notice-mail.js';
import { DeliveryControl } from '../../main/core/delivery/control.js';
import type { RouteHealth } from '../../main/shared/contract.js';
import type { QueueItem } from '../../main/shared/types.js';
import { testConfig } from './fixtures.js';

const hop = (h: string, failures: number, state: RouteHealth['state'] = failures ? 'failing' : 'ok'): RouteHealth => ({ hop: h, via: 'route', state, consecutiveFailures: failures, lastError: failures ? `connect ECONNREFUSED ${h}` : undefined });
const baseHealth = { running: true, error: null, configProblem: null, paused: false, heldDomains: [], queueTotal: 0, failures: 3, queueThreshold: 50, groups: [{ name: 'test.jp', hops: ['a:25', 'b:25'] }] };

describe('health', () => {
  it('is green when all is well, red when a route has no working server or receiving is stopped, amber otherwise', () => {
    expect(healthOf({ ...baseHealth, routes: [hop('a:25', 0), hop('b:25', 0)] })).toEqual({ level: 'ok', reasons: [] });
    const amber = healthOf({ ...baseHealth, routes: [hop('a:25', 0), hop('b:25', 4)] });
    expect(amber.level).toBe('warn');
    expect(amber.reasons).toEqual([{ level: 'warn', code: 'hop-failing', params: { hop: 'b:25', failures: 4 } }]);
    const red = healthOf({ ...baseHealth, routes: [hop('a:25', 3), hop('b:25', 5)] });
    expect(red.level).toBe('error');
    expect(red.reasons).toEqual([{ level: 'error', code: 'route-down', params: { name: 'test.jp', failures: 3 } }]);
    // Two failures are not yet "down" at a threshold of 3.
    expect(healthOf({ ...baseHealth, routes: [hop('a:25', 2), hop('b:25', 2)] }).level).toBe('ok');
    expect(healthOf({ ...baseHealth, running: false, routes: [] }).reasons[0]!.code).toBe('stopped');
    expect(healthOf({ ...baseHealth, queueTotal: 50, routes: [] }).reasons[0]!.code).toBe('queue-growing');
    expect(healthOf({ ...baseHealth, queueTotal: 200, routes: [] }).level).toBe('error');
    expect(healthOf({ ...baseHealth, paused: true, heldDomains: ['example.com'], routes: [] }).reasons.map((r) => r.code)).toEqual(['paused', 'domain-held']);
  });
});

function setup(patch?: (c: ReturnType<typeof testConfig>) => void) {
  const cfg = testConfig();
  patch?.(cfg);
  let routes: RouteHealth[] = [];
  let queue: QueueItem[] = [];
  let now = new Date('2026-11-29T10:00:00Z');
  const got: Notice[] = [];
  const mails: [Notice, string][] = [];
  const n = new Notifier({
    config: () => cfg,
    routes: () => routes,
    hopName: (h) => (h === 'a:25' ? 'test.jp' : h),
    queue: async () => queue,
    emit: (x) => got.push(x),
    mail: async (x, to) => void mails.push([x, to]),
    now: () => now,
  });
  return {
    n,
    cfg,
    got,
    mails,
    setRoutes: (r: RouteHealth[]) => (routes = r),
    setQueue: (q: QueueItem[]) => (queue = q),
    tick: (ms: number) => (now = new Date(now.getTime() + ms)),
    now: () => now,
  };
}

const item = (id: string, receivedAt: string): QueueItem => ({ id, receivedAt, sender: 'tanaka@test.jp', recipients: ['x@example.com'], pending: ['x@example.com'], size: 100, state: 'deferred', attempts: 3 });

describe('the notifier', () => {
  it('tells once when a server goes down and once when it works again', async () => {
    const t = setup();
    t.setRoutes([hop('a:25', 2)]);
    await t.n.check();
    expect(t.got).toEqual([]);
    t.setRoutes([hop('a:25', 3)]);
    await t.n.check();
    await t.n.check();
    expect(t.got.map((x) => x.kind)).toEqual(['route-down']);
    expect(t.got[0]!.params).toMatchObject({ hop: 'a:25', name: 'test.jp', failures: 3, whyCode: 'refused' });
    expect(noticeText(t.got[0]!, 'ja').body).toContain('相手のサーバが接続を受け付けませんでした');
    expect(noticeText(t.got[0]!, 'en').body).toContain('the server refused the connection');
    t.setRoutes([hop('a:25', 0)]);
    await t.n.check();
    expect(t.got.map((x) => x.kind)).toEqual(['route-down', 'route-up']);
  });

  it('tells when the queue passes its threshold, again only after it fell below 80 %; a mail near expiry once', async () => {
    const t = setup((c) => (c.notifications.queueSize.messages = 5));
    const fresh = (n: number) => Array.from({ length: n }, (_, i) => item(`f${n}-${i}`, t.now().toISOString()));
    const old = new Date(t.now().getTime() - (5 * 86400 - 6 * 3600) * 1000).toISOString(); // 6 h left
    t.setQueue([item('q1', old), ...fresh(4)]);
    await t.n.check();
    await t.n.check();
    expect(t.got.map((x) => x.kind).sort()).toEqual(['near-expiry', 'queue-size']);
    expect(t.got.find((x) => x.kind === 'near-expiry')!.ref).toBe('q1');
    t.setQueue(fresh(4)); // 80 %: not below it yet
    await t.n.check();
    t.setQueue(fresh(5));
    await t.n.check();
    expect(t.got.filter((x) => x.kind === 'queue-size')).toHaveLength(1);
    t.setQueue(fresh(3));
    await t.n.check();
    t.setQueue(fresh(6));
    await t.n.check();
    expect(t.got.filter((x) => x.kind === 'queue-size')).toHaveLength(2);
    expect(t.got.filter((x) => x.kind === 'near-expiry')).toHaveLength(1);
  });

  it('reports approvals and frozen senders for outbound control; each condition has an off switch', async () => {
    const t = setup((c) => (c.notifications.approvals.waiting = 2));
    expect(t.n.report('approvals-waiting', { n: 1 })).toBeNull();
    expect(t.n.report('approvals-waiting', { n: 2 })!.kind).toBe('approvals-waiting');
    expect(t.n.report('approvals-waiting', { n: 3 })).toBeNull();
    expect(t.n.report('sender-frozen', { sender: 'baito@test.jp', reason: '100 messages in an hour' })!.params.sender).toBe('baito@test.jp');
    const off = setup((c) => {
      c.notifications.routeDown.enabled = false;
      c.notifications.senderFrozen.enabled = false;
    });
    off.setRoutes([hop('a:25', 9)]);
    await off.n.check();
    expect(off.n.report('sender-frozen', { sender: 'x@test.jp', reason: 'r' })).toBeNull();
    expect(off.got).toEqual([]);
  });

  it('mails each notice from the null sender when an address is set, and caps notices at 30 an hour', async () => {
    const t = setup((c) => (c.notifications.mailTo = 'admin@test.jp'));
    for (let i = 0; i < 40; i++) t.n.report('sender-frozen', { sender: `u${i}@test.jp`, reason: 'limit' });
    expect(t.got).toHaveLength(30);
    expect(t.mails).toHaveLength(30);
    expect(t.mails[0]![1]).toBe('admin@test.jp');
    t.tick(3601_000);
    const next = t.n.report('sender-frozen', { sender: 'late@test.jp', reason: 'limit' })!;
    expect(next.params.suppressed).toBe(10);
    const bytes = noticeMail(next, 'admin@test.jp', 'gw.test.jp', t.now()).toString('latin1');
    expect(bytes).toMatch(/^From: Gatehouse <postmaster@gw\.test\.jp>\r\nTo: <admin@test\.jp>\r\nSubject: =\?/);
    expect(bytes).toContain('Auto-Submitted: auto-generated');
    const body = Buffer.from(bytes.split('\r\n\r\n')[1]!.replace(/\r\n/g, ''), 'base64').toString('utf8');
    expect(body).toContain('late@test.jp からの送信を一時的に止めました');
    expect(body).toContain('Sending from late@test.jp was stopped');
  });

  it('does not mail a freeze twice when the outbound controls already mail it to the same address', () => {
    const t = setup((c) => {
      c.notifications.mailTo = 'Admin@test.jp';
      c.outbound.adminAddress = 'admin@test.jp';
    });
    t.n.report('sender-frozen', { sender: 'baito@test.jp', reason: 'limit' });
    t.n.report('approvals-waiting', { n: 1 });
    expect(t.got.map((x) => x.kind)).toEqual(['sender-frozen', 'approvals-waiting']);
    expect(t.mails.map(([x]) => x.kind)).toEqual(['approvals-waiting']);
  });

  it('words every kind in both languages', () => {
    for (const kind of NOTICE_KINDS) {
      for (const lang of ['ja', 'en'] as const) {
        const { title, body } = noticeText({ kind, params: {} }, lang);
        expect(title.length, `${kind} ${lang}`).toBeGreaterThan(0);
        expect(body.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('delivery control file', () => {
  it('keeps a pause and held domains across a reopen; a broken file is reported and means running', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gatehouse-control-'));
    try {
      const c = await DeliveryControl.open(dir);
      expect(c.isPaused()).toBe(false);
      const seen: boolean[] = [];
      c.onChange((s) => seen.push(s.paused));
      await c.pause('cli');
      await c.hold('Example.COM');
      expect(c.isHeld('a@example.com')).toBe(true);
      expect(c.isHeld('a@mail.example.com')).toBe(true);
      expect(c.isHeld('a@notexample.com')).toBe(false);
      const again = await DeliveryControl.open(dir);
      expect(again.state()).toMatchObject({ paused: true, pausedVia: 'cli', heldDomains: [{ domain: 'example.com' }] });
      await again.resume();
      await again.release('example.com');
      expect((await DeliveryControl.open(dir)).state()).toEqual({ paused: false, heldDomains: [] });
      expect(seen).toEqual([true, true]);
      await fs.writeFile(path.join(dir, 'delivery-control.json'), '{"paused": "yes"');
      const broken = await DeliveryControl.open(dir);
      expect(broken.isPaused()).toBe(false);
      expect(broken.problem).toMatch(/not valid/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

// Queue control, graceful stop + restart over the same spool, raw pass-through, and a
// bounce that cannot be spooled (nothing is dropped).
import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { DeliveryRunner } from '../../main/core/delivery/index.js';
import { Spool, SpoolCorruptError } from '../../main/core/spool/index.js';
import type { SenderLogEntry } from '../../main/shared/types.js';
import { closedPort, harness, message, openSpool, parseMime, statusGroups, tempDir, testConfig, waitFor, type Harness, cleanupsAfterEach } from './helpers.js';
import path from 'node:path';

const { cleanups, sinkOf } = cleanupsAfterEach();

async function harnessOf(...args: Parameters<typeof harness>): Promise<Harness> {
  const h = await harness(...args);
  cleanups.push(() => h.close());
  return h;
}

describe('queue control', () => {
  it('list / show / hold / release / retryNow / bounceNow / remove', async () => {
    const office = await sinkOf();
    const down = await closedPort();
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: down }] }];
      c.delivery.retrySchedule = [3600];
    });
    const h = await harnessOf(cfg);
    const a = await h.send('alice@test.jp', ['x@remote.example', 'y@remote.example']);
    const b = await h.send('bob@test.jp', ['z@remote.example']);
    await waitFor(async () => (await h.runner.list({ state: 'deferred' })).length === 2, 8000, 'both deferred');

    const items = await h.runner.list();
    expect(items.map((i) => [i.id, i.state, i.attempts])).toEqual([
      [a, 'deferred', 1],
      [b, 'deferred', 1],
    ]);
    expect(items[0].lastError).toMatch(/ECONNREFUSED/);
    expect(items[0].nextAttemptAt).toBeDefined();
    expect((await h.runner.list({ sender: 'BOB@' })).map((i) => i.id)).toEqual([b]);
    expect((await h.runner.list({ recipient: 'y@remote' })).map((i) => i.id)).toEqual([a]);
    expect(h.runner.stats()).toMatchObject({ total: 2, deferred: 2, hold: 0, active: 0 });

    const shown = await h.runner.show(a);
    expect(shown.item.id).toBe(a);
    expect(shown.headers).toMatch(/^From: alice@test.jp\r\n/);
    expect(shown.headers).toContain('Subject: test');
    expect(shown.header.recipients).toEqual(['x@remote.example', 'y@remote.example']);
    // The header as stored in the file, checksum included (the queue itself keeps none).
    expect(shown.header).toEqual(await h.spool.readHeader(a));
    expect(shown.header.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(shown.state.pending).toEqual(['x@remote.example', 'y@remote.example']);
    await expect(h.runner.show('nope')).rejects.toThrow(/no message nope/);

    await h.runner.hold(a);
    expect((await h.runner.list({ state: 'hold' })).map((i) => i.id)).toEqual([a]);
    expect((await h.spool.getState(a)).held).toBe(true); // survives a restart
    await h.runner.retryNow();
    await waitFor(async () => (await h.runner.list()).find((i) => i.id === b)?.attempts === 2, 8000, 'b retried');
    expect((await h.runner.list()).find((i) => i.id === a)?.attempts).toBe(1); // held: not retried
    await h.runner.release(a);
    expect((await h.spool.getState(a)).held).toBeUndefined();
    await h.runner.retryNow(a);
    await waitFor(async () => (await h.runner.list()).find((i) => i.id === a)?.attempts === 2, 8000, 'a retried');

    await h.runner.bounceNow(a);
    await waitFor(() => office.messages.length === 1, 8000, 'admin bounce DSN');
    const g = statusGroups(parseMime(office.messages[0].raw).parts[1].body);
    expect(g.slice(1).map((x) => [x['final-recipient'], x.action, x.status, x['diagnostic-code']])).toEqual([
      ['rfc822; x@remote.example', 'failed', '5.0.0', 'X-Gatehouse; bounced by administrator'],
      ['rfc822; y@remote.example', 'failed', '5.0.0', 'X-Gatehouse; bounced by administrator'],
    ]);
    expect(h.log.find((l) => l.queueId === a && l.via === 'dsn')).toMatchObject({ outcome: 'bounced' });

    await h.runner.remove(b);
    await waitFor(async () => (await h.runner.list()).length === 0, 5000, 'queue empty');
    expect(await h.spool.list()).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(office.messages).toHaveLength(1); // remove sends no bounce
    await expect(h.runner.remove(b)).rejects.toThrow(/no message/);
  });

  it('passes the raw message through unchanged (dots, 8-bit, long lines)', async () => {
    const remote = await sinkOf();
    const cfg = testConfig((c) => {
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
    });
    const h = await harnessOf(cfg);
    const body = `.leading dot\r\n..two dots\r\n日本語の本文です\r\n${'x'.repeat(900)}\r\n.\r\nend\r\n`;
    const raw = message('alice@test.jp', ['bob@remote.example'], 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n', body);
    const hdr = await h.spool.write({ sender: 'alice@test.jp', recipients: ['bob@remote.example'], clientIp: '127.0.0.2', session: 's', trusted: true }, raw);
    h.runner.enqueue(hdr);
    await waitFor(() => remote.messages.length === 1, 8000, 'delivery');
    expect(remote.messages[0].raw.equals(raw)).toBe(true);
  });
});

describe('bounce that cannot be spooled', () => {
  it('keeps the failed recipient pending instead of dropping it', async () => {
    const remote = await sinkOf({ rcpt: () => ({ code: 550, message: '5.1.1 unknown' }) });
    const { spool, dir } = await openSpool();
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    let failWrites = true;
    // The real spool, except that writing the DSN fails (disk full).
    const flaky = Object.assign(Object.create(spool) as Spool, {
      write: (env: Parameters<Spool['write']>[0], body: Buffer) =>
        failWrites && env.sender === '' ? Promise.reject(Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' })) : spool.write(env, body),
    });
    const cfg = testConfig((c) => {
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
      c.delivery.retrySchedule = [0.3];
    });
    const log: SenderLogEntry[] = [];
    const runner = new DeliveryRunner({ spool: flaky, config: () => cfg, log: (e) => log.push(e) });
    cleanups.push(async () => {
      await runner.stop();
      await spool.close();
    });
    runner.start([]);
    const hdr = await spool.write({ sender: 'alice@test.jp', recipients: ['bob@remote.example'], clientIp: '127.0.0.2', session: 's', trusted: true }, message('alice@test.jp', ['bob@remote.example']));
    runner.enqueue(hdr);
    await waitFor(async () => (await runner.list())[0]?.attempts === 1, 8000, 'first attempt');
    const [item] = await runner.list();
    expect(item.pending).toEqual(['bob@remote.example']);
    expect(item.lastError).toMatch(/cannot queue the bounce: ENOSPC/);
    expect((await spool.getState(hdr.id)).failed).toEqual([]);
    failWrites = false;
    await waitFor(async () => (await spool.list()).every((h) => h.id !== hdr.id), 8000, 'bounced once the disk has room');
    expect((await spool.list()).filter((h) => h.sender === '')).toHaveLength(1); // the DSN (undeliverable here: no route)
  });
});

describe('graceful stop and restart', () => {
  it('stop mid-queue, a new runner over the same spool delivers everything (at-least-once)', async () => {
    let slow = true;
    const remote = await sinkOf({
      data: () => (slow ? new Promise((r) => setTimeout(() => r(null), 3000)) : null),
    });
    const dir = await tempDir();
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const cfg = testConfig((c) => {
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
      c.delivery.maxConnectionsPerHop = 2;
      c.delivery.retrySchedule = [30];
    });
    const log1: SenderLogEntry[] = [];
    const sp1 = new Spool(path.join(dir, 'spool'));
    await sp1.open();
    const r1 = new DeliveryRunner({ spool: sp1, config: () => cfg, log: (e) => log1.push(e), stopTimeoutMs: 300 });
    r1.start([]);
    const ids: string[] = [];
    const msgIds = new Map<string, string>();
    for (let i = 0; i < 6; i++) {
      const raw = message('alice@test.jp', [`r${i}@remote.example`]);
      const hdr = await sp1.write({ sender: 'alice@test.jp', recipients: [`r${i}@remote.example`], clientIp: '127.0.0.2', session: 's', trusted: true }, raw);
      ids.push(hdr.id);
      msgIds.set(hdr.id, /Message-ID: (\S+)/.exec(raw.toString())![1]);
      r1.enqueue(hdr);
    }
    await waitFor(() => remote.messages.length >= 2, 8000, 'two messages in DATA');
    const t = Date.now();
    await r1.stop();
    expect(Date.now() - t).toBeLessThan(3000); // cut at the timeout, not after the slow replies
    const stopped = await r1.list();
    expect(stopped.length).toBe(6); // nothing was confirmed, nothing removed
    await sp1.close();

    slow = false;
    const sp2 = new Spool(path.join(dir, 'spool'));
    const { recovered } = await sp2.open();
    expect(recovered.map((h) => h.id).sort()).toEqual([...ids].sort());
    const log2: SenderLogEntry[] = [];
    const r2 = new DeliveryRunner({ spool: sp2, config: () => cfg, log: (e) => log2.push(e) });
    cleanups.push(async () => {
      await r2.stop();
      await sp2.close();
    });
    r2.start(recovered);
    await waitFor(async () => (await sp2.list()).length === 0, 10000, 'queue drained after restart');
    // The runner writes an attempt's senderlog lines after it removes the message: let the last ones land.
    await waitFor(() => log2.filter((l) => l.outcome === 'delivered').length >= 6, 5000, 'senderlog lines of the restart');
    const seen = new Map<string, number>();
    for (const m of remote.messages) {
      const id = /Message-ID: (\S+)/.exec(m.raw.toString())![1];
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    for (const want of msgIds.values()) expect(seen.get(want) ?? 0).toBeGreaterThanOrEqual(1);
    const dups = [...seen.values()].filter((n) => n > 1).length;
    console.log(`stop/restart: ${msgIds.size} messages, ${remote.messages.length} received at the sink, ${dups} duplicated (at-least-once)`);
    // The cut attempts are in the first runner's senderlog as deferred; the restart's attempts as delivered.
    expect(log1.filter((l) => l.outcome === 'deferred').length).toBeGreaterThanOrEqual(2);
    expect(log2.filter((l) => l.outcome === 'delivered').length).toBe(6);
  });
});

describe('corrupt spool file', () => {
  it('is quarantined, never sent, and logged', async () => {
    const remote = await sinkOf();
    const { spool, dir } = await openSpool();
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    // The real spool, except that reading this body fails its checksum (bit rot on disk; the
    // real spool may serve recent bodies from memory, so the failure is injected here).
    const rotten = Object.assign(Object.create(spool) as Spool, {
      readBody: (id: string) => Promise.reject(new SpoolCorruptError(id, 'body checksum mismatch (test)')),
    });
    const cfg = testConfig((c) => {
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
    });
    const log: SenderLogEntry[] = [];
    const runner = new DeliveryRunner({ spool: rotten, config: () => cfg, log: (e) => log.push(e) });
    cleanups.push(async () => {
      await runner.stop();
      await spool.close();
    });
    runner.start([]);
    const hdr = await spool.write({ sender: 'alice@test.jp', recipients: ['bob@remote.example'], clientIp: '127.0.0.2', session: 's', trusted: true }, message('alice@test.jp', ['bob@remote.example']));
    runner.enqueue(hdr);
    await waitFor(() => log.length === 1, 8000, 'quarantine line');
    expect(log[0].reply).toMatch(/quarantine/);
    expect(await runner.list()).toHaveLength(0);
    expect(await spool.list()).toHaveLength(0);
    expect((await fs.readdir(path.join(dir, 'spool', 'quarantine'))).some((f) => f.startsWith(hdr.id))).toBe(true);
    expect(remote.messages).toHaveLength(0);
  });
});

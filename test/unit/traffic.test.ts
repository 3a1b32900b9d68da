/*
 * Dashboard counters: which log lines count as accepted / rejected / deferred / bounced /
 * delivered, hourly and daily buckets in local time, seeding from a day file; each message
 * counted once a day with bounded memory.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TrafficStatsCollector } from '../../main/core/stats/traffic.js';
import { RECENT_WINDOW } from '../../main/core/stats/counted-once.js';
import type { ReceiveLogEntry, SenderLogEntry } from '../../main/shared/types.js';

const now = new Date(2026, 10, 29, 15, 30);
const at = (h: number, dayOffset = 0) => new Date(2026, 10, 29 + dayOffset, h, 5).toISOString();
const rcv = (over: Partial<ReceiveLogEntry>): ReceiveLogEntry => ({ ts: at(10), event: 'rcpt', session: 's', clientIp: '127.0.0.2', tls: false, ...over });
const snd = (over: Partial<SenderLogEntry>): SenderLogEntry => ({ ts: at(11), queueId: 'q', attempt: 1, sender: 'a@test.jp', recipients: ['b@example.com'], hop: 'h:25', via: 'mx', tls: false, outcome: 'delivered', durationMs: 5, ...over });

describe('TrafficStatsCollector', () => {
  it('counts accepts, rejects and delivery outcomes by local hour and day', () => {
    const t = new TrafficStatsCollector(() => now);
    t.addReceive(rcv({ event: 'data', decision: 'accept', ts: at(9) }));
    t.addReceive(rcv({ event: 'rcpt', decision: 'accept', ts: at(9) })); // a RCPT accept is not a message
    t.addReceive(rcv({ event: 'rcpt', decision: 'reject', rule: 'block-external', ts: at(10) }));
    t.addReceive(rcv({ event: 'data', decision: 'accept', ts: at(10, -2) }));
    t.addSend(snd({ outcome: 'delivered' }));
    t.addSend(snd({ outcome: 'deferred', code: 451, reply: 'try later' }));
    t.addSend(snd({ outcome: 'bounced', code: 550 }));
    t.addSend(snd({ outcome: 'bounced', via: 'dsn', hop: '', reply: 'null sender: no bounce sent, failed recipients dropped' }));
    expect(t.today()).toEqual({ accepted: 1, rejected: 1, deferred: 1, bounced: 1, delivered: 1 });
    const snap = t.snapshot();
    expect(snap.today).toHaveLength(24);
    expect(snap.today[9].accepted).toBe(1);
    expect(snap.today[10].rejected).toBe(1);
    expect(snap.week).toHaveLength(7);
    expect(snap.week[4].accepted).toBe(1); // two days ago
    expect(snap.week[6].accepted).toBe(1);
    expect(snap.recentErrors.length).toBe(3); // deferred, bounced, and the null-sender drop note
  });

  it('seeds from a day file and skips a torn last line', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'traffic-'));
    const file = path.join(dir, 'receivelog.jsonl');
    await fs.writeFile(file, JSON.stringify(rcv({ event: 'data', decision: 'accept' })) + '\n' + JSON.stringify(rcv({ decision: 'reject' })) + '\n{"ts":"2026-');
    const t = new TrafficStatsCollector(() => now);
    await t.seedFile(file, 'receive');
    await t.seedFile(path.join(dir, 'missing.jsonl'), 'send');
    expect(t.today()).toMatchObject({ accepted: 1, rejected: 1 });
    // Lines from `before` on were counted live already.
    const later = new TrafficStatsCollector(() => now);
    await later.seedFile(file, 'receive', Date.parse(at(10)));
    expect(later.today()).toMatchObject({ accepted: 0, rejected: 0 });
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('counts a message once however many of its lines come: refused recipients, hops, retries hours apart', () => {
    const t = new TrafficStatsCollector(() => now);
    // Three refused recipients of one transaction, then the next transaction of the session.
    for (const r of ['x@example.com', 'y@example.com', 'z@example.com']) t.addReceive(rcv({ decision: 'reject', txn: 1, recipient: r }));
    t.addReceive(rcv({ decision: 'reject', txn: 2, recipient: 'x@example.com' }));
    // Message m: hop A delivered, hop B deferred, retried, and delivered later, with far more
    // messages in between than the recent window holds.
    t.addSend(snd({ queueId: 'm', hop: 'a:25', outcome: 'delivered', ts: at(9) }));
    t.addSend(snd({ queueId: 'm', hop: 'b:25', outcome: 'deferred', ts: at(9) }));
    for (let i = 0; i < 3 * RECENT_WINDOW; i++) t.addSend(snd({ queueId: `o${i}`, ts: at(10) }));
    t.addSend(snd({ queueId: 'm', hop: 'b:25', outcome: 'deferred', attempt: 2, ts: at(11) }));
    t.addSend(snd({ queueId: 'm', hop: 'b:25', outcome: 'delivered', attempt: 3, ts: at(12) }));
    // Message p: partly delivered at one hop, the rest delivered hours later.
    t.addSend(snd({ queueId: 'p', outcome: 'partial', ts: at(9) }));
    for (let i = 0; i < 3 * RECENT_WINDOW; i++) t.addSend(snd({ queueId: `r${i}`, ts: at(10) }));
    t.addSend(snd({ queueId: 'p', outcome: 'delivered', attempt: 2, ts: at(13) }));
    expect(t.today()).toEqual({ accepted: 0, rejected: 2, deferred: 1, bounced: 0, delivered: 2 + 6 * RECENT_WINDOW });
    // A retry on the next day counts on that day.
    t.addSend(snd({ queueId: 'm', outcome: 'deferred', ts: at(9, 1) }));
    expect(t.snapshot().week[6].deferred).toBe(1);
  });

  it("keeps its once-a-day memory bounded by the traffic in flight, not by the day's volume", () => {
    const t = new TrafficStatsCollector(() => now);
    for (let i = 0; i < 100_000; i++) {
      t.addReceive(rcv({ event: 'data', decision: 'accept', session: `s${i}`, txn: 1 }));
      t.addSend(snd({ queueId: `q${i}` }));
    }
    for (let i = 0; i < 50; i++) t.addSend(snd({ queueId: `d${i}`, outcome: 'deferred' }));
    expect(t.today()).toMatchObject({ accepted: 100_000, delivered: 100_000, deferred: 50 });
    // The recent window (two generations) plus the deferred messages' keys and ids.
    expect(t.countedKeys).toBeLessThanOrEqual(2 * RECENT_WINDOW + 100);
  });
});


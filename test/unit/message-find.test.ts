/*
 * messageTimeline over real day files: mail held on one day and sent on the next (approved
 * or sent now) under a queue id of its own; the timeline follows the 'hold' line of the
 * later day to the released copy's attempt, and the message's outcome is its delivery.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { messageTimeline } from '../../main/core/messages/find.js';
import { dayOf } from '../../main/shared/messages.js';
import { tempDir } from '../helpers/gateway.js';

/** A queue id made at `d` (its first part is the time in base36 ms, as the spool makes them). */
const qid = (d: Date, tail: string) => `${d.getTime().toString(36).padStart(8, '0')}-0000-${tail}`;

let dir = '';
afterEach(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function write(kind: 'receivelog' | 'senderlog', at: Date, lines: object[]): Promise<void> {
  await fs.appendFile(path.join(dir, `${kind}-${dayOf(at.toISOString())}.jsonl`), lines.map((l) => JSON.stringify(l) + '\n').join(''));
}

describe('messageTimeline: a held copy released a day later', () => {
  it('follows the hold line to the released copy and its delivery', async () => {
    dir = await tempDir('gatehouse-find-');
    const day1 = new Date(2026, 10, 29, 17, 0, 0);
    const day2 = new Date(2026, 10, 30, 9, 0, 0);
    const later = new Date(day2.getTime() + 2000);
    const main = qid(day1, 'aaaa');
    const held = qid(new Date(day1.getTime() + 1), 'bbbb');
    const released = qid(day2, 'cccc');
    const base = { session: 's1', clientIp: '127.0.0.2', tls: false, trusted: true, txn: 1, sender: 'tanaka@test.jp' };
    const t = (d: Date, s: number) => new Date(d.getTime() + s * 1000).toISOString();
    await write('receivelog', day1, [
      { ts: t(day1, 0), event: 'connect', session: 's1', clientIp: '127.0.0.2', tls: false, trusted: true },
      { ts: t(day1, 1), event: 'mail', ...base, decision: 'accept', rule: 'sender-ok', code: 250 },
      { ts: t(day1, 2), event: 'rcpt', ...base, recipient: 'boss@test.jp', decision: 'accept', rule: 'inbound', code: 250 },
      { ts: t(day1, 3), event: 'rcpt', ...base, recipient: 'client@example.com', decision: 'accept', rule: 'hold-approval', code: 250 },
      { ts: t(day1, 4), event: 'data', ...base, recipients: ['client@example.com'], decision: 'accept', rule: 'hold-approval', queueId: held },
      { ts: t(day1, 4), event: 'data', ...base, recipients: ['boss@test.jp', 'client@example.com'], decision: 'accept', code: 250, queueId: main, subject: 'held overnight' },
    ]);
    await write('senderlog', day1, [
      { ts: t(day1, 5), queueId: main, attempt: 1, sender: 'tanaka@test.jp', recipients: ['boss@test.jp'], hop: '127.0.0.1:2526', via: 'route', tls: false, outcome: 'delivered', code: 250, reply: '250 Ok', durationMs: 3 },
    ]);
    await write('receivelog', day2, [
      { ts: t(day2, 0), event: 'hold', session: 's1', clientIp: '127.0.0.2', tls: false, sender: 'tanaka@test.jp', recipients: ['client@example.com'], decision: 'accept', rule: 'approved', queueId: held, released, by: 'ui', note: `1 external recipient(s) sent on as ${released}` },
    ]);
    await write('senderlog', day2, [
      { ts: later.toISOString(), queueId: released, attempt: 1, sender: 'tanaka@test.jp', recipients: ['client@example.com'], hop: '127.0.0.1:2527', via: 'override', tls: false, outcome: 'delivered', code: 250, reply: '250 Ok', durationMs: 3 },
    ]);
    for (const ref of [held, main]) {
      const tl = await messageTimeline({ dir }, ref, { lifetimeDays: 5, now: new Date(day2.getTime() + 3600_000) });
      expect(tl.summary.outcome, ref).toBe('delivered');
      expect(tl.summary.recipients.map((r) => [r.address, r.state]).sort()).toEqual([['boss@test.jp', 'delivered'], ['client@example.com', 'delivered']]);
      expect(tl.steps.map((s) => `${s.type}:${s.rule ?? s.outcome ?? ''}:${s.queueId ?? ''}`).slice(-3)).toEqual([`attempt:delivered:${main}`, `hold:approved:${held}`, `attempt:delivered:${released}`]);
    }
  });
});

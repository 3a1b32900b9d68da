/*
 * The receivelog / senderlog against real files in temp dirs: batching, tail (with unwritten
 * lines), day rollover, retention, torn lines, follow, backward paging, an unwritable folder
 * (parent is a regular file: ENOTDIR even for root) and a 1,000,000-line day file.
 * The only timing assertion is a generous ceiling on tail(200) of the big file.
 */
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatReceiveLine, formatSenderLine, formatTime, isDay, JsonlLog, localDay, type LogError } from '../../main/core/log/index.js';
import type { ReceiveLogEntry, SenderLogEntry } from '../../main/shared/types.js';

interface E {
  ts: string;
  n: number;
  text?: string;
}

let tmp: string;
const open: JsonlLog<E>[] = [];

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gatehouse-log-'));
});

afterEach(async () => {
  for (const l of open.splice(0)) await l.close();
  await rm(tmp, { recursive: true, force: true });
});

/** Noon local time on a fixed day, so local-date arithmetic is independent of TZ. */
const NOON = new Date(2026, 10, 29, 12, 0, 0);
const TODAY = '2026-11-29';

function mk(opts: Partial<ConstructorParameters<typeof JsonlLog<E>>[0]> = {}): JsonlLog<E> {
  const l = new JsonlLog<E>({ dir: join(tmp, 'logs'), name: 'receivelog', retentionDays: 30, now: () => NOON, ...opts });
  open.push(l);
  return l;
}

function entry(n: number, at: Date = NOON): E {
  return { ts: new Date(at.getTime() + n).toISOString(), n };
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
}

describe('JsonlLog', () => {
  it('append / flush / tail roundtrip, one JSON object per line, one write per batch', async () => {
    const log = mk();
    await log.open();
    for (let i = 0; i < 2000; i++) log.append(entry(i));
    await log.flush();
    const file = log.fileFor(TODAY);
    expect(file).toBe(join(tmp, 'logs', `receivelog-${TODAY}.jsonl`));
    const ls = await lines(file);
    expect(ls).toHaveLength(2000);
    expect(JSON.parse(ls[1234]!)).toEqual(entry(1234));
    // 2,000 appends in one tick: one append to disk, not 2,000.
    expect(log.status().writes).toBe(1);
    const t = await log.tail(5);
    expect(t.map((e) => e.n)).toEqual([1995, 1996, 1997, 1998, 1999]);
    expect(await log.tail(0)).toEqual([]);
    expect((await log.tail(5000)).length).toBe(2000);
  });

  it('batches appends spread over several ticks into few writes', async () => {
    const log = mk({ flushIntervalMs: 50 });
    await log.open();
    for (let i = 0; i < 20; i++) {
      log.append(entry(i));
      await new Promise((r) => setImmediate(r));
    }
    await log.flush();
    expect(await lines(log.fileFor(TODAY))).toHaveLength(20);
    expect(log.status().writes).toBeLessThan(20);
  });

  it('tail includes lines not yet written, without duplicates once they are', async () => {
    const log = mk({ flushIntervalMs: 60_000 });
    await log.open();
    for (let i = 0; i < 3; i++) log.append(entry(i));
    await log.flush();
    for (let i = 3; i < 6; i++) log.append(entry(i));
    expect((await lines(log.fileFor(TODAY))).length).toBe(3);
    expect((await log.tail(10)).map((e) => e.n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await log.tail(4)).map((e) => e.n)).toEqual([2, 3, 4, 5]);
    expect((await log.tail(2)).map((e) => e.n)).toEqual([4, 5]);
    expect(log.status().buffered).toBe(3);
    await log.flush();
    expect((await log.tail(10)).map((e) => e.n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(log.status().buffered).toBe(0);
  });

  it('files entries by their ts local date: a rollover writes two files', async () => {
    let clock = new Date(2026, 10, 29, 23, 59, 59);
    const log = mk({ now: () => clock });
    await log.open();
    log.append({ ts: clock.toISOString(), n: 1 });
    log.append({ ts: new Date(clock.getTime() + 500).toISOString(), n: 2 });
    clock = new Date(2026, 10, 30, 0, 0, 1);
    log.append({ ts: clock.toISOString(), n: 3 });
    await log.flush();
    expect((await readdir(join(tmp, 'logs'))).sort()).toEqual(['receivelog-2026-11-29.jsonl', 'receivelog-2026-11-30.jsonl']);
    expect(await log.days()).toEqual(['2026-11-30', '2026-11-29']);
    expect((await log.tail(10)).map((e) => e.n)).toEqual([3]); // today follows the clock
    expect((await log.tail(10, '2026-11-29')).map((e) => e.n)).toEqual([1, 2]);
    expect(localDay(new Date(2026, 0, 5, 0, 0, 0))).toBe('2026-01-05');
  });

  it('prunes day files older than the retention, only its own, and on setRetentionDays', async () => {
    const dir = join(tmp, 'logs');
    await mkdir(dir, { recursive: true });
    const names = [
      'receivelog-2026-10-01.jsonl',
      'receivelog-2026-11-21.jsonl', // 8 days old: goes with retention 7
      'receivelog-2026-11-22.jsonl', // 7 days old: kept
      'receivelog-2026-11-28.jsonl',
      `receivelog-${TODAY}.jsonl`,
      'senderlog-2026-10-01.jsonl', // another log's file
      'receivelog-2026-10-01.jsonl.bak', // not ours
      'notes.txt',
    ];
    for (const n of names) await writeFile(join(dir, n), '');
    const log = mk({ retentionDays: 7 });
    await log.open();
    let left = (await readdir(dir)).sort();
    expect(left).toEqual(names.filter((n) => n !== 'receivelog-2026-10-01.jsonl' && n !== 'receivelog-2026-11-21.jsonl').sort());
    expect(await log.prune()).toEqual([]);
    const removed = await log.setRetentionDays(1);
    expect(removed).toEqual([join(dir, 'receivelog-2026-11-22.jsonl')]);
    left = await readdir(dir);
    expect(left).toContain('receivelog-2026-11-28.jsonl');
    expect(left).toContain(`receivelog-${TODAY}.jsonl`);
    expect(left).toContain('senderlog-2026-10-01.jsonl');
    expect(await log.setRetentionDays(0)).toEqual([join(dir, 'receivelog-2026-11-28.jsonl')]);
    expect(await log.days()).toEqual([TODAY]);
    expect(() => log.setRetentionDays(-1)).toThrow(RangeError);
  });

  it('skips a torn last line and a corrupt middle line; new lines start on a fresh line', async () => {
    const dir = join(tmp, 'logs');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `receivelog-${TODAY}.jsonl`);
    await writeFile(file, `${JSON.stringify(entry(1))}\nnot json\n[1,2]\n${JSON.stringify(entry(2))}\n{"ts":"2026-11-29T03:00:00.000Z","n":3,"te`);
    const log = mk();
    expect((await log.tail(10)).map((e) => e.n)).toEqual([1, 2]);
    const page = await log.readRange(TODAY, { limit: 10 });
    expect(page.entries.map((e) => e.n)).toEqual([1, 2]);
    expect(page.nextBefore).toBeNull();
    // After the crash the writer must not glue its first line onto the torn one.
    await log.open();
    log.append(entry(4));
    await log.flush();
    expect((await log.tail(10)).map((e) => e.n)).toEqual([1, 2, 4]);
    expect((await readFile(file, 'utf8')).endsWith(`"te\n${JSON.stringify(entry(4))}\n`)).toBe(true);
  });

  it('follow gets entries live, before they reach disk, and unsubscribes', async () => {
    const log = mk({ flushIntervalMs: 60_000 });
    await log.open();
    const seen: number[] = [];
    const stop = log.follow((e) => seen.push(e.n));
    let other = 0;
    log.follow(() => {
      other++;
      throw new Error('broken subscriber');
    });
    log.append(entry(1));
    expect(seen).toEqual([1]);
    expect(await log.days()).toEqual([TODAY]); // buffered only
    await expect(readFile(log.fileFor(TODAY))).rejects.toMatchObject({ code: 'ENOENT' });
    log.append(entry(2));
    stop();
    log.append(entry(3));
    expect(seen).toEqual([1, 2]);
    expect(other).toBe(3); // a throwing follower does not stop the log or the others
    await log.flush();
    expect((await lines(log.fileFor(TODAY))).length).toBe(3);
  });

  it('readRange pages backward across the whole file without gaps or duplicates', async () => {
    const log = mk();
    await log.open();
    const N = 5003;
    // Lines of varying length (some longer than a read chunk) so pages straddle chunk edges.
    for (let i = 0; i < N; i++) log.append({ ...entry(i), text: 'x'.repeat(i % 97 === 0 ? 70_000 : i % 13) });
    await log.flush();
    const got: number[] = [];
    let before: number | undefined;
    let pages = 0;
    for (;;) {
      const page = await log.readRange(TODAY, { before, limit: 64 });
      expect(page.entries.length).toBeLessThanOrEqual(64);
      got.unshift(...page.entries.map((e) => e.n));
      pages++;
      if (page.nextBefore === null) break;
      expect(page.nextBefore).toBeLessThan(before ?? Infinity);
      before = page.nextBefore;
    }
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(pages).toBe(Math.ceil(N / 64));

    // With a filter: only the matches, still complete.
    const odd: number[] = [];
    before = undefined;
    for (;;) {
      const page = await log.readRange(TODAY, { before, limit: 100, filter: (e) => e.n % 2 === 1 });
      odd.unshift(...page.entries.map((e) => e.n));
      if (page.nextBefore === null) break;
      before = page.nextBefore;
    }
    expect(odd).toEqual(Array.from({ length: N }, (_, i) => i).filter((i) => i % 2 === 1));

    expect(await log.readRange('2026-01-01', { limit: 10 })).toEqual({ entries: [], nextBefore: null });
    await expect(log.readRange(TODAY, { limit: 0 })).rejects.toThrow(RangeError);
  });

  it('readRange without before writes buffered lines first, so a page is current', async () => {
    const log = mk({ flushIntervalMs: 60_000 });
    await log.open();
    for (let i = 0; i < 5; i++) log.append(entry(i));
    const page = await log.readRange(TODAY, { limit: 3 });
    expect(page.entries.map((e) => e.n)).toEqual([2, 3, 4]);
    const rest = await log.readRange(TODAY, { limit: 3, before: page.nextBefore! });
    expect(rest).toEqual({ entries: [entry(0), entry(1)], nextBefore: null });
  });

  it('unwritable folder: onError, append does not throw, entries still in follow/tail; recovers', async () => {
    // Tests run as root, so chmod would not stop the write: a regular FILE as parent does (ENOTDIR).
    const blocker = join(tmp, 'blocker');
    await writeFile(blocker, 'a file, not a folder');
    const errors: LogError[] = [];
    const recovered: { dropped: number }[] = [];
    const log = mk({
      dir: join(blocker, 'logs'),
      retryDelaysMs: [20],
      maxBuffered: 50,
      onError: (e) => errors.push(e),
      onRecover: (i) => recovered.push(i),
    });
    await log.open(); // resolves: the gateway keeps starting
    expect(errors.length).toBe(1);
    expect(errors[0]!.code).toBe('ENOTDIR');
    expect(errors[0]!.log).toBe('receivelog');
    expect(errors[0]!.message).toContain(`cannot create log folder ${join(blocker, 'logs')}`);
    expect(errors[0]!.message).toContain('retrying');

    const seen: number[] = [];
    log.follow((e) => seen.push(e.n));
    expect(() => {
      for (let i = 0; i < 10; i++) log.append(entry(i));
    }).not.toThrow();
    expect(seen).toHaveLength(10);
    expect((await log.tail(3)).map((e) => e.n)).toEqual([7, 8, 9]);
    expect(await log.days()).toEqual([TODAY]);
    await expect(log.flush()).rejects.toMatchObject({ name: 'LogError', code: 'ENOTDIR' });
    const st = log.status();
    expect(st.ok).toBe(false);
    expect(st.lastError).toContain('line(s) kept in memory');
    expect(st.buffered).toBe(10);
    // Same failure again is not re-reported on every retry.
    expect(errors.filter((e) => e.code === 'ENOTDIR').length).toBe(1);

    // The buffer is bounded: the oldest go, counted, reported once.
    for (let i = 10; i < 100; i++) log.append(entry(i));
    const st2 = log.status();
    expect(st2.buffered).toBeLessThanOrEqual(50);
    expect(st2.buffered + st2.dropped).toBe(100);
    expect(errors.filter((e) => e.code === 'EDROPPED').length).toBe(1);
    expect((await log.tail(1)).map((e) => e.n)).toEqual([99]);

    // The admin fixes the folder: the retry timer writes what is left, in order.
    await unlink(blocker);
    await mkdir(blocker);
    for (let i = 0; i < 200 && !log.status().ok; i++) await new Promise((r) => setTimeout(r, 10));
    expect(log.status()).toMatchObject({ ok: true, lastError: null, buffered: 0 });
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.dropped).toBe(st2.dropped);
    const ns = (await lines(log.fileFor(TODAY))).map((l) => (JSON.parse(l) as E).n);
    expect(ns).toEqual(Array.from({ length: st2.buffered }, (_, i) => 100 - st2.buffered + i));
  });

  it('an onError assigned after a failed open still hears about the failure', async () => {
    const blocker = join(tmp, 'blocker');
    await writeFile(blocker, 'x');
    const log = mk({ dir: join(blocker, 'logs'), retryDelaysMs: [60_000] });
    await log.open();
    const errors: LogError[] = [];
    log.onError = (e) => errors.push(e);
    await Promise.resolve();
    expect(errors.map((e) => e.code)).toEqual(['ENOTDIR']);
  });

  it('close writes the rest; append after close is reported, not thrown', async () => {
    const errors: LogError[] = [];
    const log = mk({ flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    await log.open();
    log.append(entry(1));
    await log.close();
    expect((await lines(log.fileFor(TODAY))).length).toBe(1);
    expect(() => log.append(entry(2))).not.toThrow();
    expect(errors.map((e) => e.code)).toEqual(['ECLOSED']);
  });

  it('rejects day strings that are not dates (a day is part of a path)', () => {
    const log = mk();
    expect(() => log.fileFor('../../etc/passwd')).toThrow(RangeError);
    expect(() => log.fileFor('2026-02-30')).toThrow(RangeError);
    expect(isDay('2026-02-28')).toBe(true);
    expect(() => new JsonlLog<E>({ dir: tmp, name: '../x', retentionDays: 1 })).toThrow(RangeError);
  });

  it('tail(200) of a 1,000,000-line day file reads from the end', async () => {
    const dir = join(tmp, 'logs');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `receivelog-${TODAY}.jsonl`);
    const filler = Buffer.from(`${JSON.stringify({ ts: '2026-11-29T01:02:03.000Z', n: -1, text: 'filler-line' })}\n`);
    const N = 1_000_000;
    const TAIL = 1000;
    const big = Buffer.alloc(filler.length * (N - TAIL));
    big.fill(filler); // repeats the line: one allocation, one write
    await writeFile(file, big);
    await appendFile(file, Array.from({ length: TAIL }, (_, i) => JSON.stringify(entry(i))).join('\n') + '\n');
    const log = mk();
    const t0 = performance.now();
    const t = await log.tail(200);
    const ms = performance.now() - t0;
    console.log(`tail(200) of ${N} lines (${((big.length / 1e6) | 0)} MB): ${ms.toFixed(1)} ms`);
    expect(t.map((e) => e.n)).toEqual(Array.from({ length: 200 }, (_, i) => TAIL - 200 + i));
    expect(ms).toBeLessThan(2000);

    const t1 = performance.now();
    const page = await log.readRange(TODAY, { limit: 200 });
    console.log(`readRange(limit 200) from the end: ${(performance.now() - t1).toFixed(1)} ms`);
    expect(page.entries.map((e) => e.n)).toEqual(t.map((e) => e.n));
    // A filter matching nothing stops at the scan budget and hands back a place to go on from.
    const none = await log.readRange(TODAY, { limit: 10, filter: () => false });
    expect(none.entries).toEqual([]);
    expect(none.nextBefore).not.toBeNull();
  });
});

describe('format', () => {
  const rcpt: ReceiveLogEntry = {
    ts: new Date(2026, 10, 29, 10, 15, 2).toISOString(),
    event: 'rcpt',
    session: 'ab12',
    clientIp: '127.0.0.2',
    tls: false,
    sender: 'baito@test.jp',
    recipient: 'user@example.com',
    decision: 'reject',
    rule: 'block-external',
    account: 'baito@test.jp',
    code: 550,
    reply: '550 5.7.1 <baito@test.jp> is not allowed to send to external addresses',
  };

  it('formats a receivelog line, smtpd-tagged, reply last', () => {
    expect(formatReceiveLine(rcpt)).toBe(
      '2026-11-29 10:15:02 [smtpd] 127.0.0.2 s=ab12 RCPT baito@test.jp -> user@example.com REJECT block-external 550 5.7.1 <baito@test.jp> is not allowed to send to external addresses',
    );
    expect(formatReceiveLine({ ...rcpt, account: '*@test.jp' })).toContain(' account=*@test.jp REJECT ');
    const connect: ReceiveLogEntry = { ts: rcpt.ts, event: 'connect', session: 's1', clientIp: '192.168.0.102', clientHost: 'mail.test.jp', tls: true, trusted: true };
    expect(formatReceiveLine(connect)).toBe('2026-11-29 10:15:02 [smtpd] 192.168.0.102(mail.test.jp) s=s1 CONNECT tls trusted');
    const data: ReceiveLogEntry = {
      ...rcpt,
      event: 'data',
      sender: '',
      recipient: undefined,
      recipients: ['a@test.jp', 'b@test.jp'],
      decision: 'accept',
      rule: 'inbound',
      account: undefined,
      queueId: 'Q1',
      size: 1234,
      code: 250,
      reply: undefined,
    };
    expect(formatReceiveLine(data)).toBe('2026-11-29 10:15:02 [smtpd] 127.0.0.2 s=ab12 DATA <> -> a@test.jp,b@test.jp queue=Q1 size=1234 ACCEPT inbound 250');
  });

  it('escapes control characters so one entry stays one line', () => {
    const line = formatReceiveLine({ ...rcpt, event: 'error', decision: undefined, rule: undefined, code: undefined, reply: undefined, error: 'bad\r\nthing\u001b[31m' });
    expect(line).not.toMatch(/[\r\n\u001b]/);
    expect(line).toContain('error=bad\\r\\nthing\\u001b[31m');
    expect(formatTime('garbage')).toBe('garbage');
  });

  it('formats a senderlog line, relay-tagged, with per-recipient outcomes when partial', () => {
    const e: SenderLogEntry = {
      ts: new Date(2026, 10, 29, 10, 15, 9).toISOString(),
      queueId: 'Q1',
      attempt: 2,
      sender: 'a@test.jp',
      recipients: ['b@example.com', 'c@example.com'],
      hop: 'smtp.isp.example:587',
      via: 'smarthost',
      tls: true,
      outcome: 'partial',
      code: 250,
      reply: '250 2.0.0 Ok',
      durationMs: 412.4,
      nextAttemptAt: new Date(2026, 10, 29, 10, 20, 9).toISOString(),
      perRecipient: [
        { recipient: 'b@example.com', outcome: 'delivered', code: 250 },
        { recipient: 'c@example.com', outcome: 'deferred', code: 451, reply: '451 4.3.0 try later' },
      ],
    };
    expect(formatSenderLine(e)).toBe(
      '2026-11-29 10:15:09 [relay] q=Q1 #2 a@test.jp -> b@example.com,c@example.com via=smarthost hop=smtp.isp.example:587 tls 412ms next=2026-11-29 10:20:09 PARTIAL 250 2.0.0 Ok | b@example.com delivered 250 | c@example.com deferred 451 4.3.0 try later',
    );
    const d = formatSenderLine({ ...e, outcome: 'delivered', tls: false, nextAttemptAt: undefined, perRecipient: undefined, recipients: ['1@x', '2@x', '3@x', '4@x', '5@x', '6@x', '7@x'] });
    expect(d).toContain('-> 1@x,2@x,3@x,4@x,5@x +2 more ');
    expect(d).toContain(' no-tls ');
    expect(d.endsWith('DELIVERED 250 2.0.0 Ok')).toBe(true);
  });
});

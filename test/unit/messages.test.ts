/*
 * The message as the unit: grouping receivelog and senderlog lines into messages (one per
 * mail transaction, linked by the queue id; lines written before transactions were numbered;
 * two mails in one session), each recipient's fate, the outcome, steps for lines of kinds
 * added later (a new rule shows with its name and reply), bounces linked to their message,
 * the search match, plain words for failures, the RFC 2047 subject, and the dashboard's
 * problems and counts by message rather than by attempt.
 */
import { describe, expect, it } from 'vitest';
import { MessageBook, entryMatches, timelineSteps, txnRef } from '../../main/shared/messages.js';
import { explainProblem, whyText } from '../../main/shared/explain.js';
import { headerSummary } from '../../main/core/messages/header-summary.js';
import { TrafficStatsCollector } from '../../main/core/stats/traffic.js';
import type { ReceiveLogEntry, SenderLogEntry } from '../../main/shared/types.js';

const T = (s: number) => new Date(Date.UTC(2026, 10, 29, 1, 0, s)).toISOString();
const base = { session: 'abc', clientIp: '127.0.0.2', tls: false, trusted: true } as const;

/** `txn` null: lines as written before transactions were numbered. */
function seed(txn: number | null = 1): (ReceiveLogEntry | SenderLogEntry)[] {
  const l = { ...base, ...(txn === null ? {} : { txn }), sender: 'baito@test.jp' };
  return [
    { ts: T(0), event: 'connect', ...base },
    { ts: T(1), event: 'mail', ...l, decision: 'accept', rule: 'sender-ok', code: 250 },
    { ts: T(2), event: 'rcpt', ...l, recipient: 'someone@example.com', decision: 'reject', rule: 'block-external', code: 550, reply: '550 5.7.1 <baito@test.jp> is not allowed' },
    { ts: T(3), event: 'rcpt', ...l, recipient: 'boss@test.jp', decision: 'accept', rule: 'inbound', code: 250 },
    { ts: T(4), event: 'data', ...l, recipients: ['boss@test.jp'], decision: 'accept', code: 250, queueId: 'q1', subject: '見積書の件', messageId: '<m1@test.jp>' },
    { ts: T(5), event: 'close', ...base },
    { ts: T(6), queueId: 'q1', attempt: 1, sender: 'baito@test.jp', recipients: ['boss@test.jp'], hop: '127.0.0.1:2526', via: 'route', tls: false, outcome: 'delivered', code: 250, reply: '250 Ok', durationMs: 3 },
  ];
}

describe('MessageBook', () => {
  it('groups the seed scenario into one message: refused and delivered recipients, queue id, subject', () => {
    const b = new MessageBook();
    for (const e of seed()) b.add(e);
    expect(b.list()).toHaveLength(1);
    const m = b.get('q1')!.summary;
    expect(b.get(txnRef('abc', 1))!.summary).toBe(m);
    expect(m).toMatchObject({ ref: 'q1', queueId: 'q1', sender: 'baito@test.jp', subject: '見積書の件', outcome: 'delivered', rejected: 1, attempts: 1, clientIp: '127.0.0.2' });
    expect(m.recipients).toEqual([
      { address: 'someone@example.com', state: 'rejected', rule: 'block-external', code: 550, reply: '550 5.7.1 <baito@test.jp> is not allowed' },
      { address: 'boss@test.jp', state: 'delivered', code: 250, reply: '250 Ok' },
    ]);
    const steps = timelineSteps(b.get('q1')!.lines);
    expect(steps.map((s) => s.type)).toEqual(['connect', 'mail', 'rcpt', 'rcpt', 'data', 'attempt']);
  });

  it('reads lines written before transactions were numbered, and keeps two mails of one session apart', () => {
    const b = new MessageBook();
    for (const e of seed(null)) b.add(e);
    expect(b.get('abc')!.summary.queueId).toBe('q1');
    const two = new MessageBook();
    const l = (txn: number) => ({ ...base, txn, sender: 'a@test.jp' });
    two.add({ ts: T(0), event: 'mail', ...l(1), decision: 'accept' });
    two.add({ ts: T(1), event: 'rcpt', ...l(1), recipient: 'x@example.com', decision: 'reject', rule: 'relay-denied', code: 554 });
    two.add({ ts: T(2), event: 'mail', ...l(2), decision: 'accept' });
    two.add({ ts: T(3), event: 'rcpt', ...l(2), recipient: 'b@test.jp', decision: 'accept', rule: 'inbound' });
    two.add({ ts: T(4), event: 'data', ...l(2), recipients: ['b@test.jp'], decision: 'accept', queueId: 'q2' });
    expect(two.list().map((m) => [m.ref, m.outcome])).toEqual([
      ['abc.1', 'rejected'],
      ['q2', 'queued'],
    ]);
  });

  it('makes a step of a line of a kind it does not know, with its rule and reply (rules added later)', () => {
    const b = new MessageBook();
    for (const e of seed().slice(0, 5)) b.add(e);
    const held = { ts: T(9), queueId: 'q1', attempt: 0, sender: 'baito@test.jp', recipients: ['boss@test.jp'], hop: '', via: 'dsn', tls: false, outcome: 'deferred', reply: 'held for approval', durationMs: 0, rule: 'hold-approval' } as SenderLogEntry;
    b.add(held);
    const step = timelineSteps(b.get('q1')!.lines).at(-1)!;
    expect(step).toMatchObject({ source: 'send', type: 'note', rule: 'hold-approval', reply: 'held for approval' });
    const odd = { ts: T(10), event: 'approval', ...base, txn: 1, rule: 'approved', decision: 'accept' } as unknown as ReceiveLogEntry;
    expect(timelineSteps([odd])[0]).toMatchObject({ type: 'approval', rule: 'approved' });
  });

  it('keeps a held copy (a second queue id of the same mail) and its later decisions with the message', () => {
    const b = new MessageBook();
    for (const e of seed().slice(0, 5)) b.add(e);
    b.add({ ts: T(4), event: 'data', ...base, txn: 1, sender: 'baito@test.jp', recipients: ['x@example.com'], decision: 'accept', rule: 'hold-approval', queueId: 'h1' });
    b.add({ ts: T(60), event: 'hold' as never, session: '', clientIp: '', tls: false, queueId: 'h1', decision: 'accept', rule: 'approved' });
    const m = b.get('h1')!;
    expect(m.summary.ref).toBe('q1');
    expect(b.get('q1')!.summary).toBe(m.summary);
    expect(timelineSteps(m.lines).map((x) => x.rule ?? x.type).slice(-2)).toEqual(['hold-approval', 'approved']);
  });

  it('follows a held copy sent on under its own queue id to its delivery; a cancelled copy is refused', () => {
    const sent = new MessageBook();
    for (const e of seed().slice(0, 5)) sent.add(e);
    sent.add({ ts: T(4), event: 'data', ...base, txn: 1, sender: 'baito@test.jp', recipients: ['x@example.com'], decision: 'accept', rule: 'delay', queueId: 'h1' });
    sent.add({ ts: T(6), queueId: 'q1', attempt: 1, sender: 'baito@test.jp', recipients: ['boss@test.jp'], hop: '127.0.0.1:2526', via: 'route', tls: false, outcome: 'delivered', code: 250, reply: '250 Ok', durationMs: 3 });
    sent.add({ ts: T(60), event: 'hold', session: 'abc', clientIp: '127.0.0.2', tls: false, recipients: ['x@example.com'], queueId: 'h1', released: 'r1', decision: 'accept', rule: 'delay-sent-now' });
    sent.add({ ts: T(61), queueId: 'r1', attempt: 1, sender: 'baito@test.jp', recipients: ['x@example.com'], hop: '127.0.0.1:2527', via: 'override', tls: false, outcome: 'delivered', code: 250, reply: '250 Ok', durationMs: 3 });
    expect(sent.list()).toHaveLength(1);
    const m = sent.get('r1')!;
    expect(m.summary).toBe(sent.get('q1')!.summary);
    expect(m.summary.outcome).toBe('delivered');
    expect(m.summary.recipients.find((r) => r.address === 'x@example.com')?.state).toBe('delivered');
    expect(timelineSteps(m.lines).map((x) => `${x.type}:${x.queueId ?? ''}`).slice(-2)).toEqual(['hold:h1', 'attempt:r1']);

    const cancelled = new MessageBook();
    for (const e of seed().slice(0, 5)) cancelled.add(e);
    cancelled.add({ ts: T(4), event: 'data', ...base, txn: 1, sender: 'baito@test.jp', recipients: ['x@example.com'], decision: 'accept', rule: 'delay', queueId: 'h1' });
    cancelled.add(seed()[6]!);
    cancelled.add({ ts: T(60), event: 'hold', session: 'abc', clientIp: '127.0.0.2', tls: false, recipients: ['x@example.com'], queueId: 'h1', decision: 'reject', rule: 'delay-cancelled' });
    const c = cancelled.get('h1')!.summary;
    expect(c.recipients.find((r) => r.address === 'x@example.com')).toMatchObject({ state: 'rejected', rule: 'delay-cancelled' });
    expect(c.outcome).toBe('delivered');
  });

  it('follows a bounce: the failed attempt names the DSN, whose own lines make a message of their own', () => {
    const b = new MessageBook();
    for (const e of seed().slice(0, 5)) b.add(e);
    b.add({ ts: T(6), queueId: 'q1', attempt: 1, sender: 'baito@test.jp', recipients: ['boss@test.jp'], hop: '127.0.0.1:2526', via: 'route', tls: false, outcome: 'bounced', code: 550, reply: '550 5.1.1 User unknown', durationMs: 3, dsn: 'd1', perRecipient: [{ recipient: 'boss@test.jp', code: 550, reply: '550 5.1.1 User unknown', outcome: 'bounced' }] });
    b.add({ ts: T(7), queueId: 'd1', attempt: 1, sender: '', recipients: ['baito@test.jp'], hop: '127.0.0.1:2526', via: 'route', tls: false, outcome: 'delivered', code: 250, durationMs: 2 });
    const m = b.get('q1')!.summary;
    expect(m).toMatchObject({ outcome: 'bounced', dsn: ['d1'] });
    expect(m.problem?.why.code).toBe('unknown-user');
    expect(b.get('d1')!.summary.outcome).toBe('delivered');
  });

  it('matches addresses, subject, queue id and Message-ID in any case, and nothing else', () => {
    const [, , rcpt, , data, , attempt] = seed();
    expect(entryMatches(rcpt!, 'SOMEONE@EXAMPLE')).toBe(true);
    expect(entryMatches(data!, '見積')).toBe(true);
    expect(entryMatches(data!, 'M1@TEST')).toBe(true);
    expect(entryMatches(attempt!, 'q1')).toBe(true);
    expect(entryMatches(rcpt!, '127.0.0.2')).toBe(false);
    expect(entryMatches(rcpt!, 'not allowed')).toBe(false);
  });
});

describe('plain words for failures', () => {
  it.each([
    ['connect ECONNREFUSED 192.168.0.104:25', undefined, 'refused', '192.168.0.104:25'],
    ['Connection timed out', 451, 'timeout', undefined],
    ['queryMx ENOTFOUND partner.example', undefined, 'dns', 'partner.example'],
    ['550 5.1.1 <x@example.com>: Recipient address rejected: User unknown', 550, 'unknown-user', undefined],
    ['452 4.2.2 Mailbox full', 452, 'mailbox-full', undefined],
    ['554 5.7.1 Message rejected as spam', 554, 'policy', undefined],
    ['421 4.3.2 Service shutting down', 421, 'temporary', undefined],
    ['self-signed certificate in certificate chain', undefined, 'tls', undefined],
    ['something odd', undefined, 'other', undefined],
  ])('%s -> %s', (text, code, want, host) => {
    const e = explainProblem(code as number | undefined, text as string);
    expect(e.code).toBe(want);
    if (host) expect(e.params.host).toBe(host);
    expect(whyText(e, 'ja')).not.toMatch(/[A-Za-z]{3,} [A-Za-z]{3,}/);
  });
});

describe('subjects as received', () => {
  it('decodes RFC 2047 in UTF-8 and ISO-2022-JP, keeps plain text, and cuts control characters', () => {
    const h = (s: string) => headerSummary(Buffer.from(`From: a@test.jp\r\n${s}\r\nMessage-ID: <x@test.jp>\r\n\r\nbody`, 'latin1'));
    expect(h('Subject: =?utf-8?b?6KaL56mN5pu444Gu5Lu2?=')).toEqual({ subject: '見積書の件', messageId: '<x@test.jp>' });
    expect(h('Subject: =?ISO-2022-JP?B?GyRCOCtAUTtxTkEbKEI=?=').subject).toBe('見積資料');
    expect(h('Subject: Re: hello\r\n world').subject).toBe('Re: hello world');
    expect(h('Subject: =?utf-8?q?a=07b?=').subject).toBe('a b');
    expect(headerSummary(Buffer.from('From: a@test.jp\r\n\r\n'))).toEqual({});
  });
});

describe('dashboard counts and problems by message', () => {
  it('counts a message deferred six times as one, and a refused transaction once', () => {
    const c = new TrafficStatsCollector(() => new Date(T(30)));
    const now = T(10);
    for (let i = 1; i <= 3; i++) {
      for (const q of ['q1', 'q2']) c.addSend({ ts: now, queueId: q, attempt: i, sender: 'a@test.jp', recipients: ['x@example.com'], hop: 'h:25', via: 'mx', tls: false, outcome: 'deferred', reply: 'connect ECONNREFUSED 1.2.3.4:25', durationMs: 1 });
    }
    for (const r of ['x@example.com', 'y@example.com']) c.addReceive({ ts: now, event: 'rcpt', ...base, txn: 1, sender: 'baito@test.jp', recipient: r, decision: 'reject', rule: 'block-external', code: 550 });
    const snap = c.snapshot();
    const day = [...snap.week].reverse().find((b) => b.deferred > 0) ?? snap.week.at(-1)!;
    expect(day.deferred).toBe(2);
    expect(day.rejected).toBe(1);
    const problems = snap.problems;
    expect(problems.filter((p) => p.kind === 'deferred').map((p) => [p.ref, p.count])).toEqual(expect.arrayContaining([['q1', 3], ['q2', 3]]));
    const refused = problems.find((p) => p.kind === 'rejected')!;
    expect(refused).toMatchObject({ ref: 'abc.1', rule: 'block-external', recipients: ['x@example.com', 'y@example.com'], count: 2 });
    expect(problems.find((p) => p.ref === 'q1')!.why?.code).toBe('refused');
    // Queued for the colleague: the refusal now links to the queued message.
    c.addReceive({ ts: now, event: 'data', ...base, txn: 1, sender: 'baito@test.jp', recipients: ['boss@test.jp'], decision: 'accept', queueId: 'q9' });
    expect(c.snapshot().problems.find((p) => p.kind === 'rejected')!.ref).toBe('q9');
  });

  it('keeps the last 50 problems; a refusal that left the list is not linked back when its message is queued', () => {
    const c = new TrafficStatsCollector(() => new Date(T(30)));
    const refuse = (s: string, r = 'x@example.com') =>
      c.addReceive({ ts: T(10), event: 'rcpt', ...base, session: s, txn: 1, sender: 'baito@test.jp', recipient: r, decision: 'reject', rule: 'block-external', code: 550 });
    const queued = (s: string, q: string) =>
      c.addReceive({ ts: T(10), event: 'data', ...base, session: s, txn: 1, sender: 'baito@test.jp', recipients: ['boss@test.jp'], decision: 'accept', queueId: q });
    for (let i = 0; i < 60; i++) refuse(`s${i}`);
    let problems = c.snapshot().problems;
    expect(problems).toHaveLength(50);
    expect(problems.map((p) => p.ref)).not.toContain('s9.1');
    expect(problems.map((p) => p.ref)).toContain('s10.1');
    // s5 left the list: its queued line changes nothing; s30 is still listed and gets its queue id.
    queued('s5', 'q5');
    queued('s30', 'q30');
    problems = c.snapshot().problems;
    expect(problems.map((p) => p.ref)).not.toContain('q5');
    expect(problems.find((p) => p.ref === 'q30')).toMatchObject({ kind: 'rejected', count: 1, recipients: ['x@example.com'] });
    // A second refused recipient of a listed transaction folds into its entry.
    refuse('s40', 'y@example.com');
    expect(c.snapshot().problems.find((p) => p.ref === 's40.1')).toMatchObject({ count: 2, recipients: ['x@example.com', 'y@example.com'] });
    // A refused DATA line's recipients stay as logged when a later refusal folds in.
    const data: ReceiveLogEntry = { ts: T(11), event: 'data', ...base, session: 'd1', txn: 1, sender: 'baito@test.jp', recipients: ['a@example.com'], decision: 'reject', code: 554 };
    c.addReceive(data);
    refuse('d1', 'b@example.com');
    expect(c.snapshot().problems.find((p) => p.ref === 'd1.1')!.recipients).toEqual(['a@example.com', 'b@example.com']);
    expect(data.recipients).toEqual(['a@example.com']);
    // The entries handed out are copies: changing one changes nothing inside.
    c.snapshot().problems[0]!.recipients.push('z@example.com');
    expect(c.snapshot().problems[0]!.recipients).not.toContain('z@example.com');
  });
});

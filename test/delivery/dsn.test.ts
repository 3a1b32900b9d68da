// DSN (RFC 3464) structure: multipart/report, human part EN+JA, delivery-status fields,
// original headers; encoded Subject; the loop guard.
import { describe, expect, it } from 'vitest';
import { buildDsn, headerBlock, mayBounce, encodeHeaderText } from '../../main/core/delivery/dsn.js';
import { parseMime, statusGroups } from './helpers.js';

const original = Buffer.from('From: alice@test.jp\r\nTo: bob@x.example\r\nSubject: =?UTF-8?B?5pel5pys6Kqe?=\r\nMessage-ID: <m1@test.jp>\r\n\r\nbody line\r\n');

describe('buildDsn', () => {
  it('failure report has the RFC 3464 parts and fields', () => {
    const raw = buildDsn({
      reportingMta: 'gw.test.jp',
      queueId: 'Q1',
      sender: 'alice@test.jp',
      arrivalDate: new Date('2024-03-05T09:04:00Z'),
      recipients: [
        { recipient: 'bob@x.example', action: 'failed', status: '5.1.1', remoteMta: 'mx.x.example', diagnostic: '550 5.1.1 <bob@x.example>: user unknown', smtp: true },
        { recipient: 'carol@x.example', action: 'failed', status: '5.4.7', diagnostic: 'connect ECONNREFUSED', smtp: false },
      ],
      originalHeaders: headerBlock(original),
      now: new Date('2024-03-06T09:04:00Z'),
    });
    const text = raw.toString('utf8');
    expect(text).not.toMatch(/[^\r]\n/); // CRLF only
    const m = parseMime(raw);
    expect(m.headers['content-type']).toMatch(/^multipart\/report; report-type=delivery-status;/);
    expect(m.headers.from).toBe('Mail Delivery System <MAILER-DAEMON@gw.test.jp>');
    expect(m.headers.to).toBe('<alice@test.jp>');
    expect(m.headers['auto-submitted']).toBe('auto-replied');
    expect(m.parts.map((p) => p.headers['content-type'])).toEqual(['text/plain; charset=utf-8', 'message/delivery-status', 'text/rfc822-headers']);
    expect(m.parts[0].body).toContain('could not');
    expect(m.parts[0].body).toContain('メールを配送できませんでした');
    const groups = statusGroups(m.parts[1].body);
    expect(groups[0]).toMatchObject({ 'reporting-mta': 'dns; gw.test.jp', 'arrival-date': 'Tue, 05 Mar 2024 09:04:00 +0000' });
    expect(groups[1]).toMatchObject({
      'final-recipient': 'rfc822; bob@x.example',
      action: 'failed',
      status: '5.1.1',
      'remote-mta': 'dns; mx.x.example',
      'diagnostic-code': 'smtp; 550 5.1.1 <bob@x.example>: user unknown',
    });
    expect(groups[2]).toMatchObject({ 'final-recipient': 'rfc822; carol@x.example', status: '5.4.7', 'diagnostic-code': 'X-Gatehouse; connect ECONNREFUSED' });
    expect(m.parts[2].body).toContain('Message-ID: <m1@test.jp>');
    expect(m.parts[2].body).not.toContain('body line');
  });

  it('delay warning says delayed, 4.x.x and Will-Retry-Until', () => {
    const raw = buildDsn({
      reportingMta: 'gw.test.jp',
      queueId: 'Q2',
      sender: 'alice@test.jp',
      arrivalDate: new Date(),
      recipients: [{ recipient: 'bob@x.example', action: 'delayed', status: '4.2.1', diagnostic: '450 4.2.1 busy', smtp: true, willRetryUntil: new Date('2024-03-10T00:00:00Z') }],
      originalHeaders: headerBlock(original),
      now: new Date(),
    });
    const m = parseMime(raw);
    expect(m.parts[0].body).toContain('配送が遅れています');
    const g = statusGroups(m.parts[1].body)[1];
    expect(g).toMatchObject({ action: 'delayed', status: '4.2.1', 'will-retry-until': 'Sun, 10 Mar 2024 00:00:00 +0000' });
  });

  it('encodes a non-ASCII subject as RFC 2047 words that decode back', () => {
    const enc = encodeHeaderText('Undelivered / メールを配送できませんでした');
    const words = enc.split(/\r\n /);
    expect(words.every((w) => /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/.test(w) && w.length <= 75)).toBe(true);
    expect(words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join('')).toBe('Undelivered / メールを配送できませんでした');
  });
});

describe('mayBounce / headerBlock', () => {
  it.each([
    ['', false],
    ['MAILER-DAEMON@x.example', false],
    ['mailer-daemon@x.example', false],
    ['alice@test.jp', true],
  ])('%j -> %s', (s, want) => expect(mayBounce(s)).toBe(want));

  it('headerBlock stops at the blank line (CRLF or LF)', () => {
    expect(headerBlock(original).toString()).toBe('From: alice@test.jp\r\nTo: bob@x.example\r\nSubject: =?UTF-8?B?5pel5pys6Kqe?=\r\nMessage-ID: <m1@test.jp>\r\n');
    expect(headerBlock(Buffer.from('A: 1\nB: 2\n\nbody')).toString()).toBe('A: 1\nB: 2\n');
  });
});

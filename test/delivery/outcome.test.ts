// Per-recipient classification of one SMTP transaction: a table of nodemailer-shaped results.
import { describe, expect, it } from 'vitest';
import { classify, enhancedStatus, fromConnectError, fromSendError, fromSendInfo, summarize, outcomeOfCode } from '../../main/core/delivery/outcome.js';

const R = ['a@x.example', 'b@x.example', 'c@x.example'];

describe('outcomeOfCode', () => {
  it.each([
    [250, 'delivered'],
    [251, 'delivered'],
    [421, 'deferred'],
    [450, 'deferred'],
    [451, 'deferred'],
    [550, 'bounced'],
    [554, 'bounced'],
    [undefined, 'deferred'],
    [354, 'deferred'],
  ] as const)('%s -> %s', (code, want) => {
    expect(outcomeOfCode(code)).toBe(want);
  });
});

describe('enhancedStatus', () => {
  it.each([
    ['550 5.1.1 <a@x>: user unknown', 550, '5.1.1'],
    ['450 4.2.0 mailbox busy', 450, '4.2.0'],
    ['550 user unknown', 550, '5.0.0'],
    ['250 2.0.0 Ok: queued', 250, '2.0.0'],
    ['451 5.1.1 lies', 451, '4.0.0'],
    ['connect ECONNREFUSED', undefined, '4.4.1'],
  ] as const)('%s', (reply, code, want) => {
    expect(enhancedStatus(reply, code)).toBe(want);
  });
});

describe('classify', () => {
  it('all accepted: everyone delivered', () => {
    const c = classify(R, fromSendInfo({ accepted: R, rejected: [], response: '250 2.0.0 Ok: queued as X' }));
    expect(c.results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(c.results[0].code).toBe(250);
    expect(c.hopOk).toBe(true);
    expect(c.tryNextHop).toBe(false);
    expect(summarize(c.results)).toBe('delivered');
  });

  it('partly accepted: split per recipient by each RCPT reply, never all-or-nothing', () => {
    const info = {
      accepted: ['c@x.example'],
      rejected: ['a@x.example', 'b@x.example'],
      rejectedErrors: [
        { code: 'EENVELOPE', recipient: 'a@x.example', responseCode: 550, response: '550 5.1.1 <a@x.example>: Recipient address rejected' },
        { code: 'EENVELOPE', recipient: 'b@x.example', responseCode: 450, response: '450 4.2.1 mailbox busy' },
      ],
      response: '250 Ok',
    };
    const c = classify(R, fromSendInfo(info));
    expect(c.results).toMatchObject([
      { recipient: 'a@x.example', outcome: 'bounced', code: 550, status: '5.1.1' },
      { recipient: 'b@x.example', outcome: 'deferred', code: 450, status: '4.2.1' },
      { recipient: 'c@x.example', outcome: 'delivered', code: 250 },
    ]);
    expect(c.tryNextHop).toBe(true);
    expect(summarize(c.results)).toBe('partial');
  });

  it('every RCPT rejected (nodemailer error with rejectedErrors)', () => {
    const err = {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 450,
      response: '450 busy',
      rejectedErrors: [
        { recipient: 'a@x.example', responseCode: 550, response: '550 no such user' },
        { recipient: 'b@x.example', responseCode: 450, response: '450 busy' },
        { recipient: 'c@x.example', responseCode: 554, response: '554 5.7.1 relay denied' },
      ],
    };
    const c = classify(R, fromSendError(err, false));
    expect(c.results.map((r) => r.outcome)).toEqual(['bounced', 'deferred', 'bounced']);
    expect(c.results[2].status).toBe('5.7.1');
  });

  it('MAIL FROM 5xx bounces everyone; 4xx defers everyone and tries the next hop', () => {
    const perm = classify(R, fromSendError({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 553, response: '553 5.7.1 sender rejected' }, false));
    expect(perm.results.every((r) => r.outcome === 'bounced' && r.status === '5.7.1')).toBe(true);
    expect(perm.hopOk).toBe(true);
    const temp = classify(R, fromSendError({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 421, response: '421 4.3.2 shutting down' }, false));
    expect(temp.results.every((r) => r.outcome === 'deferred')).toBe(true);
    expect(temp.hopOk).toBe(false);
    expect(temp.tryNextHop).toBe(true);
  });

  it('final reply to DATA decides for all accepted', () => {
    const c = classify(R, fromSendError({ code: 'EMESSAGE', command: 'DATA', responseCode: 552, response: '552 5.3.4 message too big' }, true));
    expect(c.results.every((r) => r.outcome === 'bounced' && r.status === '5.3.4')).toBe(true);
    const d = classify(R, fromSendError({ code: 'EMESSAGE', command: 'DATA', responseCode: 451, response: '451 4.3.0 try later' }, true));
    expect(d.results.every((r) => r.outcome === 'deferred')).toBe(true);
    expect(d.tryNextHop).toBe(true);
  });

  it('connection lost after DATA: deferred, and not handed to the next hop now (it may have arrived)', () => {
    const c = classify(R, fromSendError({ code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly' }, true));
    expect(c.results.every((r) => r.outcome === 'deferred' && r.code === undefined)).toBe(true);
    expect(c.tryNextHop).toBe(false);
    expect(c.hopOk).toBe(false);
  });

  it('connection lost before DATA: deferred and the next hop may try', () => {
    const c = classify(R, fromSendError({ code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly' }, false));
    expect(c.results.every((r) => r.outcome === 'deferred')).toBe(true);
    expect(c.tryNextHop).toBe(true);
  });

  it.each([
    [{ code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:9' }, '4.4.1'],
    [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, '4.4.1'],
    [{ code: 'ETLS', message: 'certificate has expired' }, '4.7.5'],
    [{ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 bad credentials' }, '5.7.8'],
    [{ code: 'ECONNECTION', responseCode: 554, response: '554 no service here' }, '5.0.0'],
  ])('session setup failure %j: deferred (even with 5xx), next hop', (err, status) => {
    const c = classify(R, fromConnectError(err));
    expect(c.results.every((r) => r.outcome === 'deferred')).toBe(true);
    expect(c.results[0].status).toBe(status);
    expect(c.tryNextHop).toBe(true);
  });

  it('an address nodemailer refuses itself bounces (5.1.3)', () => {
    const c = classify(['bad'], fromSendError({ code: 'EENVELOPE', command: 'API', message: 'Invalid recipient "a<b"' }, false));
    expect(c.results[0]).toMatchObject({ outcome: 'bounced', status: '5.1.3' });
  });

  it('replies are made one ASCII line', () => {
    const c = classify(['a@x.example'], fromSendInfo({ accepted: [], rejected: ['a@x.example'], rejectedErrors: [{ recipient: 'a@x.example', responseCode: 550, response: '550-5.1.1 no\n550 5.1.1 ユーザー' }], response: '250 ok' }));
    expect(c.results[0].reply).toMatch(/^[\x20-\x7e]+$/);
  });
});

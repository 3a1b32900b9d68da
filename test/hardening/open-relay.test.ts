/*
 * Never an open relay (issue 7, point 4), over real sockets from 127.0.0.3 (untrusted).
 * The gateway routes test.jp to an "office" sink and has a smarthost that is a relay trap:
 * anything that gets out to an external domain lands in the trap. Two parts:
 *   1. the classic relay test list (percent hack, bang paths, source routes, quoted local
 *      parts, double @, IP literals, upper case, trailing dots, lookalike and Unicode-dot
 *      domains, null and spoofed internal senders, HELO spoofing), each with and without
 *      SMTPUTF8, each taken through DATA when a RCPT is accepted;
 *   2. a fast-check property over generated addresses (300 runs on one connection, RSET
 *      between runs): a 250 to RCPT only ever means rule `inbound` for a recipient whose
 *      domain is exactly test.jp and whose local part carries no routing characters.
 * A relay is an accepted RCPT whose recipient domain is not exactly an internal domain, or
 * any message reaching the trap. Prints "relays: 0 of N tried"; fails naming the address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SmtpTestClient, type Reply } from '../helpers/smtp-client.js';
import type { ReceiveLogEntry } from '../../main/shared/types.js';
import { openGateway, sleep, TestSink, waitFor, type TestGateway } from './helpers.js';

let env: TestGateway;
let office: TestSink;
let trap: TestSink;
const rcptLog: ReceiveLogEntry[] = [];
let tried = 0;
const relays: string[] = [];
let acceptedInbound = 0;
const acceptedAs = new Set<string>();

beforeAll(async () => {
  office = await TestSink.start();
  trap = await TestSink.start();
  env = await openGateway((c) => {
    c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
    c.delivery.smarthost = { host: '127.0.0.1', port: trap.port, security: 'none', user: '', password: '', allowInvalidCert: false };
    c.limits.maxConnectionsPerIp = 50;
  });
  env.gw.on('receivelog', (e) => {
    if (e.event === 'rcpt') rcptLog.push(e);
  });
});

afterAll(async () => {
  await env?.close();
  await office?.down();
  await trap?.down();
});

function withTimeout(p: Promise<Reply>, ms = 4000): Promise<Reply> {
  return Promise.race([p, sleep(ms).then(() => ({ code: -1, text: `no reply within ${ms} ms` }))]);
}

/** Local parts a relay hands on without routing anywhere else. */
const PLAIN_LOCAL = /^[A-Za-z0-9#$&'*+\-/=?^_`{|}~.\u0080-\uffff]+$/;

/** Judge one RCPT reply; returns a description when it was a relay. */
function judge(what: string, reply: Reply): string | null {
  tried++;
  if (reply.code !== 250) return null;
  const e = rcptLog.at(-1);
  if (!e || e.decision !== 'accept') return `${what}: 250 without an accept in the receivelog`;
  const rcpt = e.recipient ?? '';
  const at = rcpt.lastIndexOf('@');
  const local = rcpt.slice(0, at);
  const domain = rcpt.slice(at + 1);
  const ok = e.rule === 'inbound' && at > 0 && domain.toLowerCase() === 'test.jp' && /^[a-zA-Z.]+$/.test(domain) && PLAIN_LOCAL.test(local) && !local.includes('..');
  if (!ok) return `${what}: accepted as ${e.rule} for <${rcpt}>`;
  acceptedInbound++;
  acceptedAs.add(`${what.replace(/ -> 250$/, '')} => <${rcpt}>`);
  return null;
}

class Conn {
  c: SmtpTestClient | null = null;
  constructor(private readonly helo = 'spam.example.net') {}
  async get(): Promise<SmtpTestClient> {
    if (this.c) return this.c;
    const c = await SmtpTestClient.connect(env.port, { localAddress: '127.0.0.3' });
    expect((await withTimeout(c.greeting)).code).toBe(220);
    expect((await withTimeout(c.cmd(`EHLO ${this.helo}`))).code).toBe(250);
    this.c = c;
    return c;
  }
  /** One try: RSET, MAIL, RCPT, and DATA when the RCPT was accepted. */
  async attempt(sender: string, rcptArg: string, utf8: boolean): Promise<Reply> {
    let c = await this.get();
    let r = await withTimeout(c.cmd('RSET'));
    if (r.code !== 250) {
      c.destroy();
      this.c = null;
      c = await this.get();
      await withTimeout(c.cmd('RSET'));
    }
    const m = await withTimeout(c.cmd(`MAIL FROM:<${sender}>${utf8 ? ' SMTPUTF8' : ''}`));
    if (m.code !== 250) return m;
    r = await withTimeout(c.cmd(`RCPT TO:${rcptArg}`));
    if (r.code === 250) {
      const d = await withTimeout(c.cmd('DATA'));
      if (d.code === 354) {
        c.write(`From: ${sender || 'MAILER-DAEMON@example.net'}\r\nSubject: relay test\r\nMessage-ID: <relay-${tried}@relay.test>\r\n\r\nrelay test\r\n.\r\n`);
        await withTimeout(c.next());
      }
    }
    if (r.code === 0 || r.code === 421) {
      c.destroy();
      this.c = null;
    }
    return r;
  }
  async close(): Promise<void> {
    await this.c?.quit();
    this.c = null;
  }
}

/** RCPT arguments as written on the wire (brackets included where the trick needs them). */
const CLASSIC: string[] = [
  '<victim@example.com>',
  'victim@example.com',
  '<VICTIM@EXAMPLE.COM>',
  '<victim%example.com@test.jp>',
  '<victim%example.com>',
  '<victim%example.com@[127.0.0.1]>',
  '<victim%example.com%test.jp@test.jp>',
  '<example.com!victim>',
  '<example.com!victim@test.jp>',
  '<test.jp!example.com!victim>',
  '<@test.jp:victim@example.com>',
  '<@test.jp,@other.test.jp:victim@example.com>',
  '<@[127.0.0.1]:victim@example.com>',
  '<"victim@example.com">',
  '<"victim@example.com"@test.jp>',
  '<"victim%example.com"@test.jp>',
  '<"victim"@example.com>',
  '<"victim!example.com"@test.jp>',
  '<victim@example.com@test.jp>',
  '<victim@test.jp@example.com>',
  '<victim\\@example.com@test.jp>',
  '<victim@[127.0.0.1]>',
  '<victim@[127.0.0.2]>',
  '<victim@[IPv6:::1]>',
  '<victim@127.0.0.1>',
  '<victim@2130706433>',
  '<victim@0x7f000001>',
  '<victim@[test.jp]>',
  '<victim@example.com.>',
  '<victim@test.jp.>',
  '<victim@TEST.JP.>',
  '<victim@test.jp..>',
  '<victim@.test.jp>',
  '<victim@test.jp.example.com>',
  '<victim@eviltest.jp>',
  '<victim@test-jp.com>',
  '<victim@test.jp.>',
  '<victim@localhost>',
  '<victim@test>',
  '<victim@xn--tst-qla.jp>',
  '<victim@tеst.jp>', // Cyrillic e
  '<victim@ｔｅｓｔ.jp>', // fullwidth letters
  '<victim@test。jp>', // ideographic full stop (smtp-server maps it to a dot)
  '<victim@test．jp>', // fullwidth full stop
  '<victim@test｡jp>', // halfwidth ideographic full stop
  '<victim@example。com>',
  '<victim@test.jp\u200b>', // zero-width space
  '<victim@test.jp\u00a0>', // no-break space
  '<victim@test.jp%example.com>',
  '<victim@test.jp:25>',
  '<victim@example.com> NOTIFY=NEVER',
  '<victim@example.com >',
  '< victim@example.com>',
  '<<victim@example.com>>',
  '<victim@example.com',
  'victim@example.com>',
  '<victim@example.com>,<boss@test.jp>',
  '<boss@test.jp>,<victim@example.com>',
  '<boss@test.jp victim@example.com>',
  '<victim@example.com\tboss@test.jp>',
  '<postmaster>',
  '<postmaster@example.com>',
  '<>',
];

describe('classic relay tests from an untrusted client', () => {
  it(`none of ${CLASSIC.length} tricks x 4 senders x SMTPUTF8 on/off relays`, async () => {
    const conn = new Conn();
    try {
      for (const sender of ['spam@example.net', '', 'boss@test.jp', 'baito@test.jp']) {
        for (const utf8 of [false, true]) {
          for (const rcpt of CLASSIC) {
            const r = await conn.attempt(sender, rcpt, utf8);
            const bad = judge(`MAIL FROM:<${sender}>${utf8 ? ' SMTPUTF8' : ''} RCPT TO:${rcpt} -> ${r.code}`, r);
            if (bad) relays.push(bad);
          }
        }
      }
    } finally {
      await conn.close();
    }
    expect(relays).toEqual([]);
  }, 60_000);

  it('HELO spoofing (the gateway name, a trusted IP, localhost) changes nothing', async () => {
    for (const helo of ['gw.test.jp', '[127.0.0.2]', 'localhost', 'mail.test.jp']) {
      const conn = new Conn(helo);
      try {
        for (const rcpt of ['<victim@example.com>', '<victim%example.com@test.jp>', '<@test.jp:victim@example.com>']) {
          const r = await conn.attempt('boss@test.jp', rcpt, false);
          expect(r.code).toBeGreaterThanOrEqual(500);
          const bad = judge(`EHLO ${helo} RCPT TO:${rcpt}`, r);
          if (bad) relays.push(bad);
        }
      } finally {
        await conn.close();
      }
    }
    if (process.env.GATEHOUSE_RELAY_VERBOSE) console.log([...acceptedAs].join('\n'));
    expect(relays).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

const piece = fc.constantFrom(
  'victim', 'Boss', 'a', 'x.y', '%', '!', '"', '@', ':', ',', '.', '..', '\\', '[', ']', '(', ')', ';', '<', '>', ' ',
  'test.jp', 'example.com', '\u3002', '\uff0e', '\uff61', 'ｔ', 'é', 'ü', '\u200b', '+', '=', '/', '#', '$', '\u0130', 'ß', '\t',
);
const local = fc.array(piece, { minLength: 1, maxLength: 5 }).map((p) => p.join(''));
const domain = fc.oneof(
  fc.constantFrom(
    'test.jp', 'TEST.JP', 'Test.Jp', 'test.jp.', 'test.jp..', '.test.jp', 'example.com', 'EXAMPLE.com.', 'test.jp.example.com',
    'example.com.test.jp', 'eviltest.jp', 'test-jp.com', 'test\u3002jp', 'test\uff0ejp', 'test.jp\u3002', 'test\uff61jp',
    '[127.0.0.1]', '[IPv6:::1]', '127.0.0.1', '[test.jp]', 'tеst.jp', 'ｔｅｓｔ.jp', 'test.ｊｐ', 'xn--tst-qla.jp', 'test.jp%example.com',
    'test.jp@example.com', 'example.com@test.jp', 'localhost', 'test', 'test.jp\u200b', 'test.jp:25', 'test.jp]', '日本.jp',
  ),
  fc.array(fc.constantFrom('test', 'jp', 'example', 'com', '.', '-', '\u3002', 'é', '@', '%', '[', ']'), { minLength: 1, maxLength: 6 }).map((p) => p.join('')),
);
const address = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(local, domain).map(([l, d]) => `<${l}@${d}>`) },
  { weight: 2, arbitrary: fc.tuple(domain, local, domain).map(([r, l, d]) => `<@${r}:${l}@${d}>`) },
  { weight: 2, arbitrary: fc.tuple(local, domain).map(([l, d]) => `<"${l}"@${d}>`) },
  { weight: 1, arbitrary: fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: fc.constantFrom(...'aZ09.%!"@:<>[]\\, \u3002\u00e9'.split('')), maxLength: 30 })
      .map((s) => `<${s}>`),
  },
);

describe('property: generated addresses through real SMTP', () => {
  it('a 250 to RCPT from an untrusted client is always plain inbound mail for test.jp (300 runs)', async () => {
    const conn = new Conn();
    const before = tried;
    try {
      await fc.assert(
        fc.asyncProperty(address, fc.constantFrom('spam@example.net', '', 'boss@test.jp'), fc.boolean(), async (rcpt, sender, utf8) => {
          const r = await conn.attempt(sender, rcpt, utf8);
          const bad = judge(`MAIL FROM:<${sender}>${utf8 ? ' SMTPUTF8' : ''} RCPT TO:${rcpt} -> ${r.code}`, r);
          if (bad) relays.push(bad);
          return bad === null;
        }),
        { numRuns: 300, interruptAfterTimeLimit: 45_000 },
      );
    } finally {
      await conn.close();
    }
    expect(tried - before).toBeGreaterThanOrEqual(100);
  }, 60_000);
});

describe('end to end', () => {
  it('nothing reached the relay trap; the office got only test.jp mail', async () => {
    // Let delivery finish what was accepted; the trap must stay empty throughout.
    await waitFor(async () => (await env.gw.delivery.list()).length === 0, 15_000, 'an empty queue');
    expect(trap.seen.map((m) => `${m.from} -> ${m.to.join(',')}`)).toEqual([]);
    for (const m of office.seen) for (const r of m.to) expect(r.toLowerCase().endsWith('@test.jp')).toBe(true);
    console.log(
      `[open-relay] relays: ${relays.length} of ${tried} tried (accepted as inbound for test.jp: ${acceptedInbound}; ` +
        `delivered to the office: ${office.seen.length}; reached the relay trap: ${trap.seen.length})`,
    );
    if (process.env.GATEHOUSE_RELAY_VERBOSE) console.log([...acceptedAs].join('\n'));
    expect(relays).toEqual([]);
  });
});

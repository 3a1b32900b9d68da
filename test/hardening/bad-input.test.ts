/*
 * Bad input (issue 7, point 3) over raw sockets against an in-process Gateway whose office
 * route points at a real sink, with delivery running. Every case names the reply it expects:
 * SMTP smuggling endings (each bare CR / bare LF / NUL variant of end-of-data, whole and split
 * into one-byte TCP segments), NUL bytes, overlong command and body lines, 8-bit addresses
 * without SMTPUTF8, unknown MAIL/RCPT parameters, pipelining (early talkers, pipelined
 * commands, DATA content sent before the 354), too many recipients, declared and actual
 * oversize, slow clients in commands and in DATA (total deadlines, not just idle timers),
 * connection floods and the per-IP cap. At the end every message that reached the sink is
 * checked: no bare CR, bare LF or NUL, and no smuggled second message.
 *
 * Decisions documented here: a bare LF is rewritten to CRLF (Unix clients send them), a bare
 * CR or NUL refuses the message (550 5.6.0); a body line over 998 octets is accepted and
 * folded on delivery (the text re-encoded as quoted-printable, so it decodes to the same
 * bytes and no line over 998 octets reaches the next hop; DKIM signs after that); a command
 * line over smtp-server's 16 KB limit ends the session with 421 (lines between 512 octets and
 * 16 KB are parsed; an address in them over 254 octets gets 501/553); an unknown MAIL or RCPT
 * parameter gets 555 5.5.4; a command line must be complete within idleTimeoutMs of the last
 * reply, however slowly its bytes trickle in (421).
 * Fails with the case name, the reply seen and the reply expected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { SmtpTestClient, type Reply } from '../helpers/smtp-client.js';
import { badBytes, openGateway, sleep, TestSink, waitFor, type TestGateway } from './helpers.js';

let env: TestGateway;
let sink: TestSink;
let tried = 0;
/** Message-IDs of messages that got a 250 and must reach the sink. */
const accepted: string[] = [];

beforeAll(async () => {
  sink = await TestSink.start();
  env = await openGateway((c) => {
    c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
    c.limits.maxRecipients = 5;
    c.limits.maxMessageSize = 64 * 1024;
    c.limits.idleTimeoutMs = 1000;
    c.limits.dataTimeoutMs = 1500;
  });
});

afterAll(async () => {
  await env?.close();
  await sink?.down();
});

function withTimeout(p: Promise<Reply>, ms: number): Promise<Reply> {
  return Promise.race([p, sleep(ms).then(() => ({ code: -1, text: `no reply within ${ms} ms` }))]);
}

function socketOf(c: SmtpTestClient): net.Socket {
  return (c as unknown as { socket: net.Socket }).socket;
}

/** A session from `ip` after the greeting and EHLO. */
async function session(ip = '127.0.0.2'): Promise<SmtpTestClient> {
  const c = await SmtpTestClient.connect(env.port, { localAddress: ip });
  expect((await c.greeting).code).toBe(220);
  expect((await c.cmd('EHLO client.test.jp')).code).toBe(250);
  return c;
}

async function openTransaction(c: SmtpTestClient, from = 'tanaka@test.jp', to = 'boss@test.jp'): Promise<void> {
  expect((await c.cmd(`MAIL FROM:<${from}>`)).code).toBe(250);
  expect((await c.cmd(`RCPT TO:<${to}>`)).code).toBe(250);
  expect((await c.cmd('DATA')).code).toBe(354);
}

/** Writes `parts` one by one; with `bytewise`, every byte as its own TCP segment. */
async function writeParts(c: SmtpTestClient, parts: (string | Buffer)[], bytewise: boolean): Promise<void> {
  const sock = socketOf(c);
  sock.setNoDelay(true);
  for (const p of parts) {
    const b = Buffer.isBuffer(p) ? p : Buffer.from(p, 'latin1');
    if (!bytewise) {
      c.write(b);
      continue;
    }
    for (const byte of b) {
      c.write(Buffer.from([byte]));
      await sleep(2);
    }
  }
}

// ---------------------------------------------------------------------------------------------

const ENDINGS: [string, string][] = [
  ['LF . LF', '\n.\n'],
  ['CR . CR', '\r.\r'],
  ['LF . CRLF', '\n.\r\n'],
  ['CRLF . LF', '\r\n.\n'],
  ['CRLF . CR', '\r\n.\r'],
  ['CR . CRLF', '\r.\r\n'],
  ['LF . CR', '\n.\r'],
  ['CR . LF', '\r.\n'],
  ['CRLF NUL . CRLF', '\r\n\0.\r\n'],
  ['CRLF . NUL CRLF', '\r\n.\0\r\n'],
  ['CR CRLF . CR CRLF', '\r\r\n.\r\r\n'],
  ['LF CR . CRLF', '\n\r.\r\n'],
  ['CRLF . CR CRLF', '\r\n.\r\r\n'],
  ['CRLF .. CRLF (dot-stuffed, legitimate)', '\r\n..\r\n'],
];

describe('SMTP smuggling endings', () => {
  let n = 0;
  for (const bytewise of [false, true]) {
    for (const [name, ending] of ENDINGS) {
      const refused = /\r(?!\n)|\0/.test(`hello${ending}MAIL`);
      const expected = refused ? 550 : 250;
      it(`${name}${bytewise ? ', one byte per TCP segment' : ''} -> ${expected}, one message, no second one`, async () => {
        const i = ++n;
        tried++;
        const mid = `<smuggle-${i}@bad.test>`;
        const c = await session();
        await openTransaction(c);
        const head = `From: tanaka@test.jp\r\nTo: boss@test.jp\r\nSubject: smuggle ${i}\r\nMessage-ID: ${mid}\r\n\r\nhello`;
        const tail = `MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@test.jp>\r\nDATA\r\nFrom: evil@example.net\r\nMessage-ID: <smuggled-${i}@bad.test>\r\n\r\nsmuggled\r\n`;
        await writeParts(c, [head], false);
        await writeParts(c, [ending], bytewise);
        await writeParts(c, [tail], false);
        await writeParts(c, ['\r\n.\r\n'.slice(2)], bytewise); // tail ends in CRLF: ".\r\n" closes
        const end = await withTimeout(c.next(), 5000);
        expect(end.code, end.text).toBe(expected);
        if (refused) expect(end.text).toContain('5.6.0');
        // Exactly one reply for the whole DATA: the next one answers our RSET, not a smuggled MAIL.
        const rset = await withTimeout(c.cmd('RSET'), 3000);
        expect(rset.text).toContain('Flushed');
        await c.quit();
        if (!refused) accepted.push(mid);
      });
    }
  }

  it('a first body line ".." sent as its own segment is content, not the end of DATA -> 250', async () => {
    tried++;
    const c = await session();
    await openTransaction(c);
    await writeParts(c, ['..\r\n'], false);
    await sleep(30);
    await writeParts(c, ['Message-ID: <first-dot@bad.test>\r\nSubject: first line dot\r\n\r\nbody\r\n.\r\n'], false);
    const end = await withTimeout(c.next(), 5000);
    expect(end.code).toBe(250);
    expect((await c.cmd('RSET')).text).toContain('Flushed');
    await c.quit();
    accepted.push('<first-dot@bad.test>');
  });

  it('NUL in the middle of a body -> 550 5.6.0', async () => {
    tried++;
    const c = await session();
    await openTransaction(c);
    c.write(Buffer.from('Subject: nul\r\nMessage-ID: <nul@bad.test>\r\n\r\nhel\0lo\r\n.\r\n', 'latin1'));
    const end = await withTimeout(c.next(), 5000);
    expect(end.code).toBe(550);
    expect(end.text).toContain('5.6.0');
    await c.quit();
    const log = await env.receive();
    expect(log.some((e) => e.event === 'data' && e.rule === 'bad-line-endings' && e.error === 'nul')).toBe(true);
  });
});

describe('commands and addresses', () => {
  const cases: { name: string; lines: (string | Buffer)[]; expect: number[]; from?: string; close?: boolean }[] = [
    { name: 'NUL in EHLO', lines: [Buffer.from('EHLO a\0b.test.jp\r\n', 'latin1')], expect: [501] },
    { name: 'NUL in MAIL FROM (smtp-server refuses the syntax)', lines: [Buffer.from('MAIL FROM:<ta\0naka@test.jp>\r\n', 'latin1')], expect: [501] },
    { name: '8-bit sender without SMTPUTF8', lines: [Buffer.from('MAIL FROM:<tänaka@test.jp>\r\n', 'utf8')], expect: [553] },
    {
      name: '8-bit recipient without SMTPUTF8',
      lines: ['MAIL FROM:<tanaka@test.jp>\r\n', Buffer.from('RCPT TO:<bösé@test.jp>\r\n', 'utf8')],
      expect: [250, 553],
    },
    {
      name: '8-bit recipient domain without SMTPUTF8',
      lines: ['MAIL FROM:<tanaka@test.jp>\r\n', Buffer.from('RCPT TO:<boss@tëst.jp>\r\n', 'utf8')],
      expect: [250, 553],
    },
    { name: 'Latin-1 byte in an address (not UTF-8)', lines: [Buffer.from('MAIL FROM:<t\xe4naka@test.jp>\r\n', 'latin1')], expect: [553] },
    { name: 'unknown MAIL parameter', lines: ['MAIL FROM:<tanaka@test.jp> XFOO=BAR\r\n'], expect: [555] },
    { name: 'unknown RCPT parameter', lines: ['MAIL FROM:<tanaka@test.jp>\r\n', 'RCPT TO:<boss@test.jp> XFOO=1\r\n'], expect: [250, 555] },
    { name: 'bad SIZE value', lines: ['MAIL FROM:<tanaka@test.jp> SIZE=lots\r\n'], expect: [501] },
    { name: 'duplicate MAIL parameter', lines: ['MAIL FROM:<tanaka@test.jp> SIZE=10 SIZE=20\r\n'], expect: [501] },
    { name: 'BODY=BINARYMIME (needs BDAT)', lines: ['MAIL FROM:<tanaka@test.jp> BODY=BINARYMIME\r\n'], expect: [501] },
    { name: 'declared oversize SIZE=', lines: ['MAIL FROM:<tanaka@test.jp> SIZE=999999999\r\n'], expect: [552] },
    { name: 'RCPT before MAIL', lines: ['RCPT TO:<boss@test.jp>\r\n'], expect: [503] },
    { name: 'DATA before RCPT', lines: ['MAIL FROM:<tanaka@test.jp>\r\n', 'DATA\r\n'], expect: [250, 503] },
    { name: 'nested MAIL', lines: ['MAIL FROM:<tanaka@test.jp>\r\n', 'MAIL FROM:<tanaka@test.jp>\r\n'], expect: [250, 503] },
    { name: 'address over 254 octets (command over 512; smtp-server refuses it)', lines: ['MAIL FROM:<tanaka@test.jp>\r\n', `RCPT TO:<${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.test.jp>\r\n`], expect: [250, 501] },
    { name: 'local part over 64 octets', lines: ['MAIL FROM:<tanaka@test.jp>\r\n', `RCPT TO:<${'a'.repeat(65)}@test.jp>\r\n`], expect: [250, 553] },
    { name: 'unknown verb, 600-byte line', lines: [`XYZZY ${'x'.repeat(594)}\r\n`], expect: [500] },
    { name: 'command line over 16 KB', lines: [`NOOP ${'x'.repeat(17 * 1024)}\r\n`], expect: [421], close: true },
    { name: 'HTTP request on the SMTP port', lines: ['GET / HTTP/1.1\r\n'], expect: [421], close: true },
    { name: 'ten unknown commands', lines: Array.from({ length: 10 }, (_, i) => `BOGUS${i}\r\n`), expect: [...Array(9).fill(500), 421], close: true },
    {
      name: 'too many recipients (limit 5)',
      lines: ['MAIL FROM:<tanaka@test.jp>\r\n', ...Array.from({ length: 7 }, (_, i) => `RCPT TO:<u${i}@test.jp>\r\n`)],
      expect: [250, 250, 250, 250, 250, 250, 452, 452],
    },
    {
      name: 'pipelined transaction after EHLO (PIPELINING offered)',
      lines: ['MAIL FROM:<tanaka@test.jp>\r\nRCPT TO:<boss@test.jp>\r\nRCPT TO:<x@example.com>\r\nRCPT TO:<y%example.com@test.jp>\r\nRSET\r\n'],
      expect: [250, 250, 250, 553, 250],
    },
  ];

  for (const k of cases) {
    it(`${k.name} -> ${[...new Set(k.expect)].join('/')}`, async () => {
      tried++;
      const c = await session(k.from);
      const replies: Reply[] = [];
      for (const l of k.lines) c.write(l);
      for (let i = 0; i < k.expect.length; i++) replies.push(await withTimeout(c.next(), 4000));
      expect(replies.map((r) => r.code), replies.map((r) => r.text).join(' | ')).toEqual(k.expect);
      if (k.close) expect((await withTimeout(c.next(), 3000)).code).toBe(0);
      else expect((await withTimeout(c.cmd('NOOP'), 3000)).code).toBe(250);
      c.destroy();
    });
  }

  it('every refusal above is in the receivelog with its code', async () => {
    const log = await env.receive();
    for (const code of [553, 555, 501, 552, 503, 452, 500, 421]) {
      expect(log.some((e) => e.code === code), `a receivelog line with ${code}`).toBe(true);
    }
    const param = log.find((e) => e.code === 555 && e.event === 'rcpt');
    expect(param?.error).toBe('unknown-parameter');
    expect(param?.reply).toContain('XFOO');
  });
});

describe('pipelining abuse', () => {
  it('an untrusted early talker (commands before the greeting) -> 421 and closed', async () => {
    tried++;
    const sock = net.connect({ port: env.port, host: '127.0.0.1', localAddress: '127.0.0.3' });
    let got = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (got += d));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('EHLO spam\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n');
    await waitFor(() => sock.destroyed || sock.readableEnded || got.includes('421'), 4000, 'the early-talker refusal');
    expect(got).toMatch(/^421 /m);
    expect(got).not.toMatch(/^354/m);
    sock.destroy();
  });

  it('DATA content pipelined before the 354 from an untrusted client: the refused RCPT leaves DATA with 554/503, the rest are commands', async () => {
    tried++;
    const c = await session('127.0.0.3');
    c.write('MAIL FROM:<a@example.net>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nSubject: x\r\n\r\nspam\r\n.\r\n');
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await withTimeout(c.next(), 3000)).code);
    expect(codes).toEqual([250, 554, 503]);
    // The body lines are now read as commands: each is refused, none is a transaction.
    const rest: number[] = [];
    for (let i = 0; i < 4; i++) rest.push((await withTimeout(c.next(), 3000)).code);
    expect(rest.every((x) => x >= 500)).toBe(true);
    c.destroy();
  });

  it('500 pipelined NOOPs in one write: 500 answers, the server stays responsive', async () => {
    tried++;
    const c = await session();
    c.write('NOOP\r\n'.repeat(500));
    let ok = 0;
    for (let i = 0; i < 500; i++) if ((await withTimeout(c.next(), 4000)).code === 250) ok++;
    expect(ok).toBe(500);
    const other = await session();
    expect((await other.cmd('NOOP')).code).toBe(250);
    await other.quit();
    await c.quit();
  });
});

describe('size', () => {
  it('actual oversize (65 KB+ against a 64 KB limit) -> 552, not queued', async () => {
    tried++;
    const c = await session();
    await openTransaction(c);
    c.write('Subject: big\r\nMessage-ID: <big@bad.test>\r\n\r\n' + ('y'.repeat(998) + '\r\n').repeat(70) + '.\r\n');
    const end = await withTimeout(c.next(), 5000);
    expect(end.code).toBe(552);
    expect((await c.cmd('NOOP')).code).toBe(250);
    await c.quit();
  });

  it('a body line over 998 octets -> 250, folded on delivery (no line over 998 arrives, the text decodes the same)', async () => {
    tried++;
    const long = 'L'.repeat(5000);
    const c = await session();
    await openTransaction(c);
    c.write(`Subject: long line\r\nMessage-ID: <long-line@bad.test>\r\n\r\n${long}\r\n.\r\n`);
    const end = await withTimeout(c.next(), 5000);
    expect(end.code).toBe(250);
    await c.quit();
    accepted.push('<long-line@bad.test>');
    const got = await waitFor(() => sink.messages.find((m) => m.messageId === '<long-line@bad.test>'), 8000, 'the long-line message');
    const text = got.raw.toString('latin1');
    expect(text.split('\r\n').every((l) => l.length <= 998)).toBe(true);
    expect(text).toMatch(/\r\nContent-Transfer-Encoding: quoted-printable\r\n/);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body.replace(/=\r\n/g, '')).toBe(`${long}\r\n`);
  });
});

describe('slow clients', () => {
  it('idle in commands past idleTimeoutMs (1000) -> 421 and closed', async () => {
    tried++;
    const c = await session();
    const t0 = Date.now();
    const r = await withTimeout(c.next(), 5000);
    expect(r.code).toBe(421);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await withTimeout(c.next(), 2000)).code).toBe(0);
  });

  it('a command trickled one byte per 300 ms (beats the idle timer) -> 421 within a bounded time', async () => {
    tried++;
    const c = await session();
    socketOf(c).setNoDelay(true);
    const t0 = Date.now();
    let r: Reply | null = null;
    const reply = c.next().then((x) => (r = x));
    for (const ch of 'MAIL FROM:<tanaka@test.jp> BODY=8BITMIME SIZE=100'.split('')) {
      if (r || Date.now() - t0 > 6000) break;
      c.write(ch);
      await sleep(300);
    }
    await Promise.race([reply, sleep(1000)]);
    expect(r, 'a reply to the trickled command').not.toBeNull();
    expect(r!.code).toBe(421);
    expect(r!.text).toMatch(/no complete command/);
    // The deadline is idleTimeoutMs (1000) from our last reply, however the bytes trickle.
    expect(Date.now() - t0).toBeLessThan(2500);
    expect((await withTimeout(c.next(), 2000)).code).toBe(0);
    c.destroy();
  });

  it('DATA trickled one byte per 200 ms past dataTimeoutMs (1500) -> 421 4.4.2 and closed, nothing queued', async () => {
    tried++;
    const before = (await env.gw.delivery.list()).length + sink.seen.length;
    const c = await session();
    await openTransaction(c);
    socketOf(c).setNoDelay(true);
    const t0 = Date.now();
    let r: Reply | null = null;
    void c.next().then((x) => (r = x));
    const text = 'Subject: trickle\r\nMessage-ID: <trickle@bad.test>\r\n\r\n' + 'z'.repeat(200);
    for (const ch of text) {
      if (r || Date.now() - t0 > 5000) break;
      c.write(ch);
      await sleep(200);
    }
    expect(r).not.toBeNull();
    expect(r!.code).toBe(421);
    expect(r!.text).toContain('4.4.2');
    expect(Date.now() - t0).toBeLessThan(3500);
    expect((await withTimeout(c.next(), 2000)).code).toBe(0);
    await sleep(200);
    expect((await env.gw.delivery.list()).length + sink.seen.length).toBe(before);
  });
});

describe('connection floods', () => {
  it('40 connections at once against maxClients 10 / 4 per IP: the extra ones get 421, the rest work', async () => {
    const flood = await openGateway((c) => {
      c.limits.maxClients = 10;
      c.limits.maxConnectionsPerIp = 4;
    });
    try {
      const open = async (ip: string) => {
        const c = await SmtpTestClient.connect(flood.port, { localAddress: ip });
        return { c, g: await withTimeout(c.greeting, 5000) };
      };
      // Same IP first: the per-IP cap.
      const same = await Promise.all(Array.from({ length: 8 }, () => open('127.0.0.3')));
      tried += same.length;
      const sameCodes = same.map((x) => x.g.code).sort();
      expect(sameCodes).toEqual([220, 220, 220, 220, 421, 421, 421, 421]);
      // Then from many IPs: the total cap (4 held already).
      const many = await Promise.all(Array.from({ length: 32 }, (_, i) => open(`127.0.1.${i + 1}`)));
      tried += many.length;
      const ok = many.filter((x) => x.g.code === 220).length;
      const refused = many.filter((x) => x.g.code === 421);
      expect(ok).toBe(6);
      expect(refused).toHaveLength(26);
      expect(refused[0].g.text).toContain('4.7.0');
      for (const x of [...same, ...many]) x.c.destroy();
      // Slots come back when clients leave.
      await sleep(200);
      const later = await open('127.0.0.3');
      expect(later.g.code).toBe(220);
      later.c.destroy();
      await flood.gw.receivelog.flush();
      const log = await flood.gw.receivelog.tail(10_000);
      expect(log.filter((e) => e.rule === 'too-many-connections-from-ip').length).toBeGreaterThanOrEqual(4);
      expect(log.filter((e) => e.rule === 'too-many-clients').length).toBeGreaterThanOrEqual(26);
    } finally {
      await flood.close();
    }
  });
});

describe('what Gatehouse forwarded', () => {
  it('a bounce (DSN) built from a message with bare LFs in its headers is clean too', async () => {
    tried++;
    sink.behaviour.rcpt = (addr) => (addr === 'nobody@test.jp' ? { code: 550, message: '5.1.1 No such user here' } : null);
    const c = await session();
    await openTransaction(c, 'tanaka@test.jp', 'nobody@test.jp');
    c.write('Subject: to bounce\nX-Odd: a\nMessage-ID: <bounce-me@bad.test>\n\nbody\n\r\n.\r\n');
    const end = await withTimeout(c.next(), 5000);
    expect(end.code).toBe(250);
    await c.quit();
    const dsn = await waitFor(() => sink.seen.find((m) => m.from === '' && m.raw.includes('<bounce-me@bad.test>')), 10_000, 'the DSN at the office server');
    expect(dsn.to).toEqual(['tanaka@test.jp']);
    expect(badBytes(dsn.raw)).toEqual([]);
  });

  it('every accepted message reached the sink once, with no bare CR, bare LF or NUL and nothing smuggled', async () => {
    await waitFor(() => accepted.every((m) => sink.counts().has(m)), 15_000, 'all accepted messages at the sink');
    for (const m of sink.seen) {
      expect(badBytes(m.raw), `forwarded bytes of ${m.messageId}`).toEqual([]);
      expect(m.to.every((r) => r.endsWith('@test.jp'))).toBe(true);
      expect(m.from).not.toBe('evil@example.net');
      expect(m.messageId ?? '').not.toMatch(/smuggled/);
    }
    for (const [mid, n] of sink.counts()) expect(n, mid).toBe(1);
    console.log(`[bad-input] bad inputs tried: ${tried}; accepted and forwarded: ${accepted.length}; forwarded with bare CR/LF/NUL: 0; smuggled messages: 0`);
  });
});

// Long lines: no line over 998 octets reaches a downstream server, and folding keeps the
// content (re-encoded text parts decode to the original bytes, headers unfold to the same
// field). Unit cases on crafted messages, a property over random messages, and the real
// delivery path to a real sink (2,000-octet and 256 KB lines, 8-bit and quoted-printable
// parts, with DKIM signing after folding verified by dkimpy).
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dkimRecord, generateDkimKey } from '../../main/core/dkim/keys.js';
import { foldLongLines, hasLongLine } from '../../main/core/delivery/long-lines.js';
import { dkimpyVerify, dkimVerifierSkipReason } from '../helpers/dkim-verify.js';
import { dnsSkipReason, startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { harness, startSink, testConfig, waitFor, type Harness, type Sink } from './helpers.js';

const qpDecode = (createRequire(import.meta.url)('libqp') as { decode(s: string): Buffer }).decode;

function longest(buf: Buffer): number {
  let max = 0;
  for (const line of buf.toString('latin1').split('\r\n')) max = Math.max(max, line.length);
  return max;
}

function split(raw: Buffer): { head: string; body: Buffer } {
  const i = raw.indexOf('\r\n\r\n');
  return { head: raw.subarray(0, i).toString('latin1'), body: raw.subarray(i + 4) };
}

const ja = 'これは長い行のテストです。'; // 8-bit UTF-8
const long8 = Buffer.from(ja.repeat(200), 'utf8'); // ~7,800 octets, one line

describe('foldLongLines', () => {
  it('leaves a message without long lines alone (same Buffer)', () => {
    const raw = Buffer.from(`From: a@test.jp\r\nSubject: ok\r\n\r\n${'x'.repeat(998)}\r\n`);
    const r = foldLongLines(raw);
    expect(r.raw).toBe(raw);
    expect(r.folded).toBe(0);
  });

  it('a non-MIME 2,000-octet body line: re-encoded as quoted-printable, MIME headers added, content intact', () => {
    const line = 'word '.repeat(400).trimEnd();
    const raw = Buffer.from(`From: a@test.jp\r\nSubject: long\r\n\r\nfirst\r\n${line}\r\nlast \r\n`);
    const r = foldLongLines(raw);
    expect(longest(r.raw)).toBeLessThanOrEqual(76 + 300); // header lines untouched, body at 76
    const { head, body } = split(r.raw);
    expect(head).toBe('From: a@test.jp\r\nSubject: long\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable');
    expect(qpDecode(body.toString('latin1')).toString('latin1')).toBe(`first\r\n${line}\r\nlast \r\n`);
    expect(r).toMatchObject({ folded: 1, reencoded: 1 });
  });

  it('an 8-bit part in a multipart message: only that part re-encoded, its CTE header replaced', () => {
    const raw = Buffer.concat([
      Buffer.from('From: a@test.jp\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\npreamble\r\n--b1\r\n'),
      Buffer.from('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'),
      long8,
      Buffer.from('\r\n--b1\r\nContent-Type: text/plain\r\n\r\nshort part\r\n--b1--\r\nepilogue\r\n'),
    ]);
    const r = foldLongLines(raw);
    expect(hasLongLine(r.raw)).toBe(false);
    const text = r.raw.toString('latin1');
    expect(text).toContain('--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
    expect(text).toContain('\r\n--b1\r\nContent-Type: text/plain\r\n\r\nshort part\r\n--b1--\r\nepilogue\r\n');
    const part = text.split('--b1')[1].split('\r\n\r\n').slice(1).join('\r\n\r\n');
    expect(qpDecode(part).equals(Buffer.concat([long8, Buffer.from('\r\n')]))).toBe(true);
    expect(r.reencoded).toBe(1);
  });

  it('quoted-printable with a long line gets soft breaks; base64 gets line breaks; both decode the same', () => {
    const qpLine = `${'=E3=81=93'.repeat(150)}abc`; // 1,353 octets of valid QP on one line
    const b64 = Buffer.from('x'.repeat(3000)).toString('base64'); // 4,000 octets on one line
    const raw = Buffer.from(
      `From: a@test.jp\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qpLine}\r\n--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--zz--\r\n`,
    );
    const r = foldLongLines(raw);
    expect(longest(r.raw)).toBeLessThanOrEqual(76);
    const parts = r.raw.toString('latin1').split('--zz');
    const qpBody = parts[1].split('\r\n\r\n')[1];
    expect(qpDecode(qpBody).equals(qpDecode(qpLine + '\r\n'))).toBe(true);
    const b64Body = parts[2].split('\r\n\r\n')[1];
    expect(Buffer.from(b64Body.replace(/\s+/g, ''), 'base64').toString()).toBe('x'.repeat(3000));
    expect(r).toMatchObject({ folded: 2, reencoded: 0 });
  });

  it('a long header folds before whitespace (unfolds to the same field); one without whitespace breaks with CRLF + space', () => {
    const to = Array.from({ length: 80 }, (_, i) => `user${i}@partner.example`).join(', ');
    const token = 'X'.repeat(2500);
    const raw = Buffer.from(`From: a@test.jp\r\nTo: ${to}\r\nX-Token: ${token}\r\n\r\nbody\r\n`);
    const r = foldLongLines(raw);
    expect(hasLongLine(r.raw)).toBe(false);
    const head = split(r.raw).head;
    const unfolded = head.replace(/\r\n(?=[ \t])/g, '');
    expect(unfolded).toContain(`To: ${to}\r\n`);
    // The last resort changes the value by the inserted spaces only.
    expect(/X-Token: (.*)/.exec(unfolded)![1].replace(/ /g, '')).toBe(token);
    expect(split(r.raw).body.toString()).toBe('body\r\n');
  });

  it('a 256 KB line in a message/rfc822 attachment is re-encoded inside the attachment', () => {
    const big = 'y'.repeat(256 * 1024);
    const raw = Buffer.from(
      `From: a@test.jp\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@x.example\r\nSubject: inner\r\n\r\n${big}\r\n--q--\r\n`,
    );
    const r = foldLongLines(raw);
    expect(hasLongLine(r.raw)).toBe(false);
    expect(r.raw.toString('latin1')).toContain('Content-Type: message/rfc822\r\n\r\nFrom: b@x.example\r\nSubject: inner\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
  });

  it('property: no output line over 998 octets, and short-lined input passes through untouched', () => {
    const chunk = fc.oneof(
      fc.constantFrom('\r\n', ' ', '\t', '=', '--b', '\r\n--b\r\n', '\r\n\r\n', 'Content-Type: multipart/mixed; boundary=b\r\n', 'Content-Transfer-Encoding: quoted-printable\r\n', 'Content-Transfer-Encoding: base64\r\n'),
      fc.string({ minLength: 0, maxLength: 40 }),
      fc.integer({ min: 1, max: 3000 }).map((n) => 'a'.repeat(n)),
      fc.integer({ min: 1, max: 600 }).map((n) => 'あ'.repeat(n)),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 30 }), (chunks) => {
        const raw = Buffer.from(`From: a@test.jp\r\n${chunks.join('')}\r\n`, 'utf8');
        const r = foldLongLines(raw);
        expect(hasLongLine(r.raw)).toBe(false);
        if (!hasLongLine(raw)) expect(r.raw).toBe(raw);
      }),
      { numRuns: 300 },
    );
  });
});

const skip = dnsSkipReason() || dkimVerifierSkipReason();
if (skip) console.log(skip);

describe.skipIf(!!skip)('long lines through the delivery path (real sink, DKIM after folding)', () => {
  const key = generateDkimKey('rsa');
  let dns: DnsServer;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    dns = await startDnsServer({
      zones: {
        'test.jp': [{ name: 's1._domainkey', type: 'TXT', value: dkimRecord('test.jp', 's1', key.privateKey).value }],
        'remote.example': [
          { name: '@', type: 'MX', value: '10 mx.remote.example' },
          { name: 'mx', type: 'A', value: '127.0.0.8' },
        ],
      },
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('2,000-octet and 256 KB lines, 8-bit and quoted-printable: nothing over 998 arrives, signatures verify, content decodes intact', async () => {
    const mx = await startSink({ host: '127.0.0.8' });
    cleanups.push(() => mx.close());
    const office = await startSink({ host: '127.0.0.1' });
    cleanups.push(() => office.close());
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
    });
    const h: Harness = await harness(cfg, {
      dnsServers: [dns.server],
      mxPort: mx.port,
      outbound: () => ({ dkimKeys: [{ domain: 'test.jp', selector: 's1', algorithm: 'rsa', privateKey: key.privateKey, publicKey: key.publicKey, createdAt: '' }] }),
    });
    cleanups.push(() => h.close());
    const line2000 = 'a'.repeat(2000);
    const line256k = 'b'.repeat(256 * 1024);
    const mime = `MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="alt"\r\n`;
    const body = [
      '--alt',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `${ja.repeat(100)}`,
      line2000,
      '--alt',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      `<p>${'=E3=81=82'.repeat(500)}</p>`,
      '--alt--',
      '',
    ].join('\r\n');
    await h.send('someone@test.jp', ['friend@remote.example', 'colleague@test.jp'], mime, body);
    await h.send('someone@test.jp', ['friend@remote.example'], '', `${line256k}\r\n`);
    await waitFor(() => mx.messages.length === 2 && office.messages.length === 1, 10_000, 'deliveries');
    for (const m of [...mx.messages, ...office.messages]) expect(hasLongLine(m.raw)).toBe(false);
    for (const m of mx.messages) expect(await dkimpyVerify(m.raw, dns.host, dns.port)).toMatchObject({ ok: true, signatures: 1 });
    // The big one decodes back to the 256 KB line.
    const big = mx.messages.find((m) => m.raw.length > 200 * 1024)!;
    expect(qpDecode(split(big.raw).body.toString('latin1')).toString()).toBe(`${line256k}\r\n`);
    await waitFor(() => h.log.length === 3, 5000, 'senderlog');
    expect(h.log.filter((l) => l.via === 'mx').map((l) => l.foldedLines).sort()).toEqual([1, 3]);
    expect(h.log.find((l) => l.via === 'route')).toMatchObject({ foldedLines: 3 });
  });
});

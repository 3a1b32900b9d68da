// The test DNS server (a real knotd on loopback) and the core's resolver pointed at it:
// A, AAAA, MX, multi-string TXT, PTR, NXDOMAIN, NODATA, REFUSED outside the zones, a zone
// changed mid-test, and a few thousand records answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, ipFromPtrName, mailauthResolver } from '../../main/core/dns/resolver.js';
import { dnsServerProblem } from '../../main/shared/rules.js';
import { dnsSkipReason, ptrName, startDnsServer, txtStrings, type DnsServer } from '../helpers/dns-server.js';

const skip = dnsSkipReason();
if (skip) console.log(skip);

const longKey = 'p='.padEnd(600, 'A');

describe.skipIf(!!skip)('test DNS server + core resolver', () => {
  let dns: DnsServer;
  beforeAll(async () => {
    dns = await startDnsServer({
      zones: {
        'test.jp': [
          { name: '@', type: 'MX', value: '10 mx.test.jp' },
          { name: 'mx', type: 'A', value: '127.0.0.5' },
          { name: 'mx', type: 'AAAA', value: '::1' },
          { name: 'v4only.test.jp', type: 'A', value: '127.0.0.6' },
          { name: 's1._domainkey', type: 'TXT', value: `v=DKIM1; k=rsa; ${longKey}` },
          { name: 'quote', type: 'TXT', value: 'say "hi" \\ there' },
        ],
        '127.in-addr.arpa': [{ name: ptrName('127.0.0.5'), type: 'PTR', value: 'mx.test.jp' }],
      },
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('answers A, AAAA, MX, long TXT (split into 255-octet strings), PTR', async () => {
    const r = createResolver({ dnsServers: [dns.server] });
    expect(await r.resolveMx('test.jp')).toEqual([{ exchange: 'mx.test.jp', priority: 10 }]);
    expect((await r.resolveHost('mx.test.jp')).sort()).toEqual(['127.0.0.5', '::1']);
    expect(await r.resolveHost('v4only.test.jp')).toEqual(['127.0.0.6']);
    const txt = await r.resolveTxt('s1._domainkey.test.jp');
    expect(txt[0].length).toBe(3);
    expect(txt[0].every((s) => Buffer.byteLength(s) <= 255)).toBe(true);
    expect(txt[0].join('')).toBe(`v=DKIM1; k=rsa; ${longKey}`);
    expect(await r.resolveTxt('quote.test.jp')).toEqual([['say "hi" \\ there']]);
    expect(await r.reverse('127.0.0.5')).toEqual(['mx.test.jp']);
    const ma = mailauthResolver(r);
    expect(await ma('5.0.0.127.in-addr.arpa', 'PTR')).toEqual(['mx.test.jp']);
  });

  it('NXDOMAIN, NODATA and names outside every zone come back as node error codes', async () => {
    const r = createResolver({ dnsServers: [dns.server], timeoutMs: 500, tries: 1 });
    await expect(r.resolveMx('nope.test.jp')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(r.resolveTxt('mx.test.jp')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(r.resolveHost('nope.test.jp')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(r.resolveMx('other.example')).rejects.toMatchObject({ code: 'EREFUSED' });
  });

  it('setZone changes answers; a new zone is served; thousands of records answer', async () => {
    const r = createResolver({ dnsServers: [dns.server] });
    await dns.setZone('test.jp', [{ name: '@', type: 'MX', value: '20 mx2.test.jp' }]);
    expect(await r.resolveMx('test.jp')).toEqual([{ exchange: 'mx2.test.jp', priority: 20 }]);
    const records = Array.from({ length: 2000 }, (_, i) => [
      { name: `d${i}`, type: 'MX' as const, value: `10 mx${i % 7}.bulk.example` },
      { name: `mx${i % 7}`, type: 'A' as const, value: `127.0.1.${i % 7}` },
    ]).flat();
    const started = Date.now();
    await dns.setZone('bulk.example', records);
    const loadMs = Date.now() - started;
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => r.resolveMx(`d${i * 9}.bulk.example`)));
    expect(answers.every((a) => a.length === 1)).toBe(true);
    expect(await r.resolveMx('d1999.bulk.example')).toEqual([{ exchange: 'mx4.bulk.example', priority: 10 }]);
    expect(loadMs).toBeLessThan(10_000);
  });
});

describe('resolver helpers', () => {
  it('checks dnsServers strings', () => {
    for (const ok of ['127.0.0.1:5353', '::1', '[::1]:53', '192.0.2.1']) expect(dnsServerProblem(ok)).toBeNull();
    expect(dnsServerProblem('dns.example')?.code).toBe('dns_server');
    expect(dnsServerProblem('127.0.0.1:70000')?.code).toBe('int_range');
    expect(() => createResolver({ dnsServers: ['nope'] })).toThrow(/dnsServers/);
  });

  it('turns reverse names back into addresses', () => {
    expect(ipFromPtrName('5.0.0.127.in-addr.arpa')).toBe('127.0.0.5');
    expect(ipFromPtrName('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa')).toBe('0000:0000:0000:0000:0000:0000:0000:0001');
    expect(ipFromPtrName('x.example')).toBeNull();
  });

  it('splits TXT into quoted 255-octet strings', () => {
    const s = txtStrings('a'.repeat(300));
    expect(s).toBe(`"${'a'.repeat(255)}" "${'a'.repeat(45)}"`);
  });
});

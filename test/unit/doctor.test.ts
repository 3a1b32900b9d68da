// The deliverability check against a real DNS server on loopback with good and bad zones for
// each check (SPF via mailauth, forward-confirmed reverse DNS, DKIM key published, DMARC,
// MTA-STS with a real HTTPS policy host), the port 25 probe against loopback ports (open,
// closed, silent), the smarthost login probe against real SMTP sinks, and the message table.
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDkim, checkDmarc, checkFcrdns, checkMtaSts, checkPort25, checkSmarthostLogin, checkSpf, runDoctor, spfWith } from '../../main/core/doctor/checks.js';
import { dkimRecord, generateDkimKey } from '../../main/core/dkim/keys.js';
import { createResolver, type DnsLookup } from '../../main/core/dns/resolver.js';
import type { CheckResult, DkimKey } from '../../main/shared/deliverability.js';
import { CHECK_MESSAGES, CHECK_TITLES, renderCheckMessage } from '../../main/shared/deliverability-messages.js';
import { closedPort, makeCert, startSink, tempDir } from '../delivery/helpers.js';
import { dnsSkipReason, ptrName, startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';

const skip = dnsSkipReason();
if (skip) console.log(skip);

const key = generateDkimKey('rsa');
const other = generateDkimKey('ed25519');
const keyFor = (domain: string, g = key): DkimKey => ({ domain, selector: 's1', algorithm: g.algorithm, privateKey: g.privateKey, publicKey: g.publicKey, createdAt: '' });
const WEB = '127.0.0.31';

const seen: CheckResult[] = [];
const keep = <T extends CheckResult | CheckResult[]>(r: T): T => {
  seen.push(...(Array.isArray(r) ? r : [r]));
  return r;
};

describe('spfWith', () => {
  it('adds the mechanism before all / redirect, or makes a record', () => {
    expect(spfWith(undefined, 'ip4:192.0.2.1')).toBe('v=spf1 ip4:192.0.2.1 -all');
    expect(spfWith('v=spf1 mx ~all', 'ip4:192.0.2.1')).toBe('v=spf1 mx ip4:192.0.2.1 ~all');
    expect(spfWith('v=spf1 redirect=_spf.x.example', 'a:gw.x.example')).toBe('v=spf1 a:gw.x.example redirect=_spf.x.example');
    expect(spfWith('v=spf1 ip4:192.0.2.1 -all', 'ip4:192.0.2.1')).toBe('v=spf1 ip4:192.0.2.1 -all');
  });
});

describe.skipIf(!!skip)('deliverability checks against loopback DNS', () => {
  let dns: DnsServer;
  let r: DnsLookup;
  let ca: TestCa;
  let web: https.Server;
  let webPort = 0;
  const policies = new Map<string, string>();

  beforeAll(async () => {
    ca = makeTestCa();
    policies.set('mta-sts.good.jp', 'version: STSv1\nmode: enforce\nmx: mx.good.jp\nmax_age: 86400\n');
    policies.set('mta-sts.nospf.jp', 'version: STSv1\nmode: enforce\nmx: mx.elsewhere.jp\nmax_age: 86400\n');
    const cert = ca.issue(['mta-sts.good.jp', 'mta-sts.bad.jp', 'mta-sts.nospf.jp'], [WEB]);
    web = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      const p = policies.get(String(req.headers.host ?? '').replace(/:\d+$/, ''));
      if (!p) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(p);
    });
    await new Promise<void>((ok) => web.listen(0, WEB, () => ok()));
    webPort = (web.address() as AddressInfo).port;
    const sts = (d: string) => [
      { name: `_mta-sts.${d}`, type: 'TXT' as const, value: 'v=STSv1; id=20260101;' },
      { name: `mta-sts.${d}`, type: 'A' as const, value: WEB },
    ];
    dns = await startDnsServer({
      zones: {
        'good.jp': [
          { name: '@', type: 'TXT', value: 'v=spf1 ip4:127.0.0.50 -all' },
          { name: '@', type: 'TXT', value: 'google-site-verification=abc' },
          { name: '@', type: 'MX', value: '10 mx.good.jp' },
          { name: 's1._domainkey', type: 'TXT', value: dkimRecord('good.jp', 's1', key.privateKey).value },
          { name: '_dmarc', type: 'TXT', value: 'v=DMARC1; p=reject; rua=mailto:dmarc@good.jp' },
          ...sts('good.jp'),
          { name: 'gw', type: 'A', value: '127.0.0.50' },
          { name: 'gw-noptr', type: 'A', value: '127.0.0.51' },
          { name: 'gw-mismatch', type: 'A', value: '127.0.0.52' },
        ],
        'bad.jp': [
          { name: '@', type: 'TXT', value: 'v=spf1 ip4:192.0.2.1 -all' },
          { name: 's1._domainkey', type: 'TXT', value: dkimRecord('bad.jp', 's1', other.privateKey).value },
          ...sts('bad.jp'),
        ],
        'soft.jp': [
          { name: '@', type: 'TXT', value: 'v=spf1 ~all' },
          { name: '_dmarc', type: 'TXT', value: 'v=DMARC1; p=bogus' },
        ],
        'nospf.jp': [
          { name: '@', type: 'MX', value: '10 mx.nospf.jp' },
          { name: '_dmarc', type: 'TXT', value: 'v=DMARC1; p=none' },
          { name: '_dmarc', type: 'TXT', value: 'v=DMARC1; p=reject' },
          ...sts('nospf.jp'),
        ],
        'dual.jp': [
          { name: '@', type: 'TXT', value: 'v=spf1 -all' },
          { name: '@', type: 'TXT', value: 'v=spf1 ip4:127.0.0.50 -all' },
        ],
        'm365.jp': [{ name: '@', type: 'TXT', value: 'v=spf1 include:spf.protection.outlook.com -all' }],
        'isp.jp': [
          { name: '@', type: 'TXT', value: 'v=spf1 a:relay.isp.jp -all' },
          { name: 'relay', type: 'A', value: '127.0.0.60' },
        ],
        '127.in-addr.arpa': [
          { name: ptrName('127.0.0.50'), type: 'PTR', value: 'gw.good.jp' },
          { name: ptrName('127.0.0.52'), type: 'PTR', value: 'other.good.jp' },
        ],
      },
    });
    r = createResolver({ dnsServers: [dns.server] });
  });
  afterAll(async () => {
    await dns?.stop();
    await new Promise((ok) => web?.close(ok));
    ca?.cleanup();
  });

  it('SPF: covered, not covered, missing, soft, two records, provider include, smarthost by name', async () => {
    const direct = { publicIp: '127.0.0.50' };
    expect(keep(await checkSpf('good.jp', direct, r, 'gw.good.jp'))).toMatchObject({ status: 'ok', code: 'spf.ok' });
    const bad = keep(await checkSpf('bad.jp', direct, r, 'gw.good.jp'));
    expect(bad).toMatchObject({ status: 'fail', code: 'spf.not-covered', params: { result: 'fail' }, record: { name: 'bad.jp', type: 'TXT', value: 'v=spf1 ip4:192.0.2.1 ip4:127.0.0.50 -all' } });
    expect(keep(await checkSpf('nospf.jp', direct, r, 'gw.good.jp'))).toMatchObject({ status: 'fail', code: 'spf.missing', record: { value: 'v=spf1 ip4:127.0.0.50 -all', zoneLine: 'nospf.jp. IN TXT ( "v=spf1 ip4:127.0.0.50 -all" )' } });
    expect(keep(await checkSpf('soft.jp', direct, r, 'gw.good.jp'))).toMatchObject({ status: 'warn', code: 'spf.softfail', params: { result: 'softfail' }, record: { value: 'v=spf1 ip4:127.0.0.50 ~all' } });
    expect(keep(await checkSpf('dual.jp', direct, r, 'gw.good.jp'))).toMatchObject({ status: 'fail', code: 'spf.invalid' });
    expect(keep(await checkSpf('m365.jp', { smarthost: { host: 'smtp.office365.com' } }, r, 'gw.good.jp'))).toMatchObject({ status: 'ok' });
    expect(keep(await checkSpf('good.jp', { smarthost: { host: 'smtp.office365.com' } }, r, 'gw.good.jp'))).toMatchObject({
      status: 'fail',
      code: 'spf.not-covered',
      record: { value: 'v=spf1 ip4:127.0.0.50 include:spf.protection.outlook.com -all' },
    });
    expect(keep(await checkSpf('isp.jp', { smarthost: { host: 'relay.isp.jp' } }, r, 'gw.good.jp'))).toMatchObject({ status: 'ok', params: { via: 'relay.isp.jp' } });
    expect(keep(await checkSpf('good.jp', {}, r, 'gw.good.jp'))).toMatchObject({ status: 'warn', code: 'spf.no-public-ip' });
  });

  it('forward-confirmed reverse DNS: match, no PTR, other PTR, no address, address not the public one', async () => {
    expect(keep(await checkFcrdns('gw.good.jp', r, '127.0.0.50'))).toMatchObject({ status: 'ok', code: 'fcrdns.ok', params: { ip: '127.0.0.50' } });
    expect(keep(await checkFcrdns('gw-noptr.good.jp', r))).toMatchObject({
      status: 'fail',
      code: 'fcrdns.no-ptr',
      record: { name: '51.0.0.127.in-addr.arpa', type: 'PTR', value: 'gw-noptr.good.jp.' },
    });
    expect(keep(await checkFcrdns('gw-mismatch.good.jp', r))).toMatchObject({ status: 'fail', code: 'fcrdns.ptr-mismatch', params: { ptr: 'other.good.jp' } });
    expect(keep(await checkFcrdns('gw-none.good.jp', r, '127.0.0.50'))).toMatchObject({ status: 'fail', code: 'fcrdns.no-address', record: { type: 'A', value: '127.0.0.50' } });
    expect(keep(await checkFcrdns('gw.good.jp', r, '127.0.0.53', 'warn'))).toMatchObject({ status: 'warn', code: 'fcrdns.address-mismatch' });
  });

  it('DKIM: published and matching, another key, not published, no key configured', async () => {
    expect(keep(await checkDkim('good.jp', [keyFor('good.jp')], r))).toEqual([expect.objectContaining({ status: 'ok', code: 'dkim.ok' })]);
    const [mis] = keep(await checkDkim('bad.jp', [keyFor('bad.jp')], r));
    expect(mis).toMatchObject({ status: 'fail', code: 'dkim.mismatch', record: { name: 's1._domainkey.bad.jp', value: dkimRecord('bad.jp', 's1', key.privateKey).value } });
    expect(keep(await checkDkim('soft.jp', [keyFor('soft.jp')], r))[0]).toMatchObject({ status: 'fail', code: 'dkim.missing' });
    expect(keep(await checkDkim('soft.jp', [], r))[0]).toMatchObject({ status: 'warn', code: 'dkim.no-key' });
  });

  it('DMARC: present, missing (with a p=none record to publish), two records, broken', async () => {
    expect(keep(await checkDmarc('good.jp', r))).toMatchObject({ status: 'ok', params: { policy: 'reject' } });
    expect(keep(await checkDmarc('bad.jp', r))).toMatchObject({ status: 'fail', code: 'dmarc.missing', record: { name: '_dmarc.bad.jp', value: 'v=DMARC1; p=none; rua=mailto:postmaster@bad.jp' } });
    expect(keep(await checkDmarc('nospf.jp', r))).toMatchObject({ status: 'fail', code: 'dmarc.multiple' });
    expect(keep(await checkDmarc('soft.jp', r))).toMatchObject({ status: 'fail', code: 'dmarc.invalid', params: { detail: 'p=bogus' } });
  });

  it('MTA-STS: enforce with our MX listed, none, broken policy host, MX not in the policy', async () => {
    const o = { ca: [ca.cert], httpsPort: webPort, timeoutMs: 3000 };
    expect(keep(await checkMtaSts('good.jp', r, o))).toMatchObject({ status: 'ok', code: 'mta-sts.ok', params: { mode: 'enforce' } });
    expect(keep(await checkMtaSts('soft.jp', r, o))).toMatchObject({ status: 'warn', code: 'mta-sts.none' });
    const broken = keep(await checkMtaSts('bad.jp', r, o));
    expect(broken).toMatchObject({ status: 'fail', code: 'mta-sts.broken' });
    expect(broken.params.detail).toMatch(/HTTP 404/);
    expect(keep(await checkMtaSts('nospf.jp', r, o))).toMatchObject({ status: 'fail', code: 'mta-sts.mx-not-listed', params: { mx: 'mx.nospf.jp' } });
  });

  it('runDoctor: every check for a good domain is ok', async () => {
    const sink = await startSink({ host: '127.0.0.1' });
    try {
      const all = await runDoctor({
        domains: ['good.jp'],
        hostname: 'gw.good.jp',
        publicIp: '127.0.0.50',
        smarthost: null,
        dkimKeys: [keyFor('good.jp')],
        resolver: r,
        port25Target: { host: '127.0.0.1', port: sink.port },
        mtaSts: { ca: [ca.cert], httpsPort: webPort },
        timeoutMs: 3000,
      });
      keep(all);
      expect(all.map((c) => `${c.check} ${c.status}`)).toEqual(['spf ok', 'dkim ok', 'dmarc ok', 'mta-sts ok', 'fcrdns ok', 'port25 ok', 'smarthost-login ok']);
    } finally {
      await sink.close();
    }
  });
});

describe('port 25 and smarthost login probes', () => {
  it('port 25: an open SMTP port, a closed one, a silent one', async () => {
    const sink = await startSink({ host: '127.0.0.1' });
    const silent = net.createServer(() => undefined);
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', () => ok()));
    try {
      expect(keep(await checkPort25('127.0.0.1', sink.port, 3000))).toMatchObject({ status: 'ok', code: 'port25.ok' });
      expect(keep(await checkPort25('127.0.0.1', await closedPort(), 3000))).toMatchObject({ status: 'warn', code: 'port25.refused' });
      const blocked = keep(await checkPort25('127.0.0.1', (silent.address() as AddressInfo).port, 300));
      expect(blocked).toMatchObject({ status: 'fail', code: 'port25.blocked' });
    } finally {
      await sink.close();
      silent.close();
    }
  });

  it('smarthost login: right and wrong password, certificate refused, nothing listening, none configured', async () => {
    const dir = await tempDir();
    const cert = await makeCert(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    const sh = await startSink({ host: '127.0.0.1', tls: cert, starttls: true, auth: { user: 'gw', pass: 'right' } });
    const base = { host: '127.0.0.1', port: sh.port, security: 'starttls' as const, rejectUnauthorized: false, name: 'gw.test.jp', connectTimeoutMs: 2000 };
    try {
      expect(keep(await checkSmarthostLogin({ ...base, auth: { user: 'gw', pass: 'right' } }))).toMatchObject({ status: 'ok', params: { method: 'password' } });
      const wrong = keep(await checkSmarthostLogin({ ...base, auth: { user: 'gw', pass: 'wrong' } }));
      expect(wrong).toMatchObject({ status: 'fail', code: 'smarthost-login.auth-failed' });
      expect(wrong.params.detail).toMatch(/535/);
      expect(keep(await checkSmarthostLogin({ ...base, rejectUnauthorized: true, auth: { user: 'gw', pass: 'right' } }))).toMatchObject({ status: 'fail', code: 'smarthost-login.tls-failed' });
      expect(keep(await checkSmarthostLogin({ ...base, port: await closedPort() }))).toMatchObject({ status: 'fail', code: 'smarthost-login.connect-failed' });
      expect(keep(await checkSmarthostLogin(null))).toMatchObject({ status: 'ok', code: 'smarthost-login.not-configured' });
    } finally {
      await sh.close();
    }
  });
});

// Reads what the checks above returned: without the DNS server they did not run.
describe.skipIf(!!skip)('message table', () => {
  it('every code the checks returned has Japanese and English text with all its placeholders filled', () => {
    expect(seen.length).toBeGreaterThan(20);
    for (const c of seen) {
      const t = CHECK_MESSAGES[c.code];
      expect(t, c.code).toBeDefined();
      for (const lang of ['ja', 'en'] as const) {
        const text = renderCheckMessage(c.code, c.params, lang);
        expect(text, `${c.code} ${lang}: ${text}`).not.toMatch(/\{\w+\}/);
      }
      expect(t.ja).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
      expect(CHECK_TITLES[c.check].ja).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
    }
    expect(renderCheckMessage('no.such', {}, 'ja')).toBe('no.such');
  });
});

// Outbound TLS: MTA-STS policies (TXT from a real DNS server, the policy from a real HTTPS
// server on loopback with a test CA) enforced or reported for direct-MX delivery, per-route
// `tls: required`, and the TLS outcome in each senderlog attempt. Real SMTP sinks on
// loopback: a good certificate, a self-signed one, and one without STARTTLS.
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../main/core/dns/resolver.js';
import { MtaStsCache, mxMatchesPolicy } from '../../main/core/tls/mta-sts.js';
import type { OutboundOptions } from '../../main/core/delivery/outbound.js';
import { dnsSkipReason, startDnsServer, type DnsRecord, type DnsServer } from '../helpers/dns-server.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { harness, makeCert, startSink, tempDir, testConfig, waitFor, type Harness, type Sink } from './helpers.js';

describe('mxMatchesPolicy (RFC 8461 4.1)', () => {
  it('exact names, and a wildcard covers exactly one leftmost label', () => {
    const p = ['mx1.example.com', '*.mail.example.net'];
    expect(mxMatchesPolicy('MX1.example.com.', p)).toBe(true);
    expect(mxMatchesPolicy('a.mail.example.net', p)).toBe(true);
    expect(mxMatchesPolicy('a.b.mail.example.net', p)).toBe(false);
    expect(mxMatchesPolicy('mail.example.net', p)).toBe(false);
    expect(mxMatchesPolicy('mx2.example.com', p)).toBe(false);
  });
});

const skip = dnsSkipReason();
if (skip) console.log(skip);

const GOOD = '127.0.0.21';
const SELF = '127.0.0.22';
const PLAIN = '127.0.0.23';
const WEB = '127.0.0.30';

describe.skipIf(!!skip)('outbound TLS against real servers', () => {
  let dns: DnsServer;
  let ca: TestCa;
  let web: https.Server;
  let webPort = 0;
  const policies = new Map<string, string>();
  const fetched: string[] = [];
  const sinks: Record<string, Sink> = {};
  let mxPort = 0;
  const cleanups: (() => Promise<unknown>)[] = [];

  const policy = (mode: string, mx: string[], maxAge = 86400) => `version: STSv1\nmode: ${mode}\n${mx.map((m) => `mx: ${m}`).join('\n')}\nmax_age: ${maxAge}\n`;

  function stsDomain(d: string, mx: { name: string; ip: string; pref: number }[], id: string | null): DnsRecord[] {
    const r: DnsRecord[] = mx.flatMap((m) => [
      { name: d, type: 'MX' as const, value: `${m.pref} ${m.name}` },
      { name: m.name, type: 'A' as const, value: m.ip },
    ]);
    if (id) r.push({ name: `_mta-sts.${d}`, type: 'TXT', value: `v=STSv1; id=${id};` }, { name: `mta-sts.${d}`, type: 'A', value: WEB });
    return r;
  }

  const zone = (): DnsRecord[] => [
    ...stsDomain('enforce-good.example', [
      { name: 'mx-bad.enforce-good.example', ip: PLAIN, pref: 10 },
      { name: 'mx-good.enforce-good.example', ip: GOOD, pref: 20 },
    ], '1'),
    ...stsDomain('enforce-self.example', [{ name: 'mx.enforce-self.example', ip: SELF, pref: 10 }], '1'),
    ...stsDomain('enforce-plain.example', [{ name: 'mx.enforce-plain.example', ip: PLAIN, pref: 10 }], '1'),
    ...stsDomain('enforce-nomatch.example', [{ name: 'mx.enforce-nomatch.example', ip: GOOD, pref: 10 }], '1'),
    ...stsDomain('testing-self.example', [{ name: 'mx.testing-self.example', ip: SELF, pref: 10 }], '1'),
    ...stsDomain('nosts.example', [{ name: 'mx.nosts.example', ip: SELF, pref: 10 }], null),
    ...stsDomain('cache.example', [{ name: 'mx.cache.example', ip: GOOD, pref: 10 }], '1'),
    { name: 'relay.routes.example', type: 'A', value: GOOD },
  ];

  beforeAll(async () => {
    ca = makeTestCa();
    const goodCert = ca.issue(['mx-good.enforce-good.example', 'mx.enforce-nomatch.example', 'mx.cache.example', 'relay.routes.example'], [GOOD]);
    const dir = await tempDir();
    const selfCert = await makeCert(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    sinks.good = await startSink({ host: GOOD, tls: { key: Buffer.from(goodCert.key), cert: Buffer.from(goodCert.cert) }, starttls: true });
    mxPort = sinks.good.port;
    sinks.self = await startSink({ host: SELF, port: mxPort, tls: selfCert, starttls: true });
    sinks.plain = await startSink({ host: PLAIN, port: mxPort });
    policies.set('mta-sts.enforce-good.example', policy('enforce', ['mx-good.enforce-good.example']));
    policies.set('mta-sts.enforce-self.example', policy('enforce', ['*.enforce-self.example']));
    policies.set('mta-sts.enforce-plain.example', policy('enforce', ['mx.enforce-plain.example']));
    policies.set('mta-sts.enforce-nomatch.example', policy('enforce', ['mx.elsewhere.example']));
    policies.set('mta-sts.testing-self.example', policy('testing', ['mx.testing-self.example']));
    policies.set('mta-sts.cache.example', policy('enforce', ['mx.cache.example'], 600));
    const webCert = ca.issue([...policies.keys()], [WEB]);
    web = https.createServer({ key: webCert.key, cert: webCert.cert }, (req, res) => {
      const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
      fetched.push(host);
      const p = policies.get(host);
      if (req.url !== '/.well-known/mta-sts.txt' || !p) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(p);
    });
    await new Promise<void>((r) => web.listen(0, WEB, () => r()));
    webPort = (web.address() as AddressInfo).port;
    dns = await startDnsServer({ zones: { example: zone() } });
  });
  afterAll(async () => {
    await dns?.stop();
    await new Promise((r) => web?.close(r));
    for (const s of Object.values(sinks)) await s.close();
    ca?.cleanup();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  async function run(outbound: (c: MtaStsCache) => OutboundOptions, patch?: Parameters<typeof testConfig>[0]): Promise<{ h: Harness; cache: MtaStsCache }> {
    const resolver = createResolver({ dnsServers: [dns.server] });
    const cache = new MtaStsCache({ resolver, ca: [ca.cert], httpsPort: webPort });
    const h = await harness(testConfig((c) => {
      c.delivery.retrySchedule = [60];
      patch?.(c);
    }), { dnsServers: [dns.server], mxPort, outbound: () => outbound(cache) });
    cleanups.push(() => h.close());
    return { h, cache };
  }

  const counts = () => ({ good: sinks.good.messages.length, self: sinks.self.messages.length, plain: sinks.plain.messages.length });

  it('enforce: unlisted MX skipped, STARTTLS with a verified certificate; the senderlog shows version, verification and policy', async () => {
    const before = counts();
    const { h } = await run((c) => ({ mtaSts: c.lookup, tlsCa: [ca.cert] }));
    const id = await h.send('alice@test.jp', ['bob@enforce-good.example']);
    await waitFor(() => h.log.some((l) => l.queueId === id), 8000, 'attempt');
    expect(counts()).toEqual({ ...before, good: before.good + 1 });
    const lines = h.log.filter((l) => l.queueId === id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      mx: 'mx-good.enforce-good.example',
      outcome: 'delivered',
      tls: true,
      tlsVerified: true,
      tlsPolicy: { source: 'mta-sts', mode: 'enforce', id: '1', ok: true },
    });
    expect(lines[0].tlsVersion).toMatch(/^TLSv1\.[23]$/);
  });

  it('enforce: a self-signed certificate or no STARTTLS defers (nothing delivered); no listed MX defers and says so', async () => {
    const before = counts();
    const { h } = await run((c) => ({ mtaSts: c.lookup, tlsCa: [ca.cert] }));
    const id = await h.send('alice@test.jp', ['a@enforce-self.example', 'b@enforce-plain.example', 'c@enforce-nomatch.example']);
    await waitFor(() => h.log.filter((l) => l.queueId === id).length === 3, 8000, 'attempts');
    expect(counts()).toEqual(before);
    const by = (d: string) => h.log.find((l) => l.recipients[0].endsWith(d))!;
    expect(by('enforce-self.example')).toMatchObject({ outcome: 'deferred', tlsPolicy: { mode: 'enforce', ok: false } });
    expect(by('enforce-plain.example')).toMatchObject({ outcome: 'deferred', tlsPolicy: { mode: 'enforce', ok: false } });
    expect(by('enforce-nomatch.example')).toMatchObject({ outcome: 'deferred' });
    expect(by('enforce-nomatch.example').reply).toMatch(/matches its MTA-STS policy/);
    const [item] = await h.runner.list();
    expect(item.pending.sort()).toEqual(['a@enforce-self.example', 'b@enforce-plain.example', 'c@enforce-nomatch.example']);
  });

  it('testing: delivered anyway, the senderlog reports the policy as not met; no policy: opportunistic', async () => {
    const before = counts();
    const { h } = await run((c) => ({ mtaSts: c.lookup, tlsCa: [ca.cert] }));
    const id = await h.send('alice@test.jp', ['a@testing-self.example', 'b@nosts.example']);
    await waitFor(() => h.log.filter((l) => l.queueId === id).length === 2, 8000, 'attempts');
    expect(counts()).toEqual({ ...before, self: before.self + 2 });
    const testing = h.log.find((l) => l.recipients[0] === 'a@testing-self.example')!;
    expect(testing).toMatchObject({ outcome: 'delivered', tls: true, tlsVerified: false, tlsPolicy: { source: 'mta-sts', mode: 'testing', ok: false } });
    expect(testing.tlsPolicy!.reason).toMatch(/certificate not verified/);
    const none = h.log.find((l) => l.recipients[0] === 'b@nosts.example')!;
    expect(none).toMatchObject({ outcome: 'delivered', tls: true, tlsVerified: false });
    expect(none.tlsPolicy).toBeUndefined();
  });

  it('cache: kept for max_age while the id stays; a new id or expiry fetches again; a failed fetch keeps the cached policy', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const resolver = createResolver({ dnsServers: [dns.server] });
    const cache = new MtaStsCache({ resolver, ca: [ca.cert], httpsPort: webPort, now: () => now, txtRecheckMs: 0 });
    const n = () => fetched.filter((f) => f === 'mta-sts.cache.example').length;
    const start = n();
    expect(await cache.lookup('cache.example')).toMatchObject({ source: 'fetched', policy: { id: '1', mode: 'enforce', maxAge: 600 } });
    expect(await cache.lookup('cache.example')).toMatchObject({ source: 'cached' });
    expect(n()).toBe(start + 1);
    // While fresh, the TXT record is read again only every txtRecheckMs.
    const lazy = new MtaStsCache({ resolver, ca: [ca.cert], httpsPort: webPort, now: () => now, txtRecheckMs: 60_000 });
    expect(await lazy.lookup('cache.example')).toMatchObject({ source: 'fetched' });
    await dns.setZone('example', zone().filter((r) => r.name !== '_mta-sts.cache.example'));
    expect(await lazy.lookup('cache.example')).toMatchObject({ source: 'cached' });
    now += 61_000;
    expect(await lazy.lookup('cache.example')).toMatchObject({ source: 'stale' }); // TXT gone, cached policy kept until max_age
    await dns.setZone('example', zone());
    now -= 61_000;
    now += 601_000; // max_age passed
    expect(await cache.lookup('cache.example')).toMatchObject({ source: 'fetched' });
    expect(n()).toBe(start + 3); // the first cache twice, the lazy one once
    await dns.setZone('example', zone().map((r) => (r.name === '_mta-sts.cache.example' ? { ...r, value: 'v=STSv1; id=2;' } : r)));
    policies.set('mta-sts.cache.example', policy('testing', ['mx.cache.example'], 600));
    expect(await cache.lookup('cache.example')).toMatchObject({ source: 'fetched', policy: { id: '2', mode: 'testing' } });
    // The policy host fails: the cached policy (id 2) stays in force, with the reason.
    await dns.setZone('example', zone().map((r) => (r.name === '_mta-sts.cache.example' ? { ...r, value: 'v=STSv1; id=3;' } : r)));
    policies.delete('mta-sts.cache.example');
    const stale = await cache.lookup('cache.example');
    expect(stale).toMatchObject({ source: 'stale', policy: { id: '2' } });
    expect(stale.error).toMatch(/HTTP 404/);
    // Without our CA the policy host is not trusted: no policy, and why.
    const untrusting = new MtaStsCache({ resolver, httpsPort: webPort });
    const r = await untrusting.lookup('enforce-good.example');
    expect(r.policy).toBeNull();
    expect(r.error).toMatch(/policy fetch failed/);
    await dns.setZone('example', zone());
    policies.set('mta-sts.cache.example', policy('enforce', ['mx.cache.example'], 600));
  });

  it('route tls: required: a verified certificate delivers, a self-signed one defers; sender routes carry tls too', async () => {
    const before = counts();
    const { h } = await run(
      () => ({
        tlsCa: [ca.cert],
        routeTls: (domain) => (domain === 'partner.example' || domain === 'self.example' ? 'required' : undefined),
        senderRoutes: [{ destination: '*', sender: 'ceo@test.jp', hosts: [{ host: 'relay.routes.example', port: mxPort }], tls: 'required' }],
      }),
      (c) => {
        c.delivery.transportOverrides = [
          { domain: 'partner.example', hosts: [{ host: GOOD, port: mxPort }] },
          { domain: 'self.example', hosts: [{ host: SELF, port: mxPort }] },
        ];
      },
    );
    const id1 = await h.send('alice@test.jp', ['a@partner.example', 'b@self.example']);
    const id2 = await h.send('ceo@test.jp', ['c@anywhere.example']);
    await waitFor(() => h.log.filter((l) => l.queueId === id1 || l.queueId === id2).length === 3, 8000, 'attempts');
    expect(counts()).toEqual({ ...before, good: before.good + 2 });
    expect(h.log.find((l) => l.recipients[0] === 'a@partner.example')).toMatchObject({ outcome: 'delivered', tlsVerified: true, tlsPolicy: { source: 'route', mode: 'required', ok: true } });
    expect(h.log.find((l) => l.recipients[0] === 'b@self.example')).toMatchObject({ outcome: 'deferred', tlsPolicy: { source: 'route', mode: 'required', ok: false } });
    expect(h.log.find((l) => l.recipients[0] === 'c@anywhere.example')).toMatchObject({ via: 'sender-route', outcome: 'delivered', tlsVerified: true, tlsPolicy: { ok: true } });
  });
});

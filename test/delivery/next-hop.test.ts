// Next-hop resolution: override > route > smarthost > MX, MX preference order, implicit MX,
// null MX, NXDOMAIN, DNS failure, unresolvable route host. DNS answers come from a real DNS
// server on loopback (test/helpers/dns-server.ts) through the core's own resolver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, type DnsLookup } from '../../main/core/dns/resolver.js';
import { dnsSkipReason, startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { destinationFor, planHops, configuredHops } from '../../main/core/delivery/next-hop.js';
import { groupRecipients } from '../../main/core/delivery/attempt.js';
import { fakeResolver, testConfig } from './helpers.js';

const cfg = testConfig((c) => {
  c.internalDomains = ['test.jp', 'part.test.jp', 'noroute.test.jp'];
  c.routes = [
    { domain: 'test.jp', hosts: [{ host: '127.0.0.2', port: 25 }] },
    { domain: 'Test.JP', hosts: [{ host: 'office2.lan', port: 2525 }] },
    { domain: 'part.test.jp', hosts: [{ host: '127.0.0.2', port: 25 }, { host: 'office2.lan', port: 2525 }] },
  ];
  c.delivery.transportOverrides = [{ domain: 'partner.example', hosts: [{ host: '127.0.0.5', port: 2526 }] }];
});

describe('destinationFor', () => {
  it('picks override, route, smarthost, MX in that order', () => {
    expect(destinationFor('a@partner.example', cfg)).toMatchObject({ via: 'override' });
    expect(destinationFor('a@TEST.jp', cfg)).toMatchObject({ via: 'route', domain: 'test.jp' });
    expect(destinationFor('a@noroute.test.jp', cfg)).toMatchObject({ via: 'route', noRoute: true });
    expect(destinationFor('a@gmail.example', cfg)).toMatchObject({ via: 'mx', key: 'mx:gmail.example' });
    const withSh = testConfig((c) => {
      c.delivery.smarthost = { host: '127.0.0.9', port: 587, security: 'starttls', user: 'u', password: 'p', allowInvalidCert: true };
    });
    expect(destinationFor('a@gmail.example', withSh)).toMatchObject({ via: 'smarthost', key: 'smarthost' });
  });

  it('groups recipients per destination (one transaction per hop group)', () => {
    const groups = groupRecipients(['a@test.jp', 'x@gmail.example', 'b@test.jp', 'y@gmail.example', 'z@other.example'], cfg);
    expect(groups.map((g) => g.recipients)).toEqual([['a@test.jp', 'b@test.jp'], ['x@gmail.example', 'y@gmail.example'], ['z@other.example']]);
  });
});

const skip = dnsSkipReason();
if (skip) console.log(skip);

describe.skipIf(!!skip)('planHops', () => {
  let dns: DnsServer;
  let resolver: DnsLookup;
  beforeAll(async () => {
    dns = await startDnsServer({
      zones: {
        // Names outside these zones (broken.invalid) get REFUSED: a DNS failure, not NXDOMAIN.
        example: [
          { name: 'multi', type: 'MX', value: '20 mx2.multi.example' },
          { name: 'multi', type: 'MX', value: '10 mx1.multi.example' },
          { name: 'multi', type: 'MX', value: '30 mx3.multi.example.' },
          { name: 'nullmx', type: 'MX', value: '0 .' },
          { name: 'badmx', type: 'MX', value: '10 nowhere.badmx.example' },
          { name: 'mx1.multi', type: 'A', value: '127.0.0.11' },
          { name: 'mx2.multi', type: 'A', value: '127.0.0.12' },
          { name: 'mx2.multi', type: 'A', value: '127.0.0.13' },
          { name: 'mx3.multi', type: 'A', value: '127.0.0.14' },
          { name: 'implicit', type: 'A', value: '127.0.0.20' },
        ],
        lan: [{ name: 'office2', type: 'A', value: '127.0.0.3' }],
      },
    });
    resolver = createResolver({ dnsServers: [dns.server], timeoutMs: 1000, tries: 1 });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('route hosts in Gateway.dat order; lines for one domain concatenate; names resolved by the resolver', async () => {
    const plan = await planHops(destinationFor('a@test.jp', cfg), resolver);
    expect(plan.ok && plan.hops.map((h) => [h.label, h.host, h.via])).toEqual([
      ['127.0.0.2:25', '127.0.0.2', 'route'],
      ['office2.lan:2525', '127.0.0.3', 'route'],
    ]);
  });

  it('MX in preference order, every address of each in turn', async () => {
    const plan = await planHops(destinationFor('a@multi.example', cfg), resolver, { mxPort: 2500 });
    expect(plan.ok && plan.hops.map((h) => `${h.mx} ${h.label}`)).toEqual([
      'mx1.multi.example 127.0.0.11:2500',
      'mx2.multi.example 127.0.0.12:2500',
      'mx2.multi.example 127.0.0.13:2500',
      'mx3.multi.example 127.0.0.14:2500',
    ]);
  });

  it('no MX record: the domain itself (implicit MX)', async () => {
    const plan = await planHops(destinationFor('a@implicit.example', cfg), resolver);
    expect(plan.ok && plan.hops.map((h) => h.label)).toEqual(['127.0.0.20:25']);
  });

  it('null MX and NXDOMAIN are permanent; SERVFAIL and unresolvable MX hosts are temporary', async () => {
    expect(await planHops(destinationFor('a@nullmx.example', cfg), resolver)).toMatchObject({ ok: false, permanent: true, status: '5.1.10' });
    expect(await planHops(destinationFor('a@gone.example', cfg), resolver)).toMatchObject({ ok: false, permanent: true, status: '5.1.2' });
    expect(await planHops(destinationFor('a@nothing.example', cfg), resolver)).toMatchObject({ ok: false, permanent: true, status: '5.1.2' });
    expect(await planHops(destinationFor('a@broken.invalid', cfg), resolver)).toMatchObject({ ok: false, permanent: false, status: '4.4.3' });
    expect(await planHops(destinationFor('a@badmx.example', cfg), resolver)).toMatchObject({ ok: false, permanent: false, status: '4.4.3' });
  });

  it('internal domain without a route waits (4.3.5); an unresolvable route host is a failed hop, not the end', async () => {
    expect(await planHops(destinationFor('a@noroute.test.jp', cfg), resolver)).toMatchObject({ ok: false, permanent: false, status: '4.3.5' });
    const r2 = fakeResolver({});
    const plan = await planHops(destinationFor('a@part.test.jp', cfg), r2);
    expect(plan.ok && plan.hops.map((h) => [h.label, h.error?.status])).toEqual([
      ['127.0.0.2:25', undefined],
      ['office2.lan:2525', '4.4.3'],
    ]);
  });

  it('smarthost carries security and credentials; configuredHops lists every configured hop', async () => {
    const c = testConfig((x) => {
      x.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.2', port: 25 }] }];
      x.delivery.smarthost = { host: '127.0.0.9', port: 465, security: 'tls', user: 'gw', password: 'pw', allowInvalidCert: false };
    });
    const plan = await planHops(destinationFor('a@gmail.example', c), resolver);
    expect(plan.ok && plan.hops[0]).toMatchObject({ via: 'smarthost', security: 'tls', rejectUnauthorized: true, auth: { user: 'gw', pass: 'pw' } });
    expect(configuredHops(c)).toEqual([
      { hop: '127.0.0.2:25', via: 'route' },
      { hop: '127.0.0.9:465', via: 'smarthost' },
    ]);
  });
});

// Delivery runner against real smtp-server sinks on loopback and a real Spool in a temp dir.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsSkipReason, startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { closedPort, fakeResolver, harness, makeCert, parseMime, statusGroups, tempDir, testConfig, waitFor, type Harness, cleanupsAfterEach } from './helpers.js';
import fs from 'node:fs/promises';

const { cleanups, sinkOf } = cleanupsAfterEach();

async function harnessOf(...args: Parameters<typeof harness>): Promise<Harness> {
  const h = await harness(...args);
  cleanups.push(() => h.close());
  return h;
}

async function queueEmpty(h: Harness): Promise<boolean> {
  return (await h.spool.list()).length === 0 && (await h.runner.list()).length === 0;
}

describe('routes', () => {
  it('fails over to the next office server when the first is down; health shows both', async () => {
    const down = await closedPort();
    const office = await sinkOf();
    const cfg = testConfig((c) => {
      c.routes = [
        { domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: down }, { host: '127.0.0.1', port: office.port }] },
        { domain: 'other.test.jp', hosts: [{ host: '127.0.0.1', port: 2599 }] },
      ];
    });
    const h = await harnessOf(cfg);
    const id = await h.send('sender@outside.example', ['alice@test.jp', 'bob@test.jp']);
    await waitFor(() => office.messages.length === 1, 8000, 'office delivery');
    expect(office.messages[0].to).toEqual(['alice@test.jp', 'bob@test.jp']);
    await waitFor(() => queueEmpty(h), 5000, 'queue empty');
    const lines = h.log.filter((l) => l.queueId === id);
    expect(lines.map((l) => [l.hop, l.outcome, l.attempt])).toEqual([
      [`127.0.0.1:${down}`, 'deferred', 1],
      [`127.0.0.1:${office.port}`, 'delivered', 1],
    ]);
    expect(lines[1]).toMatchObject({ via: 'route', code: 250, recipients: ['alice@test.jp', 'bob@test.jp'] });
    expect(lines[1].nextAttemptAt).toBeUndefined();
    const health = h.runner.routeHealth();
    expect(health.find((x) => x.hop === `127.0.0.1:${down}`)).toMatchObject({ via: 'route', state: 'failing', consecutiveFailures: 1 });
    expect(health.find((x) => x.hop === `127.0.0.1:${down}`)?.lastError).toMatch(/ECONNREFUSED/);
    expect(health.find((x) => x.hop === `127.0.0.1:${office.port}`)).toMatchObject({ state: 'ok', consecutiveFailures: 0 });
    expect(health.find((x) => x.hop === '127.0.0.1:2599')).toMatchObject({ state: 'unknown', consecutiveFailures: 0 });
  });
});

describe('failover per recipient', () => {
  it('421 at the greeting and a 4xx RCPT move only the deferred recipients to the next host', async () => {
    const busy = await sinkOf({ greet: { code: 421, message: '4.3.2 too busy' } });
    const first = await sinkOf({ rcpt: (a) => (a === 'bob@test.jp' ? { code: 450, message: '4.2.1 mailbox locked' } : null) });
    const second = await sinkOf();
    const cfg = testConfig((c) => {
      c.routes = [
        {
          domain: 'test.jp',
          hosts: [
            { host: '127.0.0.1', port: busy.port },
            { host: '127.0.0.1', port: first.port },
            { host: '127.0.0.1', port: second.port },
          ],
        },
      ];
    });
    const h = await harnessOf(cfg);
    const id = await h.send('x@outside.example', ['alice@test.jp', 'bob@test.jp']);
    await waitFor(() => queueEmpty(h), 8000, 'queue empty');
    expect(first.messages.map((m) => m.to)).toEqual([['alice@test.jp']]);
    expect(second.messages.map((m) => m.to)).toEqual([['bob@test.jp']]);
    expect(h.log.filter((l) => l.queueId === id).map((l) => [l.hop.split(':')[1], l.outcome, l.code])).toEqual([
      [String(busy.port), 'deferred', 421],
      [String(first.port), 'partial', 250],
      [String(second.port), 'delivered', 250],
    ]);
    expect(h.log.every((l) => l.attempt === 1)).toBe(true);
  });
});

describe('smarthost', () => {
  it('relays external mail with AUTH over STARTTLS (certificate made here)', async () => {
    const dir = await tempDir('gatehouse-cert-');
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const cert = await makeCert(dir);
    const sh = await sinkOf({ tls: cert, auth: { user: 'gw', pass: 's3cret' } });
    const cfg = testConfig((c) => {
      c.delivery.smarthost = { host: '127.0.0.1', port: sh.port, security: 'starttls', user: 'gw', password: 's3cret', allowInvalidCert: true };
    });
    const resolver = fakeResolver({});
    const h = await harnessOf(cfg, { resolver });
    const id = await h.send('alice@test.jp', ['someone@gmail.example', 'other@yahoo.example']);
    await waitFor(() => sh.messages.length === 1, 8000, 'smarthost delivery');
    expect(sh.messages[0]).toMatchObject({ from: 'alice@test.jp', to: ['someone@gmail.example', 'other@yahoo.example'], secure: true, user: 'gw' });
    await waitFor(() => queueEmpty(h), 5000, 'queue empty');
    expect(h.log.filter((l) => l.queueId === id)).toMatchObject([{ via: 'smarthost', tls: true, outcome: 'delivered', hop: `127.0.0.1:${sh.port}` }]);
    expect(resolver.asked).toEqual([]); // no MX lookups with a smarthost
  });

  it('implicit TLS (port 465 style) with AUTH', async () => {
    const dir = await tempDir('gatehouse-cert-');
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const cert = await makeCert(dir);
    const sh = await sinkOf({ tls: cert, implicitTls: true, auth: { user: 'gw', pass: 'pw' } });
    const cfg = testConfig((c) => {
      c.delivery.smarthost = { host: '127.0.0.1', port: sh.port, security: 'tls', user: 'gw', password: 'pw', allowInvalidCert: true };
    });
    const h = await harnessOf(cfg);
    await h.send('alice@test.jp', ['someone@gmail.example']);
    await waitFor(() => sh.messages.length === 1, 8000, 'smarthost delivery');
    expect(sh.messages[0]).toMatchObject({ secure: true, user: 'gw' });
    await waitFor(() => h.log.length === 1, 3000, 'senderlog');
    expect(h.log[0]).toMatchObject({ tls: true, outcome: 'delivered', via: 'smarthost' });
  });

  it('self-signed certificate refused unless allowInvalidCert', async () => {
    const dir = await tempDir('gatehouse-cert-');
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const cert = await makeCert(dir);
    const sh = await sinkOf({ tls: cert, auth: { user: 'gw', pass: 'pw' } });
    const cfg = testConfig((c) => {
      c.delivery.smarthost = { host: '127.0.0.1', port: sh.port, security: 'starttls', user: 'gw', password: 'pw', allowInvalidCert: false };
      c.delivery.retrySchedule = [60];
    });
    const h = await harnessOf(cfg);
    await h.send('alice@test.jp', ['someone@gmail.example']);
    await waitFor(() => h.log.length === 1, 8000, 'attempt');
    expect(h.log[0]).toMatchObject({ outcome: 'deferred', tls: false });
    expect(h.log[0].reply).toMatch(/certificate/i);
    expect(sh.messages).toHaveLength(0);
  });

  it('wrong password: deferred (not bounced), health failing', async () => {
    const sh = await sinkOf({ starttls: true, auth: { user: 'gw', pass: 'right' } });
    const cfg = testConfig((c) => {
      c.delivery.smarthost = { host: '127.0.0.1', port: sh.port, security: 'starttls', user: 'gw', password: 'wrong', allowInvalidCert: true };
      c.delivery.retrySchedule = [60];
    });
    const h = await harnessOf(cfg);
    const id = await h.send('alice@test.jp', ['someone@gmail.example']);
    await waitFor(() => h.log.some((l) => l.queueId === id), 8000, 'attempt');
    expect(h.log[0]).toMatchObject({ outcome: 'deferred', code: 535 });
    expect(h.runner.routeHealth().find((x) => x.via === 'smarthost')).toMatchObject({ state: 'failing' });
    const [item] = await h.runner.list();
    expect(item).toMatchObject({ id, state: 'deferred', attempts: 1, pending: ['someone@gmail.example'] });
  });
});

const dnsSkip = dnsSkipReason();
if (dnsSkip) console.log(dnsSkip);

describe.skipIf(!!dnsSkip)('MX (real DNS server on loopback)', () => {
  let dns: DnsServer;
  beforeAll(async () => {
    dns = await startDnsServer({
      zones: {
        'remote.example': [
          { name: '@', type: 'MX', value: '20 mx2.remote.example' },
          { name: '@', type: 'MX', value: '10 mx1.remote.example' },
          { name: 'mx1', type: 'A', value: '127.0.0.2' },
          { name: 'mx2', type: 'A', value: '127.0.0.3' },
        ],
        // nx.example does not exist in this zone (NXDOMAIN); servfail.invalid is outside every zone (REFUSED).
        example: [],
      },
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('uses MX preference order; the preferred host down -> the next one', async () => {
    const mx2 = await sinkOf({ host: '127.0.0.3' });
    const h = await harnessOf(testConfig(), { dnsServers: [dns.server], mxPort: mx2.port });
    const id = await h.send('alice@test.jp', ['bob@remote.example']);
    await waitFor(() => mx2.messages.length === 1, 8000, 'delivery via mx2');
    await waitFor(() => queueEmpty(h), 5000, 'queue empty');
    expect(h.log.filter((l) => l.queueId === id).map((l) => [l.mx, l.hop, l.outcome])).toEqual([
      ['mx1.remote.example', `127.0.0.2:${mx2.port}`, 'deferred'],
      ['mx2.remote.example', `127.0.0.3:${mx2.port}`, 'delivered'],
    ]);
  });

  it('DNS failure defers; NXDOMAIN bounces', async () => {
    const office = await sinkOf();
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
      c.delivery.retrySchedule = [60];
    });
    const h = await harnessOf(cfg, { dnsServers: [dns.server] });
    const id = await h.send('alice@test.jp', ['a@servfail.invalid', 'b@nx.example']);
    await waitFor(() => office.messages.length === 1, 8000, 'bounce for nx');
    const dsn = parseMime(office.messages[0].raw);
    const g = statusGroups(dsn.parts[1].body);
    expect(g.slice(1).map((x) => x['final-recipient'])).toEqual(['rfc822; b@nx.example']);
    const [item] = (await h.runner.list()).filter((i) => i.id === id);
    expect(item).toMatchObject({ pending: ['a@servfail.invalid'], state: 'deferred' });
    expect(item.lastError).toMatch(/EREFUSED/);
  });
});

describe('retries and bounces', () => {
  it('4xx then success: delivered once, two attempts in the senderlog', async () => {
    const remote = await sinkOf({ rcpt: (_a, n) => (n === 1 ? { code: 451, message: '4.7.1 greylisted, try again' } : null) });
    const cfg = testConfig((c) => {
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
    });
    const h = await harnessOf(cfg);
    const id = await h.send('alice@test.jp', ['bob@remote.example']);
    await waitFor(() => remote.messages.length === 1, 8000, 'delivery');
    await waitFor(() => queueEmpty(h), 5000, 'queue empty');
    const lines = h.log.filter((l) => l.queueId === id);
    expect(lines.map((l) => [l.attempt, l.outcome, l.code, l.via])).toEqual([
      [1, 'deferred', 451, 'override'],
      [2, 'delivered', 250, 'override'],
    ]);
    expect(lines[0].nextAttemptAt).toBeDefined();
    expect(lines[0].perRecipient).toEqual([{ recipient: 'bob@remote.example', code: 451, reply: expect.stringContaining('greylisted'), outcome: 'deferred' }]);
    expect(remote.messages).toHaveLength(1);
  });

  it('5xx: a DSN reaches the sender via the office route with the RFC 3464 fields', async () => {
    const office = await sinkOf();
    const remote = await sinkOf({ rcpt: (a) => ({ code: 550, message: `5.1.1 <${a}>: Recipient address rejected: User unknown` }) });
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
    });
    const h = await harnessOf(cfg);
    const id = await h.send('alice@test.jp', ['nobody@remote.example'], 'X-Original: yes\r\n');
    await waitFor(() => office.messages.length === 1, 8000, 'DSN at office');
    const dsn = office.messages[0];
    expect(dsn.from).toBe('');
    expect(dsn.to).toEqual(['alice@test.jp']);
    const m = parseMime(dsn.raw);
    expect(m.headers['content-type']).toContain('report-type=delivery-status');
    expect(m.parts[0].body).toContain('メールを配送できませんでした');
    const groups = statusGroups(m.parts[1].body);
    expect(groups[0]['reporting-mta']).toBe('dns; gw.test.jp');
    expect(groups[0]['arrival-date']).toMatch(/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/);
    expect(groups[1]).toMatchObject({
      'final-recipient': 'rfc822; nobody@remote.example',
      action: 'failed',
      status: '5.1.1',
      'remote-mta': 'dns; 127.0.0.1',
      'diagnostic-code': 'smtp; 550 5.1.1 <nobody@remote.example>: Recipient address rejected: User unknown',
    });
    expect(m.parts[2].headers['content-type']).toBe('text/rfc822-headers');
    expect(m.parts[2].body).toContain('X-Original: yes');
    expect(m.parts[2].body).toContain('From: alice@test.jp');
    await waitFor(() => queueEmpty(h), 5000, 'queue empty');
    expect(h.log.find((l) => l.queueId === id)).toMatchObject({ outcome: 'bounced', code: 550 });
    // The DSN itself was delivered like any other message, from the null sender.
    expect(h.log.find((l) => l.queueId !== id)).toMatchObject({ sender: '', outcome: 'delivered', via: 'route' });
  });

  it('lifetime expiry: deferred until maxLifetime, then a DSN (Action failed)', async () => {
    const office = await sinkOf();
    const remote = await sinkOf({ rcpt: () => ({ code: 451, message: '4.3.0 try later' }) });
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
      c.delivery.retrySchedule = [0.25];
      c.delivery.maxLifetimeSeconds = 1;
    });
    const h = await harnessOf(cfg);
    const id = await h.send('alice@test.jp', ['bob@remote.example']);
    await waitFor(() => office.messages.length === 1, 8000, 'expiry DSN');
    const g = statusGroups(parseMime(office.messages[0].raw).parts[1].body)[1];
    expect(g).toMatchObject({ action: 'failed', status: '5.4.7', 'diagnostic-code': 'smtp; 451 4.3.0 try later' });
    await waitFor(() => queueEmpty(h), 5000, 'queue empty');
    const lines = h.log.filter((l) => l.queueId === id);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toMatchObject({ via: 'dsn', outcome: 'expired' });
    expect(lines.filter((l) => l.outcome === 'deferred').length).toBe(lines.length - 1);
  });

  it('delay warning: one DSN with Action delayed, then the real delivery', async () => {
    const office = await sinkOf();
    // Busy until the warning has arrived at the office, then accepting.
    const remote = await sinkOf({ rcpt: () => (office.messages.length === 0 ? { code: 450, message: '4.2.1 mailbox busy' } : null) });
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
      c.delivery.retrySchedule = [0.15];
      c.delivery.delayWarningSeconds = 0.3;
      c.delivery.maxLifetimeSeconds = 30;
    });
    const h = await harnessOf(cfg);
    await h.send('alice@test.jp', ['bob@remote.example']);
    await waitFor(() => remote.messages.length === 1, 8000, 'final delivery');
    await waitFor(() => queueEmpty(h), 5000, 'queue empty');
    expect(office.messages).toHaveLength(1);
    const m = parseMime(office.messages[0].raw);
    expect(m.parts[0].body).toContain('配送が遅れています');
    expect(statusGroups(m.parts[1].body)[1]).toMatchObject({ action: 'delayed', status: '4.2.1' });
    expect(statusGroups(m.parts[1].body)[1]['will-retry-until']).toBeDefined();
  });

  it('null sender is never bounced: the failure is logged and dropped', async () => {
    const office = await sinkOf();
    const remote = await sinkOf({ rcpt: () => ({ code: 550, message: '5.1.1 unknown' }) });
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
    });
    const h = await harnessOf(cfg);
    const id = await h.send('', ['bob@remote.example']);
    await waitFor(() => queueEmpty(h), 8000, 'queue empty');
    expect(remote.rcptCalls).toBe(1);
    expect(h.log.map((l) => [l.queueId, l.via, l.outcome])).toEqual([
      [id, 'override', 'bounced'],
      [id, 'dsn', 'bounced'],
    ]);
    expect(h.log[1].reply).toMatch(/null sender/);
    await new Promise((r) => setTimeout(r, 300));
    expect(office.messages).toHaveLength(0);
    expect(await h.spool.list()).toHaveLength(0);
  });

  it('MAILER-DAEMON sender is not bounced either', async () => {
    const office = await sinkOf();
    const remote = await sinkOf({ rcpt: () => ({ code: 550, message: '5.1.1 unknown' }) });
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
    });
    const h = await harnessOf(cfg);
    await h.send('MAILER-DAEMON@test.jp', ['bob@remote.example']);
    await waitFor(() => queueEmpty(h), 8000, 'queue empty');
    await new Promise((r) => setTimeout(r, 200));
    expect(office.messages).toHaveLength(0);
  });

  it('partial rejection: 550 bounced, 450 retried, the others delivered at once', async () => {
    const office = await sinkOf();
    const remote = await sinkOf({
      rcpt: (a) => {
        if (a === 'gone@remote.example') return { code: 550, message: '5.1.1 <gone@remote.example>: no such user' };
        if (a === 'busy@remote.example' && remote.messages.length === 0) return { code: 450, message: '4.2.1 <busy@remote.example>: mailbox busy' };
        return null;
      },
    });
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
    });
    const h = await harnessOf(cfg);
    const id = await h.send('alice@test.jp', ['ok1@remote.example', 'gone@remote.example', 'busy@remote.example', 'ok2@remote.example']);
    await waitFor(() => remote.messages.length === 2, 8000, 'second transaction');
    await waitFor(() => queueEmpty(h), 5000, 'queue empty');
    expect(remote.messages.map((m) => m.to)).toEqual([['ok1@remote.example', 'ok2@remote.example'], ['busy@remote.example']]);
    const lines = h.log.filter((l) => l.queueId === id);
    expect(lines[0]).toMatchObject({ attempt: 1, outcome: 'partial' });
    expect(lines[0].perRecipient?.map((p) => [p.recipient, p.outcome, p.code])).toEqual([
      ['ok1@remote.example', 'delivered', 250],
      ['gone@remote.example', 'bounced', 550],
      ['busy@remote.example', 'deferred', 450],
      ['ok2@remote.example', 'delivered', 250],
    ]);
    expect(lines[1]).toMatchObject({ attempt: 2, outcome: 'delivered', recipients: ['busy@remote.example'] });
    await waitFor(() => office.messages.length === 1, 5000, 'DSN');
    const groups = statusGroups(parseMime(office.messages[0].raw).parts[1].body);
    expect(groups.slice(1).map((g) => g['final-recipient'])).toEqual(['rfc822; gone@remote.example']);
  });
});

describe('connections', () => {
  it('reuses sessions and keeps within the per-hop cap', async () => {
    const remote = await sinkOf({ data: () => new Promise((r) => setTimeout(() => r(null), 80)) });
    const cfg = testConfig((c) => {
      c.delivery.transportOverrides = [{ domain: 'remote.example', hosts: [{ host: '127.0.0.1', port: remote.port }] }];
      c.delivery.maxConnectionsPerHop = 2;
    });
    const h = await harnessOf(cfg);
    for (let i = 0; i < 8; i++) await h.send('alice@test.jp', [`r${i}@remote.example`]);
    await waitFor(() => remote.messages.length === 8, 10000, 'all delivered');
    await waitFor(() => queueEmpty(h), 5000, 'queue empty');
    expect(remote.maxConcurrent).toBeLessThanOrEqual(2);
    expect(remote.connections).toBeLessThanOrEqual(2);
    expect(h.runner.stats().connections).toBeGreaterThan(0); // idle sessions kept for reuse
  });
});

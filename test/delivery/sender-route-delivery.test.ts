// A Gateway.dat with `*|sender@x.test,127.0.0.1,PORT` sends that sender's external mail to
// that host while other senders take the default route (here: direct MX, found through the
// loopback DNS server); the file reads and writes back unchanged. Real sinks, real spool.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayDatText, parseGatewayDatLines, toRoutes } from '../../main/core/config/gateway-dat.js';
import { dnsSkipReason, startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { harness, startSink, testConfig, waitFor, type Sink } from './helpers.js';

const skip = dnsSkipReason();
if (skip) console.log(skip);

describe.skipIf(!!skip)('routes with sender conditions through the delivery path', () => {
  let dns: DnsServer;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    dns = await startDnsServer({
      zones: { 'remote.example': [{ name: '@', type: 'MX', value: '10 mx.remote.example' }, { name: 'mx', type: 'A', value: '127.0.0.9' }] },
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  const sink = async (host: string, port?: number): Promise<Sink> => {
    const s = await startSink({ host, port });
    cleanups.push(() => s.close());
    return s;
  };

  it('*|sender@x.test goes to its host; other senders and the null sender go by MX; internal mail stays on its route', async () => {
    const relay = await sink('127.0.0.1');
    const mx = await sink('127.0.0.9');
    const office = await sink('127.0.0.1');
    const dat = `test.jp, 127.0.0.1, ${office.port}\r\n*|sender@x.test,127.0.0.1,${relay.port}\r\n`;
    const parsed = parseGatewayDatLines(dat);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(gatewayDatText(parsed.lines)).toBe(dat);
    const { routes, senderRoutes } = toRoutes(parsed.lines);
    const cfg = testConfig((c) => {
      c.routes = routes;
    });
    const h = await harness(cfg, { dnsServers: [dns.server], mxPort: mx.port, outbound: () => ({ senderRoutes }) });
    cleanups.push(() => h.close());
    await h.send('sender@x.test', ['bob@remote.example', 'alice@test.jp']);
    await h.send('other@x.test', ['bob@remote.example']);
    await h.send('', ['bob@remote.example']);
    await waitFor(() => relay.messages.length === 1 && mx.messages.length === 2 && office.messages.length === 1, 8000, 'deliveries');
    expect(relay.messages[0]).toMatchObject({ from: 'sender@x.test', to: ['bob@remote.example'] });
    expect(mx.messages.map((m) => m.from).sort()).toEqual(['', 'other@x.test']);
    expect(office.messages[0]).toMatchObject({ from: 'sender@x.test', to: ['alice@test.jp'] });
    await waitFor(() => h.log.length === 4, 5000, 'senderlog');
    expect(h.log.find((l) => l.sender === 'sender@x.test' && l.via !== 'route')).toMatchObject({ via: 'sender-route', hop: `127.0.0.1:${relay.port}`, outcome: 'delivered' });
  });
});

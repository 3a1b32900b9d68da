// Recipient verification against a real office server (smtp-server) on loopback: 5xx ->
// unknown, 2xx -> ok, cached per TTL (a cache hit is visible in stats), tempfail not cached,
// failover to the next route host.
import { describe, expect, it } from 'vitest';
import { RecipientVerifier } from '../../main/core/delivery/index.js';
import { probeRecipient } from '../../main/core/delivery/smtp-probe.js';
import { closedPort, startSink, testConfig, type Sink, cleanupsAfterEach } from './helpers.js';

const { cleanups } = cleanupsAfterEach();

async function office(): Promise<Sink> {
  const s = await startSink({
    rcpt: (a) => (a === 'nobody@test.jp' ? { code: 550, message: '5.1.1 <nobody@test.jp>: User unknown' } : a === 'busy@test.jp' ? { code: 450, message: '4.2.1 try later' } : null),
  });
  cleanups.push(() => s.close());
  return s;
}

describe('RecipientVerifier', () => {
  it('unknown user -> unknown; the second question is a cache hit (no new probe)', async () => {
    const s = await office();
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: s.port }] }];
    });
    const v = new RecipientVerifier({ config: () => cfg });
    expect(await v.verify('nobody@test.jp')).toBe('unknown');
    expect(v.stats()).toMatchObject({ hits: 0, misses: 1, probes: 1 });
    expect(await v.verify('Nobody@TEST.jp')).toBe('unknown');
    expect(v.stats()).toMatchObject({ hits: 1, misses: 1, probes: 1 });
    expect(s.rcptCalls).toBe(1);
    expect(s.messages).toHaveLength(0); // a probe never sends a message
    expect(await v.verify('alice@test.jp')).toBe('ok');
    expect(await v.verify('alice@test.jp')).toBe('ok');
    expect(v.stats()).toMatchObject({ hits: 2, misses: 2, probes: 2, cached: 2 });
  });

  it('TTLs: answers expire (positive and negative TTL apart)', async () => {
    const s = await office();
    let now = 1_000_000;
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: s.port }] }];
      c.delivery.verifyPositiveTtlSeconds = 100;
      c.delivery.verifyNegativeTtlSeconds = 10;
    });
    const v = new RecipientVerifier({ config: () => cfg, now: () => now });
    await v.verify('nobody@test.jp');
    await v.verify('alice@test.jp');
    now += 11_000;
    await v.verify('nobody@test.jp'); // negative answer expired: probe again
    await v.verify('alice@test.jp'); // positive still fresh
    expect(v.stats()).toMatchObject({ hits: 1, probes: 3 });
  });

  it('4xx and unreachable -> tempfail, never cached; the next route host is asked', async () => {
    const s = await office();
    const down = await closedPort();
    const cfg = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: down }, { host: '127.0.0.1', port: s.port }] }];
    });
    const v = new RecipientVerifier({ config: () => cfg });
    expect(await v.verify('busy@test.jp')).toBe('tempfail');
    expect(await v.verify('busy@test.jp')).toBe('tempfail');
    expect(v.stats()).toMatchObject({ hits: 0, probes: 4 });
    expect(await v.verify('nobody@test.jp')).toBe('unknown'); // first host down, second answers
    const only = testConfig((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: down }] }];
    });
    const v2 = new RecipientVerifier({ config: () => only });
    expect(await v2.verify('alice@test.jp')).toBe('tempfail');
    expect(await v2.verify('alice@nourte.example')).toBe('tempfail');
  });

  it('probe speaks EHLO, MAIL FROM:<>, RCPT TO and reports the RCPT reply', async () => {
    const s = await office();
    const r = await probeRecipient({ host: '127.0.0.1', port: s.port, name: 'gw.test.jp', recipient: 'nobody@test.jp', timeoutMs: 3000 });
    expect(r).toMatchObject({ stage: 'rcpt', code: 550 });
    expect('reply' in r && r.reply).toContain('5.1.1');
  });
});

// The connection pool alone: caps per hop and overall, reuse, eviction of an idle session of
// another hop under the total cap, TLS flag, and that send() never rejects.
import { describe, expect, it } from 'vitest';
import { TransportPool, type ConnectSettings } from '../../main/core/delivery/transport-pool.js';
import { closedPort, cleanupsAfterEach } from './helpers.js';

const { cleanups, sinkOf } = cleanupsAfterEach();

function settings(port: number, host = '127.0.0.1', security: ConnectSettings['security'] = 'opportunistic'): ConnectSettings {
  return { host, port, security, rejectUnauthorized: false, name: 'gw.test.jp', connectTimeoutMs: 2000 };
}

const raw = Buffer.from('Subject: x\r\n\r\nhi\r\n');

describe('TransportPool', () => {
  it('total cap holds across hops; every message still goes out', async () => {
    const slow = { data: () => new Promise<null>((r) => setTimeout(() => r(null), 60)) };
    const a = await sinkOf({ ...slow });
    const b = await sinkOf({ ...slow, host: '127.0.0.2' });
    const pool = new TransportPool({ caps: () => ({ perHop: 5, total: 2 }) });
    cleanups.push(async () => pool.close(true));
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, pool.stats().connections)), 2);
    const sends = [];
    for (let i = 0; i < 6; i++) sends.push(pool.send(settings(i % 2 ? b.port : a.port, i % 2 ? '127.0.0.2' : '127.0.0.1'), { from: 'a@test.jp', to: [`r${i}@x.example`] }, raw));
    const out = await Promise.all(sends);
    clearInterval(timer);
    expect(out.every((o) => o.transaction.kind === 'sent')).toBe(true);
    expect(a.messages.length + b.messages.length).toBe(6);
    expect(peak).toBeLessThanOrEqual(2);
  });

  it('says BODY=8BITMIME only for a message with 8-bit bytes', async () => {
    const a = await sinkOf();
    const pool = new TransportPool({ caps: () => ({ perHop: 1, total: 1 }) });
    cleanups.push(async () => pool.close(true));
    const utf8 = Buffer.from('Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nこんにちは\r\n');
    await pool.send(settings(a.port), { from: 'a@test.jp', to: ['x@x.example'] }, raw);
    await pool.send(settings(a.port), { from: 'a@test.jp', to: ['y@x.example'] }, utf8);
    expect(a.messages.map((m) => m.body)).toEqual([undefined, '8BITMIME']);
    expect(a.messages[1]!.raw.toString('utf8')).toContain('こんにちは');
  });

  it('reuses an idle session, and evicts another hop\'s idle session when the total is reached', async () => {
    const a = await sinkOf();
    const b = await sinkOf();
    const pool = new TransportPool({ caps: () => ({ perHop: 1, total: 1 }), idleMs: 60_000 });
    cleanups.push(async () => pool.close(true));
    const first = await pool.send(settings(a.port), { from: 'a@test.jp', to: ['x@x.example'] }, raw);
    const second = await pool.send(settings(a.port), { from: '', to: ['y@x.example'] }, raw);
    expect([first.reused, second.reused]).toEqual([false, true]);
    expect(a.connections).toBe(1);
    expect(a.messages.map((m) => m.from)).toEqual(['a@test.jp', '']);
    const third = await pool.send(settings(b.port), { from: 'a@test.jp', to: ['z@x.example'] }, raw);
    expect(third.transaction.kind).toBe('sent');
    expect(pool.stats()).toMatchObject({ connections: 1, idle: 1 });
  });

  it('a refused message keeps the session (RSET), a refused connection is a connect failure', async () => {
    const a = await sinkOf({ rcpt: (addr) => (addr.startsWith('bad') ? { code: 550, message: '5.1.1 no' } : null) });
    const pool = new TransportPool({ caps: () => ({ perHop: 1, total: 1 }) });
    cleanups.push(async () => pool.close(true));
    const r1 = await pool.send(settings(a.port), { from: 'a@test.jp', to: ['bad@x.example'] }, raw);
    expect(r1.transaction).toMatchObject({ kind: 'failed', stage: 'envelope' });
    const r2 = await pool.send(settings(a.port), { from: 'a@test.jp', to: ['good@x.example'] }, raw);
    expect(r2).toMatchObject({ reused: true, transaction: { kind: 'sent' } });
    expect(a.connections).toBe(1);
    const down = await closedPort();
    const r3 = await pool.send(settings(down), { from: 'a@test.jp', to: ['x@x.example'] }, raw);
    expect(r3.transaction).toMatchObject({ kind: 'failed', stage: 'connect' });
    // Room for it was made by evicting the idle session; the failed one gave its slot back.
    expect(pool.stats()).toMatchObject({ connections: 0, busy: 0, waiting: 0 });
  });

  it('reports TLS when STARTTLS was used; close(force) ends a hanging send', async () => {
    const a = await sinkOf({ starttls: true, data: () => new Promise<null>((r) => setTimeout(() => r(null), 5000)) });
    const pool = new TransportPool({ caps: () => ({ perHop: 1, total: 1 }) });
    const p = pool.send(settings(a.port), { from: 'a@test.jp', to: ['x@x.example'] }, raw);
    await new Promise((r) => setTimeout(r, 400));
    pool.close(true);
    const out = await p;
    expect(out.tls).toBe(true);
    expect(out.transaction).toMatchObject({ kind: 'failed', afterData: true });
    const after = await pool.send(settings(a.port), { from: 'a@test.jp', to: ['x@x.example'] }, raw);
    expect(after.transaction).toMatchObject({ kind: 'failed', stage: 'connect' });
    expect(after.transaction.reply).toMatch(/stopped/);
  });
});

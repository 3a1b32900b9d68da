/*
 * Session setup (smtp-server-adapter.ts, 4): sockets without a PROXY header start at once with
 * a pooled session id of smtp-server's form; sockets that expect a PROXY header still take
 * smtp-server's own path.
 */
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerSession } from 'smtp-server';
import { sessionId } from '../../main/core/smtp/smtp-server-adapter.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { openTestGateway } from '../helpers/gateway.js';

const ID = /^[0-9a-v]{16}$/;

describe('session ids', () => {
  it('are 16 base-32 digits, distinct, and random in every position (across pool refills)', () => {
    const ids = Array.from({ length: 5000 }, () => sessionId());
    for (const id of ids) expect(id).toMatch(ID);
    expect(new Set(ids).size).toBe(ids.length);
    // 5000 ids draw ~6 refills of the 8 KB pool; every position sees (nearly) all 32 digits.
    for (let pos = 0; pos < 16; pos++) {
      expect(new Set(ids.map((id) => id[pos])).size, `position ${pos}`).toBeGreaterThanOrEqual(30);
    }
  });

  it('name each gateway session in the receivelog, one id per connection', async () => {
    const env = await openTestGateway();
    try {
      for (let i = 0; i < 3; i++) {
        const c = await SmtpTestClient.connect(env.port, { localAddress: '127.0.0.2' });
        expect((await c.greeting).code).toBe(220);
        expect((await c.cmd('EHLO mail.test.jp')).code).toBe(250);
        await c.quit();
      }
      await env.gw.receivelog.flush();
      const connects = (await env.gw.receivelog.tail(100)).filter((e) => e.event === 'connect');
      expect(connects).toHaveLength(3);
      for (const e of connects) expect(e.session).toMatch(ID);
      expect(new Set(connects.map((e) => e.session)).size).toBe(3);
    } finally {
      await env.close();
    }
  });
});

describe('PROXY protocol', () => {
  it('still reads the header before the session starts (upstream path)', async () => {
    const seen: SMTPServerSession[] = [];
    const server = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      useProxy: true,
      onConnect: (session, cb) => {
        seen.push(session);
        cb();
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as net.AddressInfo).port;
    try {
      const greeting = await new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => s.write('PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\n'));
        s.once('data', (d) => {
          resolve(d.toString());
          s.destroy();
        });
        s.once('error', reject);
      });
      expect(greeting).toMatch(/^220 /);
      expect(seen).toHaveLength(1);
      expect(seen[0].remoteAddress).toBe('192.0.2.7');
      expect(seen[0].id).toMatch(ID);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

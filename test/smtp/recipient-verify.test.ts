/*
 * No backscatter, end to end: with recipient verification on, inbound mail from an
 * untrusted client is checked against the office server (a real smtp-server on 127.0.0.1)
 * at RCPT: an unknown user gets 550 5.1.1 `recipient-unknown` at once, a known one is
 * accepted, a trusted client is not probed, and the second ask is answered from the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { openTestGateway } from '../helpers/gateway.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';

type Env = Awaited<ReturnType<typeof openTestGateway>>;
let env: Env;
let office: SMTPServer;
let probes = 0;

beforeAll(async () => {
  office = new SMTPServer({
    logger: false,
    disabledCommands: ['AUTH', 'STARTTLS'],
    onRcptTo(addr, _s, cb) {
      probes++;
      if (addr.address === 'nobody@test.jp') return cb(Object.assign(new Error('5.1.1 User unknown'), { responseCode: 550 }));
      cb();
    },
    onData(stream, _s, cb) {
      stream.resume();
      stream.on('end', () => cb());
    },
  });
  await new Promise<void>((r) => office.listen(0, '127.0.0.1', () => r()));
  const port = (office.server.address() as AddressInfo).port;
  env = await openTestGateway((c) => {
    c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port }] }];
    c.delivery.verifyRecipients = true;
  });
});

afterAll(async () => {
  await env.close();
  await new Promise<void>((r) => office.close(() => r()));
});

async function rcpt(from: string, to: string): Promise<{ code: number; text: string }> {
  const c = await SmtpTestClient.connect(env.port, { localAddress: from });
  await c.greeting;
  await c.cmd('EHLO client.example');
  await c.cmd('MAIL FROM:<someone@example.net>');
  const r = await c.cmd(`RCPT TO:<${to}>`);
  await c.quit();
  return r;
}

describe('recipient verification (no backscatter)', () => {
  it('refuses an unknown user at RCPT and accepts a known one', async () => {
    const unknown = await rcpt('127.0.0.3', 'nobody@test.jp');
    expect(unknown.code).toBe(550);
    expect(unknown.text).toContain('5.1.1');
    expect((await rcpt('127.0.0.3', 'boss@test.jp')).code).toBe(250);
    await env.gw.receivelog.flush();
    const lines = await env.gw.receivelog.tail(100);
    expect(lines.find((e) => e.recipient === 'nobody@test.jp')?.rule).toBe('recipient-unknown');
  });

  it('answers the second ask from the cache and never probes for a trusted client', async () => {
    const before = probes;
    expect((await rcpt('127.0.0.3', 'nobody@test.jp')).code).toBe(550);
    expect(probes).toBe(before);
    expect(env.gw.verifier.stats().hits).toBeGreaterThan(0);
    expect((await rcpt('127.0.0.2', 'nobody2@test.jp')).code).toBe(250);
    expect(probes).toBe(before);
  });
});

/*
 * STARTTLS with the certificate made at first run, SMTP AUTH offered only after STARTTLS,
 * sender-login binding (MAIL FROM and From:), and the smarthost password sealed at rest.
 * Real sockets: nodemailer as the client from 127.0.0.3 (an untrusted address).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { openTestGateway } from '../helpers/gateway.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { hashPassword, verifyPassword } from '../../main/core/smtp/auth.js';
import { openSecret } from '../../main/core/config/index.js';
import { createCommands, gatewayPorts } from '../../main/core/commands/index.js';

type Env = Awaited<ReturnType<typeof openTestGateway>>;
let env: Env;

beforeAll(async () => {
  const passwordHash = await hashPassword('correct horse');
  env = await openTestGateway((c) => {
    c.auth = { enabled: true, users: [{ username: 'alice', passwordHash, addresses: ['alice@test.jp'] }] };
  });
});
afterAll(async () => {
  await env.close();
});

function client(user: string, pass: string) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: env.port,
    localAddress: '127.0.0.3',
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass },
  });
}

describe('STARTTLS and SMTP AUTH', () => {
  it('made a certificate at first run and offers AUTH only after STARTTLS', async () => {
    await fs.access(path.join(env.dir, 'tls', 'cert.pem'));
    const c = await SmtpTestClient.connect(env.port, { localAddress: '127.0.0.3' });
    await c.greeting;
    const ehlo = await c.cmd('EHLO branch.example');
    expect(ehlo.text).toContain('STARTTLS');
    expect(ehlo.text).not.toMatch(/AUTH/);
    const auth = await c.cmd('AUTH PLAIN ' + Buffer.from('\0alice\0correct horse').toString('base64'));
    expect(auth.code).toBeGreaterThanOrEqual(500);
    await c.quit();
  });

  it('lets an authenticated user relay as its own address', async () => {
    const info = await client('alice', 'correct horse').sendMail({ from: 'alice@test.jp', to: 'partner@example.com', subject: 'hi', text: 'hello' });
    expect(info.accepted).toEqual(['partner@example.com']);
    await env.gw.receivelog.flush();
    const lines = await env.gw.receivelog.tail(200);
    expect(lines.some((e) => e.event === 'auth' && e.decision === 'accept' && e.auth === 'alice')).toBe(true);
    const rcpt = lines.filter((e) => e.event === 'rcpt' && e.recipient === 'partner@example.com').at(-1)!;
    expect(rcpt.rule).toBe('relay');
    expect(rcpt.tls).toBe(true);
  });

  it('binds the sender to the login: MAIL FROM and From:', async () => {
    await expect(client('alice', 'correct horse').sendMail({ from: 'boss@test.jp', to: 'x@example.com', text: 'x' })).rejects.toMatchObject({ responseCode: 553 });
    await expect(
      client('alice', 'correct horse').sendMail({ envelope: { from: 'alice@test.jp', to: ['x@example.com'] }, from: 'boss@test.jp', to: 'x@example.com', text: 'x' }),
    ).rejects.toMatchObject({ responseCode: 553 });
    await env.gw.receivelog.flush();
    const rules = (await env.gw.receivelog.tail(200)).map((e) => e.rule);
    expect(rules.filter((r) => r === 'sender-login-mismatch').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a wrong password with 535 and an unauthenticated relay with 554', async () => {
    await expect(client('alice', 'wrong password').sendMail({ from: 'alice@test.jp', to: 'x@example.com', text: 'x' })).rejects.toMatchObject({ responseCode: 535 });
    const anon = nodemailer.createTransport({ host: '127.0.0.1', port: env.port, localAddress: '127.0.0.3', requireTLS: true, tls: { rejectUnauthorized: false } });
    await expect(anon.sendMail({ from: 'alice@test.jp', to: 'x@example.com', text: 'x' })).rejects.toMatchObject({ responseCode: 554 });
  });

  it('stores passwords as scrypt hashes', async () => {
    const h = await hashPassword('s3cret-pass');
    expect(h).toMatch(/^scrypt\$/);
    expect(h).not.toContain('s3cret-pass');
    expect(await verifyPassword('s3cret-pass', h)).toBe(true);
    expect(await verifyPassword('other', h)).toBe(false);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
  });
});

describe('auth commands of the contract', () => {
  it('adds a user through auth.setUser (hash only) and the login works at once', async () => {
    const api = createCommands(gatewayPorts(env.gw));
    const call = { via: 'api' } as const;
    await expect(api['auth.setUser']({ username: 'bob', addresses: ['bob@test.jp'] }, call)).rejects.toMatchObject({ code: 'validation' });
    const view = await api['auth.setUser']({ username: 'bob', password: 'bob-password-1', addresses: ['bob@test.jp'] }, call);
    expect(view.auth.users.find((u) => u.username === 'bob')).toEqual({ username: 'bob', addresses: ['bob@test.jp'] });
    expect(JSON.stringify(view)).not.toContain('scrypt$');
    const info = await client('bob', 'bob-password-1').sendMail({ from: 'bob@test.jp', to: 'y@example.com', text: 'x' });
    expect(info.accepted).toEqual(['y@example.com']);
    await api['auth.removeUser']({ username: 'bob' }, call);
    await expect(client('bob', 'bob-password-1').sendMail({ from: 'bob@test.jp', to: 'y@example.com', text: 'x' })).rejects.toMatchObject({ responseCode: 535 });
  });
});

describe('turning AUTH on at runtime', () => {
  it('restarts only the listener, and AUTH is offered at once', async () => {
    const off = await openTestGateway();
    try {
      const passwordHash = await hashPassword('carol-password');
      await off.gw.store.update('api', 'add carol', (d) => void d.auth.users.push({ username: 'carol', passwordHash, addresses: ['carol@test.jp'] }));
      const send = (port: number) =>
        nodemailer
          .createTransport({ host: '127.0.0.1', port, localAddress: '127.0.0.3', requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'carol', pass: 'carol-password' } })
          .sendMail({ from: 'carol@test.jp', to: 'z@example.com', text: 'x' });
      await expect(send(off.port)).rejects.toThrow();
      const before = off.gw.status().startedAt;
      await off.gw.store.update('api', 'enable auth', (d) => void (d.auth.enabled = true));
      for (let i = 0; i < 100 && (off.gw.status().startedAt === before || !off.gw.status().running); i++) await new Promise((r) => setTimeout(r, 50));
      const st = off.gw.status();
      expect(st.running).toBe(true);
      const info = await send(st.listen!.port);
      expect(info.accepted).toEqual(['z@example.com']);
    } finally {
      await off.close();
    }
  });
});

describe('smarthost password at rest', () => {
  it('is sealed in config.json and the audit trail, and opens for delivery', async () => {
    await env.gw.store.update('cli', 'smarthost', (d) => {
      d.delivery.smarthost = { host: 'smtp.provider.example', port: 587, security: 'starttls', user: 'office', password: 'pa55word!', allowInvalidCert: false };
    });
    const onDisk = await fs.readFile(path.join(env.dir, 'config.json'), 'utf8');
    const audit = await fs.readFile(path.join(env.dir, 'audit.jsonl'), 'utf8');
    expect(onDisk).not.toContain('pa55word!');
    expect(audit).not.toContain('pa55word!');
    const stored = env.gw.store.get().delivery.smarthost!.password;
    expect(stored).toMatch(/^enc:v1:file:/);
    expect(openSecret(stored)).toBe('pa55word!');
  });
});

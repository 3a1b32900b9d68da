/*
 * The contract between Gatehouse and smtp-server's internals (main/core/smtp/smtp-server-adapter.ts).
 * One check per member the adapter touches, each named after the member, so an upgrade of
 * smtp-server that changes one fails here by name rather than silently in production:
 *   - every replaced, wrapped or called method still exists with the source it had at the
 *     pinned version (a fingerprint of its normalised text): a changed one must be reviewed
 *     against the adapter before the pin moves, then its fingerprint updated here;
 *   - every private field read is present on a live connection, with the meaning relied on;
 *   - the behaviour built on them holds over a real socket (greeting wait, protocol replies,
 *     command deadline, session setup, closeSession, live limits, AUTH hidden before TLS).
 * The header of the adapter lists the same members; a test below keeps the two lists equal.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createSmtpServer, type AdaptedServer, type AdapterHooks } from '../../main/core/smtp/smtp-server-adapter.js';
import { loadTlsMaterial } from '../../main/core/smtp/tls.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADAPTER = path.join(ROOT, 'main', 'core', 'smtp', 'smtp-server-adapter.ts');
const PINNED = '3.21.7';

/** sha256 of a function's text with whitespace runs collapsed (first 16 hex digits). */
function fingerprint(fn: unknown): string {
  return createHash('sha256').update(String(fn).replace(/\s+/g, ' ')).digest('hex').slice(0, 16);
}

/** Methods the adapter replaces, wraps or calls: arity and fingerprint at the pinned version. */
const METHODS: Record<string, { arity: number; fp: string; why: string }> = {
  'SMTPServer.connect': { arity: 2, fp: '760cd6611cf58d7f', why: 'the adapter replaces it with a copy that builds its own connection class' },
  'SMTPServer._onError': { arity: 1, fp: '902a959fc19b723b', why: 'called from the copied connect()' },
  'SMTPServer._onClientConnect': { arity: 1, fp: 'c3cb3d2885623ff4', why: "called from the copied connect(), emits the server's 'connect'" },
  'SMTPServer._handleProxy': { arity: 2, fp: '95b040fae0e7981d', why: 'replaced for sockets without a PROXY header (session setup)' },
  'SMTPServer._expectsProxyHeader': { arity: 1, fp: '19b909b66bd36da3', why: 'decides which sockets keep upstream _handleProxy' },
  'SMTPConnection.init': { arity: 0, fp: '67b68fcaf9a0a35f', why: 'the trusted path is a copy of it minus the 100 ms timer' },
  'SMTPConnection._setListeners': { arity: 1, fp: 'cbf83a7bef4c02a3', why: 'called by the trusted init path' },
  'SMTPConnection.connectionReady': { arity: 1, fp: '9a1a85dad07a55b0', why: 'called by the trusted init path instead of the timer' },
  'SMTPConnection.send': { arity: 3, fp: 'ef984a1c077daba8', why: 'wrapped: protocol replies, command deadline; 421 must still close' },
  'SMTPConnection._onCommand': { arity: 2, fp: 'ec126bdb02258772', why: 'wrapped: a complete command line stops the deadline' },
  'SMTPConnection._onClose': { arity: 0, fp: '4980a7a5f4c3611c', why: 'wrapped: clears the deadline timer' },
  'SMTPConnection.close': { arity: 0, fp: '037caa361bbc3db2', why: 'called by closeSession (DATA deadline)' },
};
/** Fields the adapter reads or writes; each has a live check below, named after it. */
const FIELDS = [
  'SMTPServer.connections',
  'SMTPServer.options',
  'SMTPConnection._server',
  'SMTPConnection.id',
  'SMTPConnection.remoteAddress',
  'SMTPConnection.session',
  'SMTPConnection._dataStream',
  'SMTPConnection._closing',
  'SMTPConnection._closed',
];

function upstreamMethod(member: string): unknown {
  const [owner, name] = member.split('.') as [string, string];
  const proto = (owner === 'SMTPServer' ? SMTPServer.prototype : SMTPConnection.prototype) as unknown as Record<string, unknown>;
  return proto[name];
}

interface Running {
  server: AdaptedServer;
  port: number;
}
const running: Running[] = [];

async function start(options: SMTPServerOptions = {}, hooks: AdapterHooks = {}): Promise<Running> {
  const server = createSmtpServer({ logger: false, disableReverseLookup: true, authOptional: true, hideSTARTTLS: true, ...options }, hooks);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const r = { server, port: (server.server.address() as net.AddressInfo).port };
  running.push(r);
  return r;
}

afterEach(async () => {
  for (const r of running.splice(0)) {
    for (const c of r.server.connections) c.close();
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
  }
});

/** The live connection objects of a server (smtp-server keeps them in `connections`). */
function liveConnections(server: SMTPServer): SMTPConnection[] {
  return [...server.connections];
}

async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe(`smtp-server ${PINNED}: the pin`, () => {
  it('package.json pins smtp-server exactly and the installed copy is that version', async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['smtp-server'], 'an exact version, no range: a minor upgrade must not change the internals unseen').toBe(PINNED);
    const installed = JSON.parse(await fs.readFile(path.join(ROOT, 'node_modules', 'smtp-server', 'package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(PINNED);
  });

  it('the adapter header lists exactly the members checked here', () => {
    const header = readFileSync(ADAPTER, 'utf8').split('*/')[0]!;
    const listed = [...header.matchAll(/^ \*\s+(SMTP(?:Server|Connection)\.\w+)\s/gm)].map((m) => m[1]);
    expect(new Set(listed)).toEqual(new Set([...Object.keys(METHODS), ...FIELDS]));
  });
});

describe(`smtp-server ${PINNED}: methods the adapter replaces, wraps or calls`, () => {
  for (const [member, want] of Object.entries(METHODS)) {
    it(member, () => {
      const fn = upstreamMethod(member);
      expect(typeof fn, `${member} is gone from smtp-server (${want.why})`).toBe('function');
      expect((fn as (...a: unknown[]) => unknown).length, `${member} takes a different number of arguments now (${want.why})`).toBe(want.arity);
      expect(
        fingerprint(fn),
        `${member} changed upstream: review main/core/smtp/smtp-server-adapter.ts (${want.why}), then update its fingerprint here`,
      ).toBe(want.fp);
    });
  }
});

describe(`smtp-server ${PINNED}: fields the adapter reads, on a live connection`, () => {
  it('SMTPConnection._server, id, remoteAddress, session: the server, the session id, the client address, the session', async () => {
    const seen: SMTPServerSession[] = [];
    const { server, port } = await start({ onConnect: (s, cb) => void (seen.push(s), cb()) });
    const c = await SmtpTestClient.connect(port, { localAddress: '127.0.0.5' });
    expect((await c.greeting).code).toBe(220);
    const [conn] = liveConnections(server);
    expect(conn, 'SMTPServer.connections holds the open connection').toBeDefined();
    expect(conn!._server, 'SMTPConnection._server').toBe(server);
    expect(conn!.id, 'SMTPConnection.id').toBe(seen[0]!.id);
    expect(conn!.remoteAddress, 'SMTPConnection.remoteAddress').toBe('127.0.0.5');
    expect(conn!.session, 'SMTPConnection.session').toBe(seen[0]);
    await c.quit();
  });

  it('SMTPConnection._dataStream: false between commands, the message stream during DATA', async () => {
    let during: unknown = 'not seen';
    let stream: SMTPServerDataStream | null = null;
    const { server, port } = await start({
      onData: (s, _session, cb) => {
        stream = s;
        during = liveConnections(server)[0]!._dataStream;
        s.resume();
        s.on('end', () => cb());
      },
    });
    const c = await SmtpTestClient.connect(port);
    await c.greeting;
    await c.cmd('EHLO client.test');
    expect(liveConnections(server)[0]!._dataStream, 'SMTPConnection._dataStream before DATA').toBe(false);
    await c.cmd('MAIL FROM:<a@test.jp>');
    await c.cmd('RCPT TO:<b@test.jp>');
    expect((await c.data('Subject: x\r\n\r\nhi\r\n')).end.code).toBe(250);
    expect(stream, 'onData ran').not.toBeNull();
    expect(during, 'SMTPConnection._dataStream during DATA is the stream onData gets').toBe(stream);
    expect(liveConnections(server)[0]!._dataStream, 'SMTPConnection._dataStream after DATA').toBeFalsy();
    await c.quit();
  });

  it('SMTPConnection._closing and _closed: false while open, _closing after close(), _closed once the socket is gone', async () => {
    const { server, port } = await start();
    const c = await SmtpTestClient.connect(port);
    await c.greeting;
    const conn = liveConnections(server)[0]!;
    expect(conn._closing, 'SMTPConnection._closing while open').toBe(false);
    expect(conn._closed, 'SMTPConnection._closed while open').toBe(false);
    conn.close();
    expect(conn._closing, 'SMTPConnection._closing after close()').toBe(true);
    expect(server.connections.has(conn), 'SMTPServer.connections drops a closing connection').toBe(false);
    c.destroy();
    await waitFor(() => conn._closed, 'SMTPConnection._closed after the socket closed');
  });

  it('SMTPServer.connections: every open session, by id (closeSession)', async () => {
    const { server, port } = await start();
    const a = await SmtpTestClient.connect(port);
    const b = await SmtpTestClient.connect(port);
    await a.greeting;
    await b.greeting;
    expect(server.connections.size, 'SMTPServer.connections').toBe(2);
    const [first] = liveConnections(server);
    expect(server.closeSession(first!.id, '4.4.2 DATA deadline exceeded, closing connection')).toBe(true);
    expect(server.closeSession('no-such-session', 'x')).toBe(false);
    const replies = await Promise.all([a.next(), b.cmd('NOOP')]);
    // One of the two got the 421 (whichever connection was first in the set), the other works.
    expect(replies.map((r) => r.code).sort()).toEqual([250, 421]);
    expect(replies.find((r) => r.code === 421)!.text).toBe('421 4.4.2 DATA deadline exceeded, closing connection');
    await a.quit();
    await b.quit();
  });

  it('SMTPServer.options: setLimits() changes SIZE for the next command and the idle timeout for new sessions', async () => {
    const { server, port } = await start({ size: 1000, socketTimeout: 60_000 });
    const c = await SmtpTestClient.connect(port);
    await c.greeting;
    expect((await c.cmd('EHLO client.test')).text).toContain('SIZE 1000');
    server.setLimits({ size: 2048, socketTimeout: 300 });
    expect(server.options.size, 'SMTPServer.options.size').toBe(2048);
    expect((await c.cmd('EHLO client.test')).text).toContain('SIZE 2048');
    await c.quit();
    // smtp-server arms a socket's idle timer when the session starts: new sessions get the new value.
    const d = await SmtpTestClient.connect(port);
    await d.greeting;
    const t0 = Date.now();
    const idle = await d.next();
    expect(idle.code, 'SMTPServer.options.socketTimeout governs the idle timeout').toBe(421);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe(`smtp-server ${PINNED}: behaviour over real sockets`, () => {
  it('greeting (init/_setListeners/connectionReady): at once for skipGreetingDelay clients, after upstream 100 ms for others', async () => {
    const { port } = await start({}, { skipGreetingDelay: (ip) => ip === '127.0.0.2' });
    const time = async (from: string) => {
      const t0 = process.hrtime.bigint();
      const c = await SmtpTestClient.connect(port, { localAddress: from });
      const g = await c.greeting;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(g.code).toBe(220);
      c.destroy();
      return ms;
    };
    const untrusted = await time('127.0.0.3');
    const trusted = Math.min(await time('127.0.0.2'), await time('127.0.0.2'));
    expect(untrusted, 'upstream init still waits its 100 ms').toBeGreaterThanOrEqual(95);
    expect(trusted).toBeLessThan(untrusted);
  });

  it('greeting: an early talker is still refused by upstream (421 You talk too soon)', async () => {
    const { port } = await start();
    const got = await new Promise<string>((resolve) => {
      let buf = '';
      const s = net.connect(port, '127.0.0.1', () => s.write('EHLO early.test\r\n'));
      s.setEncoding('utf8');
      s.on('data', (d: string) => (buf += d));
      s.on('close', () => resolve(buf));
      s.on('error', () => resolve(buf));
    });
    expect(got).toMatch(/^421 .*talk too soon/m);
  });

  it('send: reports replies smtp-server makes itself, not ours (which keep their own enhanced code, once)', async () => {
    const reported: string[] = [];
    const { port } = await start(
      { onMailFrom: (a, _s, cb) => cb(a.address === 'no@test.jp' ? Object.assign(new Error('5.7.1 not you'), { responseCode: 550 }) : null) },
      { onProtocolReply: (_s, code, text) => reported.push(`${code} ${text}`) },
    );
    const c = await SmtpTestClient.connect(port);
    await c.greeting;
    expect((await c.cmd('MAIL FROM:<a@test.jp>')).code).toBe(503); // before EHLO: upstream's reply
    await c.cmd('EHLO client.test');
    const ours = await c.cmd('MAIL FROM:<no@test.jp>');
    expect(ours.text, 'no second enhanced code added (hideENHANCEDSTATUSCODES)').toBe('550 5.7.1 not you');
    expect((await c.cmd('BOGUS')).code).toBe(500);
    await c.quit();
    expect(reported).toEqual(['503 Error: send HELO/EHLO first', '500 Error: command not recognized']);
  });

  it('send/_onCommand: a command trickled byte by byte gets 421 within socketTimeout of the last reply', async () => {
    const { port } = await start({ socketTimeout: 400 }, { commandDeadline: true });
    const c = await SmtpTestClient.connect(port);
    await c.greeting;
    await c.cmd('EHLO client.test');
    const t0 = Date.now();
    const timer = setInterval(() => c.write('N'), 100); // each byte resets the idle timer, never a line
    try {
      const r = await c.next();
      expect(r.code).toBe(421);
      expect(r.text).toMatch(/no complete command within 0\.4 s/);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      clearInterval(timer);
    }
  });

  it('_onCommand: server-side work does not count against the deadline; each reply restarts it', async () => {
    const { port } = await start(
      { socketTimeout: 300, onRcptTo: (_a, _s, cb) => void setTimeout(() => cb(), 700) },
      { commandDeadline: true },
    );
    const c = await SmtpTestClient.connect(port);
    await c.greeting;
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<a@test.jp>');
    expect((await c.cmd('RCPT TO:<b@test.jp>')).code, 'a 700 ms handler with a 300 ms deadline').toBe(250);
    // Commands keep coming in time across several deadlines' worth of time.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 150));
      expect((await c.cmd('NOOP')).code).toBe(250);
    }
    await c.quit();
  });

  it('upstream calls _onCommand per line, send per reply and _onClose at close (the names the adapter overrides)', async () => {
    const calls: string[] = [];
    const { server, port } = await start();
    const c = await SmtpTestClient.connect(port);
    await c.greeting;
    const conn = liveConnections(server)[0]! as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of ['_onCommand', 'send', '_onClose']) {
      const original = conn[name]!;
      conn[name] = function (this: unknown, ...args: unknown[]) {
        calls.push(name);
        return original.apply(this, args);
      };
    }
    await c.cmd('NOOP');
    await c.cmd('QUIT');
    await waitFor(() => calls.includes('_onClose'), '_onClose after QUIT');
    expect(calls.slice(0, 4)).toEqual(['_onCommand', 'send', '_onCommand', 'send']);
  });

  it('_handleProxy/_expectsProxyHeader: no PROXY header expected -> our id, at once; expected -> upstream reads it', async () => {
    const sessions: SMTPServerSession[] = [];
    const onConnect = (s: SMTPServerSession, cb: () => void) => void (sessions.push(s), cb());
    const plain = await start({ onConnect, useProxy: ['192.0.2.1'] });
    const c = await SmtpTestClient.connect(plain.port);
    expect((await c.greeting).code).toBe(220);
    c.destroy();
    expect(sessions[0]!.id).toMatch(/^[0-9a-v]{16}$/);
    expect(sessions[0]!.remoteAddress).toBe('127.0.0.1');

    const proxied = await start({ onConnect, useProxy: true });
    const greeting = await new Promise<string>((resolve, reject) => {
      const s = net.connect(proxied.port, '127.0.0.1', () => s.write('PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\n'));
      s.once('data', (d) => {
        resolve(d.toString());
        s.destroy();
      });
      s.once('error', reject);
    });
    expect(greeting).toMatch(/^220 /);
    expect(sessions[1]!.remoteAddress).toBe('192.0.2.7');
    expect(sessions[1]!.id).toMatch(/^[0-9a-v]{16}$/);
  });

  it("connect/_onClientConnect/_onError: the server still emits 'connect' and a connection's 'error'", async () => {
    const { server, port } = await start();
    const connected = new Promise<{ remoteAddress: string }>((resolve) => server.once('connect', resolve));
    const c = await SmtpTestClient.connect(port, { localAddress: '127.0.0.6' });
    await c.greeting;
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<a@test.jp>'); // emitConnection() runs at latest here
    expect((await connected).remoteAddress).toBe('127.0.0.6');
    const errored = new Promise<Error>((resolve) => server.once('error', resolve));
    liveConnections(server)[0]!.emit('error', new Error('socket trouble'));
    expect((await errored).message).toBe('socket trouble');
    await c.quit();
  });

  it('session.disabledCommands (upstream option): AUTH hidden and refused until STARTTLS, offered after', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gh-contract-'));
    try {
      const tls = (await loadTlsMaterial(dir, { mode: 'auto', certFile: '', keyFile: '' }, 'localhost'))!;
      const { port } = await start({
        hideSTARTTLS: false,
        key: tls.key,
        cert: tls.cert,
        authMethods: ['PLAIN', 'LOGIN'],
        onConnect: (s, cb) => {
          if (!s.secure) s.disabledCommands = ['AUTH'];
          cb();
        },
        onSecure: (_sock, s, cb) => {
          s.disabledCommands = undefined;
          cb();
        },
        onAuth: (auth, _s, cb) => (auth.username === 'alice' && auth.password === 'pw' ? cb(null, { user: 'alice' }) : cb(new Error('no'))),
      });
      const c = await SmtpTestClient.connect(port);
      await c.greeting;
      const ehlo = await c.cmd('EHLO client.test');
      expect(ehlo.text).toContain('STARTTLS');
      expect(ehlo.text).not.toMatch(/AUTH/);
      expect((await c.cmd('AUTH PLAIN ' + Buffer.from('\0alice\0pw').toString('base64'))).code).toBeGreaterThanOrEqual(500);
      await c.quit();
      const mailer = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice', pass: 'pw' } });
      await expect(mailer.verify()).resolves.toBe(true);
      mailer.close();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

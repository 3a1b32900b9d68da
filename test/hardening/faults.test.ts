/*
 * Faults (issue 7, point 2), each against an in-process Gateway with real smtp-server
 * upstreams on loopback: the office server down then up, a smarthost answering 4xx for a
 * while, a slow upstream (greeting slower than connectTimeoutMs; a DATA reply that takes its
 * time), DNS failing for a route host and for MX, a full disk (ENOSPC injected into the
 * spool; and a real 1 MB tmpfs when this machine lets us mount one), config.json corrupted
 * while running and at start, and a log folder that cannot be created. Each case checks the
 * SMTP reply, the clear receivelog/senderlog line or status error, that the queue keeps the
 * message while the fault lasts, and that it is delivered once the fault is gone.
 * Fails with the log lines seen when an expected line is missing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SmtpTestClient, message } from '../helpers/smtp-client.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { Gateway } from '../../main/core/gateway.js';
import { ConfigError } from '../../main/core/config/index.js';
import type { MxResolver } from '../../main/core/delivery/index.js';
import { freePort, openGateway, sleep, TestSink, waitFor, type TestGateway } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

async function gateway(...args: Parameters<typeof openGateway>): Promise<TestGateway> {
  const env = await openGateway(...args);
  cleanup.push(() => env.close());
  return env;
}

async function sinkAt(port?: number): Promise<TestSink> {
  const s = await TestSink.start({ port });
  cleanup.push(() => s.down());
  return s;
}

/** One message from the office server (trusted); returns the final reply. */
async function submit(env: TestGateway, from: string, to: string, subject: string, mid?: string): Promise<{ code: number; text: string; id?: string }> {
  const c = await SmtpTestClient.connect(env.port, { localAddress: '127.0.0.2' });
  try {
    await c.greeting;
    await c.cmd('EHLO mail.test.jp');
    const m = await c.cmd(`MAIL FROM:<${from}>`);
    if (m.code !== 250) return m;
    const r = await c.cmd(`RCPT TO:<${to}>`);
    if (r.code !== 250) return r;
    const body = message(from, [to], subject).replace(/Message-ID: <[^>]*>/, `Message-ID: ${mid ?? `<${subject.replace(/\W/g, '-')}@faults.test>`}`);
    const { end } = await c.data(body);
    return { ...end, id: /queued as (\S+)/.exec(end.text)?.[1] };
  } finally {
    await c.quit();
  }
}

async function queued(env: TestGateway): Promise<string[]> {
  return (await env.gw.delivery.list()).map((q) => q.id);
}

describe('delivery faults', () => {
  it('office server down, then up: deferred with a clear senderlog line, delivered after the retry', async () => {
    const port = await freePort();
    const env = await gateway((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port }] }];
    });
    const r = await submit(env, 'tanaka@test.jp', 'boss@test.jp', 'office down');
    expect(r.code).toBe(250);
    const deferred = await waitFor(async () => (await env.send()).find((e) => e.queueId === r.id && e.outcome === 'deferred'), 8000, 'a deferred senderlog line');
    expect(deferred.hop).toBe(`127.0.0.1:${port}`);
    expect(deferred.reply).toMatch(/ECONNREFUSED|connect/i);
    expect(deferred.nextAttemptAt).toBeTruthy();
    expect(await queued(env)).toEqual([r.id]);
    const sink = await sinkAt(port); // the office server comes back on the same port
    await waitFor(() => sink.messages.length === 1, 10_000, 'delivery after the office server is back');
    await waitFor(async () => (await queued(env)).length === 0, 5000, 'an empty queue');
    expect(sink.messages[0].to).toEqual(['boss@test.jp']);
    // The sink records before it answers: wait for the gateway's own line about the 250.
    await waitFor(async () => (await env.send()).some((e) => e.queueId === r.id && e.outcome === 'delivered'), 5000, 'the delivered line');
  });

  it('smarthost answering 451 for a while: stays queued, then delivered once', async () => {
    const sink = await sinkAt();
    let refusals = 0;
    sink.behaviour.rcpt = () => (refusals++ < 2 ? { code: 451, message: '4.7.1 Greylisted, try again later' } : null);
    const env = await gateway((c) => {
      c.delivery.smarthost = { host: '127.0.0.1', port: sink.port, security: 'none', user: '', password: '', allowInvalidCert: false };
    });
    const r = await submit(env, 'tanaka@test.jp', 'customer@example.com', 'smarthost 4xx');
    expect(r.code).toBe(250);
    await waitFor(() => sink.messages.length === 1, 12_000, 'delivery after two 451s');
    await waitFor(async () => (await env.send()).some((e) => e.queueId === r.id && e.outcome === 'delivered'), 5000, 'the delivered line');
    const lines = (await env.send()).filter((e) => e.queueId === r.id);
    const deferrals = lines.filter((e) => e.outcome === 'deferred');
    expect(deferrals.length).toBeGreaterThanOrEqual(2);
    expect(deferrals[0].via).toBe('smarthost');
    expect(deferrals[0].perRecipient?.[0]).toMatchObject({ recipient: 'customer@example.com', code: 451 });
    expect(deferrals[0].reply).toContain('Greylisted');
    expect(lines.at(-1)!.outcome).toBe('delivered');
    await sleep(300);
    expect(sink.messages).toHaveLength(1);
    await waitFor(async () => (await queued(env)).length === 0, 5000, 'an empty queue');
  });

  it('slow upstream: a greeting slower than connectTimeoutMs defers; a slow DATA reply still delivers exactly once', async () => {
    const sink = await sinkAt();
    sink.behaviour.greetDelayMs = 2500; // connectTimeoutMs is 1000
    const env = await gateway((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
    });
    const r = await submit(env, 'tanaka@test.jp', 'boss@test.jp', 'slow greeting');
    expect(r.code).toBe(250);
    const d = await waitFor(async () => (await env.send()).find((e) => e.queueId === r.id && e.outcome === 'deferred'), 8000, 'a deferred line');
    expect(d.reply).toMatch(/time|greeting/i);
    expect(await queued(env)).toEqual([r.id]);
    sink.behaviour.greetDelayMs = 0;
    sink.behaviour.dataDelayMs = 1500; // slow, but within the socket timeout
    await waitFor(() => sink.messages.length === 1, 10_000, 'delivery once the upstream greets in time');
    await waitFor(async () => (await queued(env)).length === 0, 5000, 'an empty queue');
    await sleep(1200);
    expect(sink.messages).toHaveLength(1);
  });

  it('DNS failure: a route host that does not resolve and a failing MX lookup defer with the DNS error named; delivered once DNS answers', async () => {
    const sink = await sinkAt();
    let dnsUp = false;
    const asked: string[] = [];
    const resolver: MxResolver = {
      async resolveMx(domain) {
        asked.push(`MX ${domain}`);
        throw Object.assign(new Error(`queryMx ESERVFAIL ${domain}`), { code: 'ESERVFAIL' });
      },
      async resolveHost(name) {
        asked.push(`A ${name}`);
        if (dnsUp && name === 'office.test.jp') return ['127.0.0.1'];
        throw Object.assign(new Error(`getaddrinfo EAI_AGAIN ${name}`), { code: 'EAI_AGAIN' });
      },
    };
    const env = await gateway(
      (c) => {
        c.routes = [{ domain: 'test.jp', hosts: [{ host: 'office.test.jp', port: sink.port }] }];
      },
      { resolver },
    );
    const inbound = await submit(env, 'tanaka@test.jp', 'boss@test.jp', 'dns route');
    const outbound = await submit(env, 'tanaka@test.jp', 'customer@example.com', 'dns mx');
    expect(inbound.code).toBe(250);
    expect(outbound.code).toBe(250);
    const routeLine = await waitFor(async () => (await env.send()).find((e) => e.queueId === inbound.id && e.outcome === 'deferred'), 8000, 'route deferral');
    expect(routeLine.reply).toBe('cannot resolve office.test.jp: EAI_AGAIN');
    const mxLine = await waitFor(async () => (await env.send()).find((e) => e.queueId === outbound.id && e.outcome === 'deferred'), 8000, 'MX deferral');
    expect(mxLine.reply).toBe('DNS lookup of MX for example.com failed: ESERVFAIL');
    expect(mxLine.perRecipient?.[0].reply).toContain('ESERVFAIL');
    expect((await queued(env)).sort()).toEqual([inbound.id, outbound.id].sort());
    dnsUp = true;
    await waitFor(() => sink.messages.length === 1, 10_000, 'delivery once DNS answers');
    // MX stays broken: that message is still queued, not bounced.
    await waitFor(async () => (await queued(env)).length === 1, 5000, 'the delivered one removed from the queue');
    expect(await queued(env)).toEqual([outbound.id]);
    expect(asked.some((a) => a === 'MX example.com')).toBe(true);
  });
});

describe('disk full', () => {
  it('ENOSPC from the spool answers 452 4.3.1, logs storage-error, keeps nothing; the retry is queued and delivered', async () => {
    const sink = await sinkAt();
    const env = await gateway((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
    });
    // A real full disk needs a mount (see the tmpfs case below); this injects the errno the
    // spool would pass up, on the instance only.
    const spool = env.gw.spool;
    const realWrite = spool.write.bind(spool);
    let full = true;
    (spool as { write: typeof spool.write }).write = async (e, b) => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return realWrite(e, b);
    };
    const first = await submit(env, 'tanaka@test.jp', 'boss@test.jp', 'disk full', '<disk-full@faults.test>');
    expect(first.code).toBe(452);
    expect(first.text).toContain('4.3.1');
    expect(await queued(env)).toEqual([]);
    expect((await fs.readdir(path.join(env.dir, 'spool', 'queue'))).length).toBe(0);
    expect((await fs.readdir(path.join(env.dir, 'spool', 'tmp'))).length).toBe(0);
    const log = await env.receive();
    const line = log.find((e) => e.event === 'data' && e.code === 452);
    expect(line?.rule).toBe('storage-error');
    expect(line?.error).toContain('ENOSPC');
    // The office server retries after a 4xx: now there is room.
    full = false;
    const again = await submit(env, 'tanaka@test.jp', 'boss@test.jp', 'disk full', '<disk-full@faults.test>');
    expect(again.code).toBe(250);
    await waitFor(() => sink.messages.length === 1, 8000, 'delivery of the retried message');
    expect(sink.messages[0].messageId).toBe('<disk-full@faults.test>');
  });

  it('a real full filesystem (1 MB tmpfs): 452 4.3.1 and nothing half-written; accepted once there is room', async (ctx) => {
    const mnt = await tempDir('gatehouse-tmpfs-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      await fs.rm(mnt, { recursive: true, force: true });
      ctx.skip('mounting a 1 MB tmpfs needs root on Linux (mount -t tmpfs); the injected ENOSPC test above covers the 452 reply everywhere');
      return;
    }
    const sink = await sinkAt();
    try {
      const env = await openGateway(
        (c) => {
          c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
        },
        { dir: path.join(mnt, 'data') },
      );
      try {
        // Fill the filesystem, leaving less than the message needs.
        const statfs = await fs.statfs(mnt);
        const free = statfs.bavail * statfs.bsize;
        await fs.writeFile(path.join(mnt, 'filler'), Buffer.alloc(Math.max(0, free - 64 * 1024)));
        const big = 'x'.repeat(76) + '\r\n';
        const c = await SmtpTestClient.connect(env.port, { localAddress: '127.0.0.2' });
        await c.greeting;
        await c.cmd('EHLO mail.test.jp');
        await c.cmd('MAIL FROM:<tanaka@test.jp>');
        await c.cmd('RCPT TO:<boss@test.jp>');
        const body = message('tanaka@test.jp', ['boss@test.jp'], 'real disk full').replace(/Message-ID: <[^>]*>/, 'Message-ID: <tmpfs@faults.test>') + big.repeat(2500);
        const { end } = await c.data(body);
        expect(end.code).toBe(452);
        expect(end.text).toContain('4.3.1');
        expect((await fs.readdir(path.join(env.dir, 'spool', 'queue'))).length).toBe(0);
        expect((await fs.readdir(path.join(env.dir, 'spool', 'tmp'))).length).toBe(0);
        await fs.rm(path.join(mnt, 'filler'));
        await c.cmd('MAIL FROM:<tanaka@test.jp>');
        await c.cmd('RCPT TO:<boss@test.jp>');
        const again = await c.data(body);
        expect(again.end.code).toBe(250);
        await c.quit();
        await waitFor(() => sink.messages.length === 1, 8000, 'delivery after space was freed');
        expect(sink.messages[0].raw.length).toBeGreaterThan(190_000);
        const log = await env.receive();
        expect(log.some((e) => e.rule === 'storage-error' && /ENOSPC/.test(e.error ?? ''))).toBe(true);
      } finally {
        await env.close();
      }
    } finally {
      execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
      await fs.rm(mnt, { recursive: true, force: true });
    }
  });
});

describe('config file corrupted', () => {
  it('while running: keeps the last good settings, says so in the receivelog and status', async () => {
    const env = await gateway();
    const file = path.join(env.dir, 'config.json');
    await fs.writeFile(file, '{ "listener": { "host": "127.0.0.1", "port": 0 }, "accounts": [ oops');
    const err = await waitFor(async () => (await env.receive()).find((e) => e.event === 'error' && /^config: /.test(e.error ?? '')), 8000, 'a config error line');
    expect(err.error).toContain('still running with the last good settings');
    expect(err.error).toMatch(/not valid JSON/);
    expect(env.gw.status().error).toContain('config.json');
    expect(await fs.readFile(path.join(env.dir, 'config.rejected.json'), 'utf8')).toContain('oops');
    // The policy is still the last good one: baito blocked, tanaka relays.
    const c = await SmtpTestClient.connect(env.port, { localAddress: '127.0.0.2' });
    await c.greeting;
    await c.cmd('EHLO mail.test.jp');
    await c.cmd('MAIL FROM:<baito@test.jp>');
    expect((await c.cmd('RCPT TO:<x@example.com>')).code).toBe(550);
    await c.cmd('RSET');
    await c.cmd('MAIL FROM:<tanaka@test.jp>');
    expect((await c.cmd('RCPT TO:<x@example.com>')).code).toBe(250);
    await c.quit();
  });

  it('at start: the last good copy is used and the problem is reported; without one, a ConfigError names the file', async () => {
    const dir = await tempDir('gatehouse-cfg-');
    cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
    const first = await Gateway.open({ dataDir: dir, createWith: officeConfig() });
    await first.close();
    await fs.writeFile(path.join(dir, 'config.json'), '{"limits": {"maxRecipients": "many"}}');
    const gw = await Gateway.open({ dataDir: dir });
    try {
      const st = gw.status();
      expect(st.configProblem).toContain('last good settings');
      expect(st.configProblem).toContain('limits.maxRecipients');
      expect(gw.store.get().accounts.map((a) => a.pattern)).toEqual(['baito@test.jp']);
    } finally {
      await gw.close();
    }
    const bare = await tempDir('gatehouse-cfg-');
    cleanup.push(() => fs.rm(bare, { recursive: true, force: true }));
    await fs.writeFile(path.join(bare, 'config.json'), '{"limits": {"maxRecipients": "many"}}');
    const e = await Gateway.open({ dataDir: bare }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain(path.join(bare, 'config.json'));
    expect((e as Error).message).toContain('limits.maxRecipients');
  });
});

describe('log folder unwritable', () => {
  it('a file where the log folder should be: mail still flows, the error is reported, logging resumes once fixed', async () => {
    const sink = await sinkAt();
    const env = await gateway(
      (c) => {
        c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
      },
      { beforeOpen: (dir) => fs.writeFile(path.join(dir, 'logs'), 'not a folder') },
    );
    const r = await submit(env, 'tanaka@test.jp', 'boss@test.jp', 'no log folder');
    expect(r.code).toBe(250);
    await waitFor(() => sink.messages.length === 1, 8000, 'delivery without logs');
    const errors = await waitFor(
      () => env.gw.traffic.snapshot().recentErrors.filter((e) => /^(receivelog|senderlog): /.test(e.text)),
      5000,
      'a log error in the status',
    );
    expect(errors[0].text).toContain(path.join(env.dir, 'logs'));
    expect(errors[0].text).toMatch(/EEXIST|ENOTDIR/);
    expect(env.gw.receivelog.status().ok).toBe(false);
    // Lines are kept in memory meanwhile (the UI's tail still shows them).
    expect((await env.gw.receivelog.tail(100)).some((e) => e.event === 'data' && e.queueId === r.id)).toBe(true);
    // The admin fixes it: the buffered lines reach the disk on the next retry.
    await fs.rm(path.join(env.dir, 'logs'));
    await waitFor(() => env.gw.receivelog.status().ok, 8000, 'the receivelog writable again');
    const files = await fs.readdir(path.join(env.dir, 'logs'));
    const text = await fs.readFile(path.join(env.dir, 'logs', files.find((f) => f.startsWith('receivelog-'))!), 'utf8');
    expect(text).toContain(r.id!);
  }, 20_000);
});

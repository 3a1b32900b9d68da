/*
 * performance.listenerProcesses = 2: a listener process accepts on the main process's socket.
 * Checked with real sockets, a real sink and real processes: both processes take sessions and
 * every 250 is delivered and logged once; the connection limits count the sessions of both;
 * a listener process killed with SIGKILL under load is replaced and nothing it acknowledged is
 * lost; stop/start ends and restarts it; and it exits by itself when `gatehouse serve` is
 * killed with SIGKILL (its socket must not outlive the app).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { openGateway, serve, sleep, TestSink, waitFor, writeConfig, type TestGateway } from '../hardening/helpers.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One message over its own connection from 127.0.0.2 (trusted); the 250's queue id, or null. */
async function sendOne(port: number, mid: string): Promise<string | null> {
  let c: SmtpTestClient | null = null;
  try {
    c = await SmtpTestClient.connect(port, { localAddress: '127.0.0.2' });
    const greet = await c.greeting;
    if (greet.code !== 220) return null;
    await c.cmd('HELO office.test.jp');
    if ((await c.cmd('MAIL FROM:<tanaka@test.jp>')).code !== 250) return null;
    if ((await c.cmd('RCPT TO:<boss@test.jp>')).code !== 250) return null;
    const { end } = await c.data(`From: tanaka@test.jp\r\nTo: boss@test.jp\r\nSubject: ${mid}\r\nMessage-ID: <${mid}>\r\n\r\nhello\r\n`);
    await c.quit().catch(() => undefined);
    return end.code === 250 ? end.text : null;
  } catch {
    return null;
  } finally {
    c?.destroy();
  }
}

describe('two listener processes', () => {
  let sink: TestSink;
  let t: TestGateway;

  beforeAll(async () => {
    sink = await TestSink.start();
    t = await openGateway((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
      c.performance.listenerProcesses = 2;
      c.limits.maxConnectionsPerIp = 100;
    });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.down();
  });

  it('both accept; every 250 is delivered once and logged once', async () => {
    expect(t.gw.status().listenerProcesses).toBe(2);
    const [child] = t.gw.pool.info();
    expect(child?.pid && alive(child.pid)).toBe(true);
    // Bounded: rounds of 10 parallel sessions until the listener process has taken some.
    const acked: string[] = [];
    for (let round = 0; round < 20 && (acked.length < 40 || (t.gw.pool.info()[0]?.sessions ?? 0) === 0); round++) {
      const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => sendOne(t.port, `r${round}-${i}@lp.test`)));
      for (const [i, id] of ids.entries()) if (id) acked.push(`<r${round}-${i}@lp.test>`);
    }
    expect(t.gw.pool.info()[0]!.sessions).toBeGreaterThan(0);
    await waitFor(() => acked.every((m) => sink.counts().has(m)), 15_000, 'every acknowledged message at the sink');
    expect(acked.length).toBeGreaterThanOrEqual(40);
    for (const m of acked) expect(sink.counts().get(m)).toBe(1);
    const log = await t.receive();
    const accepted = log.filter((e) => e.event === 'data' && e.decision === 'accept');
    expect(accepted.length).toBe(acked.length);
    expect(new Set(accepted.map((e) => e.queueId)).size).toBe(acked.length);
  });

  it('applies a block toggle in the listener process too (block-external at RCPT, logged)', async () => {
    await t.gw.store.update('api', 'block tanaka', (c) => {
      c.accounts = [{ pattern: 'tanaka@test.jp', blockExternal: true, allow: [], note: '' }];
    });
    await sleep(100);
    const replies: number[] = [];
    for (let i = 0; i < 12; i++) {
      const c = await SmtpTestClient.connect(t.port, { localAddress: '127.0.0.2' });
      await c.greeting;
      await c.cmd('HELO office.test.jp');
      await c.cmd('MAIL FROM:<tanaka@test.jp>');
      replies.push((await c.cmd('RCPT TO:<someone@example.com>')).code);
      await c.quit().catch(() => undefined);
      c.destroy();
    }
    expect(replies.every((r) => r === 550)).toBe(true);
    const log = await waitFor(async () => {
      const l = (await t.receive()).filter((e) => e.rule === 'block-external' && e.recipient === 'someone@example.com');
      return l.length >= 12 ? l : null;
    }, 5000, 'twelve block-external lines');
    expect(log.length).toBe(12);
  });
});

describe('connection limits across listener processes', () => {
  it('counts the sessions of both processes against maxConnectionsPerIp (an untrusted address)', async () => {
    const t = await openGateway((c) => {
      c.performance.listenerProcesses = 2;
      c.limits.maxConnectionsPerIp = 3;
    });
    const open: SmtpTestClient[] = [];
    try {
      const codes: number[] = [];
      // One at a time, each greeted before the next: the limit must hold exactly.
      for (let i = 0; i < 8; i++) {
        const c = await SmtpTestClient.connect(t.port, { localAddress: '127.0.0.3' });
        open.push(c);
        codes.push((await c.greeting).code);
      }
      expect(codes.filter((c) => c === 220).length).toBe(3);
      expect(codes.slice(3).every((c) => c === 421)).toBe(true);
      // A place given back is usable again.
      const first = open[0]!;
      await first.quit().catch(() => undefined);
      first.destroy();
      await sleep(200);
      const again = await SmtpTestClient.connect(t.port, { localAddress: '127.0.0.3' });
      open.push(again);
      expect((await again.greeting).code).toBe(220);
      const refusals = (await t.receive()).filter((e) => e.event === 'reject-connection');
      expect(refusals.length).toBe(5);
      expect(refusals.every((e) => e.rule === 'too-many-connections-from-ip')).toBe(true);
    } finally {
      for (const c of open) c.destroy();
      await t.close();
    }
  });
});

describe('a listener process that dies', () => {
  it('is replaced, and every message acknowledged before or after is delivered', async () => {
    const sink = await TestSink.start();
    const t = await openGateway((c) => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
      c.performance.listenerProcesses = 2;
      c.limits.maxConnectionsPerIp = 100;
    });
    try {
      const first = t.gw.pool.info()[0]!.pid!;
      const acked: string[] = [];
      let stop = false;
      let n = 0;
      // Six clients sending until told to stop (bounded: at most 400 messages).
      const workers = Array.from({ length: 6 }, async () => {
        while (!stop && n < 400) {
          const mid = `k${n++}@lp.test`;
          const id = await sendOne(t.port, mid);
          if (id) acked.push(`<${mid}>`);
        }
      });
      await waitFor(() => acked.length >= 30, 15_000, '30 messages before the kill');
      process.kill(first, 'SIGKILL');
      await waitFor(() => {
        const p = t.gw.pool.info()[0]?.pid;
        return p !== undefined && p !== first ? p : null;
      }, 10_000, 'a new listener process');
      const afterRestart = acked.length;
      await waitFor(() => acked.length >= afterRestart + 30, 15_000, '30 messages after the restart');
      stop = true;
      await Promise.all(workers);
      await waitFor(() => acked.every((m) => sink.counts().has(m)), 20_000, 'every acknowledged message at the sink');
      const lost = acked.filter((m) => !sink.counts().has(m));
      expect(lost).toEqual([]);
      const log = await t.receive();
      // Windows has no signals: process.kill(pid, 'SIGKILL') is TerminateProcess, and the exit
      // is reported as exit code 1 with no signal.
      const how = process.platform === 'win32' ? /listener process 1 exited \(code 1\)/ : /listener process 1 exited \(SIGKILL\)/;
      expect(log.some((e) => e.event === 'error' && how.test(e.error ?? ''))).toBe(true);
      expect(t.gw.status().listenerProcesses).toBe(2);
    } finally {
      await t.close();
      await sink.down();
    }
  });

  it('stop ends the listener process; start brings one back', async () => {
    const t = await openGateway((c) => {
      c.performance.listenerProcesses = 2;
    });
    try {
      const pid = t.gw.pool.info()[0]!.pid!;
      await t.gw.stop();
      expect(t.gw.pool.size()).toBe(0);
      await waitFor(() => !alive(pid), 5000, 'listener process gone after stop');
      const st = await t.gw.start();
      expect(st.listenerProcesses).toBe(2);
      const again = t.gw.pool.info()[0]!.pid!;
      expect(again).not.toBe(pid);
      expect(alive(again)).toBe(true);
    } finally {
      await t.close();
    }
  });
});

describe('changing performance.listenerProcesses', () => {
  it('restarts only the listener, with the new number of processes', async () => {
    const t = await openGateway((c) => {
      c.performance.listenerProcesses = 1;
    });
    try {
      expect(t.gw.status().listenerProcesses).toBe(1);
      await t.gw.store.update('api', 'two listener processes', (c) => {
        c.performance.listenerProcesses = 2;
      });
      const pid = await waitFor(() => t.gw.pool.info()[0]?.pid, 10_000, 'a listener process');
      expect(t.gw.status().listenerProcesses).toBe(2);
      // Still answering (on a new port: this test listens on port 0).
      expect(await sendOne(t.gw.status().listen!.port, 'after-change@lp.test')).toMatch(/queued as/);
      await t.gw.store.update('api', 'one listener process', (c) => {
        c.performance.listenerProcesses = 1;
      });
      await waitFor(() => !alive(pid), 10_000, 'the listener process gone');
      await waitFor(() => t.gw.status().listenerProcesses === 1, 10_000, 'one process again');
      // The schema refuses what it cannot run.
      await expect(t.gw.store.update('api', 'nine', (c) => void (c.performance.listenerProcesses = 9))).rejects.toThrow(/performance\.listenerProcesses/);
    } finally {
      await t.close();
    }
  });
});

describe('gatehouse serve with two listener processes', () => {
  it('its listener process exits when serve is killed with SIGKILL', async () => {
    const dir = await tempDir();
    try {
      await writeConfig(dir, officeConfig((c) => (c.performance.listenerProcesses = 2)));
      const s = await serve(dir);
      const m = /\(2 processes, pids (\d+) (\d+)\)/.exec(s.output());
      expect(m, s.output()).not.toBeNull();
      const childPid = Number(m![2]);
      expect(alive(childPid)).toBe(true);
      s.child.kill('SIGKILL');
      await s.exited;
      await waitFor(() => !alive(childPid), 5000, 'listener process gone after its parent was killed');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

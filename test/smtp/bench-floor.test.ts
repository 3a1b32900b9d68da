/*
 * The bench's reference servers (bench/floor.mjs, bench.py's floor-* systems) do what the
 * bench README says they do, over real sockets: smtp-server through Gatehouse's adapter
 * answers an accepted message with 250 and leaves nothing behind (its durability comes from
 * the spool's own helpers, whose fsyncs test/durability checks), refuses the bench's blocked
 * sender at RCPT with 550 5.7.1, and runs one worker per requested process; the journal variant
 * answers after the message is in its preallocated journal, the volatile one at once; the bare
 * node:net responder answers smtp-source's dialog. Without this a broken reference would silently give
 * the bench's "what the stack allows" table wrong figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { message, SmtpTestClient } from '../helpers/smtp-client.js';
import { spawnWait } from '../helpers/slow.js';
import { freePort, waitFor } from '../hardening/helpers.js';

const FLOOR = path.resolve('bench', 'floor.mjs');
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
  }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Resolves once something accepts on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function startFloor(kind: string, processes = 1): Promise<{ port: number; spool: string }> {
  const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-floor-'));
  dirs.push(spool);
  const port = await freePort();
  const child = spawn(process.execPath, [FLOOR, kind, String(port), String(processes), spool], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`floor ${kind} exited ${child.exitCode}: ${stderr}`);
      return accepts(port);
    },
    spawnWait(10_000),
    `floor ${kind} to listen`,
  );
  return { port, spool };
}

describe('bench reference servers (bench/floor.mjs)', () => {
  it('floor-smtp-server: an accepted message gets its 250 and leaves nothing on disk; the blocked sender gets 550 at RCPT', async () => {
    const { port, spool } = await startFloor('smtp-server');
    const c = await SmtpTestClient.connect(port);
    expect((await c.greeting).code).toBe(220);
    expect((await c.cmd('EHLO office.test.jp')).code).toBe(250);
    expect((await c.cmd('MAIL FROM:<sender@test.jp>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<someone@example.com>')).code).toBe(250);
    const { end } = await c.data(message('sender@test.jp', ['someone@example.com']));
    expect(end.code).toBe(250);
    expect(end.text).toContain('kept');
    // The worker's own folder exists and holds nothing after the 250 (removed once durable).
    const [own] = fs.readdirSync(spool);
    expect(own).toMatch(/^floor-\d+$/);
    await expect.poll(() => fs.readdirSync(path.join(spool, own)).length).toBe(0);

    expect((await c.cmd('MAIL FROM:<baito@test.jp>')).code).toBe(250);
    const refused = await c.cmd('RCPT TO:<someone@example.com>');
    expect(refused.code).toBe(550);
    expect(refused.text).toContain('5.7.1');
    await c.quit();
  });

  it('floor-smtp-server-journal: the 250 comes after the message is in the preallocated journal, and no file is made for it', async () => {
    const { port, spool } = await startFloor('smtp-server-journal');
    const [own] = fs.readdirSync(spool);
    const journal = path.join(spool, own, 'journal');
    // Preallocated in full before the first message: its writes change no metadata.
    expect(fs.statSync(journal).size).toBe(32 * 1024 * 1024);
    const subjects = ['journal-one', 'journal-two', 'journal-three'];
    const clients = await Promise.all(subjects.map(() => SmtpTestClient.connect(port)));
    // Three at once, so they can share an fdatasync (group commit); each must still be answered.
    const ends = await Promise.all(
      clients.map(async (c, i) => {
        await c.greeting;
        await c.cmd('EHLO office.test.jp');
        await c.cmd('MAIL FROM:<sender@test.jp>');
        await c.cmd('RCPT TO:<someone@example.com>');
        const { end } = await c.data(message('sender@test.jp', ['someone@example.com'], subjects[i]));
        await c.quit();
        return end;
      }),
    );
    for (const end of ends) expect(end.code).toBe(250);
    const bytes = fs.readFileSync(journal);
    for (const subject of subjects) expect(bytes.includes(`Subject: ${subject}`)).toBe(true);
    expect(fs.readdirSync(path.join(spool, own))).toEqual(['journal']);
  });

  it('floor-smtp-server-volatile: answers 250 and writes nothing', async () => {
    const { port, spool } = await startFloor('smtp-server-volatile');
    const c = await SmtpTestClient.connect(port);
    await c.greeting;
    await c.cmd('EHLO office.test.jp');
    await c.cmd('MAIL FROM:<sender@test.jp>');
    await c.cmd('RCPT TO:<someone@example.com>');
    const { end } = await c.data(message('sender@test.jp', ['someone@example.com']));
    expect(end.code).toBe(250);
    await c.quit();
    const [own] = fs.readdirSync(spool);
    expect(fs.readdirSync(path.join(spool, own))).toEqual([]);
  });

  it('floor-smtp-server-2: two worker processes, each answering on the one port', async () => {
    const { port, spool } = await startFloor('smtp-server', 2);
    // Each worker makes its own folder at start: two workers, two folders.
    await expect.poll(() => fs.readdirSync(spool).length, { timeout: spawnWait(10_000) }).toBe(2);
    for (let i = 0; i < 4; i++) {
      const c = await SmtpTestClient.connect(port);
      expect((await c.greeting).code).toBe(220);
      await c.quit();
    }
  });

  it("floor-node: answers smtp-source's reject dialog", async () => {
    const { port } = await startFloor('node');
    const c = await SmtpTestClient.connect(port);
    expect((await c.greeting).code).toBe(220);
    expect((await c.cmd('HELO office.test.jp')).code).toBe(250);
    expect((await c.cmd('MAIL FROM:<baito@test.jp>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<someone@example.com>')).code).toBe(550);
    expect((await c.cmd('DATA')).code).toBe(503);
    expect((await c.cmd('RSET')).code).toBe(250);
    expect((await c.cmd('QUIT')).code).toBe(221);
    c.destroy();
  });

  it('refuses a kind it does not know, with its usage', async () => {
    const child = spawn(process.execPath, [FLOOR, 'postfix', '2599'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(stderr).toContain('usage: node bench/floor.mjs smtp-server|smtp-server-journal|smtp-server-volatile|node PORT');
  });
});

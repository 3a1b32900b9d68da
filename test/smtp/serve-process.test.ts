/*
 * `gatehouse serve` as a real child process: kill -9 right after a 250 -> restart -> the
 * message is in the spool intact, a torn temp file is quarantined, not queued; an invalid
 * config file gets a clear error and exit code 2, not a crash; a CLI block toggle reaches the
 * running gateway on the next RCPT without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmtpTestClient, message } from '../helpers/smtp-client.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { Spool } from '../../main/core/spool/index.js';
import { spawnWait } from '../helpers/slow.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'gatehouse.js');

function cli(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: spawnWait(30_000) });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface Served {
  child: ChildProcess;
  port: number;
  output: () => string;
}

async function serve(dir: string): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--no-admin'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + spawnWait(20_000);
  while (Date.now() < deadline) {
    const m = /SMTP listening on [^\s]+:(\d+)/.exec(out);
    if (m) return { child, port: Number(m[1]), output: () => out };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not start:\n${out}`);
}

async function writeConfig(dir: string): Promise<void> {
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(officeConfig(), null, 2));
}

describe('gatehouse serve (child process)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    await writeConfig(dir);
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps a 250-acknowledged message across kill -9 and quarantines a torn temp file', async () => {
    const s = await serve(dir);
    const c = await SmtpTestClient.connect(s.port, { localAddress: '127.0.0.2' });
    await c.greeting;
    await c.cmd('EHLO mail.test.jp');
    await c.cmd('MAIL FROM:<tanaka@test.jp>');
    expect((await c.cmd('RCPT TO:<boss@test.jp>')).code).toBe(250);
    const body = message('tanaka@test.jp', ['boss@test.jp'], 'survives kill -9');
    const { end } = await c.data(body);
    expect(end.code).toBe(250);
    const id = /queued as (\S+)/.exec(end.text)![1];
    s.child.kill('SIGKILL');
    c.destroy();
    await new Promise((r) => s.child.once('exit', r));

    // A write torn by a crash: a temp file that never made it to queue/.
    await fs.writeFile(path.join(dir, 'spool', 'tmp', 'zzzzzzzz-0000-torn.tmp'), 'GATEHOUSE-SPOOL 1\n{"id":"zzzz');

    const again = await serve(dir);
    try {
      const spool = new Spool(path.join(dir, 'spool'));
      const h = await spool.readHeader(id);
      expect(h.recipients).toEqual(['boss@test.jp']);
      const stored = (await spool.readBody(id)).toString('utf8');
      expect(stored).toContain('Subject: survives kill -9');
      expect(stored).toContain('Received: from mail.test.jp');
      const listed = cli(['queue', 'list', '--data', dir, '--json']);
      expect(listed.code).toBe(0);
      const items = JSON.parse(listed.out) as { id: string }[];
      expect(items.map((i) => i.id)).toContain(id);
      expect(items.map((i) => i.id)).not.toContain('zzzzzzzz-0000-torn');
      const quarantine = await fs.readdir(path.join(dir, 'spool', 'quarantine'));
      expect(quarantine.some((f) => f.startsWith('zzzzzzzz-0000-torn'))).toBe(true);
    } finally {
      again.child.kill('SIGTERM');
      await new Promise((r) => again.child.once('exit', r));
    }
  });

  it('applies a CLI block toggle to the running gateway on the next RCPT', async () => {
    const s = await serve(dir);
    try {
      const c = await SmtpTestClient.connect(s.port, { localAddress: '127.0.0.2' });
      await c.greeting;
      await c.cmd('EHLO mail.test.jp');
      await c.cmd('MAIL FROM:<sato@test.jp>');
      expect((await c.cmd('RCPT TO:<a@example.com>')).code).toBe(250);
      const r = cli(['accounts', 'block', 'sato@test.jp', '--data', dir]);
      expect(r.code).toBe(0);
      let code = 250;
      for (let i = 0; i < 40 && code === 250; i++) {
        await new Promise((res) => setTimeout(res, 100));
        code = (await c.cmd(`RCPT TO:<b${i}@example.com>`)).code;
      }
      expect(code).toBe(550);
      await c.quit();
      const hist = cli(['history', '--data', dir, '--json']);
      const entries = JSON.parse(hist.out) as { via: string; what: string }[];
      expect(entries.some((e) => e.via === 'cli' && e.what.includes('sato@test.jp'))).toBe(true);
    } finally {
      s.child.kill('SIGTERM');
      await new Promise((r) => s.child.once('exit', r));
    }
  });

  it('says on the console when the log folder cannot be written, and keeps accepting mail', async () => {
    const d = await tempDir();
    try {
      await writeConfig(d);
      await fs.writeFile(path.join(d, 'logs'), 'not a folder');
      const s = await serve(d);
      try {
        const c = await SmtpTestClient.connect(s.port, { localAddress: '127.0.0.2' });
        await c.greeting;
        await c.cmd('EHLO mail.test.jp');
        await c.cmd('MAIL FROM:<tanaka@test.jp>');
        await c.cmd('RCPT TO:<boss@test.jp>');
        expect((await c.data(message('tanaka@test.jp', ['boss@test.jp']))).end.code).toBe(250);
        await c.quit();
        for (let i = 0; i < 50 && !/receivelog: .*logs/.test(s.output()); i++) await new Promise((r) => setTimeout(r, 100));
        expect(s.output()).toMatch(/gatehouse: receivelog: .*logs/);
      } finally {
        s.child.kill('SIGTERM');
        await new Promise((r) => s.child.once('exit', r));
      }
    } finally {
      await fs.rm(d, { recursive: true, force: true });
    }
  });

  it('refuses an invalid config file with a clear error and exit code 2', async () => {
    const bad = await tempDir();
    try {
      await fs.writeFile(path.join(bad, 'config.json'), JSON.stringify({ ...officeConfig(), listener: { host: '127.0.0.1', port: 'twenty-five' } }));
      const r = cli(['serve', '--data', bad, '--no-admin']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/listener\.port/);
      const shown = cli(['config', 'show', '--data', bad]);
      expect(shown.code).toBe(2);
    } finally {
      await fs.rm(bad, { recursive: true, force: true });
    }
  });
});

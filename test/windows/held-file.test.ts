/*
 * A spool or log file held the way a virus scanner or the search indexer holds one: a second
 * process (holdfile.exe, test/windows/holdfile.c) opens it with FILE_SHARE_READ only, so
 * rename, unlink and writes of it fail with a sharing violation until it lets go. Node's own
 * fs.open always allows delete sharing, hence the C helper.
 *
 * Runs as win32 only (npm run test:windows: natively, or under Wine, whose wineserver keeps
 * share modes), where GATEHOUSE_HOLDFILE names the built holdfile.exe. The first test proves
 * the hold is real (EBUSY for unlink, rename and append); then the gateway delivers a message
 * whose spool file is held while it is removed (one delivery, the removal retried and
 * logged), a message still held after the retries stays delivered once across a restart,
 * the settings store waits out a held config.json or audit trail (logged; a hold that outlasts
 * the retries refuses the change and leaves nothing half-saved), and the logs keep every line
 * while a day file is held and retry retention later.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../main/core/config/index.js';
import { JsonlLog, localDay } from '../../main/core/log/index.js';
import { Spool } from '../../main/core/spool/index.js';
import { openGateway, sleep, TestSink, waitFor, type TestGateway } from '../hardening/helpers.js';
import { tempDir } from '../helpers/gateway.js';
import { spawnWait } from '../helpers/slow.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import type { GatehouseConfig } from '../../main/shared/types.js';

const HOLDFILE = process.env.GATEHOUSE_HOLDFILE ?? '';
const can = process.platform === 'win32' && HOLDFILE !== '' && existsSync(HOLDFILE);
if (!can) {
  console.log(
    process.platform === 'win32'
      ? 'held-file.test.ts: SKIPPED, no holdfile.exe (npm run test:windows builds it with gcc: choco install mingw)'
      : 'held-file.test.ts: runs as win32 only (npm run test:windows)',
  );
}

interface Hold {
  proc: ChildProcess;
  released: Promise<void>;
}

const holds: Hold[] = [];

/** Hold `file` for `ms` from another process; resolves once the handle is open. */
async function hold(file: string, ms: number): Promise<Hold> {
  const proc = spawn(HOLDFILE, [file, String(ms)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const released = new Promise<void>((r) => proc.once('exit', () => r()));
  const h = { proc, released };
  holds.push(h);
  await waitFor(() => /held/.test(out) || proc.exitCode !== null, spawnWait(15_000), `holdfile to open ${file}`);
  if (!/held/.test(out)) throw new Error(`holdfile could not open ${file}: ${out}`);
  return h;
}

afterEach(async () => {
  for (const h of holds.splice(0)) {
    if (h.proc.exitCode === null) h.proc.kill();
    await h.released;
  }
});

async function sendOne(port: number, mid: string): Promise<number> {
  const c = await SmtpTestClient.connect(port, { localAddress: '127.0.0.2' });
  try {
    await c.greeting;
    await c.cmd('HELO office.test.jp');
    await c.cmd('MAIL FROM:<tanaka@test.jp>');
    await c.cmd('RCPT TO:<boss@test.jp>');
    const { end } = await c.data(`From: tanaka@test.jp\r\nTo: boss@test.jp\r\nSubject: ${mid}\r\nMessage-ID: <${mid}>\r\n\r\nhello\r\n`);
    await c.quit().catch(() => undefined);
    return end.code;
  } finally {
    c.destroy();
  }
}

async function msgFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(path.join(dir, 'spool', 'queue'))).filter((n) => n.endsWith('.msg'));
}

describe.skipIf(!can)('a file held by another process without FILE_SHARE_DELETE (win32)', () => {
  it('really makes unlink, rename, append and replacing it fail until it lets go', async () => {
    const dir = await tempDir('gatehouse-held-');
    try {
      const f = path.join(dir, 'x.msg');
      await fs.writeFile(f, 'x');
      const h = await hold(f, spawnWait(3000));
      await expect(fs.unlink(f)).rejects.toMatchObject({ code: 'EBUSY' });
      await expect(fs.rename(f, `${f}.2`)).rejects.toMatchObject({ code: 'EBUSY' });
      await expect(fs.appendFile(f, 'y')).rejects.toMatchObject({ code: 'EBUSY' });
      // Replacing it (a settings save: temp file renamed over it) is refused as access denied.
      await fs.writeFile(`${f}.new`, 'z');
      await expect(fs.rename(`${f}.new`, f)).rejects.toMatchObject({ code: expect.stringMatching(/^(EPERM|EBUSY)$/) });
      expect(await fs.readFile(f, 'utf8')).toBe('x'); // reading is shared
      await h.released;
      await fs.unlink(f);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('spool: remove() waits out a short hold, removes the file, and says so twice (held, removed)', async () => {
    const dir = await tempDir('gatehouse-held-');
    const notes: string[] = [];
    const spool = new Spool(dir, { onNotice: (t) => notes.push(t) });
    try {
      await spool.open();
      const h = await spool.write({ sender: 'a@test.jp', recipients: ['b@test.jp'], clientIp: '127.0.0.2', session: 's', trusted: true }, Buffer.from('hello\r\n'));
      const file = path.join(dir, 'queue', `${h.id}.msg`);
      await hold(file, 1500);
      const t = Date.now();
      await spool.remove(h.id);
      expect(Date.now() - t).toBeGreaterThanOrEqual(500);
      expect(existsSync(file)).toBe(false);
      expect(notes[0]).toMatch(new RegExp(`removing .*${h.id}\\.msg failed with EBUSY \\(the file is open in another program`));
      expect(notes.at(-1)).toMatch(new RegExp(`removed .*${h.id}\\.msg after \\d+ retries \\(held by another program for \\d+ ms\\)`));
      expect(spool.stats().count).toBe(0);
    } finally {
      await spool.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('gateway: the spool file is held while delivery removes it: delivered once, removal retried and logged, nothing left', async () => {
    const sink = await TestSink.start();
    // The office server takes 1.5 s to answer DATA: time to put the hold on the spool file.
    sink.behaviour.dataDelayMs = 1500;
    let t: TestGateway | null = null;
    try {
      t = await openGateway((c) => {
        c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
      });
      expect(await sendOne(t.port, 'held-1@test.jp')).toBe(250);
      const [name] = await waitFor(() => msgFiles(t!.dir).then((f) => (f.length > 0 ? f : null)), 5000, 'the spool file');
      const h = await hold(path.join(t.dir, 'spool', 'queue', name!), 3000);
      await waitFor(() => sink.messages.length === 1, spawnWait(20_000), 'the delivery');
      await h.released;
      const id = name!.slice(0, -4);
      // The line is logged just after the unlink returns: wait for it, not only for the file.
      const removedLine = (n: string): boolean => /^spool: removed .* after \d+ retr/.test(n);
      await waitFor(async () => (await t!.receive()).some((e) => e.queueId === id && removedLine(e.note ?? '')), 15_000, 'the "removed after retries" line');
      expect(await msgFiles(t.dir)).toEqual([]);
      const log = await t.receive();
      const notes = log.filter((e) => e.queueId === id && e.note).map((e) => e.note!);
      expect(notes.some((n) => /failed with EBUSY \(the file is open in another program/.test(n)), notes.join('\n')).toBe(true);
      expect(notes.some((n) => /^spool: removed .* after \d+ retr/.test(n)), notes.join('\n')).toBe(true);
      await sleep(500);
      expect(sink.counts().get('<held-1@test.jp>')).toBe(1);
      expect((await t.send()).filter((e) => e.queueId === id && e.outcome === 'delivered')).toHaveLength(1);
    } finally {
      await t?.close();
      await sink.down();
    }
  });

  it('gateway: held longer than the retries: marked done, never delivered again (not even after a restart), deleted once free', async () => {
    const sink = await TestSink.start();
    sink.behaviour.dataDelayMs = 1000;
    const dir = await tempDir('gatehouse-held-');
    const patch = (c: GatehouseConfig): void => {
      c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
    };
    // Short retries, so the hold outlasts them.
    const gateway = { spoolHeldRetryDelaysMs: [20, 50] };
    let t: TestGateway | null = null;
    try {
      t = await openGateway(patch, { dir, gateway });
      expect(await sendOne(t.port, 'held-2@test.jp')).toBe(250);
      const [name] = await waitFor(() => msgFiles(dir).then((f) => (f.length > 0 ? f : null)), 5000, 'the spool file');
      const id = name!.slice(0, -4);
      const h = await hold(path.join(dir, 'spool', 'queue', name!), spawnWait(8000));
      await waitFor(() => sink.messages.length === 1, spawnWait(20_000), 'the delivery');
      await waitFor(async () => (await t!.receive()).some((e) => e.queueId === id && /still held by another program/.test(e.note ?? '')), 10_000, 'the "still held" line');
      const state = JSON.parse(await fs.readFile(path.join(dir, 'spool', 'queue', `${id}.state`), 'utf8')) as { pending: string[] };
      expect(state.pending).toEqual([]);
      // Restart while the file is still held: the new gateway must not deliver it again.
      await t.close();
      t = await openGateway(patch, { dir, gateway });
      await sleep(1500);
      expect(sink.counts().get('<held-2@test.jp>')).toBe(1);
      expect(await msgFiles(dir)).toEqual([name]);
      await h.released;
      // Free now: the next start removes it without a delivery.
      await t.close();
      t = await openGateway(patch, { dir });
      await waitFor(async () => (await msgFiles(dir)).length === 0, 10_000, 'the file removed once free');
      await sleep(500);
      expect(sink.counts().get('<held-2@test.jp>')).toBe(1);
    } finally {
      await t?.close();
      await sink.down();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('config store: a save waits out a hold on config.json, saves, and says so twice (held, saved)', async () => {
    const dir = await tempDir('gatehouse-held-');
    const notes: string[] = [];
    const store = await ConfigStore.open(dir, { onNotice: (t) => notes.push(t) });
    try {
      const file = path.join(dir, 'config.json');
      const h = await hold(file, 1500);
      const t = Date.now();
      const saved = await store.update('cli', 'block baito', (c) => void (c.accounts = [{ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: '' }]));
      expect(Date.now() - t).toBeGreaterThanOrEqual(500);
      expect(saved.accounts.map((a) => a.pattern)).toEqual(['baito@test.jp']);
      const onDisk = JSON.parse(await fs.readFile(file, 'utf8')) as GatehouseConfig;
      expect(onDisk.accounts.map((a) => a.pattern)).toEqual(['baito@test.jp']);
      expect((await store.history()).at(-1)).toMatchObject({ via: 'cli', what: 'block baito' });
      // Replacing a held file is refused as access denied (EPERM), not as a sharing violation.
      expect(notes[0]).toMatch(/^config: saving .*config\.json failed with (EPERM|EBUSY) \(the file is open in another program/);
      expect(notes.at(-1)).toMatch(/^config: saved .*config\.json after \d+ retries \(held by another program for \d+ ms\)/);
      await h.released;
    } finally {
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('config store: held longer than the retries, the change is refused with the reason and nothing half-saved', async () => {
    const dir = await tempDir('gatehouse-held-');
    const notes: string[] = [];
    const store = await ConfigStore.open(dir, { onNotice: (t) => notes.push(t), heldRetryDelaysMs: [20, 50] });
    try {
      const file = path.join(dir, 'config.json');
      const before = await fs.readFile(file, 'utf8');
      const trail = (await store.history()).length;
      const h = await hold(file, spawnWait(3000));
      await expect(store.update('cli', 'block baito', (c) => void (c.accounts = [{ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: '' }]))).rejects.toMatchObject({
        code: expect.stringMatching(/^(EPERM|EBUSY)$/),
        message: expect.stringMatching(/config\.json is open in another program \((EPERM|EBUSY).*the change was not saved/),
      });
      expect(store.get().accounts.some((a) => a.pattern === 'baito@test.jp')).toBe(false);
      expect(await fs.readFile(file, 'utf8')).toBe(before);
      expect(await store.history()).toHaveLength(trail);
      expect(notes.at(-1)).toMatch(/still held by another program after 0\.1 s \((EPERM|EBUSY)\); not saved/);
      await h.released;
      // Free again: the same change saves.
      await store.update('cli', 'block baito', (c) => void (c.accounts = [{ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: '' }]));
      expect(JSON.parse(await fs.readFile(file, 'utf8')).accounts).toHaveLength(1);
    } finally {
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('config store: the audit trail held (a scanner after the last append): the next change waits and is audited once', async () => {
    const dir = await tempDir('gatehouse-held-');
    const notes: string[] = [];
    const store = await ConfigStore.open(dir, { onNotice: (t) => notes.push(t) });
    try {
      const h = await hold(path.join(dir, 'audit.jsonl'), 1500);
      await store.update('cli', 'domain', (c) => void c.internalDomains.push('held.test.jp'));
      const trail = await store.history();
      expect(trail.filter((e) => e.what === 'domain')).toHaveLength(1);
      expect(notes[0]).toMatch(/^config: appending to .*audit\.jsonl failed with EBUSY/);
      expect(notes.at(-1)).toMatch(/^config: appended to .*audit\.jsonl after \d+ retr/);
      await h.released;
    } finally {
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('logs: lines appended while the day file is held (Excel) are written once it is free; none lost', async () => {
    const dir = await tempDir('gatehouse-held-');
    const errors: string[] = [];
    const log = new JsonlLog<{ ts: string; n: number }>({ dir, name: 'receivelog', retentionDays: 30, flushIntervalMs: 10, retryDelaysMs: [200], onError: (e) => errors.push(e.message) });
    try {
      await log.open();
      const ts = () => new Date().toISOString();
      log.append({ ts: ts(), n: 0 });
      await log.flush();
      const file = log.fileFor(localDay(new Date()));
      const h = await hold(file, 1500);
      for (let n = 1; n <= 50; n++) log.append({ ts: ts(), n });
      await waitFor(() => errors.length > 0, 5000, 'the write failure');
      expect(errors[0]).toMatch(/cannot write .*receivelog-.*\.jsonl \(EBUSY.*\): the file is open in another program \(Excel\?\), close it; \d+ line\(s\) kept in memory/);
      await h.released;
      await waitFor(() => log.status().ok, 10_000, 'the log writable again');
      const lines = (await fs.readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { n: number }).n);
      expect(lines).toEqual(Array.from({ length: 51 }, (_, i) => i));
    } finally {
      await log.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('logs: retention cannot delete an old day file while it is held; it tries again at the next check', async () => {
    const dir = await tempDir('gatehouse-held-');
    const errors: string[] = [];
    const log = new JsonlLog<{ ts: string }>({ dir, name: 'senderlog', retentionDays: 3, onError: (e) => errors.push(e.message) });
    try {
      await fs.mkdir(dir, { recursive: true });
      const old = path.join(dir, 'senderlog-2020-01-01.jsonl');
      const older = path.join(dir, 'senderlog-2019-12-31.jsonl');
      await fs.writeFile(old, '{"ts":"2020-01-01T00:00:00Z"}\n');
      await fs.writeFile(older, '{"ts":"2019-12-31T00:00:00Z"}\n');
      const h = await hold(old, 4000);
      const removed = await log.prune();
      expect(removed).toEqual([older]); // the held one does not stop the rest
      expect(existsSync(old)).toBe(true);
      expect(errors.some((m) => m.includes(old) && /EBUSY.*open in another program \(Excel\?\); trying again at the next hourly check/.test(m))).toBe(true);
      await h.released;
      expect(await log.prune()).toEqual([old]);
    } finally {
      await log.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

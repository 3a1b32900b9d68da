/*
 * One writer: with `gatehouse serve` running on a data folder (a real child process), the
 * CLI's `gatehouse accounts block x@test.jp` is carried out by the gateway, not by a second
 * store in the CLI: exactly one audit entry, via 'cli', and none via 'file' (which is what
 * the gateway's watcher records when anything else writes config.json). A window listening
 * on the event stream receives the new accounts list and config in the events themselves.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AccountView } from '../../main/shared/types.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'gatehouse.js');

let dir = '';
let child: ChildProcess | null = null;
let adminUrl = '';

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data', dir], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

async function audit(): Promise<{ n: number; via: string; what: string }[]> {
  return (await fs.readFile(path.join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { n: number; via: string; what: string });
}

/** Reads server-sent events until `want` accepts one, or fails after `ms`. */
async function nextEvent<T>(body: ReadableStreamDefaultReader<Uint8Array>, want: (name: string, data: unknown) => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  const decoder = new TextDecoder();
  let buf = '';
  while (Date.now() < deadline) {
    const chunk = await Promise.race([body.read(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
    if (!chunk || chunk.done) break;
    buf += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const name = /^event: (.+)$/m.exec(block)?.[1];
      const data = /^data: (.+)$/m.exec(block)?.[1];
      if (!name || data === undefined) continue;
      const got = want(name, JSON.parse(data));
      if (got !== undefined) return got;
    }
  }
  throw new Error('the event did not come');
}

beforeAll(async () => {
  dir = await tempDir('gatehouse-one-writer-');
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(officeConfig(), null, 2));
  child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !adminUrl) {
    adminUrl = /Admin UI: (\S+)/.exec(out)?.[1] ?? '';
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!adminUrl) throw new Error(`serve did not start:\n${out}`);
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  await fs.rm(dir, { recursive: true, force: true });
});

describe('gatehouse serve is the one writer', () => {
  it('a CLI block: one audit entry via cli, none via file, and the window gets the new list in the event', async () => {
    const url = new URL(adminUrl);
    const token = new URLSearchParams(url.hash.slice(1)).get('token')!;
    const events = await fetch(`${url.origin}/api/events?token=${encodeURIComponent(token)}`);
    expect(events.status).toBe(200);
    const reader = events.body!.getReader();
    const before = await audit();

    const r = cli('accounts', 'block', 'x@test.jp');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('x@test.jp: external sending BLOCKED');

    // The event carries the data: no need to ask for the list again.
    const list = await nextEvent(reader, (name, data) => (name === 'accounts' ? (data as AccountView[]) : undefined));
    expect(list.find((a) => a.pattern === 'x@test.jp')).toMatchObject({ blockExternal: true, configured: true });
    expect(list.find((a) => a.pattern === 'baito@test.jp')).toMatchObject({ blockExternal: true });

    // Give a watcher every chance to record a second write.
    await new Promise((res) => setTimeout(res, 800));
    const added = (await audit()).slice(before.length);
    expect(added.map((e) => [e.via, e.what])).toEqual([['cli', 'block x@test.jp']]);
    await reader.cancel();

    // The CLI's reads go to the same gateway, and its refusals come back as the CLI's exit 2.
    expect(JSON.parse(cli('accounts', 'list', '--json', '--search', 'x@test').out)).toMatchObject([{ pattern: 'x@test.jp', blockExternal: true }]);
    const bad = cli('accounts', 'block', 'a%b@test.jp');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/pattern: not a valid address: percent hack/);
    // Queue actions need the gateway, and reach it.
    expect(cli('queue', 'retry').code).toBe(0);
    expect((await audit()).length).toBe(before.length + 1);
  });

  it('with the gateway gone (admin.json left by a killed process), the CLI writes itself', async () => {
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    // A killed gateway leaves admin.json behind: its pid is dead, so the CLI is the writer now.
    await fs.access(path.join(dir, 'admin.json'));
    const r = cli('accounts', 'unblock', 'x@test.jp');
    expect(r.code, r.err).toBe(0);
    expect((await audit()).at(-1)).toMatchObject({ via: 'cli', what: 'unblock x@test.jp' });
    const q = cli('queue', 'hold', 'nope');
    expect(q.code).toBe(2);
    expect(q.err).toMatch(/'gatehouse serve' is not running/);
  });
});

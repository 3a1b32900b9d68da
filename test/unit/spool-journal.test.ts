/*
 * The spool's write-ahead journal (main/core/spool/journal.ts) against real files in a temp
 * dir: every acknowledged message has its bytes in a segment; what a crash takes from a file
 * that had no sync of its own (the file gone, emptied, cut) is written back from the journal
 * at the next open; a removed message never comes back; full segments are checkpointed and
 * deleted while the messages still queued keep their files; big messages keep their own sync;
 * reading stops at a torn record. The order of the syncs before the 250 is checked from the
 * syscalls in test/durability/fsync-order.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JOURNAL_MAX_RECORD, parseSegment, type JournalContents } from '../../main/core/spool/journal.js';
import { Spool, type SpoolEnvelope } from '../../main/core/spool/index.js';

// Every file the code under test fdatasync'd (through node:fs/promises handles), by path.
const synced = vi.hoisted(() => new Set<string>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = async (...args: Parameters<typeof real.open>) => {
    const fh = await real.open(...args);
    const path = String(args[0]);
    return new Proxy(fh, {
      get(target, prop) {
        if (prop === 'datasync') return async () => {
          await target.datasync();
          synced.add(path);
        };
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  return { ...real, open, default: { ...real, open } };
});

const env: SpoolEnvelope = { sender: 'alice@test.jp', recipients: ['bob@example.com'], clientIp: '127.0.0.2', session: 's1', trusted: true };

let dir: string;
const opened: Spool[] = [];

beforeEach(async () => {
  synced.clear();
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-journal-'));
});

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function openSpool(opts: ConstructorParameters<typeof Spool>[1] = {}): Promise<{ spool: Spool; res: Awaited<ReturnType<Spool['open']>> }> {
  const spool = new Spool(dir, opts);
  const res = await spool.open();
  opened.push(spool);
  return { spool, res };
}

/** Everything the journal folder holds now, read as the next open would. */
async function journal(): Promise<JournalContents> {
  const out: JournalContents = { messages: new Map(), removed: new Set(), segments: [] };
  for (const name of (await readdir(join(dir, 'journal'))).sort()) parseSegment(await readFile(join(dir, 'journal', name)), out);
  return out;
}

const msgFile = (id: string): string => join(dir, 'queue', `${id}.msg`);
const body = (n: number): Buffer => Buffer.from(`Subject: ${n}\r\n\r\n${'x'.repeat(70)}\r\n`.repeat(8));

describe('the spool journal', () => {
  it('holds the exact bytes of every acknowledged message, the file besides', async () => {
    const { spool } = await openSpool();
    const hs = await Promise.all([1, 2, 3, 4, 5].map((n) => spool.write(env, body(n))));
    const j = await journal();
    for (const h of hs) expect(j.messages.get(h.id)?.equals(await readFile(msgFile(h.id)))).toBe(true);
    expect(j.removed.size).toBe(0);
  });

  it('writes back a file that a crash took (gone, emptied, cut) at the next open, and nothing is quarantined', async () => {
    const first = new Spool(dir);
    await first.open();
    const [gone, emptied, cut, intact] = await Promise.all([1, 2, 3, 4].map((n) => first.write(env, body(n))));
    await first.close();
    const cutBytes = await readFile(msgFile(cut!.id));
    await unlink(msgFile(gone!.id));
    await truncate(msgFile(emptied!.id), 0);
    await truncate(msgFile(cut!.id), cutBytes.length - 40);

    const { spool, res } = await openSpool();
    expect(res.recovered.map((h) => h.id)).toEqual([gone!.id, emptied!.id, cut!.id, intact!.id]);
    expect(res.quarantined).toEqual([]);
    expect(res.notes.filter((n) => n.action === 'restored').map((n) => n.file).sort()).toEqual([gone, emptied, cut].map((h) => `queue/${h!.id}.msg`).sort());
    for (const [h, n] of [[gone, 1], [emptied, 2], [cut, 3], [intact, 4]] as const) expect((await spool.readBody(h!.id)).equals(body(n))).toBe(true);
  });

  it('does not bring back a removed message whose deletion a crash undid', async () => {
    const first = new Spool(dir);
    await first.open();
    const kept = await first.write(env, body(1));
    const removed = await first.write(env, body(2));
    const bytes = await readFile(msgFile(removed.id));
    await first.setState(removed.id, { pending: [], done: ['bob@example.com'], failed: [], attempts: 1 });
    await first.remove(removed.id);
    expect((await journal()).removed.has(removed.id)).toBe(true);
    await first.close();
    // The crash kept the journal's removal record but not the deletions.
    await writeFile(msgFile(removed.id), bytes);
    await writeFile(join(dir, 'queue', `${removed.id}.state`), '{}');

    const { res } = await openSpool();
    expect(res.recovered.map((h) => h.id)).toEqual([kept.id]);
    expect(existsSync(msgFile(removed.id))).toBe(false);
    expect(existsSync(join(dir, 'queue', `${removed.id}.state`))).toBe(false);
    expect(res.notes.filter((n) => n.action === 'deleted').map((n) => n.file).sort()).toEqual([`queue/${removed.id}.msg`, `queue/${removed.id}.state`]);
  });

  it('a quarantined message is not restored either', async () => {
    const first = new Spool(dir);
    await first.open();
    const h = await first.write(env, body(1));
    await first.quarantine(h.id, 'the admin said so');
    await first.close();
    const { res } = await openSpool();
    expect(res.recovered).toEqual([]);
    expect(existsSync(msgFile(h.id))).toBe(false);
    expect(await readdir(join(dir, 'quarantine'))).toContain(`${h.id}.msg`);
  });

  it('checkpoints and deletes full segments; messages still queued keep their files and survive the next open', async () => {
    const { spool } = await openSpool({ journalSegmentBytes: 4096 });
    const hs = [];
    // Delivered at once but every fourth: those wait (deferred, held).
    for (let n = 0; n < 20; n++) {
      const h = await spool.write(env, body(n));
      hs.push(h);
      if (n % 4 !== 0) await spool.remove(h.id);
    }
    const stay = hs.filter((_, i) => i % 4 === 0);
    // ~700 bytes a record: 20 of them and the removals filled several segments; at most the
    // current one and the spare made ahead stay.
    await expect.poll(async () => (await readdir(join(dir, 'journal'))).length, { timeout: 5000 }).toBeLessThanOrEqual(2);
    const left = await journal();
    // Checkpointed: their records are gone with their segments, because their files were
    // fdatasync'd on their own first. Of the removed ones only those whose segment filled
    // just before their removal were (the checkpoint saw them still queued).
    for (const h of stay) expect(left.messages.has(h.id)).toBe(false);
    for (const h of stay) expect(synced.has(msgFile(h.id))).toBe(true);
    const removed = hs.filter((h) => !stay.includes(h));
    expect(removed.filter((h) => synced.has(msgFile(h.id))).length).toBeLessThan(removed.length / 2);
    await spool.close();

    const { spool: again, res } = await openSpool({ journalSegmentBytes: 4096 });
    expect(res.recovered.map((h) => h.id)).toEqual(stay.map((h) => h.id));
    for (const h of stay) expect((await again.readBody(h.id)).equals(body(hs.indexOf(h)))).toBe(true);
  });

  it("the previous run's segments are checkpointed and deleted after the open", async () => {
    const first = new Spool(dir);
    await first.open();
    await first.write(env, body(1));
    await first.close();
    expect((await readdir(join(dir, 'journal'))).length).toBeGreaterThan(0); // the segment and its spare
    await openSpool();
    await expect.poll(async () => (await readdir(join(dir, 'journal'))).length, { timeout: 5000 }).toBe(0);
  });

  it(`a message bigger than ${JOURNAL_MAX_RECORD / 1024} KB keeps its own file sync and no record`, async () => {
    const { spool } = await openSpool();
    const big = await spool.write(env, Buffer.alloc(JOURNAL_MAX_RECORD + 1, 0x61));
    const small = await spool.write(env, body(1));
    const j = await journal();
    expect(j.messages.has(big.id)).toBe(false);
    expect(j.messages.has(small.id)).toBe(true);
  });

  it('reading stops at the first torn record: nothing behind it is trusted', async () => {
    const { spool } = await openSpool();
    const a = await spool.write(env, body(1));
    const b = await spool.write(env, body(2));
    const [name] = (await readdir(join(dir, 'journal'))).sort();
    const raw = await readFile(join(dir, 'journal', name!));
    const whole: JournalContents = { messages: new Map(), removed: new Set(), segments: [] };
    parseSegment(raw, whole);
    expect([...whole.messages.keys()]).toEqual([a.id, b.id]);
    // The second record cut inside its end mark (the rest of the segment is zeros).
    const second = whole.messages.get(b.id)!;
    const cutAt = second.byteOffset - raw.byteOffset + second.length + 2;
    const torn = Buffer.concat([raw.subarray(0, cutAt), Buffer.alloc(raw.length - cutAt)]);
    const cut: JournalContents = { messages: new Map(), removed: new Set(), segments: [] };
    parseSegment(torn, cut);
    expect([...cut.messages.keys()]).toEqual([a.id]);
    const broken = Buffer.from(raw);
    broken[10]! ^= 0xff; // the first record's length
    const none: JournalContents = { messages: new Map(), removed: new Set(), segments: [] };
    parseSegment(broken, none);
    expect(none.messages.size).toBe(0);
  });

  it('when no segment can be made, a message is synced on its own and still accepted; the admin is told', async () => {
    const notices: string[] = [];
    const { spool } = await openSpool({ onNotice: (t) => notices.push(t) });
    // The journal folder replaced by a file: no segment can be made (as on a disk too full).
    await rm(join(dir, 'journal'), { recursive: true });
    await writeFile(join(dir, 'journal'), 'not a folder');
    const h = await spool.write(env, body(1));
    expect(synced.has(msgFile(h.id))).toBe(true);
    expect((await spool.readBody(h.id)).equals(body(1))).toBe(true);
    expect(notices.some((t) => /^spool: journal: no new segment .*synced on their own/.test(t))).toBe(true);
    // The next one does not try again at once.
    const h2 = await spool.write(env, body(2));
    expect(synced.has(msgFile(h2.id))).toBe(true);
    expect(notices.filter((t) => t.startsWith('spool: journal: no new segment'))).toHaveLength(1);
  });

  it('without fsync (benchmarks only) there is no journal', async () => {
    const { spool } = await openSpool({ fsync: false });
    await spool.write(env, body(1));
    expect(existsSync(join(dir, 'journal'))).toBe(true);
    expect(await readdir(join(dir, 'journal'))).toEqual([]);
  });
});

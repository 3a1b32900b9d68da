/*
 * The spool against real files in a temp dir: roundtrips, ids, group commit, state, removal,
 * recovery of torn and corrupt files, and failed writes (ENOSPC / EIO injected by wrapping
 * node:fs/promises `open` for files being written only). No timing assertions anywhere.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { EOL, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GroupSync } from '../../main/core/spool/fsync.js';
import { newId } from '../../main/core/spool/ids.js';
import { isValidId, MAGIC, Spool, SpoolCorruptError, SpoolError, type SpoolEnvelope } from '../../main/core/spool/index.js';

// Fault injection: when set, handles of files being written (queue/*.msg, tmp/*.tmp, the journal's journal/*.jnl) fail writev (after writing half of
// the first buffer, i.e. a torn write) or datasync with the given errno code.
// closeGate, when set, holds close() of those handles until it resolves.
const faults = vi.hoisted(() => ({ writev: null as string | null, datasync: null as string | null, closeGate: null as Promise<void> | null }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const errno = (code: string): Error => Object.assign(new Error(`${code}: injected fault`), { code, errno: -5 });
  const open = async (...args: Parameters<typeof real.open>) => {
    const fh = await real.open(...args);
    if (!/\.(tmp|msg|jnl)$/.test(String(args[0]))) return fh;
    return new Proxy(fh, {
      get(target, prop) {
        if (prop === 'writev' && faults.writev) {
          const code = faults.writev;
          return async (bufs: Buffer[], pos: number) => {
            const first = bufs[0]!;
            await target.write(first, 0, Math.ceil(first.length / 2), pos);
            throw errno(code);
          };
        }
        if (prop === 'datasync' && faults.datasync) {
          const code = faults.datasync;
          return async () => {
            throw errno(code);
          };
        }
        if (prop === 'close' && faults.closeGate) {
          const gate = faults.closeGate;
          return async () => {
            await gate;
            return target.close();
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  return { ...real, open, default: { ...real, open } };
});

const env: SpoolEnvelope = {
  sender: 'alice@test.jp',
  recipients: ['bob@example.com', 'carol@test.jp'],
  clientIp: '192.168.0.102',
  session: 'sess-1',
  helo: 'mail.test.jp',
  trusted: true,
};

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let dir: string;
const opened: Spool[] = [];

async function newSpool(opts?: { fsync?: boolean }): Promise<Spool> {
  const s = new Spool(dir, opts);
  await s.open();
  opened.push(s);
  return s;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-spool-'));
  faults.writev = null;
  faults.datasync = null;
  faults.closeGate = null;
});

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

/** Offset of the first body byte in a .msg file (after magic and header lines). */
function bodyStart(file: Buffer): number {
  return file.indexOf(0x0a, file.indexOf(0x0a) + 1) + 1;
}

describe('ids', () => {
  it('are short, filename-safe and sort in creation order', () => {
    const ids = Array.from({ length: 1000 }, () => newId());
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}$/);
      expect(isValidId(id)).toBe(true);
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keep increasing when the clock steps back', () => {
    const a = newId(Date.now() + 10_000);
    const b = newId(Date.now() - 10_000);
    expect(b > a).toBe(true);
  });

  it('isValidId refuses anything that could escape the spool', () => {
    for (const bad of ['', '../etc/passwd', 'a/b', 'M3KX9Z3A-0004-7F3K', 'm3kx9z3a-0004-7f3k.msg', 'm3kx9z3a-0004-7f3k/..']) {
      expect(isValidId(bad)).toBe(false);
    }
  });
});

describe('write / read', () => {
  it('roundtrips a binary body byte for byte and writes the self-checking format', async () => {
    const spool = await newSpool();
    const body = Buffer.concat([Buffer.from('Subject: hi\r\n\r\n'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\r\nEND x\n')]);
    const h = await spool.write(env, body);

    expect(isValidId(h.id)).toBe(true);
    expect(h).toMatchObject({ sender: env.sender, recipients: env.recipients, size: body.length, sha256: sha(body), clientIp: env.clientIp, session: 'sess-1', helo: 'mail.test.jp', trusted: true });
    expect(h.authUser).toBeUndefined();
    expect(Number.isNaN(Date.parse(h.receivedAt))).toBe(false);

    expect(await spool.readHeader(h.id)).toEqual(h);
    const back = await spool.readBody(h.id);
    expect(back.equals(body)).toBe(true);
    expect(await spool.verify(h.id)).toEqual(h);

    const file = await readFile(join(dir, 'queue', `${h.id}.msg`));
    expect(file.subarray(0, MAGIC.length + 1).toString()).toBe(`${MAGIC}\n`);
    expect(file.subarray(bodyStart(file), bodyStart(file) + body.length).equals(body)).toBe(true);
    expect(file.subarray(file.length - 135).toString('latin1')).toMatch(new RegExp(`^\\nEND ${sha(body)} [0-9a-f]{64}\\n$`));

    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(spool.stats()).toEqual({ count: 1, bytes: body.length });
  });

  it('handles an empty body and keeps authUser', async () => {
    const spool = await newSpool();
    const h = await spool.write({ ...env, helo: undefined, authUser: 'baito' }, Buffer.alloc(0));
    expect(h.size).toBe(0);
    expect(h.authUser).toBe('baito');
    expect('helo' in h).toBe(false);
    expect((await spool.readBody(h.id)).length).toBe(0);
    expect(await spool.readHeader(h.id)).toEqual(h);
  });

  it('reads a body of several MB back whole, from the file (another process wrote it)', async () => {
    const spool = await newSpool();
    const body = Buffer.alloc(3 * 1024 * 1024 + 17, 'abc\r\n');
    const h = await spool.write(env, body);
    expect((await new Spool(dir).readBody(h.id)).equals(body)).toBe(true);
    expect(await new Spool(dir).verify(h.id)).toEqual(h);
  });

  it('refuses bad input with clear errors', async () => {
    const notOpen = new Spool(dir);
    await expect(notOpen.write(env, Buffer.from('x'))).rejects.toMatchObject({ code: 'ENOTOPEN' });
    const spool = await newSpool();
    await expect(spool.write({ ...env, recipients: [] }, Buffer.from('x'))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(spool.readHeader('../../etc/passwd')).rejects.toMatchObject({ code: 'EINVALIDID' });
    await expect(spool.readBody('m3kx9z3a-0004-7f3k')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(spool.open()).rejects.toMatchObject({ code: 'EALREADYOPEN' });
  });

  it('readers work without open(); list() of a spool never created is empty', async () => {
    expect(await new Spool(join(dir, 'nope')).list()).toEqual([]);
    const spool = await newSpool();
    const h = await spool.write(env, Buffer.from('x\r\n'));
    const reader = new Spool(dir); // e.g. the CLI next to a running gateway
    expect((await reader.list()).map((x) => x.id)).toEqual([h.id]);
    expect(await reader.readHeader(h.id)).toEqual(h);
    expect((await reader.getState(h.id)).pending).toEqual(env.recipients);
    expect((await reader.readBody(h.id)).toString()).toBe('x\r\n');
  });

  it('works with fsync disabled (benchmarks)', async () => {
    const spool = await newSpool({ fsync: false });
    const h = await spool.write(env, Buffer.from('hello\r\n'));
    expect((await spool.readBody(h.id)).toString()).toBe('hello\r\n');
  });
});

describe('concurrency and group commit', () => {
  it('200 concurrent writes: unique sortable ids, all durable and readable', async () => {
    const spool = await newSpool();
    const bodies = Array.from({ length: 200 }, (_, i) => Buffer.from(`Subject: ${i}\r\n\r\n${'x'.repeat(i * 37)}\r\n`));
    const headers = await Promise.all(bodies.map((b, i) => spool.write({ ...env, session: `s${i}` }, b)));

    const ids = headers.map((h) => h.id);
    expect(new Set(ids).size).toBe(200);
    expect([...ids].sort()).toEqual(ids); // ids are issued in call order

    for (const [i, h] of headers.entries()) {
      expect((await spool.readBody(h.id)).equals(bodies[i]!)).toBe(true);
    }
    const listed = await spool.list();
    expect(listed.map((h) => h.id).sort()).toEqual([...ids].sort());
    expect((await readdir(join(dir, 'queue'))).filter((n) => n.endsWith('.msg'))).toHaveLength(200);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(spool.stats()).toEqual({ count: 200, bytes: bodies.reduce((a, b) => a + b.length, 0) });

    // A fresh process sees the same 200.
    const again = new Spool(dir);
    const { recovered, quarantined } = await again.open();
    opened.push(again);
    expect(quarantined).toEqual([]);
    expect(recovered.map((h) => h.id).sort()).toEqual([...ids].sort());
  });

  describe('GroupSync', () => {
    /** A fake fsync that completes only when the test says so. */
    function gate() {
      const calls: { resolve: () => void; reject: (e: unknown) => void }[] = [];
      const fn = (): Promise<void> => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
      return { calls, fn };
    }
    const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

    it('callers in the same tick share one sync', async () => {
      const g = gate();
      const gs = new GroupSync(g.fn);
      const ps = [gs.sync(), gs.sync(), gs.sync()];
      await tick();
      expect(g.calls).toHaveLength(1);
      g.calls[0]!.resolve();
      await Promise.all(ps);
      expect(gs.syncs).toBe(1);
    });

    it('a caller arriving during an in-flight sync waits for the next one', async () => {
      const g = gate();
      const gs = new GroupSync(g.fn);
      const order: string[] = [];
      const a = gs.sync().then(() => order.push('a'));
      await tick();
      expect(g.calls).toHaveLength(1);
      const b = gs.sync().then(() => order.push('b'));
      const c = gs.sync().then(() => order.push('c'));
      g.calls[0]!.resolve();
      await a;
      await tick();
      expect(order).toEqual(['a']); // b and c not released by a sync that began before them
      expect(g.calls).toHaveLength(2); // one sync for both of them, started after the first ended
      g.calls[1]!.resolve();
      await Promise.all([b, c]);
      expect(order).toEqual(['a', 'b', 'c']);
      expect(gs.syncs).toBe(2);
    });

    it('a failed sync rejects its whole batch with the errno code, the next batch is fresh', async () => {
      const g = gate();
      const gs = new GroupSync(g.fn);
      const p1 = gs.sync();
      const p2 = gs.sync();
      await tick();
      g.calls[0]!.reject(Object.assign(new Error('EIO: boom'), { code: 'EIO' }));
      await expect(p1).rejects.toMatchObject({ code: 'EIO' });
      await expect(p2).rejects.toMatchObject({ code: 'EIO' });
      const p3 = gs.sync();
      await tick();
      g.calls[1]!.resolve();
      await expect(p3).resolves.toBeUndefined();
    });
  });
});

describe('state', () => {
  it('is fresh when absent, roundtrips, and the last setState wins', async () => {
    const spool = await newSpool();
    const h = await spool.write(env, Buffer.from('x\r\n'));
    expect(await spool.getState(h.id)).toEqual({ pending: env.recipients, done: [], failed: [], attempts: 0 });

    const s1 = { pending: ['carol@test.jp'], done: ['bob@example.com'], failed: [], attempts: 1, nextAttemptAt: '2030-01-01T00:00:00.000Z', lastError: '451 try later' };
    await spool.setState(h.id, s1);
    expect(await spool.getState(h.id)).toEqual(s1);

    const many = Array.from({ length: 20 }, (_, i) => ({ ...s1, attempts: i + 2 }));
    await Promise.all(many.map((s) => spool.setState(h.id, s)));
    expect((await spool.getState(h.id)).attempts).toBe(21);

    const s2 = { pending: [], done: ['bob@example.com'], failed: [{ rcpt: 'carol@test.jp', code: 550, reply: '550 5.1.1 no such user' }], attempts: 3, held: true, warnedAt: '2030-01-01T00:00:00.000Z' };
    await spool.setState(h.id, s2);
    expect(await spool.getState(h.id)).toEqual(s2);

    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect((await spool.list()).map((x) => x.id)).toEqual([h.id]);
  });

  it('rejects invalid states and states for unknown messages', async () => {
    const spool = await newSpool();
    const h = await spool.write(env, Buffer.from('x'));
    await expect(spool.setState(h.id, { pending: 'x' } as never)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(spool.setState(newId(), { pending: [], done: [], failed: [], attempts: 0 })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(dir, 'queue'))).toEqual([`${h.id}.msg`]);
  });

  it('a corrupt state file is quarantined and the message starts fresh, not lost', async () => {
    const spool = await newSpool();
    const h = await spool.write(env, Buffer.from('x'));
    await writeFile(join(dir, 'queue', `${h.id}.state`), '{"pending": [tr');
    const s = await spool.getState(h.id);
    expect(s).toMatchObject({ pending: env.recipients, done: [], attempts: 0 });
    expect(s.lastError).toMatch(/state file unreadable/);
    expect(await readdir(join(dir, 'quarantine'))).toEqual([`${h.id}.state`, `${h.id}.state.why.json`]);
  });
});

describe('closing the message file', () => {
  it('does not hold the 250: write resolves before close(); remove() and the spool close() wait for it', async () => {
    const spool = new Spool(dir);
    await spool.open();
    let openGate!: () => void;
    faults.closeGate = new Promise<void>((resolve) => (openGate = resolve));
    const h = await spool.write(env, Buffer.from('durable before the close'));
    // Resolved although the file's close() is still held: the data and the entry are fsync'd.
    let removed = false;
    const removing = spool.remove(h.id).then(() => (removed = true));
    let closed = false;
    const closing = spool.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(removed).toBe(false);
    expect(closed).toBe(false);
    expect(await readdir(join(dir, 'queue'))).toEqual([`${h.id}.msg`]);
    openGate();
    await removing;
    await closing;
    expect(removed && closed).toBe(true);
    expect(await readdir(join(dir, 'queue'))).toEqual([]);
  });
});

describe('remove and quarantine', () => {
  it('remove deletes .msg and .state and is idempotent', async () => {
    const spool = await newSpool();
    const h = await spool.write(env, Buffer.from('x'));
    const keep = await spool.write(env, Buffer.from('y'));
    await spool.setState(h.id, { pending: [], done: env.recipients, failed: [], attempts: 1 });
    await spool.remove(h.id);
    expect(await readdir(join(dir, 'queue'))).toEqual([`${keep.id}.msg`]);
    await expect(spool.readHeader(h.id)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(spool.remove(h.id)).resolves.toBeUndefined();
    expect(spool.stats()).toEqual({ count: 1, bytes: 1 });
  });

  it('quarantine moves the message and its state aside with the reason', async () => {
    const spool = await newSpool();
    const h = await spool.write(env, Buffer.from('x'));
    await spool.setState(h.id, { pending: env.recipients, done: [], failed: [], attempts: 2 });
    await spool.quarantine(h.id, 'admin: suspicious');
    expect(await spool.list()).toEqual([]);
    expect(spool.stats().count).toBe(0);
    const q = (await readdir(join(dir, 'quarantine'))).sort();
    expect(q).toEqual([`${h.id}.msg`, `${h.id}.msg.why.json`, `${h.id}.state`, `${h.id}.state.why.json`].sort());
    const text = await readFile(join(dir, 'quarantine', `${h.id}.msg.why.json`), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ file: `queue/${h.id}.msg`, reason: 'admin: suspicious' });
    // For the admin: CRLF on Windows (Notepad), LF elsewhere; no line of the other kind.
    const lines = text.split(EOL);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.every((l) => !l.includes('\n') && !l.includes('\r'))).toBe(true);
    await expect(spool.quarantine(h.id, 'again')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('corruption and recovery', () => {
  it('open() recovers good messages and quarantines torn, truncated and flipped ones', async () => {
    const first = new Spool(dir);
    await first.open();
    const good1 = await first.write(env, Buffer.from('good one\r\n'));
    const good2 = await first.write({ ...env, sender: '' }, Buffer.from('good two\r\n'));
    const truncated = await first.write(env, Buffer.from('will be cut short\r\n'.repeat(50)));
    const flipped = await first.write(env, Buffer.from('one byte will flip\r\n'));
    const headerFlip = await first.write(env, Buffer.from('header will change\r\n'));
    const state = { pending: ['carol@test.jp'], done: ['bob@example.com'], failed: [], attempts: 1 };
    await first.setState(good1.id, state);
    await first.setState(truncated.id, state);
    await first.close();

    const q = (id: string): string => join(dir, 'queue', `${id}.msg`);
    const torn = `${newId()}.tmp`;
    await writeFile(join(dir, 'tmp', torn), `${MAGIC}\n{"id":"half`);
    await writeFile(join(dir, 'tmp', `${good2.id}.7.state.tmp`), '{"pend');
    await writeFile(join(dir, 'queue', `${newId()}.state`), '{}'); // orphan: message already removed
    await truncate(q(truncated.id), (await stat(q(truncated.id))).size - 300); // cut mid-body
    const f = await readFile(q(flipped.id));
    f[bodyStart(f) + 3]! ^= 0x01;
    await writeFile(q(flipped.id), f);
    const g = await readFile(q(headerFlip.id));
    await writeFile(q(headerFlip.id), Buffer.from(g.toString('latin1').replace('alice@test.jp', 'alicf@test.jp'), 'latin1'));

    // Their journal records would restore them (spool-journal.test.ts): gone here, as after
    // the journal's checkpoint, so what is left to find them is the files' own checks.
    await rm(join(dir, 'journal'), { recursive: true });

    // Before recovery, readers refuse the bad files with clear errors.
    const reader = new Spool(dir);
    await expect(reader.readBody(flipped.id)).rejects.toThrow(/body checksum mismatch/);
    await expect(reader.readBody(flipped.id)).rejects.toBeInstanceOf(SpoolCorruptError);
    await expect(reader.readHeader(truncated.id)).rejects.toThrow(/truncated/);
    await expect(reader.readHeader(headerFlip.id)).rejects.toThrow(/header checksum mismatch/);
    await expect(reader.verify(flipped.id)).rejects.toThrow(/body checksum mismatch/);

    const spool = new Spool(dir);
    opened.push(spool);
    const res = await spool.open();

    expect(res.recovered.map((h) => h.id)).toEqual([good1.id, good2.id]);
    expect(res.recovered[1]!.sender).toBe('');
    expect(res.quarantined.sort()).toEqual([`tmp/${torn}`, `queue/${truncated.id}.msg`, `queue/${flipped.id}.msg`, `queue/${headerFlip.id}.msg`].sort());
    expect(res.notes.filter((n) => n.action === 'deleted')).toHaveLength(2);
    for (const n of res.notes) expect(n.reason.length).toBeGreaterThan(5);

    expect((await readdir(join(dir, 'queue'))).sort()).toEqual([`${good1.id}.msg`, `${good1.id}.state`, `${good2.id}.msg`].sort());
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    const quarantine = await readdir(join(dir, 'quarantine'));
    for (const name of [torn, `${truncated.id}.msg`, `${truncated.id}.state`, `${flipped.id}.msg`, `${headerFlip.id}.msg`]) {
      expect(quarantine).toContain(name);
      expect(quarantine).toContain(`${name}.why.json`);
    }
    expect(await spool.getState(good1.id)).toEqual(state);
    expect(spool.stats()).toEqual({ count: 2, bytes: good1.size + good2.size });
    expect((await spool.list()).map((h) => h.id)).toEqual([good1.id, good2.id]);
  });

  it('a tmp file that is a second name of a queued message is deleted, not quarantined', async () => {
    const first = new Spool(dir);
    await first.open();
    const h = await first.write(env, Buffer.from('x'));
    await first.close();
    await writeFile(join(dir, 'tmp', `${h.id}.tmp`), await readFile(join(dir, 'queue', `${h.id}.msg`)));
    const spool = new Spool(dir);
    opened.push(spool);
    const res = await spool.open();
    expect(res.recovered.map((x) => x.id)).toEqual([h.id]);
    expect(res.quarantined).toEqual([]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });
});

describe('failed writes', () => {
  for (const [where, code] of [
    ['writev', 'ENOSPC'],
    ['writev', 'EIO'],
    ['datasync', 'EIO'],
  ] as const) {
    it(`${code} during ${where}: rejects with the code, leaves nothing behind`, async () => {
      const spool = await newSpool();
      const ok = await spool.write(env, Buffer.from('before\r\n'));
      faults[where] = code;
      const err = await spool.write(env, Buffer.from('doomed\r\n'.repeat(1000))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SpoolError);
      expect(err).toMatchObject({ code });
      expect((err as Error).message).toMatch(new RegExp(`spool write failed for .*${code}`));
      expect(await readdir(join(dir, 'tmp'))).toEqual([]);
      expect(await readdir(join(dir, 'queue'))).toEqual([`${ok.id}.msg`]);
      expect(spool.stats().count).toBe(1);

      faults[where] = null;
      const after = await spool.write(env, Buffer.from('after\r\n'));
      expect((await spool.readBody(after.id)).toString()).toBe('after\r\n');
    });
  }
});

describe('a second writer (listener process)', () => {
  it('writes into the queue the main spool owns; the main spool adopts each message once', async () => {
    const main = await newSpool();
    const writer = new Spool(dir);
    await writer.openForWriting();
    opened.push(writer);
    const body = Buffer.from('Subject: from the listener process\r\n\r\nhello\r\n');
    const h = await writer.write(env, body);
    expect(main.stats().count).toBe(0);
    // What a dead listener process left unreported is found, whole and verified.
    const found = await main.unknownMessages();
    expect(found.map((x) => x.id)).toEqual([h.id]);
    expect(main.adopt(found[0]!)).toBe(true);
    expect(main.adopt(h)).toBe(false); // its own report arriving late: already known
    expect(main.stats()).toEqual({ count: 1, bytes: body.length });
    expect(await main.unknownMessages()).toEqual([]);
    expect(await main.readBody(h.id)).toEqual(body);
    await main.remove(h.id);
    expect(main.stats().count).toBe(0);
  });

  it('leaves a file that does not verify alone (it may still be being written)', async () => {
    const main = await newSpool();
    const writer = new Spool(dir);
    await writer.openForWriting();
    opened.push(writer);
    const h = await writer.write(env, Buffer.from('Subject: x\r\n\r\nbody\r\n'));
    const file = join(dir, 'queue', `${h.id}.msg`);
    await truncate(file, (await stat(file)).size - 10);
    expect(await main.unknownMessages()).toEqual([]);
    expect(await readdir(join(dir, 'queue'))).toContain(`${h.id}.msg`);
  });

  it('takes another id when the one it made is taken (two processes, same millisecond)', async () => {
    const writer = await newSpool();
    const taken = newId(Date.now() + 60_000);
    await writeFile(join(dir, 'queue', `${taken}.msg`), 'someone else');
    const ids = vi.spyOn(await import('../../main/core/spool/ids.js'), 'newId');
    ids.mockReturnValueOnce(taken);
    try {
      const h = await writer.write(env, Buffer.from('Subject: y\r\n\r\nbody\r\n'));
      expect(ids).toHaveBeenCalledTimes(2); // the taken id, then a new one
      expect(h.id).not.toBe(taken);
      expect(await readFile(join(dir, 'queue', `${taken}.msg`), 'utf8')).toBe('someone else');
    } finally {
      ids.mockRestore();
    }
  });
});

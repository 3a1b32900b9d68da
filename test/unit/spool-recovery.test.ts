/*
 * The spool's background recovery (Spool.openInBackground) against real files in a temp dir:
 * a queue of a few thousand messages is handed over in several batches, each message exactly
 * once with its saved state; the spool takes writes before the recovery is through; a
 * corrupt file is quarantined with a note and a bad state file is reset, as open() does; a
 * close() during the recovery stops it and the next open hands over everything. No timing
 * assertions: "in the background" is checked as "openInBackground resolved before `done`, and
 * the event loop ran in between".
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool, type RecoveredMessage, type SpoolEnvelope, type SpoolHeader } from '../../main/core/spool/index.js';

const env: SpoolEnvelope = { sender: 'tanaka@test.jp', recipients: ['a@example.com', 'b@example.com'], clientIp: '127.0.0.2', session: 's', trusted: true };
const N = 3000;

let dir: string;
const opened: Spool[] = [];

async function fill(n: number): Promise<SpoolHeader[]> {
  const s = new Spool(dir, { fsync: false });
  await s.open();
  const out: SpoolHeader[] = [];
  for (let i = 0; i < n; i += 250) {
    const batch: Promise<SpoolHeader>[] = [];
    for (let j = i; j < Math.min(n, i + 250); j++) batch.push(s.write({ ...env, session: `s${j}` }, Buffer.from(`Subject: ${j}\r\n\r\nbody ${j}\r\n`)));
    out.push(...(await Promise.all(batch)));
  }
  await s.close();
  return out;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-recovery-'));
});

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('Spool.openInBackground', () => {
  it(`hands over ${N} messages in batches, each once with its state, while the spool already takes writes`, async () => {
    const written = await fill(N);
    const prep = new Spool(dir);
    await prep.open();
    const withState = written[10]!;
    await prep.setState(withState.id, { pending: ['b@example.com'], done: ['a@example.com'], failed: [], attempts: 2, lastError: '421 busy' });
    // A corrupt body and a state file that is not JSON.
    const flipped = written[20]!;
    const badState = written[30]!;
    await prep.close();
    const f = join(dir, 'queue', `${flipped.id}.msg`);
    const bytes = Buffer.from(await import('node:fs/promises').then((m) => m.readFile(f)));
    bytes[bytes.indexOf('body 20')] = 'B'.charCodeAt(0);
    await writeFile(f, bytes);
    await writeFile(join(dir, 'queue', `${badState.id}.state`), '{not json');

    const spool = new Spool(dir);
    opened.push(spool);
    const batches: RecoveredMessage[][] = [];
    let loopTurns = 0;
    const ticker = setInterval(() => loopTurns++, 0);
    const { done } = await spool.openInBackground((b) => batches.push(b));
    const handedAtOpen = batches.flat().length;
    // The spool takes a new message before the recovery is through.
    const fresh = await spool.write({ ...env, session: 'during' }, Buffer.from('Subject: new\r\n\r\nnew\r\n'));
    const r = await done;
    clearInterval(ticker);

    const all = batches.flat();
    expect(handedAtOpen).toBeLessThan(N);
    expect(batches.length).toBeGreaterThan(1);
    expect(loopTurns).toBeGreaterThan(0);
    expect(r.count).toBe(N - 1);
    expect(r.stopped).toBe(false);
    expect(all).toHaveLength(N - 1);
    expect(new Set(all.map((m) => m.header.id)).size).toBe(N - 1);
    expect(all.some((m) => m.header.id === fresh.id)).toBe(false);
    expect(all.some((m) => m.header.id === flipped.id)).toBe(false);
    expect(r.quarantined).toEqual([`queue/${flipped.id}.msg`]);
    expect(r.notes[0]!.reason).toMatch(/body checksum mismatch/);
    expect(r.errors).toEqual([]);
    expect(all.find((m) => m.header.id === withState.id)!.state).toEqual({ pending: ['b@example.com'], done: ['a@example.com'], failed: [], attempts: 2, lastError: '421 busy' });
    expect(all.find((m) => m.header.id === badState.id)!.state).toMatchObject({ pending: env.recipients, attempts: 0, lastError: expect.stringMatching(/state file unreadable/) });
    expect(all.find((m) => m.header.id === written[0]!.id)!.state).toBeNull();
    // Oldest first, as open() returned them.
    const ids = all.map((m) => m.header.id);
    expect(ids).toEqual([...ids].sort());
    expect(spool.stats().count).toBe(N); // N - 1 recovered + the new one
    expect((await readdir(join(dir, 'quarantine'))).sort()).toEqual([`${badState.id}.state`, `${badState.id}.state.why.json`, `${flipped.id}.msg`, `${flipped.id}.msg.why.json`].sort());
    expect(await spool.readBody(written[N - 1]!.id)).toEqual(Buffer.from(`Subject: ${N - 1}\r\n\r\nbody ${N - 1}\r\n`));
  });

  it('close() during the recovery stops it; the next open hands over every message', async () => {
    await fill(N);
    const first = new Spool(dir);
    let seen = 0;
    const { done } = await first.openInBackground((b) => (seen += b.length));
    await first.close();
    const r = await done;
    expect(r.count).toBe(seen);
    expect(r.stopped).toBe(true);
    expect(seen).toBeLessThan(N);

    const second = new Spool(dir);
    opened.push(second);
    const res = await second.open();
    expect(res.recovered).toHaveLength(N);
    expect(res.quarantined).toEqual([]);
  });
});

/*
 * The spool's read-back shortcut: readBody() of a message this process has just written is
 * answered once from memory (the delivery runner reads every new message right back), and
 * from the verified file after that; remove() and quarantine() drop the memory copy. Real
 * files in a temp dir; the file is damaged on purpose to tell the two sources apart.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool, SpoolCorruptError, type SpoolEnvelope } from '../../main/core/spool/index.js';

const env: SpoolEnvelope = { sender: 'alice@test.jp', recipients: ['bob@example.com'], clientIp: '127.0.0.2', session: 's1', trusted: true };
let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-spool-recent-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function flipLastBodyByte(id: string): Promise<void> {
  const f = join(dir, 'queue', `${id}.msg`);
  const b = await readFile(f);
  const end = b.lastIndexOf('\nEND ');
  b[end - 1]! ^= 0x01;
  await writeFile(f, b);
}

describe('readBody right after write', () => {
  it('is served once from memory, then read and verified from disk', async () => {
    const spool = new Spool(dir);
    await spool.open();
    const body = Buffer.from('Subject: x\r\n\r\nhello\r\n');
    const h = await spool.write(env, body);
    await flipLastBodyByte(h.id); // only a disk read can see this
    expect((await spool.readBody(h.id)).equals(body)).toBe(true);
    await expect(spool.readBody(h.id)).rejects.toBeInstanceOf(SpoolCorruptError);
    await spool.close();
  });

  it('forgets the copy on remove and on quarantine', async () => {
    const spool = new Spool(dir);
    await spool.open();
    const a = await spool.write(env, Buffer.from('a\r\n'));
    const b = await spool.write(env, Buffer.from('b\r\n'));
    await spool.remove(a.id);
    await expect(spool.readBody(a.id)).rejects.toMatchObject({ code: 'ENOENT' });
    await spool.quarantine(b.id, 'test');
    await expect(spool.readBody(b.id)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(spool.stats().count).toBe(0);
    await spool.close();
  });

  it('setState still refuses an id that is not queued', async () => {
    const spool = new Spool(dir);
    await spool.open();
    const a = await spool.write(env, Buffer.from('a\r\n'));
    await spool.remove(a.id);
    await expect(spool.setState(a.id, { pending: [], done: [], failed: [], attempts: 1 })).rejects.toMatchObject({ code: 'ENOENT' });
    await spool.close();
  });
});

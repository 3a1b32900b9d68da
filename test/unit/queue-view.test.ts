/*
 * The queue as the CLI sees it without a running gateway (SpoolQueue) uses the runner's own
 * definition of each state (queue-view.ts): a message that has been tried once is
 * 'deferred' whether or not its retry time has come (the CLI used to call an overdue one
 * 'queued'), a held one is 'hold', an untried one 'queued'. Actions need the gateway.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { SpoolQueue } from '../../main/core/delivery/spool-queue.js';
import { queueState } from '../../main/core/delivery/queue-view.js';
import { message, openSpool } from '../delivery/helpers.js';

let dir = '';
afterEach(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('queue view without a gateway', () => {
  it('names states as the runner does, from the spool alone', async () => {
    const o = await openSpool();
    dir = o.dir;
    const env = (s: string) => ({ sender: s, recipients: ['x@example.com'], clientIp: '127.0.0.2', session: 't', trusted: true });
    const fresh = await o.spool.write(env('a@test.jp'), message('a@test.jp', ['x@example.com']));
    const overdue = await o.spool.write(env('b@test.jp'), message('b@test.jp', ['x@example.com']));
    const later = await o.spool.write(env('c@test.jp'), message('c@test.jp', ['x@example.com']));
    const held = await o.spool.write(env('d@test.jp'), message('d@test.jp', ['x@example.com']));
    const tried = (next: number, held?: boolean) => ({ pending: ['x@example.com'], done: [], failed: [], attempts: 1, nextAttemptAt: new Date(Date.now() + next).toISOString(), lastError: '451 try later', ...(held ? { held } : {}) });
    await o.spool.setState(overdue.id, tried(-60_000));
    await o.spool.setState(later.id, tried(3_600_000));
    await o.spool.setState(held.id, tried(-60_000, true));
    await o.spool.close();

    const q = new SpoolQueue(path.join(dir, 'spool'));
    const states = Object.fromEntries((await q.list()).map((i) => [i.sender, i.state]));
    expect(states).toEqual({ 'a@test.jp': 'queued', 'b@test.jp': 'deferred', 'c@test.jp': 'deferred', 'd@test.jp': 'hold' });
    // The same function the runner uses, for the same stored state.
    expect(queueState(tried(-60_000), false)).toBe('deferred');
    expect((await q.list({ state: 'deferred', sender: 'B@' })).map((i) => i.id)).toEqual([overdue.id]);

    const shown = await q.show(overdue.id);
    expect(shown.item.state).toBe('deferred');
    expect(shown.headers).toMatch(/^From: b@test\.jp/);
    await expect(q.show('nope')).rejects.toMatchObject({ code: 'not-found' });
    await expect(q.hold(fresh.id)).rejects.toMatchObject({ code: 'not-running' });
  });
});

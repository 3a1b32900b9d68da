/*
 * fs-retry.ts: which errors mean "another program holds the file", bounded retries on timers
 * (the event loop keeps turning), the callbacks that feed the log, and the error thrown at
 * the end with its errno code intact. The real hold (a second process without
 * FILE_SHARE_DELETE) is test/windows/held-file.test.ts; here the failures are scripted.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELD_RETRY_DELAYS_MS, heldRetryText, isHeldError, renameRetry, retryWhileHeld, unlinkRetry, type HeldRetryInfo } from '../../main/core/fs-retry.js';

const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: scripted`), { code });

/** fn that fails with `codes` in order, then returns 'done'. */
function scripted(codes: string[]): { fn: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    fn: async () => {
      const c = codes[n++];
      if (c) throw err(c);
      return 'done';
    },
    calls: () => n,
  };
}

describe('isHeldError', () => {
  it('EBUSY everywhere; EPERM and EACCES only on Windows; nothing else', () => {
    expect(isHeldError(err('EBUSY'), 'linux')).toBe(true);
    expect(isHeldError(err('EBUSY'), 'win32')).toBe(true);
    expect(isHeldError(err('EPERM'), 'win32')).toBe(true);
    expect(isHeldError(err('EACCES'), 'win32')).toBe(true);
    expect(isHeldError(err('EPERM'), 'linux')).toBe(false);
    expect(isHeldError(err('EACCES'), 'linux')).toBe(false);
    for (const c of ['ENOENT', 'ENOSPC', 'EIO', 'EEXIST']) expect(isHeldError(err(c), 'win32')).toBe(false);
    expect(isHeldError(null)).toBe(false);
    expect(isHeldError(new Error('no code'))).toBe(false);
  });
});

describe('retryWhileHeld', () => {
  it('retries while held, then succeeds; one onRetry per retry and one onRecovered', async () => {
    const s = scripted(['EBUSY', 'EPERM', 'EACCES']);
    const retries: HeldRetryInfo[] = [];
    const recovered: unknown[] = [];
    const r = await retryWhileHeld('unlink', 'C:\\q\\x.msg', s.fn, { platform: 'win32', delaysMs: [1, 2, 3, 4], onRetry: (i) => retries.push(i), onRecovered: (i) => recovered.push(i) });
    expect(r).toBe('done');
    expect(s.calls()).toBe(4);
    expect(retries.map((i) => [i.retry, i.code, i.delayMs])).toEqual([
      [1, 'EBUSY', 1],
      [2, 'EPERM', 2],
      [3, 'EACCES', 3],
    ]);
    expect(recovered).toEqual([expect.objectContaining({ op: 'unlink', path: 'C:\\q\\x.msg', retry: 3 })]);
    expect(heldRetryText(retries[0]!)).toMatch(/removing C:\\q\\x\.msg failed with EBUSY \(the file is open in another program/);
  });

  it('gives up after the last delay and throws the last error with its code, retries and heldMs', async () => {
    const s = scripted(['EBUSY', 'EBUSY', 'EBUSY', 'EBUSY']);
    type Thrown = NodeJS.ErrnoException & { retries: number; heldMs: number };
    const e = (await retryWhileHeld('rename', '/x', s.fn, { delaysMs: [1, 1, 1] }).then(
      () => null,
      (x: unknown) => x,
    )) as Thrown;
    expect(e.code).toBe('EBUSY');
    expect(e.retries).toBe(3);
    expect(e.heldMs).toBeGreaterThanOrEqual(0);
    expect(s.calls()).toBe(4); // the first attempt and three retries
  });

  it('never retries ENOENT, ENOSPC, or EPERM off Windows', async () => {
    for (const [code, platform] of [['ENOENT', 'win32'], ['ENOSPC', 'win32'], ['EPERM', 'linux']] as const) {
      const s = scripted([code, code]);
      await expect(retryWhileHeld('unlink', '/x', s.fn, { platform, delaysMs: [1, 1] })).rejects.toMatchObject({ code });
      expect(s.calls()).toBe(1);
    }
  });

  it('waits on timers: the event loop keeps turning during the backoff', async () => {
    const s = scripted(['EBUSY', 'EBUSY']);
    let ticks = 0;
    const t = setInterval(() => ticks++, 5);
    try {
      await retryWhileHeld('unlink', '/x', s.fn, { delaysMs: [60, 60] });
    } finally {
      clearInterval(t);
    }
    expect(ticks).toBeGreaterThanOrEqual(10);
  });

  it('a throwing log callback does not turn a retry into a failure', async () => {
    const s = scripted(['EBUSY']);
    const r = await retryWhileHeld('unlink', '/x', s.fn, {
      delaysMs: [1],
      onRetry: () => {
        throw new Error('log broke');
      },
      onRecovered: () => {
        throw new Error('log broke');
      },
    });
    expect(r).toBe('done');
  });

  it('the default backoff is bounded (about 10 s) and grows', () => {
    const total = HELD_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(5000);
    expect(total).toBeLessThan(15_000);
    for (let i = 1; i < HELD_RETRY_DELAYS_MS.length; i++) expect(HELD_RETRY_DELAYS_MS[i]!).toBeGreaterThanOrEqual(HELD_RETRY_DELAYS_MS[i - 1]!);
  });
});

describe('renameRetry / unlinkRetry on real files', () => {
  it('do the operation, and throw ENOENT at once', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gatehouse-fsretry-'));
    try {
      const a = path.join(dir, 'a');
      await fs.writeFile(a, 'x');
      await renameRetry(a, path.join(dir, 'b'));
      expect(await fs.readFile(path.join(dir, 'b'), 'utf8')).toBe('x');
      await unlinkRetry(path.join(dir, 'b'));
      await expect(fs.access(path.join(dir, 'b'))).rejects.toMatchObject({ code: 'ENOENT' });
      const t = Date.now();
      await expect(unlinkRetry(path.join(dir, 'b'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(Date.now() - t).toBeLessThan(1000);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

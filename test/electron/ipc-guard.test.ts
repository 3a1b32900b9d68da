/*
 * IPC guard: only the main window's top frame on app://gatehouse may call; commands must be
 * contract names with plain-JSON arguments of the right shape; the handler always answers
 * with an ApiResult (refusals, handler ApiErrors and crashes become error data).
 */
import { describe, expect, it, vi } from 'vitest';
import { ApiError, COMMAND_NAMES, type CommandHandlers } from '../../main/shared/contract.js';
import { ARG_SPECS, checkSender, createInvokeHandler, jsonProblem, validateInvoke, type InvokeEventLike } from '../../main/electron/ipc-guard.js';

const policy = { origin: 'app://gatehouse', allowedContentsId: () => 7 };
const top = (url = 'app://gatehouse/index.html', id = 7): InvokeEventLike => ({ sender: { id }, senderFrame: { url, parent: null } });

describe('checkSender', () => {
  it('accepts the main window top frame on the app origin', () => {
    expect(checkSender(top(), policy)).toBeNull();
    expect(checkSender(top('app://gatehouse/#/accounts'), policy)).toBeNull();
  });

  it('refuses other web contents, subframes, lost frames and other origins', () => {
    expect(checkSender(top(undefined, 8), policy)).toMatch(/not from the Gatehouse window/);
    expect(checkSender({ sender: { id: 7 }, senderFrame: { url: 'app://gatehouse/index.html', parent: {} } }, policy)).toMatch(/top frame/);
    expect(checkSender({ sender: { id: 7 }, senderFrame: null }, policy)).toMatch(/gone/);
    for (const url of ['https://evil.example/', 'file:///C:/index.html', 'app://evil/index.html', 'http://127.0.0.1:8025/', 'about:blank', 'data:text/html,x', 'not a url']) {
      expect(checkSender(top(url), policy), url).not.toBeNull();
    }
    expect(checkSender(top(), { ...policy, allowedContentsId: () => null })).not.toBeNull();
  });
});

describe('validateInvoke', () => {
  it('has a spec for every command of the contract', () => {
    expect(Object.keys(ARG_SPECS).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('refuses unknown commands and non-strings', () => {
    for (const c of ['nope', '__proto__', 'toString', 'constructor', 42, null, undefined, { a: 1 }]) {
      const r = validateInvoke(c, undefined);
      expect(r.ok, String(c)).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('bad-request');
    }
  });

  it('void commands take nothing (null counts as nothing)', () => {
    expect(validateInvoke('status', undefined)).toEqual({ ok: true, command: 'status', args: undefined });
    expect(validateInvoke('status', null)).toEqual({ ok: true, command: 'status', args: undefined });
    expect(validateInvoke('status', { x: 1 }).ok).toBe(false);
    expect(validateInvoke('gateway.stop', 'now').ok).toBe(false);
  });

  it('checks required and optional fields by type', () => {
    expect(validateInvoke('accounts.setBlock', { pattern: 'baito@test.jp', block: true }).ok).toBe(true);
    expect(validateInvoke('accounts.setBlock', { pattern: 'baito@test.jp', block: 'yes' })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/block must be a boolean/) } });
    expect(validateInvoke('accounts.setBlock', { block: true }).ok).toBe(false);
    expect(validateInvoke('accounts.setBlock', ['baito@test.jp', true]).ok).toBe(false);
    expect(validateInvoke('log.tail', { kind: 'receive', n: 200 }).ok).toBe(true);
    expect(validateInvoke('log.tail', { kind: 'receive', n: 200, day: 5 }).ok).toBe(false);
    expect(validateInvoke('log.tail', { kind: 'receive', n: '200' }).ok).toBe(false);
    expect(validateInvoke('accounts.list', undefined).ok).toBe(true);
    expect(validateInvoke('accounts.list', { query: 'baito' }).ok).toBe(true);
    expect(validateInvoke('queue.retry', {}).ok).toBe(true);
    expect(validateInvoke('queue.retry', { id: undefined }).ok).toBe(true);
    expect(validateInvoke('config.setSmarthost', null)).toEqual({ ok: true, command: 'config.setSmarthost', args: null });
    expect(validateInvoke('config.setSmarthost', undefined).ok).toBe(false);
    expect(validateInvoke('config.set', { key: 'listener', value: { host: '0.0.0.0', port: 25 } }).ok).toBe(true);
    expect(validateInvoke('routes.set', { routes: 'test.jp' }).ok).toBe(false);
  });

  it('refuses anything that is not plain JSON data', () => {
    class Evil {
      pattern = 'x';
    }
    expect(jsonProblem({ a: [1, 'x', null, { b: true }] })).toBeNull();
    expect(jsonProblem(new Date())).toMatch(/not plain data \(Date\)/);
    expect(jsonProblem(new Evil())).toMatch(/not plain data/);
    expect(jsonProblem({ a: new Map() })).toMatch(/a is not plain data/);
    expect(jsonProblem({ f: () => 1 })).toMatch(/function/);
    expect(jsonProblem({ n: NaN })).toMatch(/finite/);
    expect(jsonProblem({ n: 10n })).toMatch(/bigint/);
    expect(jsonProblem(JSON.parse('{"__proto__": {"polluted": true}}'))).toMatch(/key not allowed/);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(jsonProblem(deep)).toMatch(/nested too deeply/);
    expect(jsonProblem({ s: 'x'.repeat(10 * 1024 * 1024 + 1) })).toMatch(/too large/);
    expect(validateInvoke('accounts.import', { csv: new Uint8Array(3), mode: 'merge' }).ok).toBe(false);
  });
});

describe('createInvokeHandler', () => {
  const handlers = {
    status: vi.fn(async () => ({ running: true })),
    'accounts.setBlock': vi.fn(async ({ pattern }: { pattern: string }) => {
      if (pattern === 'bad') throw new ApiError('pattern is not valid', 'validation', [{ path: 'pattern', message: 'bad' }]);
      if (pattern === 'boom') throw new Error('disk on fire');
      return [{ pattern, blockExternal: true }];
    }),
  } as unknown as CommandHandlers;
  const refused: string[] = [];
  const invoke = createInvokeHandler({ handlers, policy, onRefused: (w) => refused.push(w) });

  it('routes a valid call to the core and wraps the value', async () => {
    expect(await invoke(top(), 'status', undefined)).toEqual({ ok: true, value: { running: true } });
    expect(await invoke(top(), 'accounts.setBlock', { pattern: 'baito@test.jp', block: true })).toEqual({ ok: true, value: [{ pattern: 'baito@test.jp', blockExternal: true }] });
  });

  it('refuses a foreign sender before touching the core', async () => {
    const before = (handlers.status as ReturnType<typeof vi.fn>).mock.calls.length;
    const r = await invoke(top('https://evil.example/'), 'status', undefined);
    expect(r).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((handlers.status as ReturnType<typeof vi.fn>).mock.calls.length).toBe(before);
    expect(refused.at(-1)).toMatch(/refused/);
  });

  it('returns bad arguments, ApiErrors and crashes as error data, never throws', async () => {
    expect(await invoke(top(), 'accounts.setBlock', { pattern: 1 })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await invoke(top(), 'accounts.setBlock', { pattern: 'bad', block: true })).toEqual({
      ok: false,
      error: { code: 'validation', message: 'pattern is not valid', issues: [{ path: 'pattern', message: 'bad' }] },
    });
    expect(await invoke(top(), 'accounts.setBlock', { pattern: 'boom', block: true })).toEqual({ ok: false, error: { code: 'internal', message: 'disk on fire' } });
  });
});

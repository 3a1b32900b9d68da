/*
 * IPC guard: only the main window's top frame on app://gatehouse may call; arguments must be
 * plain JSON data; then the core's dispatcher checks the command name and the arguments
 * against the command's schema (the same check as for HTTP and the CLI); the handler always
 * answers with an ApiResult (refusals, handler ApiErrors and crashes become error data).
 */
import { describe, expect, it, vi } from 'vitest';
import { ApiError, type CommandHandlers } from '../../main/shared/contract.js';
import { checkSender, createInvokeHandler, jsonProblem, type InvokeEventLike } from '../../main/electron/ipc-guard.js';

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

describe('jsonProblem', () => {
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
    expect(jsonProblem({ csv: new Uint8Array(3), mode: 'merge' })).toMatch(/csv is not plain data/);
  });
});

describe('createInvokeHandler', () => {
  const handlers = {
    'status': vi.fn(async () => ({ running: true })),
    'gateway.stop': vi.fn(async (_a: unknown, call: { via: string }) => ({ running: false, via: call.via })),
    'accounts.setBlock': vi.fn(async ({ pattern }: { pattern: string }) => {
      if (pattern === 'bad@test.jp') throw new ApiError('pattern is not valid', 'validation', [{ path: 'pattern', code: 'invalid', message: 'bad' }]);
      if (pattern === 'boom@test.jp') throw new Error('disk on fire');
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

  it('refuses unknown commands, and arguments the command schema refuses, before the core', async () => {
    const calls = (handlers['accounts.setBlock'] as ReturnType<typeof vi.fn>).mock.calls.length;
    for (const c of ['nope', '__proto__', 'toString', 'constructor', 42, null, undefined, { a: 1 }]) {
      expect(await invoke(top(), c, undefined), String(c)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    }
    expect(await invoke(top(), 'status', { x: 1 })).toMatchObject({ ok: false, error: { code: 'validation', issues: [{ path: '', code: 'no_args' }] } });
    expect(await invoke(top(), 'accounts.setBlock', { pattern: 1 })).toMatchObject({
      ok: false,
      error: { code: 'validation', issues: [{ path: 'pattern', code: 'string' }, { path: 'block', code: 'required' }] },
    });
    expect(await invoke(top(), 'accounts.setBlock', { pattern: 'baito@test.jp', block: 'yes' })).toMatchObject({
      ok: false,
      error: { code: 'validation', issues: [{ path: 'block', code: 'bool', message: 'must be true or false' }] },
    });
    expect(await invoke(top(), 'accounts.setBlock', ['baito@test.jp', true])).toMatchObject({ ok: false, error: { code: 'validation' } });
    expect(await invoke(top(), 'accounts.import', { csv: new Uint8Array(3), mode: 'merge' })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect((handlers['accounts.setBlock'] as ReturnType<typeof vi.fn>).mock.calls.length).toBe(calls);
    // null is "no arguments" for a command that takes none; a call from the window is via 'ui'.
    expect(await invoke(top(), 'gateway.stop', null)).toEqual({ ok: true, value: { running: false, via: 'ui' } });
  });

  it('returns ApiErrors and crashes as error data, never throws', async () => {
    expect(await invoke(top(), 'accounts.setBlock', { pattern: 'bad@test.jp', block: true })).toEqual({
      ok: false,
      error: { code: 'validation', message: 'pattern is not valid', issues: [{ path: 'pattern', code: 'invalid', message: 'bad' }] },
    });
    expect(await invoke(top(), 'accounts.setBlock', { pattern: 'boom@test.jp', block: true })).toEqual({ ok: false, error: { code: 'internal', message: 'disk on fire' } });
  });
});

/*
 * The built preload (dist/main/electron/preload.cjs, what Electron loads) run the way a
 * sandboxed preload runs: as a CommonJS script whose `require` knows only 'electron', here a
 * stub. It must expose exactly { invoke, on } as window.gatehouse, forward calls on the
 * gatehouse:invoke channel, turn transport failures into ApiResult errors, filter events by
 * name, never hand the page Electron's event object, and unsubscribe. Builds the shell first
 * when dist/ lacks it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { beforeAll, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => {
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  return {
    exposed: {} as Record<string, unknown>,
    listeners,
    invoke: vi.fn(async (..._a: unknown[]): Promise<unknown> => ({ ok: true, value: 1 })),
  };
});

const electronStub = {
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void (h.exposed[key] = api) },
  ipcRenderer: {
    invoke: h.invoke,
    on: (ch: string, l: (...a: unknown[]) => void) => {
      if (!h.listeners.has(ch)) h.listeners.set(ch, new Set());
      h.listeners.get(ch)!.add(l);
    },
    removeListener: (ch: string, l: (...a: unknown[]) => void) => void h.listeners.get(ch)?.delete(l),
  },
};

const root = path.join(__dirname, '..', '..');
const built = path.join(root, 'dist', 'main', 'electron', 'preload.cjs');
const required: string[] = [];

type Bridge = { invoke(c: string, a: unknown): Promise<unknown>; on(e: string, cb: (d: unknown) => void): () => void };
let bridge: Bridge;

beforeAll(() => {
  if (!fs.existsSync(built)) execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'main/electron/tsconfig.json'], { cwd: root, stdio: 'inherit' });
  const module = { exports: {} };
  const sandboxRequire = (id: string) => {
    required.push(id);
    if (id === 'electron') return electronStub;
    throw new Error(`a sandboxed preload cannot require "${id}"`);
  };
  vm.runInNewContext(`(function (exports, require, module) {${fs.readFileSync(built, 'utf8')}\n})`, { Promise, TypeError, Error })(module.exports, sandboxRequire, module);
  bridge = h.exposed.gatehouse as Bridge;
}, 60_000);

const emit = (...args: unknown[]) => {
  for (const l of h.listeners.get('gatehouse:event') ?? []) l({ sender: 'IpcRendererEvent' }, ...args);
};

describe('preload bridge', () => {
  it('exposes exactly invoke and on under window.gatehouse', () => {
    expect(Object.keys(h.exposed)).toEqual(['gatehouse']);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on']);
  });

  it('invoke forwards on gatehouse:invoke and resolves to the ApiResult', async () => {
    h.invoke.mockResolvedValueOnce({ ok: true, value: { running: true } });
    await expect(bridge.invoke('status', undefined)).resolves.toEqual({ ok: true, value: { running: true } });
    expect(h.invoke).toHaveBeenLastCalledWith('gatehouse:invoke', 'status', undefined);
  });

  it('a transport failure resolves to a network error instead of rejecting', async () => {
    h.invoke.mockRejectedValueOnce(new Error('Error invoking remote method: no handler'));
    await expect(bridge.invoke('status', undefined)).resolves.toMatchObject({ ok: false, error: { code: 'network' } });
    await expect(bridge.invoke(42 as unknown as string, undefined)).resolves.toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });

  it('on delivers only its event, only the data, and unsubscribes', () => {
    const got: unknown[] = [];
    const off = bridge.on('status', (d) => got.push(d));
    emit('status', { running: true });
    emit('receivelog', { event: 'rcpt' });
    expect(got).toEqual([{ running: true }]);
    off();
    emit('status', { running: false });
    expect(got).toHaveLength(1);
    expect(h.listeners.get('gatehouse:event')!.size).toBe(0);
  });

  it('refuses unknown events and non-function callbacks', () => {
    expect(() => bridge.on('nope', () => undefined)).toThrow(TypeError);
    expect(() => bridge.on('status', 'x' as unknown as () => void)).toThrow(TypeError);
  });
});

describe('built preload', () => {
  it('is CommonJS and requires nothing but electron (a sandboxed preload cannot import)', () => {
    expect(required).toEqual(['electron']);
    const js = fs.readFileSync(built, 'utf8');
    expect(js).not.toMatch(/^\s*import\s/m);
    expect(js).not.toMatch(/^\s*export\s/m);
  });
});

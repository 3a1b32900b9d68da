/*
 * The preload: the only bridge between the window and the main process. It exposes exactly
 * `window.gatehouse = { invoke(command, args), on(event, cb) }` through contextBridge, the
 * shape the renderer's api module expects. `invoke` resolves to the ApiResult the main
 * process sent (a transport failure becomes `{ ok: false, error: { code: 'network' } }`, it
 * never rejects); `on` subscribes to one of the contract's events and returns an unsubscribe
 * function (an unknown event name or a non-function callback throws a TypeError). No
 * Electron object (IpcRendererEvent, ipcRenderer) ever reaches the page.
 *
 * Compiled to CommonJS (preload.cjs): a sandboxed preload cannot load ES modules, and can
 * require only 'electron' and a few Node built-ins, so this file imports types and nothing
 * else from the project; the lists below are checked against the contract by the compiler.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ApiResult, EventName } from '../shared/contract.js' with { 'resolution-mode': 'import' };

const INVOKE_CHANNEL = 'gatehouse:invoke';
const EVENT_CHANNEL = 'gatehouse:event';

const EVENTS = ['receivelog', 'senderlog', 'status', 'config', 'accounts', 'queue', 'approvals', 'delayed', 'frozen', 'oauth', 'delivery', 'notice'] as const satisfies readonly EventName[];
// Fails to compile when the contract gains an event this list lacks.
const complete: Exclude<EventName, (typeof EVENTS)[number]> extends never ? true : false = true;
void complete;

function isEvent(name: unknown): name is EventName {
  return typeof name === 'string' && (EVENTS as readonly string[]).includes(name);
}

const bridge = {
  invoke(command: string, args: unknown): Promise<ApiResult<unknown>> {
    if (typeof command !== 'string') {
      return Promise.resolve({ ok: false, error: { code: 'bad-request', message: 'command must be a string' } });
    }
    return (ipcRenderer.invoke(INVOKE_CHANNEL, command, args) as Promise<ApiResult<unknown>>).catch((err: unknown) => ({
      ok: false as const,
      error: { code: 'network', message: err instanceof Error ? err.message : String(err) },
    }));
  },
  on(event: string, cb: (data: unknown) => void): () => void {
    if (!isEvent(event)) throw new TypeError(`unknown event "${String(event)}"`);
    if (typeof cb !== 'function') throw new TypeError('callback must be a function');
    const listener = (_e: IpcRendererEvent, name: unknown, data: unknown) => {
      if (name === event) cb(data);
    };
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, listener);
    };
  },
};

contextBridge.exposeInMainWorld('gatehouse', bridge);

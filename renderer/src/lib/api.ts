/*
 * The renderer's one way to talk to the core. `call(command, args)` resolves to the
 * command's typed result or rejects with an ApiError (contract.ts): errors that crossed the
 * transport as data become real errors again, and transport failures become ApiErrors too
 * ('network', 'bad-response', 'unauthorized'), so every caller handles one error type.
 * `on(event, cb)` subscribes to a server-pushed event and returns an unsubscribe function.
 *
 * Transport: the Electron preload bridge (`window.gatehouse`) when present, else HTTP to the
 * headless host: `POST /api/<command>` with `{args, via: 'ui'}` (the audit trail records the
 * window as the source) and `Authorization: Bearer <token>`,
 * events over one shared EventSource (`/api/events?token=`). The token arrives once in the
 * URL hash (`#token=...`), is kept in sessionStorage and removed from the address bar.
 */
import {
  ApiError,
  EVENT_NAMES,
  type ApiResult,
  type ArgsOf,
  type CommandName,
  type EventName,
  type Events,
  type ResultOf,
} from '../../../main/shared/contract.js';

export interface Bridge {
  invoke(command: string, args: unknown): Promise<ApiResult<unknown>>;
  on(event: string, cb: (data: unknown) => void): () => void;
}

declare global {
  interface Window {
    gatehouse?: Bridge;
  }
}

export type ConnectionState = 'connecting' | 'open' | 'down' | 'unauthorized';

const TOKEN_KEY = 'gatehouse.token';

function bridge(): Bridge | undefined {
  return typeof window !== 'undefined' ? window.gatehouse : undefined;
}

export function transportKind(): 'ipc' | 'http' {
  return bridge() ? 'ipc' : 'http';
}

/** Moves `#token=...` from the address bar into sessionStorage. Call once at startup. */
export function takeTokenFromUrl(): void {
  const hash = window.location.hash.replace(/^#/, '');
  if (!hash) return;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  params.delete('token');
  const rest = params.toString();
  history.replaceState(null, '', window.location.pathname + window.location.search + (rest ? `#${rest}` : ''));
}

export function hasToken(): boolean {
  return transportKind() === 'ipc' || !!sessionStorage.getItem(TOKEN_KEY);
}

function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/* ---- connection state, for the header indicator and the "open the admin URL" screen ---- */

const connectionListeners = new Set<(s: ConnectionState) => void>();
const reconnectListeners = new Set<() => void>();
let connection: ConnectionState = 'connecting';

function setConnection(s: ConnectionState): void {
  if (s === connection) return;
  connection = s;
  for (const cb of connectionListeners) cb(s);
}

export function onConnection(cb: (s: ConnectionState) => void): () => void {
  connectionListeners.add(cb);
  cb(connection);
  return () => connectionListeners.delete(cb);
}

/** Called after the event stream came back from an interruption: reload what may be stale. */
export function onReconnect(cb: () => void): () => void {
  reconnectListeners.add(cb);
  return () => reconnectListeners.delete(cb);
}

/* ---- commands ---- */

type ArgTuple<C extends CommandName> = undefined extends ArgsOf<C> ? [args?: ArgsOf<C>] : [args: ArgsOf<C>];

async function httpInvoke(command: CommandName, args: unknown): Promise<ApiResult<unknown>> {
  let res: Response;
  try {
    res = await fetch(`/api/${command}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
      body: JSON.stringify({ args, via: 'ui' }),
      cache: 'no-store',
    });
  } catch (err) {
    return { ok: false, error: { code: 'network', message: err instanceof Error ? err.message : String(err) } };
  }
  try {
    return (await res.json()) as ApiResult<unknown>;
  } catch {
    return { ok: false, error: { code: 'bad-response', message: `HTTP ${res.status} ${res.statusText}` } };
  }
}

export async function call<C extends CommandName>(command: C, ...rest: ArgTuple<C>): Promise<ResultOf<C>> {
  const args = rest[0];
  const b = bridge();
  let result: ApiResult<unknown>;
  try {
    result = b ? await b.invoke(command, args) : await httpInvoke(command, args);
  } catch (err) {
    result = { ok: false, error: { code: 'network', message: err instanceof Error ? err.message : String(err) } };
  }
  if (!result || typeof result !== 'object' || !('ok' in result)) {
    throw new ApiError('unexpected answer from the gateway', 'bad-response');
  }
  if (!result.ok) {
    if (result.error.code === 'unauthorized') setConnection('unauthorized');
    throw ApiError.fromData(result.error);
  }
  return result.value as ResultOf<C>;
}

/** Normalises anything caught into an ApiError (UI code only ever shows ApiErrors). */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(err instanceof Error ? err.message : String(err), 'internal');
}

/* ---- events ---- */

type AnyCb = (data: unknown) => void;
const listeners = new Map<EventName, Set<AnyCb>>();
let source: EventSource | null = null;
let bridgeUnsubs: (() => void)[] = [];
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let hadError = false;

function dispatch(name: EventName, data: unknown): void {
  for (const cb of listeners.get(name) ?? []) {
    try {
      cb(data);
    } catch (err) {
      console.error(`[ui] ${name} listener failed`, err);
    }
  }
}

function openHttpEvents(): void {
  if (!token()) {
    setConnection('unauthorized');
    return;
  }
  setConnection('connecting');
  const es = new EventSource(`/api/events?token=${encodeURIComponent(token())}`);
  source = es;
  es.onopen = () => {
    setConnection('open');
    if (hadError) {
      hadError = false;
      for (const cb of reconnectListeners) cb();
    }
  };
  es.onerror = () => {
    hadError = true;
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (e.g. 401): find out why, then try again later.
      source = null;
      void call('setup.needed').then(
        () => scheduleReopen(),
        (err: unknown) => {
          if (asApiError(err).code !== 'unauthorized') scheduleReopen();
        },
      );
      setConnection('down');
    } else {
      setConnection('connecting');
    }
  };
  for (const name of EVENT_NAMES) {
    es.addEventListener(name, (ev) => {
      let data: unknown;
      try {
        data = JSON.parse((ev as MessageEvent<string>).data);
      } catch {
        return;
      }
      dispatch(name, data);
    });
  }
}

function scheduleReopen(): void {
  if (retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    if (!source && listeners.size) openHttpEvents();
  }, 3000);
}

function ensureEvents(): void {
  const b = bridge();
  if (b) {
    if (bridgeUnsubs.length) return;
    bridgeUnsubs = EVENT_NAMES.map((name) => b.on(name, (data) => dispatch(name, data)));
    setConnection('open');
    return;
  }
  if (!source && !retryTimer) openHttpEvents();
}

export function on<E extends EventName>(event: E, cb: (data: Events[E]) => void): () => void {
  let set = listeners.get(event);
  if (!set) listeners.set(event, (set = new Set()));
  set.add(cb as AnyCb);
  ensureEvents();
  return () => {
    set.delete(cb as AnyCb);
  };
}

/*
 * A client of a running gateway's admin API, for a process that does not host the gateway
 * itself: the desktop app when the Windows service runs the gateway, and the CLI. The same
 * contract as in-process: `call(command, args)` POSTs `/api/<command>` with the token and
 * resolves to the command's result, or rejects with an ApiError (the command's own, or
 * 'unreachable' when nothing answers, 'unauthorized' for a wrong token); `handlers()` is the
 * whole command table over HTTP, so IPC can route to it unchanged. `subscribe()` follows
 * `/api/events` (server-sent events) and hands every event on, reconnecting after a loss with
 * a growing pause (1 s up to 15 s) and reporting 'open' / 'down' as the link changes.
 * Loopback only: the URL must name 127.0.0.0/8, ::1 or localhost. node:http rather than
 * fetch: one HTTP client for both calls and the event stream, without undici's socket options
 * (which Wine's winsock refuses, so the Windows lane can run this as win32).
 * `readAdminInfo(dataDir)` reads the admin.json a running gateway wrote (null when none).
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import {
  ApiError,
  COMMAND_NAMES,
  type ApiResult,
  type ArgsOf,
  type CommandHandlers,
  type CommandName,
  type EventName,
  type Events,
  type ResultOf,
} from '../shared/contract.js';
import { ADMIN_FILE, type AdminInfo } from './admin-host.js';
import { isLoopbackHost } from './security.js';

export interface RemoteTarget {
  /** http://127.0.0.1:8025 (no path). */
  origin: string;
  token: string;
  pid?: number;
}

export type LinkState = 'open' | 'down' | 'unauthorized';

/** The admin URL and token a running gateway published in its data folder, or null. */
export async function readAdminInfo(dataDir: string): Promise<RemoteTarget | null> {
  let info: AdminInfo;
  try {
    info = JSON.parse(await fs.readFile(path.join(dataDir, ADMIN_FILE), 'utf8')) as AdminInfo;
  } catch {
    return null;
  }
  try {
    const url = new URL(info.url);
    const token = new URLSearchParams(url.hash.slice(1)).get('token') ?? '';
    return token ? { origin: url.origin, token, pid: info.pid } : null;
  } catch {
    return null;
  }
}

export interface RemoteClient {
  readonly target: RemoteTarget;
  /** `via`: who asked, for the gateway's audit trail ('ui' from the window, 'cli'). */
  call<C extends CommandName>(command: C, args: ArgsOf<C>, via?: 'ui' | 'cli'): Promise<ResultOf<C>>;
  handlers(): CommandHandlers;
  subscribe(onEvent: <E extends EventName>(name: E, data: Events[E]) => void, onLink?: (s: LinkState) => void): () => void;
}

export function remoteClient(target: RemoteTarget, opts: { timeoutMs?: number } = {}): RemoteClient {
  const origin = new URL(target.origin);
  if (!isLoopbackHost(origin.hostname)) throw new Error(`the admin API must be on this computer (loopback), not ${origin.hostname}`);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const base = { hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(origin.port || 80), agent: false as const };
  const auth = `Bearer ${target.token}`;

  const post = (command: string, body: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { ...base, method: 'POST', path: `/api/${command}`, headers: { host: origin.host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: auth } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', reject);
      req.end(body);
    });

  const call = async <C extends CommandName>(command: C, args: ArgsOf<C>, via?: 'ui' | 'cli'): Promise<ResultOf<C>> => {
    let res: { status: number; text: string };
    try {
      res = await post(command, JSON.stringify(via ? { args: args ?? null, via } : { args: args ?? null }));
    } catch (err) {
      throw new ApiError(`cannot reach the gateway at ${origin.origin}: ${(err as Error).message}`, 'unreachable');
    }
    let body: ApiResult<ResultOf<C>>;
    try {
      body = JSON.parse(res.text) as ApiResult<ResultOf<C>>;
    } catch {
      throw new ApiError(`the gateway at ${origin.origin} answered HTTP ${res.status} without a result`, 'bad-response');
    }
    if (!body.ok) throw ApiError.fromData(body.error);
    return body.value;
  };

  const handlers = (): CommandHandlers => {
    const table: Record<string, (a: unknown) => Promise<unknown>> = {};
    for (const name of COMMAND_NAMES) table[name] = (a) => call(name, a as never);
    return table as unknown as CommandHandlers;
  };

  const subscribe: RemoteClient['subscribe'] = (onEvent, onLink) => {
    let stopped = false;
    let current: http.ClientRequest | null = null;
    let pause = 1000;
    let last: LinkState | null = null;
    const link = (s: LinkState) => {
      if (s !== last) onLink?.(s);
      last = s;
    };
    /** One connection: resolves when it ends, however it ends. */
    const once = () =>
      new Promise<void>((resolve) => {
        const req = http.get({ ...base, path: '/api/events', headers: { host: origin.host, authorization: auth, accept: 'text/event-stream' } }, (res) => {
          if (res.statusCode === 401 || res.statusCode === 429) {
            link('unauthorized');
            res.resume();
            res.on('end', resolve);
            return;
          }
          if (res.statusCode !== 200) {
            res.resume();
            res.on('end', resolve);
            return;
          }
          link('open');
          pause = 1000;
          const parse = eventParser((name, data) => onEvent(name as EventName, data as never));
          res.setEncoding('utf8');
          res.on('data', parse);
          res.on('end', resolve);
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        });
        current = req;
        req.on('error', () => resolve());
      });
    const loop = async () => {
      while (!stopped) {
        await once();
        if (stopped) return;
        link('down');
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 15_000);
      }
    };
    void loop();
    return () => {
      stopped = true;
      current?.destroy();
    };
  };

  return { target, call, handlers, subscribe };
}

/** An SSE parser fed text chunks; calls `emit` per complete event (comments skipped). */
function eventParser(emit: (name: string, data: unknown) => void): (chunk: string) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let name = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (!data.length) continue; // a comment (heartbeat) or retry line
      try {
        emit(name, JSON.parse(data.join('\n')));
      } catch {
        /* a malformed event is skipped */
      }
    }
  };
}

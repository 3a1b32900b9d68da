/*
 * Server-sent events for the admin UI: one subscription per event name to the core, fanned
 * out to every connected browser as `event: <name>\ndata: <json>\n\n`, written at once (no
 * batching, so a receivelog line reaches the live log within milliseconds), with a comment
 * heartbeat every 15 s while at least one browser is connected (no timer otherwise: an idle
 * gateway with its window closed should not wake up for nobody). A client that stops reading is dropped once its buffer passes a
 * limit (its EventSource reconnects and reloads); nothing here throws.
 */
import type { ServerResponse } from 'node:http';
import { EVENT_NAMES, type EventName, type Events } from '../shared/contract.js';
import { SECURITY_HEADERS } from './static-files.js';

export type Subscribe = <E extends EventName>(event: E, cb: (data: Events[E]) => void) => () => void;

/** A slow client is dropped when this much is waiting in its socket buffer. */
const MAX_BUFFERED = 16 * 1024 * 1024;

export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly unsubscribe: (() => void)[] = [];
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    subscribe: Subscribe,
    private readonly heartbeatMs = 15_000,
  ) {
    for (const name of EVENT_NAMES) {
      this.unsubscribe.push(subscribe(name, (data) => this.broadcast(name, data)));
    }
  }

  /** The heartbeat runs only while someone listens. */
  private beat(): void {
    if (this.clients.size > 0 && !this.heartbeat) {
      this.heartbeat = setInterval(() => this.writeAll(': heartbeat\n\n'), this.heartbeatMs);
      this.heartbeat.unref();
    } else if (this.clients.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  get size(): number {
    return this.clients.size;
  }

  add(res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write('retry: 2000\n: connected\n\n');
    this.clients.add(res);
    this.beat();
    const drop = () => {
      this.clients.delete(res);
      this.beat();
    };
    res.on('close', drop);
    res.on('error', drop);
  }

  private broadcast(name: EventName, data: unknown): void {
    if (!this.clients.size) return;
    let json: string;
    try {
      json = JSON.stringify(data);
    } catch {
      return;
    }
    this.writeAll(`event: ${name}\ndata: ${json}\n\n`);
  }

  private writeAll(chunk: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) {
        this.clients.delete(res);
        res.destroy();
        this.beat();
        continue;
      }
      res.write(chunk);
    }
  }

  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

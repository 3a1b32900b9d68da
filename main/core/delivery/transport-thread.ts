/*
 * Outbound SMTP on a thread of its own: the same TransportPool (sessions per hop, caps, idle
 * timers) runs in a worker thread (transport-worker.ts), and this class is its stand-in in the
 * runner's thread with the same send/close/stats, so nodemailer's command and stream work
 * runs on the second core beside receiving, the spool and settling. Measured on a drain of
 * 20,000 queued messages (`npm run bench -- --scale`, bench/README.md): 14.2 s on one thread,
 * 11.0-11.8 s with this one; it costs ~13 MB (a V8 isolate) while it runs.
 *
 * The worker starts with the first send, holds the process open only while a send is out, and
 * is started again by the next send if it ever dies; the sends it had open come back as a
 * connection lost after the message may have gone (deferred, not tried at another hop at
 * once), as for any session that breaks mid-transaction. XOAUTH2 tokens are asked for here,
 * where the login lives. stats() is the worker's last report (a few per second at most).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fromConnectError, fromSendError } from './outcome.js';
import type { FromWorker, ToWorker, WireSettings, WorkerOptions } from './transport-protocol.js';
import type { ConnectSettings, PoolOptions, PoolStats, SendOutcome, Transport } from './transport-pool.js';
import type { XOAuth2Source } from './types.js';

/** The compiled transport-worker.js, also when this module runs from TypeScript sources (tests). */
export function transportWorkerScript(): string {
  const here = fileURLToPath(new URL('./transport-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  // <root>/main/core/delivery -> <root>/dist/main/core/delivery
  return path.resolve(path.dirname(here), '..', '..', '..', 'dist', 'main', 'core', 'delivery', 'transport-worker.js');
}

export interface ThreadedOptions extends PoolOptions {
  /** End the thread after this long with no send and no session. Default 60 s. */
  idleEndMs?: number;
}

interface Pending {
  resolve(o: SendOutcome): void;
  started: number;
  /** The thread it went to: only that thread's end fails it. */
  worker: Worker;
}

const YOUNG_MB = 12;
/** A thread with no session and no send for this long is ended (its ~13 MB come back); the next send starts one (~50 ms). */
const IDLE_END_MS = 60_000;

const NO_STATS: PoolStats = { connections: 0, busy: 0, idle: 0, waiting: 0 };

/** Refused before anything was sent (as the in-process pool says it once closed). */
function refusedOutcome(message: string, started: number): SendOutcome {
  return { transaction: fromConnectError({ code: 'ECONNECTION', message }), tls: false, reused: false, durationMs: Date.now() - started };
}

/** The thread went while the send was out: the message may have gone. */
function lostOutcome(message: string, started: number): SendOutcome {
  return { transaction: fromSendError({ code: 'ECONNECTION', message }, true), tls: false, reused: false, durationMs: Date.now() - started };
}

export class ThreadedTransport implements Transport {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly sources = new Map<string, XOAuth2Source>();
  private nextSid = 1;
  private last: PoolStats = NO_STATS;
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;

  private readonly idleEndMs: number;

  constructor(
    private readonly opts: ThreadedOptions,
    private readonly script: string = transportWorkerScript(),
  ) {
    this.idleEndMs = opts.idleEndMs ?? IDLE_END_MS;
  }

  stats(): PoolStats {
    return this.worker ? this.last : NO_STATS;
  }

  /** Whether the thread is running now (diagnostics, tests). */
  threadRunning(): boolean {
    return this.worker !== null;
  }

  send(s: ConnectSettings, envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendOutcome> {
    const started = Date.now();
    if (this.closed) return Promise.resolve(refusedOutcome('delivery stopped (gateway shutting down)', started));
    let wire: WireSettings;
    if (s.auth && 'xoauth2' in s.auth) {
      this.sources.set(s.auth.xoauth2.id, s.auth.xoauth2);
      wire = { ...s, auth: { user: s.auth.user, xoauth2: { id: s.auth.xoauth2.id } } };
    } else {
      wire = s as WireSettings;
    }
    const w = this.ensure();
    const sid = this.nextSid++;
    return new Promise<SendOutcome>((resolve) => {
      this.pending.set(sid, { resolve, started, worker: w });
      if (this.pending.size === 1) w.ref();
      this.idleCheck();
      // A message under 4 KB is a view into Node's shared 8 KB Buffer pool, and a clone copies a
      // view's whole ArrayBuffer: the thread got (and kept until its next GC) 8 KB of pool for
      // every 2 KB message. One exact-size copy is made here and moved, not cloned again.
      const bytes = new Uint8Array(raw);
      this.post(w, { t: 'send', sid, settings: wire, envelope, raw: bytes, caps: this.opts.caps() }, [bytes.buffer]);
    });
  }

  close(force = false): void {
    this.closed = true;
    if (this.worker) this.post(this.worker, { t: 'close', force });
  }

  /** After close(): lets the open sends come back (up to `waitMs`), then ends the thread. */
  async dispose(waitMs = 5_000): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const w = this.worker;
    if (!w) return;
    const deadline = Date.now() + waitMs;
    while (this.pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.worker = null;
    this.fail(w, 'delivery stopped (gateway shutting down)');
    await w.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const data: WorkerOptions = { idleMs: this.opts.idleMs, socketTimeoutMs: this.opts.socketTimeoutMs, maxMessagesPerConnection: this.opts.maxMessagesPerConnection };
    // The young generation capped as the process's own is (node-flags.ts, --max-semi-space-size=4);
    // a worker's default would let it grow to 48 MB. (3 MB instead of 12 changed nothing measurable.)
    const w = new Worker(this.script, { workerData: data, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
    this.worker = w;
    this.last = NO_STATS;
    w.unref();
    w.on('message', (msg: FromWorker) => this.onMessage(w, msg));
    w.on('error', (err) => this.lost(w, `delivery thread failed: ${err.message}`));
    w.on('exit', (code) => this.lost(w, `delivery thread exited (code ${code})`));
    return w;
  }

  private onMessage(w: Worker, msg: FromWorker): void {
    switch (msg.t) {
      case 'sent': {
        this.last = msg.stats;
        const p = this.pending.get(msg.sid);
        this.pending.delete(msg.sid);
        if (this.pending.size === 0) w.unref();
        p?.resolve(msg.outcome);
        this.idleCheck();
        break;
      }
      case 'stats':
        this.last = msg.stats;
        this.idleCheck();
        break;
      case 'token': {
        const src = this.sources.get(msg.source);
        if (!src) {
          this.post(w, { t: 'token', rid: msg.rid, error: 'XOAUTH2 login no longer configured' });
          break;
        }
        src.token(msg.force).then(
          (token) => this.post(w, { t: 'token', rid: msg.rid, token }),
          (err: Error) => this.post(w, { t: 'token', rid: msg.rid, error: err?.message ?? String(err) }),
        );
        break;
      }
      default:
        break;
    }
  }

  /** No send out and no session open: end the thread after IDLE_END_MS unless a send comes first. */
  private idleCheck(): void {
    const idle = this.worker !== null && this.pending.size === 0 && this.last.connections === 0;
    if (!idle) {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = null;
      return;
    }
    if (this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const w = this.worker;
      if (!w || this.pending.size > 0 || this.last.connections > 0) return;
      this.worker = null;
      void w.terminate();
    }, this.idleEndMs);
    this.idleTimer.unref();
  }

  /** The worker is gone: its open sends end as a session lost mid-transaction; the next send starts a new one. */
  private lost(w: Worker, why: string): void {
    if (this.worker === w) this.worker = null;
    this.fail(w, why);
  }

  /**
   * Ends the sends that went to `w`, and only those: a thread ended for idleness reports its
   * exit after the next send may already have started a new thread.
   */
  private fail(w: Worker, why: string): void {
    for (const [sid, p] of this.pending) {
      if (p.worker !== w) continue;
      this.pending.delete(sid);
      // The message may have been on its way when the thread went: treat it as possibly delivered.
      p.resolve(lostOutcome(why, p.started));
    }
  }

  private post(w: Worker, msg: ToWorker, transfer?: ArrayBuffer[]): void {
    try {
      w.postMessage(msg, transfer);
    } catch (err) {
      this.lost(w, `delivery thread unreachable: ${(err as Error).message}`);
    }
  }
}

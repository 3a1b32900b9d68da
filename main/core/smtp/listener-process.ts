/*
 * A listener process: a second (third...) process accepting SMTP on the main process's
 * listening socket, so receiving uses more than one CPU core (Node runs JavaScript on one
 * thread per process). It runs the same Receiver on the same live config and writes the same
 * spool, fsync'd before the 250; everything else stays in the main process, which it tells:
 * each receivelog entry (batched per turn of the event loop), each queued message (before its
 * 250, so the main process delivers it), and it asks the main process whether a new session
 * fits the connection limits and, when needed, whether the office server knows a recipient.
 *
 * Started by ListenerPool (listener-pool.ts) with child_process.fork; it exits when told to
 * stop, and at once when the main process goes away (its socket must not outlive the app).
 */
import type { Server as NetServer } from 'node:net';
import { compilePolicy, type CompiledPolicy } from '../policy/index.js';
import { Spool } from '../spool/index.js';
import type { GatehouseConfig, ReceiveLogEntry } from '../../shared/types.js';
import type { FrozenSender } from '../../shared/outbound.js';
import type { ConnectionGate, LimitRule } from './connection-gate.js';
import type { FromListener, ListenerInit, ToListener } from './listener-protocol.js';
import { Receiver } from './receiver.js';

function send(msg: FromListener, done?: () => void): void {
  if (!process.connected) return;
  process.send!(msg, undefined, {}, done ? () => done() : undefined);
}

class ListenerProcess {
  private cfg: GatehouseConfig;
  private compiled: { cfg: GatehouseConfig; policy: CompiledPolicy } | null = null;
  private readonly spool: Spool;
  private readonly held: Spool | null;
  private frozen: FrozenSender[];
  private readonly receiver: Receiver;
  private pendingLog: ReceiveLogEntry[] = [];
  private nextRid = 1;
  private readonly waiting = new Map<number, (answer: never) => void>();

  constructor(private readonly init: ListenerInit) {
    this.cfg = init.cfg;
    this.spool = new Spool(init.spoolDir, { fsync: init.fsync });
    this.held = init.heldDir ? new Spool(init.heldDir, { fsync: init.fsync }) : null;
    this.frozen = init.frozen ?? [];
    const held = this.held;
    // Every session is the main process's to admit (its table counts all processes).
    const gate: ConnectionGate = {
      admit: (ip, trusted) => this.request<LimitRule | null>((rid) => ({ t: 'ask', rid, ip, trusted })),
      release: (ip) => send({ t: 'closed', ip }),
    };
    this.receiver = new Receiver({
      config: () => this.cfg,
      policy: () => this.policy(),
      verifyRecipient: (recipient) => this.request((rid) => ({ t: 'verify', rid, recipient })),
      spool: this.spool,
      log: (e) => this.log(e),
      onQueued: (header) => {
        // Logged entries first, so the main process sees the 250 line before it delivers.
        this.flushLog();
        send({ t: 'queued', header });
      },
      gate,
      outbound: held
        ? {
            frozen: (sender) => this.frozen.find((f) => f.address === sender.toLowerCase()),
            count: (sender, external) => this.request<FrozenSender | null>((rid) => ({ t: 'count', rid, sender, external })),
            held,
            onHeld: (header) => {
              this.flushLog();
              send({ t: 'held', header });
            },
          }
        : undefined,
    });
  }

  /** Everything that may wait, done before the socket arrives (a big policy compiles in ~0.3 s). */
  async prepare(): Promise<void> {
    await this.spool.openForWriting();
    await this.held?.openForWriting();
    this.policy();
  }

  /** Takes the socket over in the same turn it arrives (see Receiver.attachShared). */
  attach(handle: NetServer): void {
    const tls = this.init.tls;
    this.receiver.attachShared(handle, tls ? { key: Buffer.from(tls.key), cert: Buffer.from(tls.cert), source: 'main process' } : null);
  }

  async stop(): Promise<void> {
    await this.receiver.stop();
    await this.spool.close();
    await this.held?.close();
    this.flushLog();
  }

  onMessage(msg: ToListener): void {
    if (msg.t === 'config') {
      this.cfg = msg.cfg;
      this.receiver.applyLimits();
    } else if (msg.t === 'admitted') {
      this.answer(msg.rid, msg.rule);
    } else if (msg.t === 'verified') {
      this.answer(msg.rid, msg.answer);
    } else if (msg.t === 'counted') {
      this.answer(msg.rid, msg.frozen);
    } else if (msg.t === 'frozen') {
      this.frozen = msg.list;
    }
  }

  private policy(): CompiledPolicy {
    if (!this.compiled || this.compiled.cfg !== this.cfg) this.compiled = { cfg: this.cfg, policy: compilePolicy(this.cfg) };
    return this.compiled.policy;
  }

  private log(e: ReceiveLogEntry): void {
    // One IPC message per turn of the event loop instead of one per entry.
    if (this.pendingLog.length === 0) setImmediate(() => this.flushLog());
    this.pendingLog.push(e);
  }

  private flushLog(): void {
    if (this.pendingLog.length === 0) return;
    const entries = this.pendingLog;
    this.pendingLog = [];
    send({ t: 'log', entries });
  }

  private request<T>(make: (rid: number) => FromListener): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!process.connected) return reject(new Error('main process gone'));
      const rid = this.nextRid++;
      this.waiting.set(rid, resolve as (answer: never) => void);
      send(make(rid));
    });
  }

  private answer(rid: number, value: unknown): void {
    const resolve = this.waiting.get(rid);
    this.waiting.delete(rid);
    resolve?.(value as never);
  }
}

let listener: ListenerProcess | null = null;

process.on('message', (msg: ToListener, handle?: NetServer) => {
  if (msg.t === 'init') {
    if (listener) return;
    const l = new ListenerProcess(msg.init);
    listener = l;
    l.prepare().then(
      () => send({ t: 'prepared' }),
      (err: Error) => send({ t: 'failed', error: err.message }, () => process.exit(1)),
    );
  } else if (msg.t === 'listen') {
    if (!listener || !handle) return;
    try {
      listener.attach(handle);
      send({ t: 'ready' });
    } catch (err) {
      send({ t: 'failed', error: (err as Error).message }, () => process.exit(1));
    }
  } else if (msg.t === 'stop') {
    const l = listener;
    listener = null;
    const done = () => send({ t: 'stopped' }, () => process.exit(0));
    if (!l) return done();
    l.stop().then(done, done);
  } else {
    listener?.onMessage(msg);
  }
});

// The main process is gone (it crashed or was killed): stop accepting at once. A session cut
// here got no 250, so its client still has the message and sends it again.
process.on('disconnect', () => process.exit(0));

process.on('uncaughtException', (err) => {
  send({ t: 'failed', error: `${err.name}: ${err.message}` }, () => process.exit(1));
  setTimeout(() => process.exit(1), 1000).unref();
});

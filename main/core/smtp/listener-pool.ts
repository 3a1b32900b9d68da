/*
 * The main process's side of the listener processes (listener-process.ts): forks them, hands
 * each the listening socket, answers what they ask (connection limits, recipient checks),
 * passes on what they report (receivelog entries, queued messages), and stops them with the
 * listener. One that dies is replaced after a pause; what it had spooled but not reported is
 * picked up by `onLost` (the gateway adopts unknown complete spool files).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Server as NetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatehouseConfig, ReceiveLogEntry } from '../../shared/types.js';
import type { SpoolHeader } from '../spool/index.js';
import { GATEWAY_NODE_FLAGS } from '../node-flags.js';
import { ConnectionCounts } from './connection-gate.js';
import type { FromListener, ListenerInit, ToListener } from './listener-protocol.js';
import type { FrozenSender } from '../../shared/outbound.js';

export interface ListenerPoolDeps {
  /** The connection table the main process's own listener uses too. */
  counts: ConnectionCounts;
  config(): GatehouseConfig;
  log(e: ReceiveLogEntry): void;
  /** A listener process spooled a message (fsync'd; its 250 goes out after this is sent). */
  onQueued(header: SpoolHeader): void;
  verifyRecipient(recipient: string): Promise<'ok' | 'unknown' | 'tempfail'>;
  /** A listener process died: find what it spooled and did not report. */
  onLost(): Promise<void>;
  /** Outbound controls: a held copy a listener process spooled, and the sender limits. */
  onHeld?(header: SpoolHeader): void;
  countSender?(sender: string, external: number): Promise<FrozenSender | null>;
}

interface Child {
  n: number;
  proc: ChildProcess;
  /** Sessions this process has open, to give back if it dies. */
  counts: ConnectionCounts;
  stopping: boolean;
  stderr: string;
  startedAt: number;
  /** Sessions it has admitted since it started. */
  sessions: number;
}

export interface ListenerProcessInfo {
  n: number;
  pid: number | undefined;
  sessions: number;
}

const START_TIMEOUT_MS = 15_000;
/** After a stop request: smtp-server's closeTimeout (5 s) for open sessions, plus margin. */
const STOP_TIMEOUT_MS = 8_000;
const RESTART_DELAY_MS = [500, 2_000, 10_000, 30_000];

/** The compiled listener-process.js, also when this module runs from TypeScript sources (tests). */
export function listenerScript(): string {
  const here = fileURLToPath(new URL('./listener-process.js', import.meta.url));
  if (existsSync(here)) return here;
  // <root>/main/core/smtp -> <root>/dist/main/core/smtp
  return path.resolve(path.dirname(here), '..', '..', '..', 'dist', 'main', 'core', 'smtp', 'listener-process.js');
}

function note(text: string, event: ReceiveLogEntry['event'] = 'service'): ReceiveLogEntry {
  return { ts: new Date().toISOString(), event, session: '', clientIp: '', tls: false, ...(event === 'error' ? { error: text } : { note: text }) };
}

export class ListenerPool {
  private readonly children = new Map<number, Child>();
  private server: NetServer | null = null;
  private init: Omit<ListenerInit, 'cfg'> | null = null;
  private wanted = 0;
  private crashes = 0;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ListenerPoolDeps) {}

  /** Number of listener processes running now. */
  size(): number {
    return this.children.size;
  }

  /** The running listener processes (diagnostics, tests). */
  info(): ListenerProcessInfo[] {
    return [...this.children.values()].map((c) => ({ n: c.n, pid: c.proc.pid, sessions: c.sessions }));
  }

  /**
   * Starts `extra` listener processes on `server` (already listening). Resolves when each is
   * accepting or has failed to start; a failure is logged and the main process listens alone.
   */
  async start(server: NetServer, extra: number, init: Omit<ListenerInit, 'cfg'>): Promise<void> {
    this.server = server;
    this.init = init;
    this.wanted = extra;
    this.crashes = 0;
    await Promise.all(Array.from({ length: extra }, (_, i) => this.spawn(i + 1)));
  }

  /** Stops every listener process (each lets its open sessions finish, up to 5 s). */
  async stop(): Promise<void> {
    this.wanted = 0;
    this.server = null;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await Promise.all([...this.children.values()].map((c) => this.stopChild(c)));
  }

  /** The frozen senders changed: every listener process refuses them from the next command. */
  frozenChanged(list: FrozenSender[]): void {
    if (this.init) this.init = { ...this.init, frozen: list };
    for (const c of this.children.values()) this.send(c, { t: 'frozen', list });
  }

  /** A new config for every listener process (the next SMTP command uses it). */
  configChanged(cfg: GatehouseConfig): void {
    for (const c of this.children.values()) this.send(c, { t: 'config', cfg });
  }

  private spawn(n: number): Promise<void> {
    const server = this.server;
    const init = this.init;
    if (!server || !init) return Promise.resolve();
    const env: NodeJS.ProcessEnv = { ...process.env };
    // In the desktop app process.execPath is Electron itself: run it as plain Node.
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    const proc = fork(listenerScript(), [], {
      env,
      execArgv: [...GATEWAY_NODE_FLAGS],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const child: Child = { n, proc, counts: new ConnectionCounts(), stopping: false, stderr: '', startedAt: Date.now(), sessions: 0 };
    this.children.set(n, child);
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      child.stderr = (child.stderr + d).slice(-2000);
    });
    return new Promise<void>((resolve) => {
      let settled = false;
      const settle = (problem?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (problem) this.deps.log(note(`listener process ${n}: ${problem}`, 'error'));
        resolve();
      };
      const timer = setTimeout(() => {
        settle('did not start in time');
        proc.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      proc.on('message', (msg: FromListener) => {
        // The socket goes only to a process that is ready to take it over at once.
        if (msg.t === 'prepared') this.send(child, { t: 'listen' }, server);
        else if (msg.t === 'ready') settle();
        else if (msg.t === 'failed') settle(`failed: ${msg.error}`);
        else this.onMessage(child, msg);
      });
      proc.on('error', (err) => settle(`cannot start: ${err.message}`));
      proc.on('exit', (code, signal) => {
        settle(`exited before it was ready (${signal ?? `code ${code}`}) ${child.stderr.trim().split('\n').slice(-1)[0] ?? ''}`.trim());
        this.onExit(child, code, signal);
      });
      this.send(child, { t: 'init', init: { ...init, cfg: this.deps.config() } });
    });
  }

  private onMessage(child: Child, msg: FromListener): void {
    switch (msg.t) {
      case 'log':
        for (const e of msg.entries) this.deps.log(e);
        break;
      case 'queued':
        this.deps.onQueued(msg.header);
        break;
      case 'ask': {
        // Trust as the listener process's policy saw it (the same config, pushed to it live).
        const rule = this.deps.counts.check(msg.ip, this.deps.config().limits, msg.trusted);
        if (rule === null) {
          this.deps.counts.add(msg.ip);
          child.counts.add(msg.ip);
          child.sessions++;
        }
        this.send(child, { t: 'admitted', rid: msg.rid, rule });
        break;
      }
      case 'closed':
        this.deps.counts.remove(msg.ip);
        child.counts.remove(msg.ip);
        break;
      case 'verify':
        this.deps.verifyRecipient(msg.recipient).then(
          (answer) => this.send(child, { t: 'verified', rid: msg.rid, answer }),
          () => this.send(child, { t: 'verified', rid: msg.rid, answer: 'tempfail' }),
        );
        break;
      case 'held':
        this.deps.onHeld?.(msg.header);
        break;
      case 'count': {
        const count = this.deps.countSender ?? (async () => null);
        count(msg.sender, msg.external).then(
          (frozen) => this.send(child, { t: 'counted', rid: msg.rid, frozen }),
          () => this.send(child, { t: 'counted', rid: msg.rid, frozen: null }),
        );
        break;
      }
      case 'failed':
        this.deps.log(note(`listener process ${child.n}: ${msg.error}`, 'error'));
        break;
      default:
        break;
    }
  }

  private onExit(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.children.get(child.n) === child) this.children.delete(child.n);
    // Its open sessions are gone with it.
    for (const [ip, k] of child.counts.entries()) this.deps.counts.remove(ip, k);
    if (child.stopping) return;
    const last = child.stderr.trim().split('\n').slice(-1)[0];
    this.deps.log(note(`listener process ${child.n} exited (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}; sessions it had open were cut, their clients retry`, 'error'));
    void this.deps.onLost().catch((err: Error) => this.deps.log(note(`spool check after listener process exit: ${err.message}`, 'error')));
    if (this.wanted === 0 || !this.server) return;
    if (Date.now() - child.startedAt > 60_000) this.crashes = 0; // a crash after a good run starts the back-off over
    const delay = RESTART_DELAY_MS[Math.min(this.crashes, RESTART_DELAY_MS.length - 1)]!;
    this.crashes++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.wanted > 0 && !this.children.has(child.n)) void this.spawn(child.n);
    }, delay);
    this.restartTimer.unref();
  }

  private stopChild(child: Child): Promise<void> {
    child.stopping = true;
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (!this.send(child, { t: 'stop' })) child.proc.kill('SIGKILL');
    });
  }

  private send(child: Child, msg: ToListener, handle?: NetServer): boolean {
    if (!child.proc.connected) return false;
    try {
      child.proc.send(msg, handle as never);
      return true;
    } catch {
      return false;
    }
  }
}

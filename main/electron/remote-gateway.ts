/*
 * The desktop app as the remote control of the Windows service: a GatewayLike (what the Shell
 * drives) and a command table whose gateway lives in another process. It reads the admin URL
 * and token the service publishes (admin.json in the service's data folder, shared with the
 * users who administer it), follows its events over SSE and forwards every command over HTTP:
 * the same contract as in-process. Start and Stop act on the Windows service itself
 * (`control`); closing this object only stops following (quitting the tray never stops the
 * service). The link's state is kept for the tray: 'connected', 'service-stopped' (the service
 * is installed but not running) or 'unreachable' (it runs, or should, but its admin API does
 * not answer). status() is the service's last status, or one made up from the link's state
 * while there is none. No electron import: tested under plain Node.
 */
import { ApiError, COMMAND_NAMES, EVENT_NAMES, type CommandHandlers, type EventName, type Events, type GatewayStatus } from '../shared/contract.js';
import { readAdminInfo, remoteClient, type RemoteClient } from '../headless/remote-client.js';
import type { GatewayLike } from './lifecycle.js';
import type { ServiceControl } from '../core/service/control.js';

export type RemoteLink = 'connected' | 'service-stopped' | 'unreachable';

export type { ServiceControl };

export interface RemoteGatewayOptions {
  /** The service's data folder (admin.json is read there). */
  dataDir: string;
  control: ServiceControl;
  log(line: string): void;
  /** How often to look for the service while not connected. */
  pollMs?: number;
  /** How long start() waits for the admin API to answer. */
  startWaitMs?: number;
}

function madeUpStatus(dataDir: string, error: string | null): GatewayStatus {
  return {
    running: false,
    role: 'service',
    listen: null,
    listenerProcesses: 0,
    configured: { host: '', port: 0 },
    startedAt: null,
    error,
    configProblem: null,
    portInUse: null,
    dataDir,
    logDir: '',
    today: { accepted: 0, rejected: 0, deferred: 0, bounced: 0, delivered: 0 },
    queue: { total: 0, deferred: 0, hold: 0 },
    delivery: { paused: false, heldDomains: [] },
    // Nothing is known while the service does not answer; the tray shows the remote state.
    health: { level: 'ok', reasons: [] },
  };
}

export class RemoteGateway implements GatewayLike {
  private client: RemoteClient | null = null;
  private unsubscribe: (() => void) | null = null;
  private last: GatewayStatus | null = null;
  private linkState: RemoteLink = 'unreachable';
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private connecting: Promise<void> | null = null;
  private readonly listeners = new Map<EventName, Set<(data: unknown) => void>>();
  private readonly linkListeners = new Set<(l: RemoteLink) => void>();

  constructor(private readonly opts: RemoteGatewayOptions) {}

  get link(): RemoteLink {
    return this.linkState;
  }

  /** Starts following the service (returns once the first attempt is done). */
  async open(): Promise<void> {
    await this.tryConnect();
    this.timer = setInterval(() => void this.tryConnect(), this.opts.pollMs ?? 2000);
    this.timer.unref();
  }

  on<E extends EventName>(event: E, cb: (data: Events[E]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(cb as (d: unknown) => void);
    this.listeners.set(event, set);
    return () => set.delete(cb as (d: unknown) => void);
  }

  onLink(cb: (l: RemoteLink) => void): () => void {
    this.linkListeners.add(cb);
    return () => this.linkListeners.delete(cb);
  }

  private emit(event: EventName, data: unknown): void {
    for (const cb of this.listeners.get(event) ?? []) cb(data);
  }

  private setLink(l: RemoteLink, why?: string): void {
    if (l === this.linkState) return;
    this.linkState = l;
    this.opts.log(`service link: ${l}${why ? ` (${why})` : ''}`);
    if (l !== 'connected') this.emit('status', this.status());
    for (const cb of this.linkListeners) cb(l);
  }

  private tryConnect(): Promise<void> {
    if (this.closed || this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      try {
        const target = await readAdminInfo(this.opts.dataDir);
        if (!target) {
          const running = await this.opts.control.running().catch(() => false);
          this.setLink(running ? 'unreachable' : 'service-stopped', running ? 'no admin.json yet' : undefined);
          return;
        }
        const client = remoteClient(target, { timeoutMs: 10_000 });
        const st = await client.call('status', undefined);
        if (this.closed) return;
        this.client = client;
        this.last = st;
        this.unsubscribe = client.subscribe(
          (name, data) => {
            if (name === 'status') this.last = data as GatewayStatus;
            if (name === 'queue' && this.last) this.last = { ...this.last, queue: data as GatewayStatus['queue'] };
            this.emit(name, data);
          },
          (s) => {
            if (s === 'open') return void this.setLink('connected');
            // Lost: drop this client; the poll finds the service again (a new token or port after a restart).
            this.dropClient();
            void this.opts.control.running().then(
              (running) => this.setLink(running ? 'unreachable' : 'service-stopped'),
              () => this.setLink('unreachable'),
            );
          },
        );
        this.setLink('connected');
        this.emit('status', st);
      } catch (err) {
        const running = await this.opts.control.running().catch(() => true);
        this.setLink(running ? 'unreachable' : 'service-stopped', (err as Error).message);
      } finally {
        this.connecting = null;
      }
    })();
    return this.connecting;
  }

  private dropClient(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.client = null;
    this.last = null;
  }

  status(): GatewayStatus {
    if (this.linkState === 'connected' && this.last) return this.last;
    const error = this.linkState === 'service-stopped' ? null : 'cannot reach the Gatehouse service';
    return madeUpStatus(this.opts.dataDir, error);
  }

  /** Starts the Windows service and waits until its admin API answers. */
  async start(): Promise<GatewayStatus> {
    if (!this.opts.control.available) throw new ApiError('the Gatehouse service can be started from this app on Windows only', 'unsupported');
    await this.opts.control.start();
    const until = Date.now() + (this.opts.startWaitMs ?? 30_000);
    while (Date.now() < until && !this.closed) {
      await this.tryConnect();
      if (this.client) return this.status();
      await new Promise((r) => setTimeout(r, 500));
    }
    return this.status();
  }

  /** Stops the Windows service (its deliveries finish or go back to the queue). */
  async stop(): Promise<GatewayStatus> {
    if (!this.opts.control.available) throw new ApiError('the Gatehouse service can be stopped from this app on Windows only', 'unsupported');
    await this.opts.control.stop();
    this.dropClient();
    this.setLink('service-stopped');
    return this.status();
  }

  /** Stops following; the service keeps running. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.dropClient();
  }

  /** The contract's commands, forwarded to the service ('unreachable' while there is no link). */
  handlers(): CommandHandlers {
    const table: Record<string, (a: unknown, call?: { via: string }) => Promise<unknown>> = {};
    for (const name of COMMAND_NAMES) {
      table[name] = async (a, call) => {
        await this.tryConnect();
        if (!this.client) throw new ApiError(this.linkState === 'service-stopped' ? 'the Gatehouse service is not running; start it from the tray' : 'cannot reach the Gatehouse service', 'unreachable');
        return this.client.call(name, a as never, call?.via === 'ui' || call?.via === 'cli' ? call.via : undefined);
      };
    }
    return table as unknown as CommandHandlers;
  }
}

export const REMOTE_EVENTS: readonly EventName[] = EVENT_NAMES;

/*
 * The desktop app's behaviour, over injected ports so it runs without Electron in tests:
 * start-up (the gateway starts with the app unless desktop.json or --no-gateway-start says
 * otherwise; --hidden, used by the login item, keeps the window closed), the tray menu's
 * actions, closing the window hides it while the gateway keeps running, and Quit closes the
 * gateway gracefully (listener first, then delivery: in-flight attempts finish or go back to
 * the queue; the spool is durable either way) before the process ends. Status, queue and
 * traffic changes re-render the tray and raise notifications (unexpected stop after a short
 * grace period, so a listener move does not alarm anyone; a new error; mail deferring, at
 * most every 10 minutes). In service mode (`remote` port) the gateway is the Windows service's
 * remote control: nothing starts with the app, Start/Stop act on the service, and the tray
 * shows the link ("service not running", "cannot reach the service"). Nothing here throws to
 * its caller: failures are logged and show up as the tray's error state or a notification.
 * `parseShellArgs` reads the command line.
 */
import { ApiError, type CommandHandlers, type GatewayStatus, type Notice as CoreNotice } from '../shared/contract.js';
import { noticeText } from '../shared/notices.js';
import type { HostPort } from '../shared/types.js';
import type { DesktopSettings } from './desktop-settings.js';
import { noticesFor, trayHint, trayModel, type Lang, type MenuAction, type Notice, type TrayModel } from './tray-state.js';

export interface ShellOptions {
  /** Launched by the login item: stay in the tray. */
  hidden: boolean;
  /** Do not start the SMTP listener this time, whatever desktop.json says. */
  noGatewayStart: boolean;
  /** Listener for this run only (tests). */
  listen?: HostPort;
  /** Create a new data folder with the demo config (loopback, test.jp) instead of the defaults. */
  demo: boolean;
  /** Data folder (default: GATEHOUSE_DATA or the per-user folder). */
  dataDir?: string;
  /** Do not serve the admin API over HTTP on loopback (--no-admin-http, GATEHOUSE_NO_ADMIN_HTTP=1). */
  noAdminHttp: boolean;
}

export class ShellArgsError extends Error {}

function parseListen(s: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new ShellArgsError(`--listen: expected host:port, got "${s}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/**
 * Reads Gatehouse's own switches from anywhere in argv (Electron and Chromium add their own,
 * which are ignored). Environment: GATEHOUSE_LISTEN, GATEHOUSE_DEMO=1, GATEHOUSE_DATA,
 * GATEHOUSE_NO_ADMIN_HTTP=1.
 * Throws ShellArgsError for a malformed --listen.
 */
export function parseShellArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ShellOptions {
  const opts: ShellOptions = { hidden: false, noGatewayStart: false, demo: env.GATEHOUSE_DEMO === '1', noAdminHttp: env.GATEHOUSE_NO_ADMIN_HTTP === '1' };
  if (env.GATEHOUSE_LISTEN) opts.listen = parseListen(env.GATEHOUSE_LISTEN);
  if (env.GATEHOUSE_DATA) opts.dataDir = env.GATEHOUSE_DATA;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ShellArgsError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--hidden':
        opts.hidden = true;
        break;
      case '--no-gateway-start':
        opts.noGatewayStart = true;
        break;
      case '--demo':
        opts.demo = true;
        break;
      case '--no-admin-http':
        opts.noAdminHttp = true;
        break;
      case '--listen':
        opts.listen = parseListen(value());
        break;
      case '--data':
        opts.dataDir = value();
        break;
    }
  }
  return opts;
}

export interface GatewayLike {
  start(): Promise<GatewayStatus>;
  stop(): Promise<GatewayStatus>;
  status(): GatewayStatus;
  close(): Promise<void>;
}

export interface ShellPorts {
  gateway: GatewayLike;
  lang: Lang;
  /** Creates the window if needed, shows and focuses it. */
  showWindow(): void;
  /** Opens a folder in the file manager; resolves to '' or an error text (shell.openPath). */
  openFolder(dir: string): Promise<string>;
  getOpenAtLogin(): boolean;
  setOpenAtLogin(open: boolean): void;
  loadSettings(): DesktopSettings;
  saveSettings(s: DesktopSettings): Promise<void>;
  renderTray(model: TrayModel): void;
  notify(n: Notice): void;
  /** Ends the process; called once, after the gateway is closed. */
  exit(code: number): void;
  log(line: string): void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => () => void;
  /**
   * Service mode: the Windows service hosts the gateway and `gateway` is its remote control.
   * Returns the link's state and whether Start/Stop can act on the service.
   */
  remote?: () => { link: 'connected' | 'service-stopped' | 'unreachable'; control: boolean };
}

/** An unexpected stop is reported only if the listener is still down after this long. */
export const STOP_GRACE_MS = 2000;
/** Deferring mail is reported at most this often. */
export const DEFER_NOTICE_EVERY_MS = 10 * 60 * 1000;
/** Quit waits this long for the gateway to close; the spool is durable either way. */
export const QUIT_TIMEOUT_MS = 30_000;
/** Tray tooltip refresh for traffic counts, at most this often. */
export const TRAFFIC_RENDER_MS = 1000;

export class Shell {
  private last: GatewayStatus | null = null;
  private settings: DesktopSettings;
  private busy = false;
  private stopRequested = false;
  private quitPromise: Promise<void> | null = null;
  private closed = false;
  private hintShown = false;
  private lastDeferNotice = -Infinity;
  private lastErrorNoticed: string | null = null;
  private pendingStop: (() => void) | null = null;
  private trafficTimer: (() => void) | null = null;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;

  constructor(private readonly ports: ShellPorts) {
    this.settings = ports.loadSettings();
    this.now = ports.now ?? (() => Date.now());
    this.setTimer =
      ports.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      });
  }

  get quitting(): boolean {
    return this.quitPromise !== null;
  }

  /** The tray as it should look now. */
  model(): TrayModel {
    const remote = this.ports.remote?.();
    return trayModel(
      this.last,
      { openAtLogin: this.safeOpenAtLogin(), startGatewayOnLaunch: this.settings.startGatewayOnLaunch, busy: this.busy, remote: remote?.link, serviceControl: remote?.control },
      this.ports.lang,
    );
  }

  private safeOpenAtLogin(): boolean {
    try {
      return this.ports.getOpenAtLogin();
    } catch {
      return false;
    }
  }

  private render(): void {
    try {
      this.ports.renderTray(this.model());
    } catch (err) {
      this.ports.log(`tray: ${(err as Error).message}`);
    }
  }

  private notify(n: Notice): void {
    try {
      this.ports.notify(n);
    } catch (err) {
      this.ports.log(`notification: ${(err as Error).message}`);
    }
  }

  async startup(opts: Pick<ShellOptions, 'hidden' | 'noGatewayStart'>): Promise<void> {
    this.last = this.ports.gateway.status();
    this.render();
    if (!opts.hidden) this.ports.showWindow();
    if (this.ports.remote) {
      // The service runs by itself; this app only shows and controls it.
      this.ports.log('service mode: this app is the remote control of the Gatehouse Windows service');
    } else if (opts.noGatewayStart || !this.settings.startGatewayOnLaunch) {
      this.ports.log('gateway not started (start it from the tray or the window)');
    } else {
      try {
        const st = await this.ports.gateway.start();
        this.ports.log(`SMTP listening on ${st.listen?.host}:${st.listen?.port}`);
      } catch (err) {
        this.ports.log(`SMTP listener NOT started: ${(err as Error).message}`);
      }
    }
    this.onStatus(this.ports.gateway.status());
  }

  /** Service mode: the link to the service changed; the tray shows it. */
  onLink(): void {
    this.onStatus(this.ports.gateway.status());
  }

  /** A status event from the gateway (or a fresh status() after an action). */
  onStatus(next: GatewayStatus): void {
    const prev = this.last;
    this.last = next;
    const notices = noticesFor(prev, next, { stopRequested: this.stopRequested || this.quitting, lang: this.ports.lang });
    if (!next.running) this.stopRequested = false;
    if (next.running && this.pendingStop) {
      // Came back within the grace period (a listener move): nothing to report.
      this.pendingStop();
      this.pendingStop = null;
    }
    for (const n of notices) {
      if (n.kind === 'stopped') {
        this.pendingStop?.();
        this.pendingStop = this.setTimer(() => {
          this.pendingStop = null;
          const now = this.last;
          if (this.quitting || !now || now.running) return;
          if (now.error && now.error === this.lastErrorNoticed) return; // already told
          if (now.error) this.lastErrorNoticed = now.error;
          this.notify(now.error ? { ...n, body: now.error } : n);
        }, STOP_GRACE_MS);
      } else if (n.kind === 'error') {
        this.lastErrorNoticed = next.error;
        this.notify(n);
      } else if (n.kind === 'deferring') {
        const t = this.now();
        if (t - this.lastDeferNotice >= DEFER_NOTICE_EVERY_MS) {
          this.lastDeferNotice = t;
          this.notify(n);
        }
      }
    }
    this.render();
  }

  /** A queue-count event: only the counts changed. */
  onQueue(q: GatewayStatus['queue']): void {
    const base = this.last ?? this.ports.gateway.status();
    this.onStatus({ ...base, queue: q });
  }

  /** A receivelog/senderlog event: refresh today's counts in the tooltip, at most once a second. */
  onTraffic(): void {
    if (this.trafficTimer || this.closed) return;
    this.trafficTimer = this.setTimer(() => {
      this.trafficTimer = null;
      if (this.closed) return;
      this.onStatus(this.ports.gateway.status());
    }, TRAFFIC_RENDER_MS);
  }

  /**
   * A notice from the core's notifier (a route down, the queue growing, a message near expiry,
   * approvals waiting, a frozen sender): shown in the admin's language unless the admin turned
   * desktop notifications off in Settings.
   */
  onNotice(n: CoreNotice, desktop: boolean): void {
    if (!desktop || this.closed) return;
    const { title, body } = noticeText(n, this.ports.lang);
    this.notify({ kind: 'core', title: `Gatehouse: ${title}`, body });
  }

  /** Marks the next stop as wanted (the tray's Stop, the UI's stop button): no alarm. */
  expectStop(): void {
    this.stopRequested = true;
  }

  /** The core's handlers with the UI's stop marked as wanted. */
  wrapHandlers(handlers: CommandHandlers): CommandHandlers {
    return {
      ...handlers,
      'gateway.stop': async (args, call) => {
        this.expectStop();
        return handlers['gateway.stop'](args, call);
      },
    };
  }

  async menuAction(id: MenuAction): Promise<void> {
    const gw = this.ports.gateway;
    try {
      switch (id) {
        case 'start':
        case 'stop':
          if (this.busy) return;
          this.busy = true;
          this.render();
          try {
            if (id === 'stop') {
              this.expectStop();
              await gw.stop();
            } else {
              await gw.start();
            }
          } catch (err) {
            this.ports.log(`${id}: ${(err as Error).message}`);
          } finally {
            this.busy = false;
          }
          this.onStatus(gw.status());
          return;
        case 'open':
          this.ports.showWindow();
          return;
        case 'openLogs': {
          const dir = (this.last ?? gw.status()).logDir;
          const problem = await this.ports.openFolder(dir);
          if (problem) this.ports.log(`cannot open ${dir}: ${problem}`);
          return;
        }
        case 'toggleLogin':
          this.ports.setOpenAtLogin(!this.safeOpenAtLogin());
          this.render();
          return;
        case 'toggleAutoStart':
          this.settings = { ...this.settings, startGatewayOnLaunch: !this.settings.startGatewayOnLaunch };
          this.render();
          await this.ports.saveSettings(this.settings);
          return;
        case 'quit':
          await this.quit();
          return;
      }
    } catch (err) {
      this.ports.log(`menu ${id}: ${err instanceof ApiError ? err.message : (err as Error).message}`);
    }
  }

  /** The window's close button: hide to the tray (returns 'hide'), or let it close while quitting. */
  onWindowClose(): 'hide' | 'close' {
    if (this.quitting || this.closed) return 'close';
    if (!this.hintShown) {
      this.hintShown = true;
      this.notify(trayHint(this.ports.lang));
    }
    return 'hide';
  }

  /** Electron's before-quit: hold the quit until the gateway is closed. Returns true to prevent. */
  beforeQuit(): boolean {
    if (this.closed) return false;
    void this.quit();
    return true;
  }

  /** Graceful shutdown, once: the gateway closes (bounded wait), then the process exits. */
  quit(): Promise<void> {
    if (this.quitPromise) return this.quitPromise;
    this.stopRequested = true;
    this.quitPromise = (async () => {
      this.pendingStop?.();
      this.trafficTimer?.();
      this.ports.log('quitting: stopping the gateway (in-flight deliveries finish or return to the queue)...');
      let timedOut = false;
      let cancel: () => void = () => undefined;
      const timeout = new Promise<void>((resolve) => {
        cancel = this.setTimer(() => {
          timedOut = true;
          resolve();
        }, QUIT_TIMEOUT_MS);
      });
      let code = 0;
      try {
        await Promise.race([this.ports.gateway.close(), timeout]);
      } catch (err) {
        code = 1;
        this.ports.log(`gateway close failed: ${(err as Error).message}`);
      } finally {
        cancel();
      }
      if (timedOut) this.ports.log(`gateway did not close within ${QUIT_TIMEOUT_MS / 1000} s; exiting (queued mail stays in the spool)`);
      else if (code === 0) this.ports.log('stopped');
      this.closed = true;
      this.ports.exit(code);
    })();
    return this.quitPromise;
  }
}

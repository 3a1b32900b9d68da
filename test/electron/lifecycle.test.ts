/*
 * The shell's behaviour with fake ports: start-up (autostart on/off, --hidden), tray menu
 * actions, close-to-tray, graceful quit (once, bounded), notifications with their grace
 * period and throttle, and the command-line switches.
 */
import { describe, expect, it, vi } from 'vitest';
import type { GatewayStatus } from '../../main/shared/contract.js';
import { DEFER_NOTICE_EVERY_MS, parseShellArgs, QUIT_TIMEOUT_MS, Shell, ShellArgsError, STOP_GRACE_MS, type ShellPorts } from '../../main/electron/lifecycle.js';
import type { Notice, TrayModel } from '../../main/electron/tray-state.js';
import { status } from './fixtures.js';

class FakeGateway {
  st: GatewayStatus = status({ running: false, listen: null, startedAt: null });
  failStart: string | null = null;
  closeDelay: Promise<void> = Promise.resolve();
  calls: string[] = [];
  async start() {
    this.calls.push('start');
    if (this.failStart) {
      this.st = { ...this.st, error: this.failStart };
      throw new Error(this.failStart);
    }
    this.st = { ...this.st, running: true, listen: { host: '127.0.0.1', port: 2525 }, error: null };
    return this.st;
  }
  async stop() {
    this.calls.push('stop');
    this.st = { ...this.st, running: false, listen: null };
    return this.st;
  }
  status() {
    return this.st;
  }
  async close() {
    this.calls.push('close');
    await this.closeDelay;
    this.st = { ...this.st, running: false, listen: null };
  }
}

function setup(over: Partial<ShellPorts> = {}) {
  const gw = new FakeGateway();
  const trays: TrayModel[] = [];
  const notices: Notice[] = [];
  const logs: string[] = [];
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  let clock = 0;
  let login = false;
  let saved: unknown = null;
  const ports: ShellPorts = {
    gateway: gw,
    lang: 'en',
    showWindow: vi.fn(),
    openFolder: vi.fn(async () => ''),
    getOpenAtLogin: () => login,
    setOpenAtLogin: (v) => void (login = v),
    loadSettings: () => ({ startGatewayOnLaunch: true }),
    saveSettings: async (s) => void (saved = s),
    renderTray: (m) => void trays.push(m),
    notify: (n) => void notices.push(n),
    exit: vi.fn(),
    log: (l) => void logs.push(l),
    now: () => clock,
    setTimer: (fn, ms) => {
      const t = { at: clock + ms, fn, cancelled: false };
      timers.push(t);
      return () => void (t.cancelled = true);
    },
    ...over,
  };
  const advance = (ms: number) => {
    clock += ms;
    for (const t of timers.filter((x) => !x.cancelled && x.at <= clock)) {
      t.cancelled = true;
      t.fn();
    }
  };
  const shell = new Shell(ports);
  return { gw, shell, ports, trays, notices, logs, advance, saved: () => saved, login: () => login };
}

describe('start-up', () => {
  it('starts the gateway with the app and shows the window', async () => {
    const t = setup();
    await t.shell.startup({ hidden: false, noGatewayStart: false });
    expect(t.gw.calls).toEqual(['start']);
    expect(t.ports.showWindow).toHaveBeenCalledOnce();
    expect(t.trays.at(-1)!.state).toBe('running');
  });

  it('--hidden stays in the tray; desktop.json or --no-gateway-start keep the gateway stopped', async () => {
    const t = setup({ loadSettings: () => ({ startGatewayOnLaunch: false }) });
    await t.shell.startup({ hidden: true, noGatewayStart: false });
    expect(t.gw.calls).toEqual([]);
    expect(t.ports.showWindow).not.toHaveBeenCalled();
    expect(t.trays.at(-1)!.state).toBe('stopped');
    const u = setup();
    await u.shell.startup({ hidden: false, noGatewayStart: true });
    expect(u.gw.calls).toEqual([]);
  });

  it('a port that cannot be bound leaves the app running in the error state, with a notice', async () => {
    const t = setup();
    t.gw.failStart = 'cannot listen on 0.0.0.0:25: EADDRINUSE';
    await t.shell.startup({ hidden: false, noGatewayStart: false });
    expect(t.trays.at(-1)!.state).toBe('error');
    expect(t.notices).toMatchObject([{ kind: 'error', body: expect.stringContaining('EADDRINUSE') }]);
    expect(t.logs.join('\n')).toMatch(/NOT started/);
  });
});

describe('tray menu actions', () => {
  it('Stop and Start drive the gateway; a requested stop raises no alarm', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: false });
    await t.shell.menuAction('stop');
    t.shell.onStatus(t.gw.status()); // the status event the core emits
    t.advance(STOP_GRACE_MS * 2);
    expect(t.gw.calls).toEqual(['start', 'stop']);
    expect(t.trays.at(-1)!.state).toBe('stopped');
    expect(t.notices).toEqual([]);
    await t.shell.menuAction('start');
    expect(t.trays.at(-1)!.state).toBe('running');
  });

  it('the UI stop button (gateway.stop through the wrapped handlers) is a requested stop too', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: false });
    const handlers = t.shell.wrapHandlers({ 'gateway.stop': () => t.gw.stop() } as never);
    await handlers['gateway.stop'](undefined, { via: 'ui' });
    t.shell.onStatus(t.gw.status());
    t.advance(STOP_GRACE_MS * 2);
    expect(t.notices).toEqual([]);
  });

  it('Open shows the window, Open log folder opens the log folder', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: true });
    await t.shell.menuAction('open');
    expect(t.ports.showWindow).toHaveBeenCalledOnce();
    await t.shell.menuAction('openLogs');
    expect(t.ports.openFolder).toHaveBeenCalledWith('/data/logs');
  });

  it('Start at login and the autostart checkbox toggle and re-render', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: true });
    await t.shell.menuAction('toggleLogin');
    expect(t.login()).toBe(true);
    expect(t.trays.at(-1)!.menu).toContainEqual(expect.objectContaining({ id: 'toggleLogin', checked: true }));
    await t.shell.menuAction('toggleAutoStart');
    expect(t.saved()).toEqual({ startGatewayOnLaunch: false });
    expect(t.trays.at(-1)!.menu).toContainEqual(expect.objectContaining({ id: 'toggleAutoStart', checked: false }));
  });
});

describe('window and quit', () => {
  it('closing the window hides it (once with a hint); while quitting it closes', async () => {
    const t = setup();
    await t.shell.startup({ hidden: false, noGatewayStart: false });
    expect(t.shell.onWindowClose()).toBe('hide');
    expect(t.shell.onWindowClose()).toBe('hide');
    expect(t.notices.filter((n) => n.kind === 'hint')).toHaveLength(1);
    expect(t.gw.calls).toEqual(['start']); // the gateway keeps running
    void t.shell.quit();
    expect(t.shell.onWindowClose()).toBe('close');
  });

  it('Quit closes the gateway once, then exits; before-quit is held until then', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: false });
    let release!: () => void;
    t.gw.closeDelay = new Promise((r) => (release = r));
    expect(t.shell.beforeQuit()).toBe(true); // prevent: the gateway is still open
    const q = t.shell.menuAction('quit');
    expect(t.ports.exit).not.toHaveBeenCalled();
    release();
    await q;
    expect(t.gw.calls.filter((c) => c === 'close')).toHaveLength(1);
    expect(t.ports.exit).toHaveBeenCalledExactlyOnceWith(0);
    expect(t.shell.beforeQuit()).toBe(false); // now let Electron quit
    expect(t.notices).toEqual([]); // the stop during quit is not "unexpected"
  });

  it('a gateway that does not close in time does not keep the app alive', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: false });
    t.gw.closeDelay = new Promise(() => undefined);
    const q = t.shell.quit();
    await Promise.resolve();
    t.advance(QUIT_TIMEOUT_MS);
    await q;
    expect(t.ports.exit).toHaveBeenCalledWith(0);
    expect(t.logs.join('\n')).toMatch(/did not close within/);
  });
});

describe('notifications', () => {
  it('an unexpected stop is reported after the grace period, not if the listener comes back (a listener move)', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: false });
    const running = t.gw.status();
    t.shell.onStatus({ ...running, running: false, listen: null });
    t.shell.onStatus(running);
    t.advance(STOP_GRACE_MS);
    expect(t.notices).toEqual([]);
    t.shell.onStatus({ ...running, running: false, listen: null });
    t.advance(STOP_GRACE_MS - 1);
    expect(t.notices).toEqual([]);
    t.advance(1);
    expect(t.notices).toMatchObject([{ kind: 'stopped' }]);
    expect(t.trays.at(-1)!.state).toBe('stopped');
  });

  it('a stop with an error is reported once, not twice', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: false });
    const running = t.gw.status();
    t.shell.onStatus({ ...running, running: false, listen: null });
    t.shell.onStatus({ ...running, running: false, listen: null, error: 'cannot listen on 0.0.0.0:2600: EADDRINUSE' });
    t.advance(STOP_GRACE_MS);
    expect(t.notices).toHaveLength(1);
    expect(t.notices[0]!.body).toMatch(/EADDRINUSE/);
  });

  it('deferring mail is reported when it starts, at most every 10 minutes', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: false });
    t.shell.onQueue({ total: 1, deferred: 1, hold: 0 });
    t.shell.onQueue({ total: 0, deferred: 0, hold: 0 });
    t.shell.onQueue({ total: 1, deferred: 1, hold: 0 });
    expect(t.notices.map((n) => n.kind)).toEqual(['deferring']);
    t.shell.onQueue({ total: 0, deferred: 0, hold: 0 });
    t.advance(DEFER_NOTICE_EVERY_MS);
    t.shell.onQueue({ total: 2, deferred: 2, hold: 0 });
    expect(t.notices.map((n) => n.kind)).toEqual(['deferring', 'deferring']);
  });


  it('traffic refreshes the tooltip at most once a second', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: false });
    const before = t.trays.length;
    t.gw.st = { ...t.gw.st, today: { ...t.gw.st.today, accepted: 99 } };
    for (let i = 0; i < 50; i++) t.shell.onTraffic();
    expect(t.trays.length).toBe(before);
    t.advance(1000);
    expect(t.trays.length).toBe(before + 1);
    expect(t.trays.at(-1)!.tooltip).toContain('99 accepted');
  });
});

describe('parseShellArgs', () => {
  it('reads its switches among Electron\'s and the environment', () => {
    expect(parseShellArgs(['/opt/Gatehouse/gatehouse', '--hidden', '--enable-logging', '--listen', '127.0.0.1:0'], {})).toEqual({
      hidden: true,
      noGatewayStart: false,
      demo: false,
      noAdminHttp: false,
      listen: { host: '127.0.0.1', port: 0 },
    });
    expect(parseShellArgs(['electron', '.', '--no-admin-http'], {}).noAdminHttp).toBe(true);
    expect(parseShellArgs(['electron', '.'], { GATEHOUSE_NO_ADMIN_HTTP: '1' }).noAdminHttp).toBe(true);
    expect(parseShellArgs(['electron', '.', '--data=/tmp/x', '--no-gateway-start', '--demo'], {})).toMatchObject({ dataDir: '/tmp/x', noGatewayStart: true, demo: true });
    expect(parseShellArgs(['electron', '.'], { GATEHOUSE_DATA: '/d', GATEHOUSE_DEMO: '1', GATEHOUSE_LISTEN: '[::1]:2600' })).toMatchObject({
      dataDir: '/d',
      demo: true,
      listen: { host: '::1', port: 2600 },
    });
  });

  it('a malformed --listen is a clear error', () => {
    expect(() => parseShellArgs(['--listen', 'nope'])).toThrow(ShellArgsError);
    expect(() => parseShellArgs(['--listen'])).toThrow(/needs a value/);
    expect(() => parseShellArgs([], { GATEHOUSE_LISTEN: '1.2.3.4:99999' })).toThrow(/host:port/);
  });
});

describe('core notices', () => {
  it('shows the core’s notices in the app’s language unless desktop notifications are off', async () => {
    const t = setup();
    await t.shell.startup({ hidden: true, noGatewayStart: true });
    const notice = { id: 'n1', ts: '2026-11-29T10:00:00.000Z', kind: 'queue-size' as const, level: 'warn' as const, params: { n: 60, threshold: 50 } };
    t.shell.onNotice(notice, false);
    expect(t.notices).toEqual([]);
    t.shell.onNotice(notice, true);
    expect(t.notices).toEqual([{ kind: 'core', title: 'Gatehouse: 60 messages wait in the queue', body: expect.stringContaining('passed 50 messages') }]);
  });
});

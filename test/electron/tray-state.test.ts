/*
 * Tray model: icon per state, tooltip with today's counts within Windows' 127 characters,
 * menu items enabled by state, and which status changes raise a notification.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { langFor, menuTemplate, noticesFor, TOOLTIP_MAX, trayModel, trayState, type MenuItemModel } from '../../main/electron/tray-state.js';
import { status } from './fixtures.js';

const prefs = { openAtLogin: false, startGatewayOnLaunch: true };
const item = (menu: MenuItemModel[], id: string) => menu.find((m) => 'id' in m && m.id === id) as Extract<MenuItemModel, { id: string }>;

describe('tray state', () => {
  it('picks the icon by state, and every icon exists in resources/tray (with @2x)', () => {
    expect(trayState(status())).toBe('running');
    expect(trayState(status({ running: false, listen: null }))).toBe('stopped');
    expect(trayState(status({ running: false, error: 'cannot listen on 0.0.0.0:25: EACCES' }))).toBe('error');
    expect(trayState(null)).toBe('error');
    for (const s of [status(), status({ running: false }), status({ error: 'x' })]) {
      const icon = trayModel(s, prefs, 'en').icon;
      expect(icon).toMatch(/^tray-(running|stopped|error)\.png$/);
      const dir = path.join(__dirname, '..', '..', 'resources', 'tray');
      expect(fs.existsSync(path.join(dir, icon))).toBe(true);
      expect(fs.existsSync(path.join(dir, icon.replace('.png', '@2x.png')))).toBe(true);
    }
  });

  it('tooltip names the state, the listener and today\'s counts', () => {
    const en = trayModel(status(), prefs, 'en').tooltip;
    expect(en).toContain('running (127.0.0.1:2525)');
    expect(en).toContain('12 accepted, 3 rejected, 10 delivered, 1 deferred, 0 bounced');
    const ja = trayModel(status({ running: false, listen: null }), prefs, 'ja').tooltip;
    expect(ja).toContain('停止中');
    expect(ja).toContain('受付12');
    expect(ja).toContain('拒否3');
  });

  it('tooltip stays within 127 characters and keeps the counts when the error is long', () => {
    const long = status({ running: false, error: 'cannot listen on 0.0.0.0:25: '.padEnd(400, 'x'), queue: { total: 42, deferred: 40, hold: 2 } });
    for (const lang of ['ja', 'en'] as const) {
      const tip = trayModel(long, prefs, lang).tooltip;
      expect(tip.length).toBeLessThanOrEqual(TOOLTIP_MAX);
      expect(tip).toContain(lang === 'en' ? '12 accepted' : '受付12');
    }
  });

  it('Start is enabled only when stopped, Stop only when running, neither while busy', () => {
    const running = trayModel(status(), prefs, 'en').menu;
    expect(item(running, 'start').enabled).toBe(false);
    expect(item(running, 'stop').enabled).toBe(true);
    const stopped = trayModel(status({ running: false }), prefs, 'en').menu;
    expect(item(stopped, 'start').enabled).toBe(true);
    expect(item(stopped, 'stop').enabled).toBe(false);
    const busy = trayModel(status({ running: false }), { ...prefs, busy: true }, 'en').menu;
    expect(item(busy, 'start').enabled).toBe(false);
    const none = trayModel(null, prefs, 'en').menu;
    expect(item(none, 'start').enabled).toBe(false);
    expect(item(none, 'open').enabled).toBe(true);
    expect(item(none, 'quit').enabled).toBe(true);
  });

  it('menu has Start, Stop, Open, Open log folder, Start at login (checkbox) and Quit, in Japanese too', () => {
    const ids = trayModel(status(), { openAtLogin: true, startGatewayOnLaunch: false }, 'ja').menu.flatMap((m) => ('id' in m ? [m.id] : []));
    expect(ids).toEqual(['start', 'stop', 'open', 'openLogs', 'toggleLogin', 'toggleAutoStart', 'quit']);
    const menu = trayModel(status(), { openAtLogin: true, startGatewayOnLaunch: false }, 'ja').menu;
    expect(item(menu, 'toggleLogin')).toMatchObject({ kind: 'checkbox', checked: true, label: 'ログイン時に起動' });
    expect(item(menu, 'toggleAutoStart')).toMatchObject({ kind: 'checkbox', checked: false });
    expect(item(menu, 'start').label).toBe('サービスの開始');
    expect(item(menu, 'quit').label).toBe('終了');
  });

  it('menuTemplate maps the model to Electron template items whose clicks name their action', () => {
    const clicked: string[] = [];
    const tpl = menuTemplate(trayModel(status(), prefs, 'en').menu, (id) => clicked.push(id));
    expect(tpl[0]).toMatchObject({ enabled: false }); // the status line
    expect(tpl.filter((t) => t.type === 'separator').length).toBeGreaterThan(0);
    const login = tpl.find((t) => t.label === 'Start at login')!;
    expect(login).toMatchObject({ type: 'checkbox', checked: false });
    login.click!();
    tpl.find((t) => t.label === 'Quit')!.click!();
    expect(clicked).toEqual(['toggleLogin', 'quit']);
  });

  it('langFor picks Japanese for ja locales only', () => {
    expect(langFor('ja')).toBe('ja');
    expect(langFor('ja-JP')).toBe('ja');
    expect(langFor('en-US')).toBe('en');
    expect(langFor('jam')).toBe('en');
    expect(langFor(undefined)).toBe('en');
  });
});

describe('notifications', () => {
  const ctx = { stopRequested: false, lang: 'en' as const };

  it('an unexpected stop is reported; a requested one is not', () => {
    const prev = status();
    const next = status({ running: false, listen: null });
    expect(noticesFor(prev, next, ctx).map((n) => n.kind)).toEqual(['stopped']);
    expect(noticesFor(prev, next, { ...ctx, stopRequested: true })).toEqual([]);
  });

  it('a new error is reported once', () => {
    const err = status({ running: false, error: 'cannot listen on 0.0.0.0:25: EADDRINUSE' });
    expect(noticesFor(status({ running: false }), err, ctx)).toMatchObject([{ kind: 'error', body: err.error }]);
    expect(noticesFor(err, err, ctx)).toEqual([]);
  });

  it('deferring is reported when deferred mail appears, not while it stays', () => {
    const q = (deferred: number) => status({ queue: { total: deferred, deferred, hold: 0 } });
    expect(noticesFor(q(0), q(2), ctx)).toMatchObject([{ kind: 'deferring', body: expect.stringContaining('2 message') }]);
    expect(noticesFor(q(2), q(3), ctx)).toEqual([]);
    expect(noticesFor(null, q(1), { ...ctx, lang: 'ja' })).toMatchObject([{ kind: 'deferring', title: expect.stringContaining('再送待ち') }]);
  });

});

describe('tray in service mode (the app as the remote control of the Windows service)', () => {
  const svc = (link: 'connected' | 'service-stopped' | 'unreachable', control = true) => ({ ...prefs, remote: link, serviceControl: control });
  const label = (m: MenuItemModel[]) => m.filter((x): x is Extract<MenuItemModel, { kind: 'label' }> => x.kind === 'label').map((x) => x.label);

  it('says "service not running" and "cannot reach it", in both languages, with their icons', () => {
    const stopped = trayModel(null, svc('service-stopped'), 'en');
    expect(stopped.state).toBe('stopped');
    expect(stopped.tooltip).toBe('Gatehouse (Windows service): service not running');
    expect(trayModel(null, svc('service-stopped'), 'ja').tooltip).toBe('Gatehouse (Windows サービス): サービスが停止しています');
    const lost = trayModel(null, svc('unreachable'), 'en');
    expect(lost.state).toBe('error');
    expect(lost.icon).toBe('tray-error.png');
    expect(lost.tooltip).toBe('Gatehouse (Windows service): cannot reach the service');
    expect(trayModel(null, svc('unreachable'), 'ja').tooltip).toContain('サービスに接続できません');
    const ok = trayModel(status(), svc('connected'), 'en');
    expect(ok.state).toBe('running');
    expect(ok.tooltip).toContain('Gatehouse (Windows service): running (127.0.0.1:2525)');
    expect(ok.tooltip).toContain('12 accepted');
    expect(label(ok.menu)).toContain('Controlling the Windows service');
    expect(label(trayModel(status(), svc('connected'), 'ja').menu)).toContain('Windows サービスを操作しています');
  });

  it('Start/Stop act on the service: Start only when it is stopped, Stop while it runs; no log folder or auto-start', () => {
    const stopped = trayModel(null, svc('service-stopped'), 'en').menu;
    expect(item(stopped, 'start')).toMatchObject({ label: 'Start the service', enabled: true });
    expect(item(stopped, 'stop')).toMatchObject({ label: 'Stop the service', enabled: false });
    const running = trayModel(status(), svc('connected'), 'ja').menu;
    expect(item(running, 'start')).toMatchObject({ label: 'サービスの開始', enabled: false });
    expect(item(running, 'stop')).toMatchObject({ label: 'サービスの停止', enabled: true });
    // Cannot reach it, but it may be running: Stop stays possible.
    expect(item(trayModel(null, svc('unreachable'), 'en').menu, 'stop').enabled).toBe(true);
    expect(item(running, 'openLogs')).toBeUndefined();
    expect(item(running, 'toggleAutoStart')).toBeUndefined();
    // Off Windows the app cannot control a service: both disabled.
    const none = trayModel(null, svc('service-stopped', false), 'en').menu;
    expect(item(none, 'start').enabled).toBe(false);
    expect(item(none, 'stop').enabled).toBe(false);
  });
});

describe('health on the tray', () => {
  it('is amber when something needs a look and red when mail is not going out, with the reason in the tooltip', () => {
    const warn = status({ health: { level: 'warn', reasons: [{ level: 'warn', code: 'paused', params: {} }] } });
    expect(trayState(warn)).toBe('warn');
    const m = trayModel(warn, { openAtLogin: false, startGatewayOnLaunch: true }, 'ja');
    expect(m.icon).toBe('tray-warn.png');
    expect(m.tooltip).toContain('要確認: 送信を一時停止中');
    const red = status({ health: { level: 'error', reasons: [{ level: 'error', code: 'route-down', params: { name: 'test.jp', failures: 3 } }] } });
    expect(trayState(red)).toBe('error');
    expect(trayModel(red, { openAtLogin: false, startGatewayOnLaunch: true }, 'en').tooltip).toContain('error: mail to test.jp is not going out');
    expect(trayState(status())).toBe('running');
  });
});

/*
 * What the tray shows, as plain data: `trayModel(status, prefs, lang)` turns the gateway's
 * status into the icon to use (running / stopped / error), a tooltip with the state and
 * today's counts (cut to the 127 characters Windows allows), and the menu (Start, Stop, Open
 * Gatehouse, Open log folder, two checkboxes, Quit) with each item's enabled/checked state.
 * `noticesFor(prev, next, ctx)` says which desktop notifications a status change deserves
 * (stopped unexpectedly, a new error, mail starting to defer, more mail waiting for approval,
 * a sender newly frozen by its sending limit). Pure: no electron, no clock,
 * no I/O; it cannot fail, a null status (gateway not open) shows as the error state.
 */
import type { GatewayStatus, HealthReason } from '../shared/contract.js';

export type TrayState = 'running' | 'warn' | 'stopped' | 'error';
export type Lang = 'ja' | 'en';

export type MenuAction = 'start' | 'stop' | 'open' | 'openLogs' | 'toggleLogin' | 'toggleAutoStart' | 'quit';

export type MenuItemModel =
  | { kind: 'item'; id: MenuAction; label: string; enabled: boolean }
  | { kind: 'checkbox'; id: MenuAction; label: string; enabled: boolean; checked: boolean }
  | { kind: 'label'; label: string }
  | { kind: 'separator' };

export interface TrayPrefs {
  /** The OS login item is set (Start at login). */
  openAtLogin: boolean;
  /** desktop.json: start the SMTP listener when the app starts. */
  startGatewayOnLaunch: boolean;
  /** A start or stop is in progress: both buttons are disabled meanwhile. */
  busy?: boolean;
  /**
   * Set when the Windows service hosts the gateway and this app is its remote control: the
   * link's state ('connected', 'service-stopped', 'unreachable'). Start/Stop then act on the
   * service, and the log folder and "start with the app" do not apply.
   */
  remote?: 'connected' | 'service-stopped' | 'unreachable';
  /** Can this app start and stop the service (Windows only). */
  serviceControl?: boolean;
}

export interface TrayModel {
  state: TrayState;
  /** File name under resources/tray (a @2x sibling exists for high-DPI screens). */
  icon: string;
  tooltip: string;
  menu: MenuItemModel[];
}

/** Windows keeps 127 characters of a notification-area tooltip (NOTIFYICONDATA.szTip). */
export const TOOLTIP_MAX = 127;

const TEXT = {
  ja: {
    running: '稼働中',
    warn: '要確認',
    stopped: '停止中',
    error: 'エラー',
    reason: (r: HealthReason): string =>
      ({
        'stopped': '受信を停止中',
        'listener-error': '受信のエラー',
        'route-down': `${r.params.name} 宛てが送れません`,
        'hop-failing': `${r.params.hop} への送信が失敗中`,
        'queue-large': `キューに ${r.params.n} 通`,
        'queue-growing': `キューに ${r.params.n} 通`,
        'paused': '送信を一時停止中',
        'domain-held': `${r.params.domain} 宛てを保留中`,
        'config-problem': '設定ファイルに問題',
      })[r.code] ?? r.code,
    notOpen: 'ゲートウェイを開けません',
    today: (c: GatewayStatus['today']) => `本日 受付${c.accepted} 拒否${c.rejected} 配送${c.delivered} 再送待ち${c.deferred} 不達${c.bounced}`,
    queue: (n: number) => `キュー ${n} 通`,
    start: 'サービスの開始',
    stop: 'サービスの停止',
    open: 'Gatehouse を開く',
    openLogs: 'ログフォルダを開く',
    login: 'ログイン時に起動',
    autoStart: 'アプリ起動時にサービスを開始',
    quit: '終了',
    service: 'Windows サービス',
    serviceStopped: 'サービスが停止しています',
    unreachable: 'サービスに接続できません',
    remoteNote: 'Windows サービスを操作しています',
    startService: 'サービスの開始',
    stopService: 'サービスの停止',
    stoppedTitle: 'Gatehouse: サービスが停止しました',
    stoppedBody: 'SMTP の受付が止まっています。トレイのメニューから再開できます。',
    errorTitle: 'Gatehouse: エラー',
    deferTitle: 'Gatehouse: 再送待ちのメールがあります',
    deferBody: (n: number) => `${n} 通のメールが配送できず、再送を待っています。キュー画面で理由を確認してください。`,
    hintTitle: 'Gatehouse はトレイで動作中です',
    hintBody: 'ウィンドウを閉じてもゲートウェイは止まりません。終了はトレイのメニューから。',
  },
  en: {
    running: 'running',
    warn: 'needs a look',
    stopped: 'stopped',
    error: 'error',
    reason: (r: HealthReason): string =>
      ({
        'stopped': 'receiving stopped',
        'listener-error': 'listener error',
        'route-down': `mail to ${r.params.name} is not going out`,
        'hop-failing': `${r.params.hop} failing`,
        'queue-large': `${r.params.n} messages queued`,
        'queue-growing': `${r.params.n} messages queued`,
        'paused': 'delivery paused',
        'domain-held': `mail to ${r.params.domain} held`,
        'config-problem': 'config file problem',
      })[r.code] ?? r.code,
    notOpen: 'gateway not open',
    today: (c: GatewayStatus['today']) => `Today: ${c.accepted} accepted, ${c.rejected} rejected, ${c.delivered} delivered, ${c.deferred} deferred, ${c.bounced} bounced`,
    queue: (n: number) => `queue ${n}`,
    start: 'Start gateway',
    stop: 'Stop gateway',
    open: 'Open Gatehouse',
    openLogs: 'Open log folder',
    login: 'Start at login',
    autoStart: 'Start gateway with the app',
    quit: 'Quit',
    service: 'Windows service',
    serviceStopped: 'service not running',
    unreachable: 'cannot reach the service',
    remoteNote: 'Controlling the Windows service',
    startService: 'Start the service',
    stopService: 'Stop the service',
    stoppedTitle: 'Gatehouse: the gateway stopped',
    stoppedBody: 'SMTP is no longer accepted. Start it again from the tray menu.',
    errorTitle: 'Gatehouse: error',
    deferTitle: 'Gatehouse: mail is deferring',
    deferBody: (n: number) => `${n} message(s) could not be delivered yet and wait for a retry. See the queue for the reason.`,
    hintTitle: 'Gatehouse keeps running in the tray',
    hintBody: 'Closing the window does not stop the gateway. Quit from the tray menu.',
  },
} as const;

export function langFor(locale: string | undefined): Lang {
  return /^ja\b|^ja-/i.test(locale ?? '') ? 'ja' : 'en';
}

/** Red for errors and for mail that is not going out; amber when something needs a look. */
export function trayState(status: GatewayStatus | null, remote?: TrayPrefs['remote']): TrayState {
  if (remote === 'unreachable') return 'error';
  if (remote === 'service-stopped') return 'stopped';
  if (!status || status.error) return 'error';
  if (!status.running) return 'stopped';
  const level = status.health?.level;
  return level === 'error' ? 'error' : level === 'warn' ? 'warn' : 'running';
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

function headline(status: GatewayStatus | null, lang: Lang, remote?: TrayPrefs['remote']): string {
  const t = TEXT[lang];
  if (remote === 'service-stopped') return `Gatehouse (${t.service}): ${t.serviceStopped}`;
  if (remote === 'unreachable') return `Gatehouse (${t.service}): ${t.unreachable}`;
  if (remote === 'connected' && status) {
    const state = trayState(status);
    if (state === 'error' && status.error) return `Gatehouse (${t.service}): ${t.error}: ${status.error}`;
    const why = status.health?.reasons[0];
    if ((state === 'error' || state === 'warn') && why) return `Gatehouse (${t.service}): ${t[state]}: ${t.reason(why)}`;
    if (state === 'running' && status.listen) return `Gatehouse (${t.service}): ${t.running} (${status.listen.host}:${status.listen.port})`;
    return `Gatehouse (${t.service}): ${t[state]}`;
  }
  if (!status) return `Gatehouse: ${t.notOpen}`;
  const state = trayState(status);
  if (state === 'error' && status.error) return `Gatehouse: ${t.error}: ${status.error}`;
  const reason = status.health?.reasons[0];
  if ((state === 'error' || state === 'warn') && reason) return `Gatehouse: ${t[state]}: ${t.reason(reason)}`;
  if (state === 'running' && status.listen) return `Gatehouse: ${t.running} (${status.listen.host}:${status.listen.port})`;
  return `Gatehouse: ${t[state]}`;
}

export function tooltipFor(status: GatewayStatus | null, lang: Lang, remote?: TrayPrefs['remote']): string {
  if (!status || (remote && remote !== 'connected')) return clip(headline(status, lang, remote), TOOLTIP_MAX);
  const t = TEXT[lang];
  const counts = t.today(status.today) + (status.queue.total > 0 ? ` / ${t.queue(status.queue.total)}` : '');
  // The counts are the point of the tooltip: shorten the headline (an error text can be long) first.
  const room = TOOLTIP_MAX - counts.length - 1;
  const head = room >= 12 ? clip(headline(status, lang, remote), room) : '';
  return clip(head ? `${head}\n${counts}` : counts, TOOLTIP_MAX);
}

export function trayModel(status: GatewayStatus | null, prefs: TrayPrefs, lang: Lang): TrayModel {
  const t = TEXT[lang];
  const busy = prefs.busy ?? false;
  if (prefs.remote) {
    // The service hosts the gateway: Start/Stop act on the service, which runs unless stopped.
    const remote = prefs.remote;
    const state = trayState(status, remote);
    const control = prefs.serviceControl ?? false;
    return {
      state,
      icon: `tray-${state}.png`,
      tooltip: tooltipFor(status, lang, remote),
      menu: [
        { kind: 'label', label: clip(headline(status, lang, remote), 80) },
        { kind: 'label', label: t.remoteNote },
        { kind: 'separator' },
        { kind: 'item', id: 'start', label: t.startService, enabled: control && remote === 'service-stopped' && !busy },
        { kind: 'item', id: 'stop', label: t.stopService, enabled: control && remote !== 'service-stopped' && !busy },
        { kind: 'separator' },
        { kind: 'item', id: 'open', label: t.open, enabled: true },
        { kind: 'separator' },
        { kind: 'checkbox', id: 'toggleLogin', label: t.login, enabled: true, checked: prefs.openAtLogin },
        { kind: 'separator' },
        { kind: 'item', id: 'quit', label: t.quit, enabled: true },
      ],
    };
  }
  const state = trayState(status);
  const running = status?.running ?? false;
  return {
    state,
    icon: `tray-${state}.png`,
    tooltip: tooltipFor(status, lang),
    menu: [
      { kind: 'label', label: clip(headline(status, lang), 80) },
      { kind: 'separator' },
      { kind: 'item', id: 'start', label: t.start, enabled: status !== null && !running && !busy },
      { kind: 'item', id: 'stop', label: t.stop, enabled: status !== null && running && !busy },
      { kind: 'separator' },
      { kind: 'item', id: 'open', label: t.open, enabled: true },
      { kind: 'item', id: 'openLogs', label: t.openLogs, enabled: status !== null },
      { kind: 'separator' },
      { kind: 'checkbox', id: 'toggleLogin', label: t.login, enabled: true, checked: prefs.openAtLogin },
      { kind: 'checkbox', id: 'toggleAutoStart', label: t.autoStart, enabled: true, checked: prefs.startGatewayOnLaunch },
      { kind: 'separator' },
      { kind: 'item', id: 'quit', label: t.quit, enabled: true },
    ],
  };
}

/** 'core': a notice from the core's notifier (notices.ts), worded by the shell. */
export type NoticeKind = 'stopped' | 'error' | 'deferring' | 'hint' | 'core';

export interface Notice {
  kind: NoticeKind;
  title: string;
  body: string;
}

export interface NoticeContext {
  /** The admin asked for the stop (tray Stop, the UI's stop button, Quit): no notice. */
  stopRequested: boolean;
  lang: Lang;
}

/**
 * The notifications a change from `prev` to `next` deserves, most important first. A stop the
 * admin asked for is quiet; an error is reported once (until it changes); deferring is
 * reported when the number of deferred messages grows from zero. Mail waiting for approval
 * and frozen senders come as the core's notices ('core'), with their thresholds and switches.
 */
export function noticesFor(prev: GatewayStatus | null, next: GatewayStatus, ctx: NoticeContext): Notice[] {
  const t = TEXT[ctx.lang];
  const out: Notice[] = [];
  const stoppedNow = prev !== null && prev.running && !next.running;
  if (stoppedNow && !ctx.stopRequested) {
    out.push({ kind: 'stopped', title: t.stoppedTitle, body: next.error ? clip(next.error, 200) : t.stoppedBody });
  } else if (next.error && next.error !== prev?.error) {
    out.push({ kind: 'error', title: t.errorTitle, body: clip(next.error, 200) });
  }
  const before = prev?.queue.deferred ?? 0;
  if (next.queue.deferred > 0 && before === 0) {
    out.push({ kind: 'deferring', title: t.deferTitle, body: t.deferBody(next.queue.deferred) });
  }
  return out;
}

/** Shown once, the first time the window is closed to the tray. */
export function trayHint(lang: Lang): Notice {
  return { kind: 'hint', title: TEXT[lang].hintTitle, body: TEXT[lang].hintBody };
}

/** The plain menu template Electron's Menu.buildFromTemplate takes; `onClick` gets the item's action. */
export interface MenuTemplateItem {
  type?: 'separator' | 'checkbox' | 'normal';
  label?: string;
  enabled?: boolean;
  checked?: boolean;
  click?: () => void;
}

export function menuTemplate(menu: readonly MenuItemModel[], onClick: (id: MenuAction) => void): MenuTemplateItem[] {
  return menu.map((m): MenuTemplateItem => {
    switch (m.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { type: 'normal', label: m.label, enabled: false };
      case 'checkbox':
        return { type: 'checkbox', label: m.label, enabled: m.enabled, checked: m.checked, click: () => onClick(m.id) };
      case 'item':
        return { type: 'normal', label: m.label, enabled: m.enabled, click: () => onClick(m.id) };
    }
  });
}

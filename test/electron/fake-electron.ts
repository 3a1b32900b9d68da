/*
 * A stand-in for the `electron` module where its binary is absent: just enough of app,
 * BrowserWindow, Tray, Menu, Notification, ipcMain, protocol, session, shell, dialog and
 * nativeImage for bootstrap.ts to run under Node, recording what the shell does so tests can
 * assert on it and fire the events Electron would (window close, before-quit, tray clicks).
 * Use with `vi.mock('electron', () => import('./fake-electron.js').then((m) => m.electronModule))`.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';

type AnyFn = (...args: any[]) => any;

export interface FakeEvent {
  defaultPrevented: boolean;
  preventDefault(): void;
}

export function fakeEvent(): FakeEvent {
  const e = {
    defaultPrevented: false,
    preventDefault() {
      e.defaultPrevented = true;
    },
  };
  return e;
}

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextContentsId++;
  url = '';
  sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;
  windowOpenHandler: AnyFn | null = null;
  setWindowOpenHandler(h: AnyFn) {
    this.windowOpenHandler = h;
  }
  send(channel: string, ...args: unknown[]) {
    this.sent.push({ channel, args });
  }
  getURL() {
    return this.url;
  }
  isDestroyed() {
    return this.destroyed;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static all: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  visible = false;
  focused = 0;
  destroyed = false;
  constructor(readonly options: Record<string, any>) {
    super();
    FakeBrowserWindow.all.push(this);
  }
  async loadURL(url: string) {
    this.webContents.url = url;
    setImmediate(() => this.emit('ready-to-show'));
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {
    this.focused++;
  }
  isMinimized() {
    return false;
  }
  restore() {}
  isDestroyed() {
    return this.destroyed;
  }
  /** What the user's close button does: Electron emits 'close', then closes unless prevented. */
  userClose(): FakeEvent {
    const e = fakeEvent();
    this.emit('close', e);
    if (!e.defaultPrevented) {
      this.destroyed = true;
      this.webContents.destroyed = true;
      this.emit('closed');
    }
    return e;
  }
}

export class FakeTray extends EventEmitter {
  static all: FakeTray[] = [];
  tooltip = '';
  menu: any[] = [];
  destroyed = false;
  constructor(public image: { path: string }) {
    super();
    FakeTray.all.push(this);
  }
  setImage(img: { path: string }) {
    this.image = img;
  }
  setToolTip(t: string) {
    this.tooltip = t;
  }
  setContextMenu(m: any[]) {
    this.menu = m;
  }
  destroy() {
    this.destroyed = true;
  }
  /** Clicks the context-menu item with this label. */
  click(label: string) {
    const item = this.menu.find((i) => i.label === label);
    if (!item) throw new Error(`no tray menu item "${label}" in ${this.menu.map((i) => i.label).join(', ')}`);
    if (item.enabled === false) throw new Error(`tray menu item "${label}" is disabled`);
    item.click();
  }
}

export class FakeNotification extends EventEmitter {
  static shown: { title: string; body: string }[] = [];
  static isSupported() {
    return true;
  }
  constructor(readonly opts: { title: string; body: string }) {
    super();
  }
  show() {
    FakeNotification.shown.push({ title: this.opts.title, body: this.opts.body });
  }
}

class FakeApp extends EventEmitter {
  isPackaged = false;
  appPath = path.resolve(__dirname, '..', '..');
  paths: Record<string, string> = {};
  name = '';
  lockGranted = true;
  exitCode: number | null = null;
  quitCalls = 0;
  loginItem = { openAtLogin: false, args: [] as string[] };
  private resolveExit: (code: number) => void = () => undefined;
  readonly exited = new Promise<number>((resolve) => (this.resolveExit = resolve));
  setName(n: string) {
    this.name = n;
  }
  setPath(k: string, v: string) {
    this.paths[k] = v;
  }
  getAppPath() {
    return this.appPath;
  }
  setAppUserModelId() {}
  requestSingleInstanceLock() {
    return this.lockGranted;
  }
  whenReady() {
    return Promise.resolve();
  }
  getLocale() {
    return 'ja-JP';
  }
  getLoginItemSettings() {
    return { openAtLogin: this.loginItem.openAtLogin };
  }
  setLoginItemSettings(s: { openAtLogin: boolean; args: string[] }) {
    this.loginItem = { ...s };
  }
  quit() {
    this.quitCalls++;
  }
  exit(code: number) {
    this.exitCode = code;
    this.resolveExit(code);
  }
  /** What Electron does on Quit: emit before-quit, quit unless prevented. */
  requestQuit(): FakeEvent {
    const e = fakeEvent();
    this.emit('before-quit', e);
    return e;
  }
}

export const fake = {
  app: new FakeApp(),
  ipcHandlers: new Map<string, AnyFn>(),
  protocolHandlers: new Map<string, AnyFn>(),
  privilegedSchemes: [] as { scheme: string; privileges: Record<string, boolean> }[],
  permissionRequest: null as AnyFn | null,
  permissionCheck: null as AnyFn | null,
  beforeRequest: null as { filter: { urls: string[] }; fn: AnyFn } | null,
  openedPaths: [] as string[],
  errorBoxes: [] as { title: string; text: string }[],
  applicationMenu: undefined as unknown,
};

export const electronModule = {
  app: fake.app,
  BrowserWindow: FakeBrowserWindow,
  Tray: FakeTray,
  Notification: FakeNotification,
  Menu: {
    setApplicationMenu: (m: unknown) => void (fake.applicationMenu = m),
    buildFromTemplate: (t: any[]) => t,
  },
  nativeImage: { createFromPath: (p: string) => ({ path: p }) },
  ipcMain: { handle: (ch: string, fn: AnyFn) => void fake.ipcHandlers.set(ch, fn) },
  protocol: {
    registerSchemesAsPrivileged: (s: typeof fake.privilegedSchemes) => void fake.privilegedSchemes.push(...s),
    handle: (scheme: string, fn: AnyFn) => void fake.protocolHandlers.set(scheme, fn),
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (fn: AnyFn) => void (fake.permissionRequest = fn),
      setPermissionCheckHandler: (fn: AnyFn) => void (fake.permissionCheck = fn),
      webRequest: { onBeforeRequest: (filter: { urls: string[] }, fn: AnyFn) => void (fake.beforeRequest = { filter, fn }) },
    },
  },
  shell: {
    openPath: async (p: string) => {
      fake.openedPaths.push(p);
      return '';
    },
    openExternal: async () => undefined,
  },
  dialog: { showErrorBox: (title: string, text: string) => void fake.errorBoxes.push({ title, text }) },
};

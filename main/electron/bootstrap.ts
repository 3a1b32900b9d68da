/*
 * The Electron wiring: hosts the gateway core in-process and connects it to the tray, the
 * window and IPC; or, when the Windows service hosts the gateway (service mode), connects the
 * tray, window and IPC to the service's admin API instead (remote-gateway.ts) and serves no
 * admin API of its own. Everything with a decision in it lives in the pure modules beside this one
 * (lifecycle, tray-state, ipc-guard, window-security); this file only adapts them to
 * Electron's objects. `bootstrap(argv, env)` resolves to a handle (used by tests with a
 * stubbed electron module) once the app is ready and the gateway is open, or to null when
 * this is a second instance (it focuses the first one and quits) or the command line is bad.
 * When the data folder cannot be opened (a broken config.json with no last good copy) it
 * shows an error box and exits with code 1.
 */
import path from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  protocol,
  session,
  shell as electronShell,
  Tray,
  type MenuItemConstructorOptions,
} from 'electron';
import { Gateway } from '../core/gateway.js';
import { createCommands, gatewayPorts } from '../core/commands/index.js';
import { startAdminHost, type AdminHost } from '../headless/admin-host.js';
import { demoConfig } from '../core/config/index.js';
import { defaultDataDir } from '../core/paths.js';
import { serviceDataDir } from '../core/service/layout.js';
import { queryService } from '../core/service/run-plan.js';
import { serviceControl } from '../core/service/control.js';
import { RemoteGateway } from './remote-gateway.js';
import { serviceCommands } from '../core/commands/service.js';
import type { CommandPorts } from '../core/commands/context.js';
import { processServiceHost } from '../core/service/host.js';
import { EVENT_NAMES, type CommandHandlers, type EventName } from '../shared/contract.js';
import { loadDesktopSettings, saveDesktopSettings } from './desktop-settings.js';
import { createInvokeHandler, EVENT_CHANNEL, INVOKE_CHANNEL } from './ipc-guard.js';
import { parseShellArgs, Shell, ShellArgsError, type ShellOptions } from './lifecycle.js';
import { langFor, menuTemplate, type TrayModel } from './tray-state.js';
import {
  APP_ENTRY,
  APP_ORIGIN,
  APP_SCHEME,
  createAppProtocolHandler,
  hardenContents,
  isAppUrl,
  permissionAllowed,
  secureWebPreferences,
} from './window-security.js';

export const APP_ID = 'jp.gatehouse.app';

export interface ShellHandle {
  shell: Shell;
  /** The in-process gateway (desktop mode), or null in service mode. */
  gateway: Gateway | null;
  /** Service mode: the remote control of the Windows service, else null. */
  remote: RemoteGateway | null;
  options: ShellOptions;
  window(): BrowserWindow | null;
  tray(): Tray | null;
}

/**
 * Where the shell's files are. `appDir` is app.getAppPath(): the project folder in
 * development, resources/app.asar when installed.
 */
export function appPaths(appDir: string, packaged: boolean, resourcesPath: string = process.resourcesPath): { renderer: string; preload: string; resources: string } {
  return {
    renderer: path.join(appDir, 'dist', 'renderer'),
    preload: path.join(appDir, 'dist', 'main', 'electron', 'preload.cjs'),
    // Icons are extraResources in the installed app (outside app.asar, where the OS can read them).
    resources: packaged ? resourcesPath : path.join(appDir, 'resources'),
  };
}

function log(line: string): void {
  process.stdout.write(`[shell] ${line}\n`);
}

/**
 * The service's data folder when the Windows service hosts the gateway (this app is then its
 * remote control), else null. GATEHOUSE_SERVICE_DATA names one explicitly (tests, diagnostics);
 * an explicit --data keeps the in-process gateway.
 */
async function serviceMode(options: ShellOptions, env: NodeJS.ProcessEnv): Promise<string | null> {
  if (env.GATEHOUSE_SERVICE_DATA) return path.resolve(env.GATEHOUSE_SERVICE_DATA);
  if (options.dataDir || process.platform !== 'win32') return null;
  const state = await queryService().catch(() => 'not-installed' as const);
  return state === 'not-installed' ? null : serviceDataDir(env);
}

export async function bootstrap(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Promise<ShellHandle | null> {
  let options: ShellOptions;
  try {
    options = parseShellArgs(argv, env);
  } catch (err) {
    if (!(err instanceof ShellArgsError)) throw err;
    process.stderr.write(`gatehouse: ${err.message}\n`);
    app.exit(2);
    return null;
  }
  const dataDir = options.dataDir ? path.resolve(options.dataDir) : defaultDataDir(env);
  const paths = appPaths(app.getAppPath(), app.isPackaged);

  // Before ready: one folder per data folder for Electron's own files too, and the app:// scheme.
  app.setName('Gatehouse');
  app.setPath('userData', dataDir);
  app.setPath('sessionData', path.join(dataDir, 'browser'));
  app.setPath('crashDumps', path.join(dataDir, 'browser', 'Crashpad'));
  if (process.platform === 'win32') app.setAppUserModelId(APP_ID);
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }]);

  if (!app.requestSingleInstanceLock()) {
    log('Gatehouse is already running: focusing its window');
    app.quit();
    return null;
  }

  let mainWindow: BrowserWindow | null = null;
  let tray: Tray | null = null;
  let shellRef: Shell | null = null;
  // Until the shell exists, the window and a second launch have nothing to talk to.
  app.on('second-instance', () => shellRef?.menuAction('open'));
  app.on('window-all-closed', () => {
    /* the gateway keeps running in the tray */
  });
  app.on('before-quit', (e) => {
    if (shellRef?.beforeQuit()) e.preventDefault();
  });

  await app.whenReady();
  Menu.setApplicationMenu(null);
  protocol.handle(APP_SCHEME, createAppProtocolHandler(paths.renderer));
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((wc, permission, cb, details) => cb(permissionAllowed(permission, details.requestingUrl || wc.getURL())));
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin) => permissionAllowed(permission, requestingOrigin));
  // The window talks to the core over IPC only: no request leaves for the network.
  ses.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'file://*/*'] }, (d, cb) => {
    log(`blocked request to ${d.url}`);
    cb({ cancel: true });
  });

  const serviceDir = await serviceMode(options, env);
  let gateway: Gateway | null = null;
  let remote: RemoteGateway | null = null;
  const control = serviceControl();
  if (serviceDir) {
    remote = new RemoteGateway({ dataDir: serviceDir, control, log });
    await remote.open();
    log(`service mode: the Gatehouse Windows service hosts the gateway (${serviceDir}); link ${remote.link}`);
  } else {
    try {
      gateway = await Gateway.open({
        dataDir,
        createWith: options.demo ? demoConfig() : undefined,
        listen: options.listen,
        role: 'desktop',
        dpapi: process.platform === 'win32' ? 'CurrentUser' : undefined,
      });
    } catch (err) {
      const msg = (err as Error).message;
      log(`cannot open the data folder ${dataDir}: ${msg}`);
      dialog.showErrorBox('Gatehouse', `${dataDir}\n\n${msg}`);
      app.exit(1);
      return null;
    }
    log(`data folder ${dataDir}`);
  }
  const core = (gateway ?? remote)!;
  const lang = env.GATEHOUSE_LANG === 'en' || env.GATEHOUSE_LANG === 'ja' ? env.GATEHOUSE_LANG : langFor(app.getLocale());
  const loginArgs = app.isPackaged ? ['--hidden'] : [app.getAppPath(), '--hidden'];
  const iconPath = path.join(paths.resources, 'icon.png');

  const showWindow = () => {
    if (!mainWindow || mainWindow.isDestroyed()) mainWindow = createWindow();
    else {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.show();
      mainWindow.focus();
    }
  };

  const createWindow = (): BrowserWindow => {
    const win = new BrowserWindow({
      width: 1200,
      height: 820,
      minWidth: 760,
      minHeight: 520,
      show: false,
      title: 'Gatehouse',
      icon: iconPath,
      autoHideMenuBar: true,
      webPreferences: secureWebPreferences(paths.preload),
    });
    hardenContents(win.webContents, {
      openExternal: (url) => void electronShell.openExternal(url),
      onBlocked: (what, url) => log(`blocked ${what}${url ? ` to ${url}` : ''}`),
    });
    win.webContents.on('render-process-gone', (_e, details) => log(`window renderer gone: ${details.reason}`));
    win.once('ready-to-show', () => {
      win.show();
      win.focus();
    });
    win.on('close', (e) => {
      if (shellRef?.onWindowClose() === 'hide') {
        e.preventDefault();
        win.hide();
      }
    });
    // Windows log-off / shut-down: close the gateway while there is time (the spool is durable anyway).
    win.on('session-end', () => void shellRef?.quit());
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null;
    });
    void win.loadURL(APP_ENTRY).catch((err: Error) => log(`cannot load ${APP_ENTRY}: ${err.message}`));
    return win;
  };

  let lastIcon = '';
  let lastTooltip = '';
  let lastMenu = '';
  const renderTray = (model: TrayModel) => {
    const icon = nativeImage.createFromPath(path.join(paths.resources, 'tray', model.icon));
    if (!tray) {
      tray = new Tray(icon);
      tray.on('click', () => void shellRef?.menuAction('open'));
    } else if (model.icon !== lastIcon) tray.setImage(icon);
    lastIcon = model.icon;
    if (model.tooltip !== lastTooltip) tray.setToolTip((lastTooltip = model.tooltip));
    const menuKey = JSON.stringify(model.menu);
    if (menuKey !== lastMenu) {
      lastMenu = menuKey;
      const template = menuTemplate(model.menu, (id) => void shellRef?.menuAction(id)) as MenuItemConstructorOptions[];
      tray.setContextMenu(Menu.buildFromTemplate(template));
    }
  };

  let adminHost: AdminHost | null = null;
  const shell = new Shell({
    gateway: core,
    lang,
    remote: remote ? () => ({ link: remote.link, control: control.available }) : undefined,
    showWindow,
    openFolder: (dir) => electronShell.openPath(dir),
    getOpenAtLogin: () => app.getLoginItemSettings({ args: loginArgs }).openAtLogin,
    setOpenAtLogin: (open) => app.setLoginItemSettings({ openAtLogin: open, args: loginArgs }),
    loadSettings: () => {
      const { settings, problem } = loadDesktopSettings(dataDir);
      if (problem) log(problem);
      return settings;
    },
    saveSettings: (s) => saveDesktopSettings(dataDir, s),
    renderTray,
    notify: (n) => {
      if (!Notification.isSupported()) return log(`${n.title}: ${n.body}`);
      const note = new Notification({ title: n.title, body: n.body, icon: iconPath });
      note.on('click', showWindow);
      note.show();
    },
    exit: (code) => {
      tray?.destroy();
      tray = null;
      // app.exit emits no will-quit: close the admin API (and remove admin.json) first.
      const done = () => app.exit(code);
      if (adminHost) adminHost.close().then(done, done);
      else done();
    },
    log,
  });
  shellRef = shell;

  // Events fan out from the core once: to the window (IPC) and to the tray.
  const forward = (name: EventName) => (data: unknown) => {
    const wc = mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents : null;
    if (wc && !wc.isDestroyed() && isAppUrl(wc.getURL())) wc.send(EVENT_CHANNEL, name, data);
  };
  for (const name of EVENT_NAMES) core.on(name, forward(name));
  core.on('status', (s) => shell.onStatus(s));
  core.on('queue', (q) => shell.onQueue(q));
  core.on('receivelog', () => shell.onTraffic());
  core.on('senderlog', () => shell.onTraffic());
  remote?.onLink(() => shell.onLink());
  // The core's notices (route down, queue size, ...): a desktop notification unless turned off
  // in Settings (a service's setting arrives with its config events).
  let desktopNotices = gateway ? gateway.store.get().notifications.desktop : true;
  core.on('config', (c) => (desktopNotices = c.notifications?.desktop ?? true));
  core.on('notice', (n) => shell.onNotice(n, gateway ? gateway.store.get().notifications.desktop : desktopNotices));

  // The service commands run here, on this PC (never through the service's own API): a mode
  // switch lets go of this app's gateway or link first, and relaunches the app in the new mode.
  const serviceHost = processServiceHost('desktop', {
    self: {
      file: process.execPath,
      args: [app.isPackaged ? path.join(app.getAppPath(), 'dist', 'main', 'cli', 'run.js') : path.join(app.getAppPath(), 'bin', 'gatehouse.js')],
      setEnv: { ELECTRON_RUN_AS_NODE: '1' },
    },
    desktopDataDir: dataDir,
    beforeSwitch: async () => {
      log('switching mode: letting go of the data folder');
      await adminHost?.close();
      adminHost = null;
      await (gateway ?? remote)!.close();
    },
    afterSwitch: async (ok) => {
      log(ok ? 'mode switched: relaunching' : 'mode switch failed: relaunching as before');
      // After the answer has reached the window.
      setTimeout(() => {
        app.relaunch();
        app.exit(0);
      }, 500);
    },
  });
  const local = serviceCommands({ service: serviceHost } as unknown as CommandPorts);
  const base: CommandHandlers = gateway ? createCommands({ ...gatewayPorts(gateway), service: serviceHost }) : { ...remote!.handlers(), ...local };
  if (remote) {
    // The SMTP port moved: the service's firewall rule follows (UAC when needed).
    const setConfig = base['config.set'];
    base['config.set'] = async (args, call) => {
      const view = await setConfig(args, call);
      if (args.key === 'listener') {
        await local['service.firewall']({ port: args.value.port, dryRun: false }, call).then(
          () => log(`firewall rule moved to port ${args.value.port}`),
          (err: Error) => log(`firewall rule not moved to port ${args.value.port}: ${err.message}`),
        );
      }
      return view;
    };
  }
  const handlers = shell.wrapHandlers(base);
  ipcMain.handle(
    INVOKE_CHANNEL,
    createInvokeHandler({
      handlers,
      policy: { origin: APP_ORIGIN, allowedContentsId: () => (mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents.id : null) },
      onRefused: log,
    }),
  );

  // The same admin API over HTTP on loopback (token, Origin/Host checks) and admin.json, so
  // `gatehouse queue retry|hold|...` and a browser reach the gateway while the app runs.
  // Not fatal: the window works over IPC without it (e.g. when another Gatehouse holds the port).
  if (gateway && !options.noAdminHttp) {
    startAdminHost({ gateway, where: gateway.store.get().admin, staticDir: paths.renderer, handlers })
      .then((h) => {
        adminHost = h;
        log(`admin API on ${h.url.replace(/#.*/, '')} (token in admin-token)`);
      })
      .catch((err: Error) => log(`admin API over HTTP not started: ${err.message}`));
  }

  process.once('SIGINT', () => void shell.quit());
  process.once('SIGTERM', () => void shell.quit());

  await shell.startup(options);
  return { shell, gateway, remote, options, window: () => mainWindow, tray: () => tray };
}

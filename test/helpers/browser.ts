/*
 * Which browser the UI tests drive through playwright-core, found the way Playwright's own
 * channels do: CHROMIUM_PATH if set; on Linux Debian's chromium (or a Chrome in the usual
 * places); on Windows and macOS the installed Edge or Chrome through the `msedge` / `chrome`
 * channels. test/global-setup.ts calls ensureBrowser() once per run: where none is found it
 * gets Debian's chromium as `playwright install --with-deps` would (apt-get, as root on
 * Linux), or stops the run with one line saying how. Workers read the choice from the
 * environment (GATEHOUSE_BROWSER_PATH / GATEHOUSE_BROWSER_CHANNEL) via launchOptions().
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface BrowserChoice {
  /** A browser binary, or undefined when a channel names it. */
  executablePath?: string;
  /** Playwright channel (`msedge`, `chrome`) that finds the installed browser itself. */
  channel?: string;
  /** Where it was found, for the one line the run prints. */
  what: string;
}

const LINUX = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];

/** Where Playwright's `msedge` / `chrome` channels look on Windows and macOS. */
function channelPaths(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): { channel: string; path: string }[] {
  if (platform === 'win32') {
    const roots = [env['ProgramFiles(x86)'], env.ProgramFiles, env.LOCALAPPDATA].filter((r): r is string => !!r);
    return [
      ...roots.map((r) => ({ channel: 'msedge', path: path.win32.join(r, 'Microsoft', 'Edge', 'Application', 'msedge.exe') })),
      ...roots.map((r) => ({ channel: 'chrome', path: path.win32.join(r, 'Google', 'Chrome', 'Application', 'chrome.exe') })),
    ];
  }
  if (platform === 'darwin') {
    return [
      { channel: 'chrome', path: '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome' },
      { channel: 'msedge', path: '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge' },
    ];
  }
  return [];
}

/** The browser to use, or null. `exists` is injectable for tests. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, exists: (p: string) => boolean = fs.existsSync): BrowserChoice | null {
  if (env.CHROMIUM_PATH) return exists(env.CHROMIUM_PATH) ? { executablePath: env.CHROMIUM_PATH, what: `CHROMIUM_PATH (${env.CHROMIUM_PATH})` } : null;
  if (platform === 'linux') {
    const p = LINUX.find((c) => exists(c));
    return p ? { executablePath: p, what: p } : null;
  }
  const c = channelPaths(platform, env).find((x) => exists(x.path));
  return c ? { channel: c.channel, what: `${c.channel} (${c.path})` } : null;
}

/** The one line that says how to get a browser on this platform. */
export function howToGetBrowser(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'linux') return 'no browser for the UI tests: install Debian\'s Chromium with `sudo apt-get install -y chromium` (or set CHROMIUM_PATH to a Chromium or Chrome binary)';
  if (platform === 'win32') return 'no browser for the UI tests: install Microsoft Edge or Google Chrome (or set CHROMIUM_PATH to chrome.exe / msedge.exe)';
  return 'no browser for the UI tests: install Google Chrome or Microsoft Edge (or set CHROMIUM_PATH to a Chromium binary)';
}

export interface EnsureDeps {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  exists?: (p: string) => boolean;
  isRoot?: boolean;
  /** Runs a command, true on success (default: spawnSync with inherited output). */
  run?: (cmd: string, args: string[]) => boolean;
  say?: (line: string) => void;
}

/**
 * A browser for this run: found, or installed (Debian, as root: `apt-get install -y chromium`,
 * what Playwright's `install --with-deps` does there), or an Error whose message is the one
 * line saying how to get one. Sets GATEHOUSE_BROWSER_PATH / _CHANNEL for the workers.
 */
export function ensureBrowser(deps: EnsureDeps = {}): BrowserChoice {
  const env = deps.env ?? process.env;
  const platform = deps.platform ?? process.platform;
  const exists = deps.exists ?? fs.existsSync;
  const say = deps.say ?? ((l: string) => process.stdout.write(`${l}\n`));
  const run =
    deps.run ??
    ((cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0);
  let found = findBrowser(env, platform, exists);
  const root = deps.isRoot ?? process.getuid?.() === 0;
  if (!found && platform === 'linux' && !env.CHROMIUM_PATH && root && exists('/usr/bin/apt-get')) {
    say('test setup: no browser for the UI tests: installing Debian\'s chromium (apt-get install -y chromium), as `playwright install --with-deps` would');
    if (run('apt-get', ['update', '-qq']) && run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'])) found = findBrowser(env, platform, exists);
  }
  if (!found) throw new Error(howToGetBrowser(platform));
  if (found.executablePath) env.GATEHOUSE_BROWSER_PATH = found.executablePath;
  if (found.channel) env.GATEHOUSE_BROWSER_CHANNEL = found.channel;
  return found;
}

/** playwright-core launch options for the browser the global setup chose (else found now). */
export function launchOptions(): { executablePath?: string; channel?: string } {
  if (process.env.GATEHOUSE_BROWSER_CHANNEL) return { channel: process.env.GATEHOUSE_BROWSER_CHANNEL };
  if (process.env.GATEHOUSE_BROWSER_PATH) return { executablePath: process.env.GATEHOUSE_BROWSER_PATH };
  const f = findBrowser();
  if (!f) throw new Error(howToGetBrowser());
  return f.channel ? { channel: f.channel } : { executablePath: f.executablePath! };
}

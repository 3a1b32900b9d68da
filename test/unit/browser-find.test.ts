/*
 * test/helpers/browser.ts: how `npm test` finds a browser for the UI tests on each platform,
 * gets Debian's chromium where it may (root, apt-get), and otherwise stops with one line.
 * The file system and apt-get are injected; nothing is installed here.
 */
import { describe, expect, it } from 'vitest';
import { ensureBrowser, findBrowser, howToGetBrowser } from '../helpers/browser.js';

const only = (...paths: string[]) => (p: string): boolean => paths.includes(p);

describe('findBrowser', () => {
  it('Linux: CHROMIUM_PATH first, then Debian\'s chromium, then a Chrome', () => {
    expect(findBrowser({ CHROMIUM_PATH: '/opt/c/chrome' }, 'linux', only('/opt/c/chrome', '/usr/bin/chromium'))).toMatchObject({ executablePath: '/opt/c/chrome' });
    expect(findBrowser({ CHROMIUM_PATH: '/missing' }, 'linux', only('/usr/bin/chromium'))).toBeNull();
    expect(findBrowser({}, 'linux', only('/usr/bin/chromium'))).toMatchObject({ executablePath: '/usr/bin/chromium' });
    expect(findBrowser({}, 'linux', only('/usr/bin/google-chrome'))).toMatchObject({ executablePath: '/usr/bin/google-chrome' });
    expect(findBrowser({}, 'linux', only())).toBeNull();
  });

  it('Windows: Edge, else Chrome, through Playwright\'s channels', () => {
    const env = { 'ProgramFiles(x86)': 'C:\\Program Files (x86)', ProgramFiles: 'C:\\Program Files', LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' };
    expect(findBrowser(env, 'win32', only('C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe'))).toMatchObject({ channel: 'msedge' });
    expect(findBrowser(env, 'win32', only('C:\\Users\\a\\AppData\\Local\\Google\\Chrome\\Application\\chrome.exe'))).toMatchObject({ channel: 'chrome' });
    expect(findBrowser(env, 'win32', only())).toBeNull();
  });

  it('macOS: Chrome or Edge in /Applications', () => {
    expect(findBrowser({}, 'darwin', only('/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge'))).toMatchObject({ channel: 'msedge' });
  });
});

describe('ensureBrowser', () => {
  it('Debian as root without a browser: installs chromium with apt-get, then uses it', () => {
    const installed = new Set(['/usr/bin/apt-get']);
    const ran: string[] = [];
    const env: NodeJS.ProcessEnv = {};
    const b = ensureBrowser({
      env,
      platform: 'linux',
      isRoot: true,
      exists: (p) => installed.has(p),
      run: (cmd, args) => {
        ran.push([cmd, ...args].join(' '));
        if (args.includes('chromium')) installed.add('/usr/bin/chromium');
        return true;
      },
      say: () => undefined,
    });
    expect(ran).toEqual(['apt-get update -qq', 'apt-get install -y -qq --no-install-recommends chromium']);
    expect(b.executablePath).toBe('/usr/bin/chromium');
    expect(env.GATEHOUSE_BROWSER_PATH).toBe('/usr/bin/chromium');
  });

  it('not root, or apt-get failed, or Windows without Edge/Chrome: one line saying how', () => {
    const ran: string[] = [];
    const run = (cmd: string): boolean => (ran.push(cmd), false);
    expect(() => ensureBrowser({ env: {}, platform: 'linux', isRoot: false, exists: only('/usr/bin/apt-get'), run, say: () => undefined })).toThrow(/^no browser for the UI tests: install Debian's Chromium with `sudo apt-get install -y chromium`/);
    expect(ran).toEqual([]);
    expect(() => ensureBrowser({ env: {}, platform: 'linux', isRoot: true, exists: only('/usr/bin/apt-get'), run, say: () => undefined })).toThrow(howToGetBrowser('linux'));
    expect(() => ensureBrowser({ env: {}, platform: 'win32', exists: only(), run, say: () => undefined })).toThrow(/install Microsoft Edge or Google Chrome/);
    expect(howToGetBrowser('linux').split('\n')).toHaveLength(1);
  });

  it('a found browser is passed to the workers through the environment', () => {
    const env: NodeJS.ProcessEnv = { LOCALAPPDATA: 'C:\\L' };
    ensureBrowser({ env, platform: 'win32', exists: only('C:\\L\\Microsoft\\Edge\\Application\\msedge.exe') });
    expect(env.GATEHOUSE_BROWSER_CHANNEL).toBe('msedge');
  });
});

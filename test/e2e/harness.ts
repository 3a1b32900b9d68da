/*
 * Shared pieces of the browser tests: builds the renderer when its sources are newer than
 * dist/renderer (one build at a time across test workers, by a lock folder), launches the
 * browser the global setup found (test/helpers/browser.ts: Debian's Chromium here, Edge or
 * Chrome on Windows and macOS) through playwright-core with the flags this machine needs, opens pages
 * at a given language and scale while collecting console errors and CSP violations, and
 * saves screenshots to test-results/screenshots/. Everything throws on failure (a test
 * that cannot build or launch must fail loudly, not skip).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchOptions } from '../helpers/browser.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STATIC_DIR = path.join(ROOT, 'dist', 'renderer');
export const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function needsBuild(): boolean {
  const index = path.join(STATIC_DIR, 'index.html');
  if (!fs.existsSync(index)) return true;
  const src = Math.max(
    newestMtime(path.join(ROOT, 'renderer')),
    newestMtime(path.join(ROOT, 'main', 'shared')),
  );
  return src > fs.statSync(index).mtimeMs;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${out}`))));
  });
}

/** Builds dist/renderer if it is missing or older than its sources. */
export async function ensureRendererBuilt(): Promise<void> {
  if (!needsBuild()) return;
  const lock = path.join(ROOT, 'dist', '.renderer-build.lock');
  await fsp.mkdir(path.dirname(lock), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      await fsp.mkdir(lock);
      break;
    } catch {
      if (i > 600) throw new Error(`renderer build lock ${lock} held too long; remove it`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (needsBuild()) await run(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
  } finally {
    await fsp.rmdir(lock).catch(() => undefined);
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    ...launchOptions(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
}

export async function openPage(browser: Browser, url: string, opts: { locale?: 'ja' | 'en'; scale?: number; width?: number; height?: number } = {}): Promise<OpenedPage> {
  const locale = opts.locale ?? 'ja';
  const context = await browser.newContext({
    locale: locale === 'ja' ? 'ja-JP' : 'en-US',
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    deviceScaleFactor: opts.scale ?? 1,
    // The UI and the gateway share a machine: same time zone as this process.
    timezoneId: Intl.DateTimeFormat().resolvedOptions().timeZone,
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(url);
  return { context, page, problems };
}

export async function shot(page: Page, name: string): Promise<string> {
  await fsp.mkdir(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  // Let fonts, layout and the last event settle.
  await page.waitForTimeout(150);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Clicks a main tab by its visible name (either language). */
export async function openTab(page: Page, name: string | RegExp): Promise<void> {
  // A tab's name may end with its badge ("Queue 3"); match the label itself exactly.
  const re = typeof name === 'string' ? new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s\\d+)?$`) : name;
  await page.getByRole('tab', { name: re }).first().click();
}

/**
 * Controls without an accessible name (a crude but useful audit: aria-label(ledby), a
 * <label>, a title, or a button's text). Returns a description of each offender.
 */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('input, select, textarea, button, [role=switch], [role=tab], [role=grid]'))) {
      if ((el as HTMLInputElement).type === 'hidden' || el.closest('[hidden], dialog:not([open])')) continue;
      const id = el.id;
      const named =
        el.getAttribute('aria-label')?.trim() ||
        (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).some((x) => document.getElementById(x)?.textContent?.trim()) ||
        (id && document.querySelector(`label[for="${CSS.escape(id)}"]`)?.textContent?.trim()) ||
        el.closest('label')?.textContent?.trim() ||
        el.getAttribute('title')?.trim() ||
        (el.tagName === 'BUTTON' || el.getAttribute('role') === 'tab' ? el.textContent?.trim() : '');
      if (!named) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
}

/** The problems that are real (the 401 probe of a deliberately wrong token is expected elsewhere). */
export function realProblems(problems: string[]): string[] {
  return problems.filter((p) => !/favicon/.test(p));
}

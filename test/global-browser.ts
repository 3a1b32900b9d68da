/*
 * Runs once before all test files of `npm test` (vitest.config.ts; the Windows lane, which
 * leaves the browser tests out, does not load it): makes sure the UI tests have a browser.
 * Found (Debian's chromium, or Edge / Chrome through Playwright's channels on Windows and
 * macOS), or installed the way the platform provides (Debian, as root: apt-get install
 * chromium), or the run stops with one line saying how to get one. See test/helpers/browser.ts.
 */
import { ensureBrowser } from './helpers/browser.js';

export default function setup(): void {
  let what: string;
  try {
    what = ensureBrowser().what;
  } catch (err) {
    // The one line, without a stack trace in the way.
    process.stderr.write(`\nnpm test: ${(err as Error).message}\n\n`);
    process.exit(1);
  }
  // One line, so a run says which browser the UI tests saw.
  process.stdout.write(`test setup: UI tests use ${what}\n`);
}

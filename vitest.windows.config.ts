/*
 * The Windows lane's vitest config (`npm run test:windows`, scripts/windows-lane/run.mjs):
 * every suite of vitest.config.ts, run as win32 code (under Wine on Linux, natively on a
 * Windows runner), less the groups test/windows/exclusions.json leaves out with their reason.
 * Timeouts are longer because each node.exe start under Wine takes a second or more; test
 * helpers stretch their own waits for child processes by GATEHOUSE_SLOW_SPAWN.
 */
import fs from 'node:fs';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

interface Group {
  file: string;
  test?: string;
  where: 'wine' | 'native' | 'windows';
  how: 'lane' | 'self';
}

const wine = process.env.GATEHOUSE_WINE === '1';
const groups = (JSON.parse(fs.readFileSync(new URL('./test/windows/exclusions.json', import.meta.url), 'utf8')) as { groups: Group[] }).groups;
const files = groups.filter((g) => !g.test && g.how === 'lane' && (g.where === 'windows' || g.where === (wine ? 'wine' : 'native'))).map((g) => g.file);

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    exclude: ['**/node_modules/**', ...files],
    // Not test/global-browser.ts: the browser tests are left out here (exclusions.json).
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/windows/lane-setup.ts'],
    // Under Wine every test file runs in a node.exe that is slow to start and mostly busy on
    // one core: two at a time keep the lane inside CI's time (it also runs beside npm test).
    ...(wine ? { maxWorkers: 2 } : {}),
    testTimeout: wine ? 90_000 : 45_000,
    hookTimeout: wine ? 90_000 : 45_000,
  },
});

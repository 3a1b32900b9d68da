/*
 * Setup file of the Windows lane (vitest.windows.config.ts), loaded in every test worker.
 * It refuses to run anywhere but win32, so a lane that silently ran as Linux code cannot
 * pass; records each test that starts (file and full name, one line per test in
 * GATEHOUSE_LANE_OUT/win32-<pid>.txt) so the lane's runner can count the tests that ran and
 * passed as win32; and skips the single tests that test/windows/exclusions.json leaves out
 * (how: 'lane'; whole files are left out by the config), noting each for the runner.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach } from 'vitest';
import exclusions from './exclusions.json' with { type: 'json' };

if (process.platform !== 'win32') {
  throw new Error(`the Windows lane must run as win32 code, but process.platform is ${process.platform}`);
}

const out = process.env.GATEHOUSE_LANE_OUT;
const wine = process.env.GATEHOUSE_WINE === '1';
const record = out ? path.join(out, `win32-${process.pid}.txt`) : null;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Group {
  file: string;
  test?: string;
  where: 'wine' | 'native' | 'windows';
  how: 'lane' | 'self';
  reason: string;
}

const single = (exclusions.groups as Group[]).filter((g) => g.test && g.how === 'lane' && (g.where === 'windows' || g.where === (wine ? 'wine' : 'native')));

/** The name the JSON reporter gives a test: its suites' names and its own, space-joined. */
function fullName(task: { name: string; suite?: { name: string; suite?: unknown } }): string {
  const names = [task.name];
  let s = task.suite as { name: string; suite?: unknown } | undefined;
  while (s) {
    if (s.name) names.unshift(s.name);
    s = s.suite as typeof s | undefined;
  }
  return names.join(' ');
}

beforeEach((ctx) => {
  const file = path.relative(root, ctx.task.file.filepath).split(path.sep).join('/');
  const name = fullName(ctx.task as never);
  const hit = single.find((g) => g.file === file && new RegExp(g.test!).test(name));
  if (record) fs.appendFileSync(record, `${JSON.stringify({ file, name, platform: process.platform, excluded: hit ? hit.test : undefined })}\n`);
  if (hit) ctx.skip(`Windows lane: ${hit.reason}`);
});

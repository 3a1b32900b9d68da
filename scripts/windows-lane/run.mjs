/*
 * `npm run test:windows`: the Windows lane. Runs the test suites (vitest.windows.config.ts)
 * as win32 code and prints how many tests ran and passed as win32, and every group it
 * leaves out with the reason (test/windows/exclusions.json).
 *
 * On Windows it runs vitest natively. On Linux it runs the same suites under Wine with Node
 * for Windows, installing what it needs itself (cached in $GATEHOUSE_WINDOWS_LANE_CACHE, else
 * ~/.cache/gatehouse-windows-lane; see setup.mjs). Under Wine stdout must be a file (a pipe
 * gives EBADF at the first console.log), so vitest writes to a file that this script relays.
 *
 * Arguments are passed to vitest (`npm run test:windows -- test/cli`): a partial run, for
 * working on one suite, where the count floor and the exclusion checks do not apply.
 *
 * Writes test-results/windows-lane/: junit.xml and results.json (vitest), output.txt, and
 * summary.json. Exit code 0 only when every test passed, at least MIN_WIN32 of them ran as
 * win32, and every exclusion still matches something; 1 otherwise; 2 when the lane cannot
 * be set up (the message says what to install).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHoldfileNative, prepareWine, registerRun, stopWine, toWindowsPath } from './setup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = path.join(root, 'test-results', 'windows-lane');
/** The lane fails below this many tests passed as win32: a shrinking lane must be noticed. */
const MIN_WIN32 = 400;
/** Bound on one vitest run under Wine (the whole CI run must stay under 30 minutes). */
const RUN_LIMIT_MS = 24 * 60 * 1000;
/** How much slower child-process starts are: stretches the waits in test helpers. */
const WINE_SLOW_SPAWN = '3';

const say = (line) => process.stdout.write(`windows-lane: ${line}\n`);
/** Arguments for vitest (e.g. a file filter while working on one suite): a partial run. */
const extra = process.argv.slice(2);

function exclusions() {
  return JSON.parse(fs.readFileSync(path.join(root, 'test', 'windows', 'exclusions.json'), 'utf8')).groups;
}

/** Run vitest with stdout and stderr to `logFile`, relaying the file to our stdout as it grows. */
async function runVitest({ command, args, env, logFile }) {
  fs.writeFileSync(logFile, '');
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  let shown = 0;
  const relay = () => {
    const size = fs.statSync(logFile).size;
    if (size <= shown) return;
    const buf = Buffer.alloc(size - shown);
    const h = fs.openSync(logFile, 'r');
    fs.readSync(h, buf, 0, buf.length, shown);
    fs.closeSync(h);
    shown = size;
    process.stdout.write(buf);
  };
  const timer = setInterval(relay, 1000);
  const limit = setTimeout(() => {
    say(`vitest still running after ${RUN_LIMIT_MS / 60000} minutes: stopping it`);
    child.kill('SIGKILL');
  }, RUN_LIMIT_MS);
  const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
  clearInterval(timer);
  clearTimeout(limit);
  relay();
  return code;
}

/** Tests recorded by test/windows/lane-setup.ts as started under win32, keyed file + name. */
function win32Records() {
  const seen = new Map();
  if (!fs.existsSync(outDir)) return seen;
  for (const f of fs.readdirSync(outDir)) {
    if (!/^win32-\d+\.txt$/.test(f)) continue;
    for (const line of fs.readFileSync(path.join(outDir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line);
      if (r.platform === 'win32') seen.set(`${r.file}::${r.name}`, r);
    }
  }
  return seen;
}

function relFile(name) {
  // vitest's JSON names files by absolute path; under Wine that is Z:/work/... or Z:\work\...
  const unix = name.replace(/^[A-Za-z]:/, '').replace(/\\/g, '/');
  const r = path.posix.relative(root.replace(/\\/g, '/').replace(/^[A-Za-z]:/, ''), unix);
  return r;
}

function report({ wine, seconds, code, nodeVersion }) {
  const resultsFile = path.join(outDir, 'results.json');
  if (!fs.existsSync(resultsFile)) {
    say(`vitest wrote no results (exit code ${code}); see ${path.relative(root, path.join(outDir, 'output.txt'))}`);
    return 1;
  }
  const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  const records = win32Records();
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let win32Passed = 0;
  const perFile = new Map();
  for (const file of results.testResults) {
    const rel = relFile(file.name);
    for (const t of file.assertionResults) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') failed++;
      else skipped++;
      if (t.status === 'passed' && records.has(`${rel}::${t.fullName}`)) {
        win32Passed++;
        perFile.set(rel, (perFile.get(rel) ?? 0) + 1);
      }
    }
  }
  const groups = exclusions().filter((g) => g.where === 'windows' || g.where === (wine ? 'wine' : 'native'));
  const all = results.testResults.flatMap((f) => f.assertionResults.map((t) => ({ file: relFile(f.name), name: t.fullName, status: t.status })));
  const globRe = (g) => new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '.*').replace(/(?<!\.)\*/g, '[^/]*')}$`);
  const explains = (g, t) => globRe(g.file).test(t.file) && (!g.test || new RegExp(g.test).test(t.name));
  const stale = [];
  for (const g of groups) {
    if (g.how === 'lane' && !g.test) {
      // A whole file left out must exist and must not have run.
      const exists = g.file.includes('*') || fs.existsSync(path.join(root, g.file));
      if (!exists || all.some((t) => explains(g, t))) stale.push(g);
    } else if (!all.some((t) => explains(g, t))) {
      stale.push(g);
    }
  }
  const unexplained = all.filter((t) => t.status !== 'passed' && t.status !== 'failed' && !groups.some((g) => explains(g, t)));
  const scenario = perFile.get('test/smtp/scenario.test.ts') ?? 0;
  const serve = perFile.get('test/smtp/serve-process.test.ts') ?? 0;
  const lines = [
    '',
    `Windows lane (${wine ? `Node for Windows ${nodeVersion} under Wine` : `native Windows, Node ${process.version}`}): ${seconds} s`,
    `  ${win32Passed} tests ran as win32 and passed (process.platform === 'win32' asserted in every worker); ${failed} failed, ${skipped} skipped, ${passed} passed in all`,
    `  seed scenario through gatehouse serve: ${scenario} tests (test/smtp/scenario.test.ts) + ${serve} (test/smtp/serve-process.test.ts)`,
    `  left out (${groups.length}):`,
    ...groups.map((g) => {
      const n = all.filter((t) => explains(g, t) && t.status !== 'passed').length;
      const count = g.how === 'lane' && !g.test ? 'whole file' : `${n} test${n === 1 ? '' : 's'}`;
      return `    - ${g.file}${g.test ? ` › "${g.test}"` : ''} (${count}, ${{ wine: 'under Wine', native: 'on a Windows machine', windows: 'on Windows' }[g.where]}): ${g.reason}`;
    }),
  ];
  if (stale.length > 0 && extra.length === 0) lines.push(`  FAILED: exclusions that match no test, or a left-out file that ran (fix test/windows/exclusions.json): ${stale.map((g) => `${g.file}${g.test ? ` › ${g.test}` : ''}`).join('; ')}`);
  if (unexplained.length > 0 && extra.length === 0) lines.push(`  FAILED: skipped with no reason in test/windows/exclusions.json: ${unexplained.map((t) => `${t.file} › ${t.name}`).join('; ')}`);
  if (extra.length > 0) lines.push(`  partial run (vitest ${extra.join(' ')}): the count floor and the exclusion checks are not applied`);
  else if (win32Passed < MIN_WIN32) lines.push(`  FAILED: fewer than ${MIN_WIN32} tests passed as win32`);
  process.stdout.write(`${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(outDir, 'summary.json'), `${JSON.stringify({ wine, nodeVersion, seconds, win32Passed, passed, failed, skipped, scenario, serve, excluded: groups, stale, unexplained }, null, 2)}\n`);
  if (extra.length > 0) return code === 0 && failed === 0 ? 0 : 1;
  return code === 0 && failed === 0 && stale.length === 0 && unexplained.length === 0 && win32Passed >= MIN_WIN32 ? 0 : 1;
}

async function main() {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const started = Date.now();
  let code;
  let wine = false;
  let nodeVersion = process.version;
  if (process.platform === 'win32') {
    const holdfile = buildHoldfileNative(root, say);
    code = await runVitest({
      command: process.execPath,
      args: [vitest, 'run', '--config', 'vitest.windows.config.ts', ...reporters(outDir), ...extra],
      env: { ...process.env, GATEHOUSE_LANE_OUT: outDir, ...(holdfile ? { GATEHOUSE_HOLDFILE: holdfile } : {}) },
      logFile: path.join(outDir, 'output.txt'),
    });
  } else {
    wine = true;
    let w;
    try {
      w = await prepareWine(root, say);
    } catch (err) {
      say(`cannot set up Wine: ${err.message}`);
      return 2;
    }
    nodeVersion = w.nodeVersion;
    registerRun(w);
    say(`running vitest as win32 under Wine (${w.nodeVersion}); each node.exe start takes a second or more`);
    try {
      code = await runVitest({
        command: 'wine',
        args: [w.nodeExe, toWindowsPath(vitest), 'run', '--config', 'vitest.windows.config.ts', ...reporters(toWindowsPath(outDir)), ...extra],
        env: {
          ...w.env,
          GATEHOUSE_WINE: '1',
          GATEHOUSE_SLOW_SPAWN: process.env.GATEHOUSE_SLOW_SPAWN ?? WINE_SLOW_SPAWN,
          GATEHOUSE_LANE_OUT: toWindowsPath(outDir),
          GATEHOUSE_HOLDFILE: toWindowsPath(w.holdfile),
          // Wine lacks TCP_KEEPIDLE, which fetch() sets before connecting (wine-keepalive.cjs).
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : ''}--require ${toWindowsPath(path.join(root, 'scripts', 'windows-lane', 'wine-keepalive.cjs'))}`,
        },
        logFile: path.join(outDir, 'output.txt'),
      });
    } finally {
      await stopWine(w, say);
    }
  }
  return report({ wine, seconds: Math.round((Date.now() - started) / 1000), code, nodeVersion });
}

function reporters(dir) {
  const sep = process.platform === 'win32' || dir.includes('\\') ? '\\' : '/';
  return [
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${dir}${sep}results.json`,
    '--reporter=junit',
    `--outputFile.junit=${dir}${sep}junit.xml`,
  ];
}

process.exitCode = await main();

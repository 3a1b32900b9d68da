/*
 * `npm start`: builds, then launches the desktop app when the Electron binary is installed
 * (and, on Linux, a display is available); otherwise runs the headless host
 * (`gatehouse serve`), which prints the admin URL to open in a browser. It prints which one
 * it chose and why. Arguments after `--` go to the app (`npm start -- --listen 127.0.0.1:2600`);
 * `--headless` (or GATEHOUSE_HEADLESS=1) asks for the headless host; GATEHOUSE_START_NO_BUILD=1
 * skips the build (tests). Exits with the build's code when the build fails, else with the
 * launched program's code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from './electron-binary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The node flags on bin/gatehouse.js's `#!/usr/bin/env -S node FLAGS` line (one place for them). */
function shebangFlags(file) {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0].split(/\s+/);
  return first.slice(first.indexOf('node') + 1);
}
const say = (line) => process.stdout.write(`gatehouse start: ${line}\n`);

function build() {
  const npmCli = process.env.npm_execpath;
  const r = npmCli && npmCli.endsWith('.js')
    ? spawnSync(process.execPath, [npmCli, 'run', 'build'], { cwd: root, stdio: 'inherit' })
    : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    say(`build failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`})`);
    process.exit(r.status || 1);
  }
}

/** @returns {{ kind: 'electron', path: string, version: string } | { kind: 'headless', why: string }} */
export function choose(args, env = process.env, platform = process.platform, root_ = root) {
  if (args.includes('--headless') || env.GATEHOUSE_HEADLESS === '1') return { kind: 'headless', why: 'asked for with --headless / GATEHOUSE_HEADLESS=1' };
  const bin = electronBinary(root_);
  if (!bin.present) return { kind: 'headless', why: bin.reason };
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return { kind: 'headless', why: 'no display (DISPLAY / WAYLAND_DISPLAY unset)' };
  return { kind: 'electron', path: bin.path, version: bin.version };
}

function run(cmd, args, env) {
  const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env });
  // Ctrl+C reaches the child too (same console); wait for it to stop gracefully.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  child.on('error', (err) => {
    say(`cannot run ${cmd}: ${err.message}`);
    process.exit(1);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (process.env.GATEHOUSE_START_NO_BUILD !== '1') build();
  const choice = choose(args);
  const rest = args.filter((a) => a !== '--headless');
  if (choice.kind === 'electron') {
    say(`launching the desktop app (Electron ${choice.version})`);
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE;
    run(choice.path, ['.', ...rest], env);
  } else {
    say(`Electron not launched: ${choice.why}.`);
    say('running the headless host instead: open the admin URL printed below in a browser.');
    const bin = path.join(root, 'bin', 'gatehouse.js');
    run(process.execPath, [...shebangFlags(bin), bin, 'serve', ...rest], process.env);
  }
}

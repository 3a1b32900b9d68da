/*
 * .github/workflows/windows-installer.yml has never run where we can see it, so its structure
 * is checked here: the steps the Windows runner must take, in order (npm ci, npm test, the
 * Windows lane, the installer built, installed with /S, the installed app driven by the smoke
 * test, its memory measured, uninstalled with /S; then installed with /S /service, the service
 * checks, uninstalled with /S, the service and its firewall rule gone); a Node version Electron accepts (its package's engines); the
 * installed paths derived from electron-builder.yml; and every report, screenshot and
 * installer the steps write is inside what the upload steps upload, even after a failure.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
const fromBuilder = createRequire(createRequire(path.join(root, 'package.json')).resolve('electron-builder/package.json'));
const yaml = fromBuilder('js-yaml') as { load(text: string): any };

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, any>;
  env?: Record<string, string>;
}

let steps: Step[];
let job: Record<string, any>;
let builder: Record<string, any>;

/** Major, minor, patch of "22.12.0" / "v22.12" / ">= 22.12.0". */
function version(v: string): [number, number, number] {
  const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(String(v));
  if (!m) throw new Error(`not a version: ${v}`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function atLeast(a: [number, number, number], b: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

/** Does an upload-artifact path line cover `file` (a glob with `*`, or a folder ending in `/`)? */
function covers(pattern: string, file: string): boolean {
  const p = pattern.trim().replace(/\\/g, '/');
  if (p.endsWith('/')) return file.startsWith(p);
  const re = new RegExp(`^${p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  return re.test(file);
}

function uploads(): string[] {
  return steps.filter((s) => s.uses?.startsWith('actions/upload-artifact')).flatMap((s) => String(s.with?.path ?? '').split('\n').filter((l) => l.trim()));
}

function indexOf(pred: (s: Step) => boolean, what: string): number {
  const i = steps.findIndex(pred);
  if (i < 0) throw new Error(`no step that ${what}`);
  return i;
}

beforeAll(() => {
  const wf = yaml.load(fs.readFileSync(path.join(root, '.github', 'workflows', 'windows-installer.yml'), 'utf8'));
  job = Object.values(wf.jobs as Record<string, any>)[0];
  steps = job.steps as Step[];
  builder = yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8'));
});

describe('.github/workflows/windows-installer.yml', () => {
  it('runs on Windows with a Node that Electron accepts (>= 22.12 and its engines field)', () => {
    expect(job['runs-on']).toBe('windows-latest');
    const node = steps.find((s) => s.uses?.startsWith('actions/setup-node'))?.with?.['node-version'];
    expect(node, 'setup-node with a node-version').toBeTruthy();
    expect(atLeast(version(node), [22, 12, 0])).toBe(true);
    const engines = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).engines?.node as string | undefined;
    if (engines) expect(atLeast(version(node), version(engines)), `node ${node} vs electron's engines ${engines}`).toBe(true);
  });

  it('takes the steps in order: npm ci, npm test, the lane, build, install /S, drive the app, uninstall /S', () => {
    const ci = indexOf((s) => /^npm ci\b/.test(s.run ?? ''), 'runs npm ci');
    const test = indexOf((s) => /^npm test\b/.test(s.run ?? ''), 'runs npm test');
    const lane = indexOf((s) => /^npm run test:windows\b/.test(s.run ?? ''), 'runs npm run test:windows');
    const build = indexOf((s) => /^npm run dist:win\b/.test(s.run ?? ''), 'runs npm run dist:win');
    const install = indexOf((s) => /Gatehouse-Setup-\*\.exe/.test(s.run ?? '') && /'\/S'/.test(s.run ?? ''), 'runs the installer with /S');
    const drive = indexOf((s) => /vitest run test\/electron\/smoke\.test\.ts/.test(s.run ?? '') && !!s.env?.GATEHOUSE_APP_EXE, 'drives the installed app');
    const uninstall = indexOf((s) => /Uninstall .*\.exe/.test(s.run ?? '') && /'\/S'/.test(s.run ?? ''), 'uninstalls with /S');
    // The service round comes after the desktop round has uninstalled the app.
    const runs = (i: number) => steps[i]!.run ?? '';
    const serviceInstall = indexOf((s) => /Gatehouse-Setup-\*\.exe/.test(s.run ?? '') && /'\/S', '\/service'/.test(s.run ?? ''), 'runs the installer with /S /service');
    const serviceChecks = indexOf((s) => /^node scripts\/windows-service-check\.mjs\s*$/.test(s.run ?? ''), 'runs the service checks');
    const serviceUninstall = steps.findIndex((s, i) => i > serviceChecks && /Uninstall .*\.exe/.test(s.run ?? '') && /'\/S'/.test(s.run ?? ''));
    const gone = indexOf((s) => /^node scripts\/windows-service-check\.mjs --after-uninstall\s*$/.test(s.run ?? ''), 'checks that the service and the rule are gone');
    const order = [ci, test, lane, build, install, drive, uninstall, serviceInstall, serviceChecks, serviceUninstall, gone];
    expect(serviceUninstall, 'an uninstall with /S after the service checks').toBeGreaterThan(0);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(runs(install)).not.toContain('/service');
    // Each step of the service round runs only when the one it needs did.
    expect(steps[serviceChecks]!.if).toContain(`steps.${steps[serviceInstall]!.id}.outcome == 'success'`);
    expect(steps[serviceUninstall]!.if).toContain(`steps.${steps[serviceInstall]!.id}.outcome == 'success'`);
    expect(steps[gone]!.if).toContain(`steps.${steps[serviceUninstall]!.id}.outcome == 'success'`);
    const check = fs.readFileSync(path.join(root, 'scripts', 'windows-service-check.mjs'), 'utf8');
    expect(check).toContain("process.argv.includes('--after-uninstall')");
    expect(check).not.toMatch(/'service', 'uninstall'/); // the app's uninstaller removes the service, not the CLI
    // The scripts those steps name exist.
    const scripts = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
    for (const s of ['test', 'test:windows', 'dist:win']) expect(scripts[s], s).toBeTruthy();
    expect(fs.existsSync(path.join(root, 'test', 'electron', 'smoke.test.ts'))).toBe(true);
    // Conditions refer to steps that exist.
    const ids = new Set(steps.map((s) => s.id).filter(Boolean));
    for (const s of steps) for (const m of (s.if ?? '').matchAll(/steps\.(\w+)\./g)) expect(ids.has(m[1]), `step id ${m[1]}`).toBe(true);
  });

  it('installs where electron-builder.yml says, and uninstalls with the uninstaller NSIS makes', () => {
    expect(builder.nsis.perMachine).toBe(true);
    const exe = `C:\\Program Files\\${builder.productName}\\${builder.win.executableName}.exe`;
    const drive = steps.find((s) => s.env?.GATEHOUSE_APP_EXE)!;
    expect(drive.env!.GATEHOUSE_APP_EXE).toBe(exe);
    const install = steps.find((s) => /Gatehouse-Setup-\*\.exe/.test(s.run ?? ''))!;
    expect(install.run).toContain(`$env:ProgramFiles\\${builder.productName}\\${builder.win.executableName}.exe`);
    const uninstall = steps.find((s) => /Uninstall /.test(s.run ?? ''))!;
    expect(uninstall.run).toContain(`Uninstall ${builder.productName}.exe`);
    // The installer name the install step looks for is the one electron-builder writes.
    expect(builder.nsis.artifactName).toBe('Gatehouse-Setup-${version}.${ext}');
    expect(builder.directories.output).toBe('release');
  });

  it('uploads everything the steps write, also after a failure', () => {
    const paths = uploads();
    for (const s of steps.filter((x) => x.uses?.startsWith('actions/upload-artifact'))) expect(s.if, s.name).toBe('always()');
    const written: string[] = [];
    // JUnit reports named on the command lines.
    for (const s of steps) for (const m of (s.run ?? '').matchAll(/--outputFile\.junit=(\S+)/g)) written.push(m[1]!);
    expect(written.length).toBeGreaterThanOrEqual(2);
    // The lane's reports (scripts/windows-lane/run.mjs) and the screenshots (e2e harness, smoke test).
    const lane = fs.readFileSync(path.join(root, 'scripts', 'windows-lane', 'run.mjs'), 'utf8');
    expect(lane).toContain("path.join(root, 'test-results', 'windows-lane')");
    for (const f of ['junit.xml', 'results.json', 'summary.json', 'output.txt']) written.push(`test-results/windows-lane/${f}`);
    expect(fs.readFileSync(path.join(root, 'test', 'e2e', 'harness.ts'), 'utf8')).toContain("path.join(ROOT, 'test-results', 'screenshots')");
    expect(fs.readFileSync(path.join(root, 'test', 'electron', 'smoke.test.ts'), 'utf8')).toContain("path.join(root, 'test-results', 'screenshots')");
    written.push('test-results/screenshots/installed-app-smoke.png', 'test-results/screenshots/ja-dashboard-1280x800.png');
    // The installer and its blockmap.
    written.push('release/Gatehouse-Setup-0.1.0.exe', 'release/Gatehouse-Setup-0.1.0.exe.blockmap');
    for (const f of written) expect(paths.some((p) => covers(p, f)), `${f} is uploaded`).toBe(true);
  });

  it('measures the installed app\'s memory between the smoke test and the uninstall, and uploads the figures', () => {
    const drive = indexOf((s) => !!s.env?.GATEHOUSE_APP_EXE, 'drives the installed app');
    const memory = indexOf((s) => /scripts\/windows-memory\.ps1\b/.test(s.run ?? ''), 'runs scripts/windows-memory.ps1');
    const uninstall = indexOf((s) => /Uninstall .*\.exe/.test(s.run ?? ''), 'uninstalls');
    expect(drive).toBeLessThan(memory);
    expect(memory).toBeLessThan(uninstall);
    expect(steps[memory]!.if).toContain("steps.install.outcome == 'success'");
    const run = steps[memory]!.run!;
    expect(run).toMatch(/-TargetClosedMB 250\b/);
    const out = /-Out (\S+)/.exec(run)?.[1];
    expect(out, 'the step names its output folder').toBeTruthy();
    const script = fs.readFileSync(path.join(root, 'scripts', 'windows-memory.ps1'), 'utf8');
    // The script measures every process of the app (main, renderer, GPU) in both states and
    // writes the JSON the upload step takes.
    expect(script).toContain("Get-CimInstance Win32_Process -Filter \"Name = 'Gatehouse.exe'\"");
    expect(script).toContain('WorkingSet64');
    expect(script).toContain('CloseMainWindow()');
    expect(script).toContain("Join-Path $Out 'windows-memory.json'");
    expect(uploads().some((p) => covers(p, `${out}/windows-memory.json`)), 'the memory JSON is uploaded').toBe(true);
  });

  it('the path matcher of this test is right', () => {
    expect(covers('release/*.exe', 'release/Gatehouse-Setup-0.1.0.exe')).toBe(true);
    expect(covers('release/*.exe', 'release/Gatehouse-Setup-0.1.0.exe.blockmap')).toBe(false);
    expect(covers('test-results/windows-lane/', 'test-results/windows-lane/junit.xml')).toBe(true);
    expect(covers('test-results/junit-npm-test.xml', 'test-results/junit-installed-app.xml')).toBe(false);
  });
});

/*
 * The Windows service, end to end, on a Windows runner (as administrator), in two calls.
 * `node scripts/windows-service-check.mjs`, after the installer ran with `/S /service`: the
 * service is registered and running as LocalService, takes a message over SMTP (logged in its
 * receivelog), stops and starts through the CLI the tray uses (`gatehouse service
 * stop|start`), and has its inbound firewall rule (domain and private profiles, TCP 25).
 * `node scripts/windows-service-check.mjs --after-uninstall`, after the app's uninstaller ran
 * with /S: the service and the firewall rule are gone, the data in %ProgramData% is kept.
 * Prints one line per check; exit code 0 when all passed, 1 at the first failure (it says
 * which). Run by .github/workflows/windows-installer.yml; it cannot run anywhere else.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const programFiles = process.env.ProgramFiles || 'C:\\Program Files';
const programData = process.env.ProgramData || 'C:\\ProgramData';
const exe = path.join(programFiles, 'Gatehouse', 'Gatehouse.exe');
const cli = path.join(programFiles, 'Gatehouse', 'resources', 'app.asar', 'dist', 'main', 'cli', 'run.js');
const data = path.join(programData, 'Gatehouse');
const sys = (name) => path.join(process.env.SystemRoot || 'C:\\Windows', 'System32', name);

const say = (line) => process.stdout.write(`service-check: ${line}\n`);
function fail(line) {
  say(`FAILED: ${line}`);
  process.exit(1);
}
function gatehouse(...args) {
  const r = spawnSync(exe, [cli, ...args], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, encoding: 'utf8', timeout: 180_000 });
  say(`gatehouse ${args.join(' ')} -> exit ${r.status}`);
  if (r.stdout.trim()) process.stdout.write(r.stdout);
  if (r.stderr.trim()) process.stdout.write(r.stderr);
  return r;
}
function scState() {
  const r = spawnSync(sys('sc.exe'), ['query', 'Gatehouse'], { encoding: 'utf8' });
  if (r.status === 1060) return 'not-installed';
  return { 1: 'stopped', 2: 'start-pending', 3: 'stop-pending', 4: 'running' }[Number(/STATE\s*:\s*(\d+)/.exec(r.stdout)?.[1])] ?? 'unknown';
}
function ruleShown() {
  return spawnSync(sys('netsh.exe'), ['advfirewall', 'firewall', 'show', 'rule', 'name=Gatehouse SMTP', 'verbose'], { encoding: 'utf8' });
}
async function until(check, what, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  fail(`timed out waiting for ${what}`);
}
/** One SMTP transaction; resolves to the reply to the end of DATA. */
function sendMail(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const lines = ['EHLO ci.test.jp', 'MAIL FROM:<ci@test.jp>', 'RCPT TO:<boss@test.jp>', 'DATA', 'Subject: service check\r\n\r\nhello from the Windows runner\r\n.', 'QUIT'];
    let buf = '';
    let last = '';
    s.setTimeout(30_000, () => reject(new Error('SMTP timeout')));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (/^\d{3}-/.test(line)) continue;
        last = line;
        if (/^[45]/.test(line)) return reject(new Error(`SMTP: ${line}`));
        const next = lines.shift();
        if (next === undefined) return s.end();
        if (next === 'QUIT') resolve(last);
        s.write(next + '\r\n');
      }
    });
    s.on('error', reject);
  });
}

if (process.argv.includes('--after-uninstall')) {
  if (fs.existsSync(exe)) fail(`${exe} is still there (did the uninstaller run?)`);
  if (scState() !== 'not-installed') fail('the service is still registered after uninstall');
  if (ruleShown().status === 0) fail('the firewall rule is still there after uninstall');
  if (!fs.existsSync(path.join(data, 'config.json'))) fail('the data was not kept (a silent uninstall keeps it)');
  say('uninstalled: service and firewall rule gone, data kept');
  process.exit(0);
}

if (!fs.existsSync(exe)) fail(`${exe} is missing (did the installer run?)`);
await until(() => scState() === 'running', 'the service to run (installed with /S /service)', 120_000);
say('the service is installed and running');
const qc = execFileSync(sys('sc.exe'), ['qc', 'Gatehouse'], { encoding: 'utf8' });
if (!/LocalService/i.test(qc) || /LocalSystem/i.test(qc)) fail(`not running as LocalService:\n${qc}`);
say('it runs as LocalService');
await until(() => fs.existsSync(path.join(data, 'admin.json')), 'admin.json');

// The office: 127.0.0.1 trusted, test.jp routed to a port where nobody listens (the mail waits).
if (gatehouse('call', 'setup.complete', JSON.stringify({ officeServer: { host: '127.0.0.1', port: 2599 }, domains: ['test.jp'], outbound: { mode: 'direct' } }), '--data', data).status !== 0) fail('setup through the service');
const cfg = JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8'));
const reply = await sendMail(cfg.listener.port).catch((e) => fail(e.message));
if (!/^250/.test(reply)) fail(`DATA answered ${reply}`);
say(`message accepted: ${reply}`);
const tail = gatehouse('log', 'tail', '-n', '50', '--data', data);
if (!/ci@test\.jp/.test(tail.stdout)) fail('the receivelog has no line for the message');
// Delivery runs its SMTP sessions on a worker thread loaded from app.asar: its first attempt
// must come back as the office server refusing the connection, not as a thread that failed.
await until(() => /ci@test\.jp/.test(gatehouse('log', 'tail', '--senderlog', '-n', '50', '--data', data).stdout), 'a senderlog line for the delivery attempt', 60_000);
const sent = gatehouse('log', 'tail', '--senderlog', '-n', '50', '--data', data).stdout;
if (/delivery thread/.test(sent)) fail(`the delivery thread did not run in the installed app:\n${sent}`);
say('the delivery attempt ran on its thread (deferred: nobody listens on the office port)');

const fw = ruleShown();
if (fw.status !== 0 || !/\b25\b/.test(fw.stdout)) fail(`the firewall rule is missing or not for port 25:\n${fw.stdout}`);
if (/Public/i.test(fw.stdout.split(/\r?\n/).find((l) => /Profiles|プロファイル/.test(l)) ?? '')) fail('the firewall rule is open on public networks');
say('the firewall rule exists for TCP 25 (domain, private)');

if (gatehouse('service', 'stop').status !== 0 || scState() !== 'stopped') fail('gatehouse service stop');
say('stopped through the CLI');
if (gatehouse('service', 'start').status !== 0) fail('gatehouse service start');
await until(() => scState() === 'running' && fs.existsSync(path.join(data, 'admin.json')), 'the service to run again');
say('started through the CLI');
if (gatehouse('service', 'status').status !== 0) fail('gatehouse service status');
say('all checks passed (next: the uninstaller, then --after-uninstall)');

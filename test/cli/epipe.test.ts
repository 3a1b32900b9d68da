/*
 * The CLI when its reader goes away (`gatehouse queue list | head -1`, `log tail | head`,
 * `log tail -f | head`): over real pipes to the compiled bin, the command ends with its own
 * exit code (0 for these) and no stack trace, `log tail -f` stops once nobody reads, and a
 * command that fails still says so by its exit code.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDay } from '../../main/core/log/index.js';
import { dataPaths } from '../../main/core/paths.js';
import { Spool } from '../../main/core/spool/index.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'gatehouse.js');
let dir = '';
let dayFile = '';

function line(i: number): string {
  return JSON.stringify({ ts: new Date().toISOString(), event: 'rcpt', session: `s${i}`, clientIp: '127.0.0.2', tls: false, sender: 'baito@test.jp', recipient: 'x@example.com', decision: 'reject', rule: 'block-external', code: 550, reply: '550 5.7.1 blocked' });
}

beforeAll(async () => {
  dir = await tempDir();
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(officeConfig(), null, 2));
  const logs = dataPaths(dir).logs;
  await fs.mkdir(logs, { recursive: true });
  dayFile = path.join(logs, `receivelog-${localDay(new Date())}.jsonl`);
  // Far more than a pipe holds (64 KB), so the writer meets the closed pipe mid-output.
  await fs.writeFile(dayFile, Array.from({ length: 5000 }, (_, i) => line(i)).join('\n') + '\n');
  const spool = new Spool(dataPaths(dir).spool);
  await spool.open();
  for (let i = 0; i < 3; i++) {
    await spool.write({ sender: 'tanaka@test.jp', recipients: [`r${i}@example.com`], clientIp: '127.0.0.2', session: `s${i}`, trusted: true }, Buffer.from(`Subject: ${i}\r\n\r\nhello\r\n`));
  }
  await spool.close();
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Runs the bin with stdout to us; `reader` decides when to close our end of the pipe. */
function run(args: string[], reader: (child: ChildProcess, firstLine: Promise<string>) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args, '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  const firstLine = new Promise<string>((resolve) => {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
    });
  });
  reader(child, firstLine);
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** What `| head -1` does: read one line, then close the pipe. */
const headOne = (child: ChildProcess, first: Promise<string>) => void first.then(() => child.stdout!.destroy());

describe('the CLI when its reader goes away', () => {
  it('log tail | head -1: exit 0, no stack trace', async () => {
    const r = await run(['log', 'tail', '-n', '5000'], headOne);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.code).toBe(0);
  });

  it('queue list | head -1 with the pipe closed before the first line: exit 0, no stack trace', async () => {
    const r = await run(['queue', 'list'], (child) => child.stdout!.destroy());
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.code).toBe(0);
  });

  it('log tail -f | head -1: stops following once nobody reads (exit 0)', async () => {
    const started = Date.now();
    const r = await run(['log', 'tail', '-n', '1', '-f'], (child, first) => {
      void first.then(async () => {
        child.stdout!.destroy();
        // New lines arrive; writing them finds the pipe closed.
        for (let i = 0; i < 20 && child.exitCode === null; i++) {
          await fs.appendFile(dayFile, line(10_000 + i) + '\n');
          await new Promise((res) => setTimeout(res, 200));
        }
        if (child.exitCode === null) child.kill('SIGKILL');
      });
    });
    expect(r.signal, 'still following after its reader left').toBeNull();
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a real shell pipeline: gatehouse log tail | head -1 prints one line and gatehouse exits 0', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" log tail -n 5000 --data "${dir}" | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain('block-external');
    expect(r.stderr.trim()).toBe('status=0');
  });

  it('a command that fails keeps its exit code with the pipe closed (check: relay-denied -> 1)', async () => {
    const r = await run(['check', 'tanaka@test.jp', 'x@example.com', '--client', '203.0.113.9'], (child) => child.stdout!.destroy());
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/EPIPE|at /);
  });
});

/*
 * The desktop app as the remote control of the service, against a real `gatehouse serve`
 * started the way the service's wrapper starts it: the same arguments (serviceArguments, with
 * this checkout's CLI entry in place of app.asar's) and the same environment
 * (ELECTRON_RUN_AS_NODE=1, GATEHOUSE_DATA), in plain Node. Through RemoteGateway (what the
 * window's IPC and the tray use in service mode): the status says 'service', a command changes
 * the service's config (audited as from the window), SMTP traffic arrives as live events over
 * SSE, Ctrl+C (what the wrapper sends to stop) ends the service cleanly and the link says
 * "service not running", and a restart is found again by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceArguments, serviceEnvironment } from '../../main/core/service/wrapper-config.js';
import { appLayout } from '../../main/core/service/layout.js';
import { RemoteGateway, type RemoteLink } from '../../main/electron/remote-gateway.js';
import { readAdminInfo } from '../../main/headless/remote-client.js';
import type { GatewayStatus } from '../../main/shared/contract.js';
import type { ReceiveLogEntry } from '../../main/shared/types.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';

const CLI = path.resolve(import.meta.dirname, '..', '..', 'dist', 'main', 'cli', 'run.js');
const slow = Number(process.env.GATEHOUSE_SLOW_SPAWN ?? '1');

let dir: string;
let child: ChildProcess | null = null;
let exited: Promise<number | null> = Promise.resolve(null);

async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 15_000 * slow): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the gateway exactly as the service's wrapper would (arguments and environment). */
async function startAsService(): Promise<void> {
  const spec = { layout: { ...appLayout('C:\\Program Files\\Gatehouse', dir), cliScript: CLI }, dataDir: dir };
  const args = serviceArguments(spec);
  expect(args.slice(-5)).toEqual([CLI, 'serve', '--service', '--data', dir]);
  child = spawn(process.execPath, args, { env: { ...process.env, ...serviceEnvironment(spec) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const c = child;
  exited = new Promise((r) => c.once('exit', (code) => r(code)));
  await until(() => readAdminInfo(dir), 'admin.json');
}

const alive = () => child !== null && child.exitCode === null && child.signalCode === null;

beforeAll(async () => {
  dir = await tempDir('gh-service-');
  // The office's settings, on free ports (a service folder would have 0.0.0.0:25 and 8025).
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...officeConfig(), admin: { host: '127.0.0.1', port: 0 } }));
  await startAsService();
});

afterAll(async () => {
  if (alive()) {
    child!.kill('SIGINT');
    await exited;
  }
  await fs.rm(dir, { recursive: true, force: true });
});

describe('service mode: the desktop app as the remote control', () => {
  it('follows the service, forwards commands and events, and tells a stopped service from a link', async () => {
    const links: RemoteLink[] = [];
    const remote = new RemoteGateway({
      dataDir: dir,
      control: { available: false, running: async () => alive(), start: async () => undefined, stop: async () => undefined },
      log: () => undefined,
      pollMs: 200,
    });
    remote.onLink((l) => links.push(l));
    const statuses: GatewayStatus[] = [];
    const lines: ReceiveLogEntry[] = [];
    remote.on('status', (s) => statuses.push(s));
    remote.on('receivelog', (e) => lines.push(e));
    try {
      await remote.open();
      expect(remote.link).toBe('connected');
      const st = remote.status();
      expect(st.role).toBe('service');
      expect(st.running).toBe(true);
      expect(st.dataDir).toBe(dir);

      // A command from the window: it changes the service's config, audited as from the window.
      const h = remote.handlers();
      const accounts = await h['accounts.setBlock']({ pattern: 'arubaito@test.jp', block: true }, { via: 'ui' });
      expect(accounts.find((a) => a.pattern === 'arubaito@test.jp')?.blockExternal).toBe(true);
      const history = await h['history.list'](undefined, { via: 'ui' });
      expect(history[0]).toMatchObject({ via: 'ui' });
      const onDisk = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
      expect(onDisk.accounts.some((a: { pattern: string }) => a.pattern === 'arubaito@test.jp')).toBe(true);

      // Live events over SSE: one SMTP session shows up as receivelog lines.
      const smtp = await SmtpTestClient.connect(st.listen!.port, { localAddress: '127.0.0.2' });
      await smtp.greeting;
      await smtp.cmd('HELO office.test.jp');
      await smtp.cmd('MAIL FROM:<arubaito@test.jp>');
      expect((await smtp.cmd('RCPT TO:<someone@example.com>')).code).toBe(550);
      await smtp.quit();
      await until(() => lines.find((e) => e.rule === 'block-external'), 'the block-external line over SSE');

      // The wrapper stops the service with Ctrl+C: a clean exit, admin.json gone, the tray says so.
      // (Windows cannot send SIGINT to another process: there the child is ended by force, as
      // when the wrapper's 30 s run out, and its stale admin.json stays; `gatehouse service
      // stop` on the Windows runner covers the real Ctrl+C.)
      child!.kill('SIGINT');
      const code = await exited;
      if (process.platform !== 'win32') {
        expect(code).toBe(0);
        expect(await readAdminInfo(dir)).toBeNull();
      }
      await until(() => remote.link === 'service-stopped', 'the link to say the service is not running');
      expect(remote.status()).toMatchObject({ running: false, role: 'service', error: null });
      await expect(h['status'](undefined, { via: 'ui' })).rejects.toMatchObject({ code: 'unreachable' });

      // Started again (new process, new port): found again by itself.
      await startAsService();
      await until(() => remote.link === 'connected', 'the link to come back');
      expect(remote.status().running).toBe(true);
      // (While the process is still shutting down the link may first say 'unreachable'.)
      expect(links.filter((l) => l !== 'unreachable')).toEqual(['connected', 'service-stopped', 'connected']);
    } finally {
      await remote.close();
    }
  });
});

/*
 * One command layer, whatever the way in: the same config-changing commands, good and bad,
 * go through IPC (the window's invoke handler with a fake event), HTTP (a real admin server
 * over a real gateway) and the CLI (the real `gatehouse` process, `call` and the verbs),
 * each on its own data folder seeded alike. Every answer must be the same: the same value
 * for good input, the same error code and the same issues (path and code) for bad input,
 * and the audit trail names the way in (ui, cli).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Gateway } from '../../main/core/gateway.js';
import { createCommands, gatewayPorts } from '../../main/core/commands/index.js';
import { createInvokeHandler } from '../../main/electron/ipc-guard.js';
import { startAdminHost, type AdminHost } from '../../main/headless/admin-host.js';
import type { ApiResult } from '../../main/shared/contract.js';
import { NO_DNS, officeConfig, tempDir } from '../helpers/gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'gatehouse.js');

type Call = (command: string, args: unknown) => Promise<ApiResult<unknown>>;

interface Way {
  name: 'ipc' | 'http' | 'cli';
  dir: string;
  call: Call;
  close(): Promise<void>;
}

const ways: Way[] = [];

async function seeded(): Promise<string> {
  const dir = await tempDir('gatehouse-ways-');
  const cfg = officeConfig((c) => void (c.listener = { host: '0.0.0.0', port: 2525 }));
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}

function cli(dir: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data', dir], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  // IPC: the desktop app's invoke handler, called as Electron would, from the app's window.
  {
    const dir = await seeded();
    const gw = await Gateway.open({ dataDir: dir, resolver: NO_DNS });
    const invoke = createInvokeHandler({ handlers: createCommands(gatewayPorts(gw)), policy: { origin: 'app://gatehouse', allowedContentsId: () => 1 } });
    const event = { sender: { id: 1 }, senderFrame: { url: 'app://gatehouse/index.html', parent: null } };
    ways.push({ name: 'ipc', dir, call: (c, a) => invoke(event, c, a), close: () => gw.close() });
  }
  // HTTP: the admin host `gatehouse serve` and the desktop app run, on a real socket.
  {
    const dir = await seeded();
    const gw = await Gateway.open({ dataDir: dir, resolver: NO_DNS });
    const host: AdminHost = await startAdminHost({ gateway: gw, where: { host: '127.0.0.1', port: 0 }, staticDir: path.join(ROOT, 'dist', 'renderer') });
    const url = new URL(host.url);
    const token = new URLSearchParams(url.hash.slice(1)).get('token')!;
    const call: Call = async (c, a) => {
      const res = await fetch(`${url.origin}/api/${c}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ args: a, via: 'ui' }),
      });
      return (await res.json()) as ApiResult<unknown>;
    };
    ways.push({ name: 'http', dir, call, close: async () => (await host.close(), await gw.close()) });
  }
  // CLI: the real process, no gateway running on its folder (it is the writer itself).
  {
    const dir = await seeded();
    const call: Call = async (c, a) => {
      const r = a === undefined ? cli(dir, 'call', c, '--json') : cli(dir, 'call', c, JSON.stringify(a), '--json');
      const parsed = r.out.trim() ? (JSON.parse(r.out) as unknown) : null;
      if (r.code === 0) return { ok: true, value: parsed };
      expect(r.err, `${c} exits with a message`).toMatch(/^gatehouse: /);
      expect(r.code, `${c}: refused input exits 2`).toBe(2);
      return parsed as ApiResult<unknown>;
    };
    ways.push({ name: 'cli', dir, call, close: async () => undefined });
  }
}, 120_000);

afterAll(async () => {
  for (const w of ways) {
    await w.close();
    await fs.rm(w.dir, { recursive: true, force: true });
  }
});

/** What must agree: the value, or the error's code and each issue's path and code. */
function essence(r: ApiResult<unknown>): unknown {
  if (r.ok) return { ok: true, value: r.value ?? null };
  return { ok: false, code: r.error.code, issues: (r.error.issues ?? []).map((i) => ({ path: i.path, code: i.code, params: i.params })) };
}

async function same(command: string, args: unknown): Promise<ApiResult<unknown>> {
  const answers = await Promise.all(ways.map(async (w) => [w.name, essence(await w.call(command, args))] as const));
  const [first, ...rest] = answers;
  for (const [name, answer] of rest) expect(answer, `${command} via ${name} answers as via ${first![0]}`).toEqual(first![1]);
  return (await ways[0]!.call('config.get', undefined)) as ApiResult<unknown>;
}

async function refused(command: string, args: unknown, issues: { path: string; code: string }[]): Promise<void> {
  await same(command, args);
  const r = await ways[0]!.call(command, args);
  expect(r.ok, command).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe('validation');
  expect(r.error.issues?.map((i) => ({ path: i.path, code: i.code }))).toEqual(issues);
}

describe('every way in answers alike', () => {
  it('refuses bad input with the same code and the same issues', async () => {
    await refused('accounts.setBlock', { pattern: 'x@test.jp', block: 'yes' }, [{ path: 'block', code: 'bool' }]);
    await refused('accounts.setBlock', { pattern: 'a%b@test.jp', block: true }, [{ path: 'pattern', code: 'address' }]);
    await refused('accounts.save', { account: { pattern: 'y@test.jp', allow: ['*.partner.example'] } }, [{ path: 'account.allow[0]', code: 'allow_wildcard' }]);
    await refused('routes.set', { routes: [{ domain: 'test.jp', hosts: [{ host: '192.168.0.300', port: 70000 }] }] }, [
      { path: 'routes[0].hosts[0].host', code: 'host' },
      { path: 'routes[0].hosts[0].port', code: 'int_range' },
    ]);
    await refused('routes.import', { text: 'test.jp, 127.0.0.1\r\nok.jp, 127.0.0.1, 25\r\n', mode: 'merge' }, [{ path: 'line 1', code: 'dat_fields' }]);
    await refused('config.set', { key: 'limits', value: { maxRecipients: 0 } }, [{ path: 'limits.maxRecipients', code: 'int_range' }]);
    await refused('config.set', { key: 'listener', value: { host: 'office-pc', port: 25, colour: 'red' } }, [
      { path: 'listener.colour', code: 'unknown_key_list' },
      { path: 'listener.host', code: 'bind_host' },
    ]);
    await refused('auth.setUser', { username: 'bob', addresses: ['bob@test.jp'] }, [{ path: 'password', code: 'password_needed' }]);
    await refused('auth.setUser', { username: 'bob', password: 'short', addresses: ['bob@test.jp'] }, [{ path: 'password', code: 'password_short' }]);
    await refused('domains.add', { domain: 'bad..domain' }, [{ path: 'domain', code: 'domain_empty_label' }]);
    await refused('trusted.add', { cidr: '10.0.0.0/33' }, [{ path: 'cidr', code: 'cidr_prefix_max' }]);
    // A rule the store checks on the whole config after the command ran: the same path everywhere.
    await refused('config.set', { key: 'admin', value: { host: '127.0.0.1', port: 2525 } }, [{ path: 'admin.port', code: 'port_clash' }]);
  });

  it('applies good input with the same result, audited with the way in', async () => {
    await same('accounts.setBlock', { pattern: 'x@test.jp', block: true });
    await same('accounts.save', { account: { pattern: 'y@test.jp', blockExternal: true, allow: ['partner.example'], note: '営業部（大阪）' } });
    await same('routes.set', { routes: [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: 9 }, { host: '127.0.0.3', port: 2525 }] }] });
    await same('routes.import', { text: '\uFEFFbranch.test.jp, 127.0.0.1, 2526\r\n', mode: 'merge' });
    await same('config.set', { key: 'limits', value: { maxRecipients: 50, maxClients: 30 } });
    await same('config.set', { key: 'tls', value: { mode: 'off' } });
    await same('auth.setUser', { username: 'bob', password: 'bob-password-1', addresses: ['bob@test.jp'] });
    await same('domains.add', { domain: 'Branch.Test.JP' });
    await same('trusted.add', { cidr: '192.168.0.0/24' });
    await refused('trusted.add', { cidr: '192.168.0.0/24' }, [{ path: 'cidr', code: 'listed' }]);
    await same('accounts.list', undefined);
    await same('config.get', undefined);

    for (const w of ways) {
      const audit = (await fs.readFile(path.join(w.dir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { via: string; what: string });
      const mine = audit.filter((e) => e.via !== 'default' && e.via !== 'file');
      expect(mine.map((e) => e.what), w.name).toHaveLength(9);
      expect(new Set(mine.map((e) => e.via)), w.name).toEqual(new Set([w.name === 'cli' ? 'cli' : 'ui']));
    }
  });

  it('the CLI verbs are the same commands', async () => {
    const w = ways.find((x) => x.name === 'cli')!;
    expect(cli(w.dir, 'accounts', 'block', 'z@test.jp', '--note', 'テスト').code).toBe(0);
    expect(cli(w.dir, 'domains', 'add', 'other.test.jp').code).toBe(0);
    const bad = cli(w.dir, 'trusted', 'add', '10.0.0.0/33');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/CIDR "10\.0\.0\.0\/33": prefix length 33 is over 32/);
    const list = JSON.parse(cli(w.dir, 'call', 'accounts.list').out) as { pattern: string; blockExternal: boolean; note: string }[];
    expect(list.find((a) => a.pattern === 'z@test.jp')).toMatchObject({ blockExternal: true, note: 'テスト' });
  });
});

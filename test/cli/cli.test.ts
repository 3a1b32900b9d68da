/*
 * The `gatehouse` CLI as a user runs it (compiled bin, real data folder): help for every
 * command, the who-can-send-to-what tester, accounts/routes/domains/trusted changes with
 * their audit trail and restore, imports that report bad lines and import nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { spawnWait } from '../helpers/slow.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'gatehouse.js');
let dir: string;

function gh(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data', dir], { encoding: 'utf8', timeout: spawnWait(30_000) });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  dir = await tempDir();
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(officeConfig(), null, 2));
}, 120_000);

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('gatehouse CLI', () => {
  it('has --help for every command', () => {
    for (const c of ['serve', 'check', 'accounts', 'routes', 'domains', 'trusted', 'config', 'history', 'restore', 'queue', 'log']) {
      const r = gh(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.out, c).toMatch(/Usage: gatehouse/);
    }
    expect(gh('--help').out).toContain('Commands:');
  });

  it('answers bad input with a message and exit code 2', () => {
    expect(gh('frobnicate').code).toBe(2);
    expect(gh('check', 'a@test.jp').code).toBe(2);
    expect(gh('check', 'a@test.jp', 'b@example.com', '--client', 'not-an-ip').code).toBe(2);
    const r = gh('trusted', 'add', '10.0.0.0/33');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/10\.0\.0\.0\/33/);
    expect(gh('domains', 'add', 'bad..domain').code).toBe(2);
    expect(gh('accounts', 'list', '--bogus').code).toBe(2);
    expect(gh('restore', 'x').code).toBe(2);
  });

  it('check prints the decision and the rule', () => {
    const blocked = gh('check', 'baito@test.jp', 'someone@example.com', '--client', '127.0.0.2');
    expect(blocked.code).toBe(1);
    expect(blocked.out).toContain('rule=block-external');
    expect(blocked.out).toContain('550 5.7.1 <baito@test.jp> is not allowed to send to external recipients');
    const colleague = gh('check', 'baito@test.jp', 'boss@test.jp', '--client', '127.0.0.2');
    expect(colleague.code).toBe(0);
    expect(colleague.out).toContain('rule=inbound');
    const relay = gh('check', 'tanaka@test.jp', 'x@example.com', '--client', '127.0.0.3', '--json');
    expect(relay.code).toBe(1);
    expect(JSON.parse(relay.out).rule).toBe('relay-denied');
  });

  it('blocks, allows and unblocks accounts, with history and restore', () => {
    expect(gh('accounts', 'block', '*@part.test.jp', '--note', 'アルバイト').code).toBe(0);
    expect(gh('check', 'x@part.test.jp', 'y@example.com', '--client', '127.0.0.2').code).toBe(1);
    expect(gh('accounts', 'allow', '*@part.test.jp', 'partner.example').code).toBe(0);
    expect(gh('check', 'x@part.test.jp', 'y@partner.example', '--client', '127.0.0.2').code).toBe(0);
    const list = JSON.parse(gh('accounts', 'list', '--json').out) as { pattern: string; blockExternal: boolean; note: string }[];
    expect(list.find((a) => a.pattern === '*@part.test.jp')).toMatchObject({ blockExternal: true, note: 'アルバイト' });
    expect(gh('accounts', 'unblock', 'baito@test.jp').code).toBe(0);
    expect(gh('check', 'baito@test.jp', 'y@example.com', '--client', '127.0.0.2').code).toBe(0);
    const hist = JSON.parse(gh('history', '--json').out) as { n: number; what: string }[];
    const before = hist.find((h) => h.what.includes('unblock baito@test.jp'))!.n - 1;
    expect(gh('restore', String(before)).code).toBe(0);
    expect(gh('check', 'baito@test.jp', 'y@example.com', '--client', '127.0.0.2').code).toBe(1);
    expect(gh('history').out).toContain('restore');
  });

  it('imports and exports accounts CSV and Gateway.dat, all or nothing', async () => {
    const csv = path.join(dir, 'accounts.csv');
    await fs.writeFile(csv, '\ufeffpattern,blockExternal,allow,note\r\nyamada@test.jp,true,,"週末のみ, 受付"\r\n');
    expect(gh('accounts', 'import', csv).code).toBe(0);
    const exported = gh('accounts', 'export');
    expect(exported.out).toContain('yamada@test.jp,true,,"週末のみ, 受付"');

    const bad = path.join(dir, 'Gateway.dat');
    await fs.writeFile(bad, 'test.jp, 127.0.0.1, 2526\r\ntest.jp,127.0.0.5\r\nsub.test.jp, 127.0.0.1, 99999\r\n');
    const r = gh('routes', 'import', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/line 2/);
    expect(r.err).toMatch(/line 3/);
    expect(gh('routes', 'export').out).toContain('test.jp, 127.0.0.1, 9');

    await fs.writeFile(bad, 'test.jp,127.0.0.1,2526\r\ntest.jp , 127.0.0.5 , 2526\r\n');
    const ok = gh('routes', 'import', bad);
    expect(ok.code, ok.err).toBe(0);
    const routes = JSON.parse(gh('routes', 'list', '--json').out) as { domain: string; hosts: { host: string; port: number }[] }[];
    expect(routes.find((x) => x.domain === 'test.jp')!.hosts).toEqual([
      { host: '127.0.0.1', port: 2526 },
      { host: '127.0.0.5', port: 2526 },
    ]);
  });

  it('writes exports to a file; a file it cannot write is exit 2 with the reason, and nothing else changes', async () => {
    const file = path.join(dir, 'out', 'accounts.csv');
    const missing = gh('accounts', 'export', file);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^gatehouse: cannot write .*accounts\.csv: ENOENT/);
    await fs.mkdir(path.dirname(file));
    const ok = gh('accounts', 'export', file);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toBe(`wrote ${file}\n`);
    expect(await fs.readFile(file, 'utf8')).toMatch(/^\ufeffpattern,/);
    const dat = path.join(dir, 'out', 'Gateway.dat');
    expect(gh('routes', 'export', dat).code).toBe(0);
    expect(await fs.readFile(dat, 'utf8')).toContain('\r\n');
  });

  // Windows only: Linux and macOS accept these names. The lane (npm run test:windows) runs it as win32.
  it.runIf(process.platform === 'win32')('refuses output paths Windows would refuse or misread: exit 2 naming the problem, nothing written', async () => {
    const out = path.join(dir, 'win');
    await fs.mkdir(out);
    const cases: [string[], RegExp][] = [
      [['accounts', 'export', path.join(out, 'CON.csv')], /^gatehouse: accounts export .*CON\.csv: "CON\.csv" is a name Windows keeps for a device .*; choose another file name\n$/],
      [['routes', 'export', path.join(out, 'Gateway:dat')], /^gatehouse: routes export .*: "Gateway:dat" has a character Windows does not allow/],
      [['routes', 'export', path.join(out, 'Gateway.dat.')], /ends with a dot or a space/],
      [['export', 'postfix', '--out', path.join(out, 'nul')], /^gatehouse: --out .*nul: "nul" is a name Windows keeps for a device .*; choose another folder\n$/],
      // A folder whose own path is fine but the tables inside it pass MAX_PATH.
      [['export', 'postfix', '--out', path.join(out, 'p'.repeat(Math.max(1, 250 - out.length)))], /^gatehouse: --out .*: the path is \d+ characters long; with the files inside it that passes 260/],
      [['service', 'install', '--dry-run', '--from', 'C:\\Users\\kanri\\aux'], /^gatehouse: --from C:\\Users\\kanri\\aux: "aux" is a name Windows keeps for a device/],
      [['service', 'uninstall', '--dry-run', '--to', 'C:\\Users\\kanri\\Gate|house'], /^gatehouse: --to .*: "Gate\|house" has a character Windows does not allow/],
    ];
    for (const [args, err] of cases) {
      const r = gh(...args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err, args.join(' ')).toMatch(err);
      expect(r.out, args.join(' ')).toBe('');
    }
    expect(await fs.readdir(out)).toEqual([]);
  });

  it('manages domains and trusted networks', () => {
    expect(gh('domains', 'add', 'branch.test.jp').code).toBe(0);
    expect(gh('domains', 'list').out).toContain('branch.test.jp');
    expect(gh('domains', 'remove', 'branch.test.jp').code).toBe(0);
    expect(gh('trusted', 'add', 'fd00::/8').code).toBe(0);
    expect(gh('trusted', 'list').out).toContain('fd00::/8');
    expect(gh('trusted', 'add', 'fd00::/8').code).toBe(2);
    const shown = JSON.parse(gh('config', 'show').out);
    expect(shown.trustedNetworks).toContain('fd00::/8');
  });
});

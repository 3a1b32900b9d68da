/*
 * Config module: schema defaults per platform, validation naming the field, the store's audit
 * trail / history / restore, refusal of invalid updates, invalid files at start (with and
 * without a last good copy), the file watch, discovered accounts and the accounts view.
 * Everything runs against real temp directories.
 */
import { mkdtemp, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  ConfigError,
  ConfigStore,
  MiB,
  SeenAccounts,
  addAccount,
  defaultConfig,
  demoConfig,
  formatIssues,
  listAccounts,
  removeAccount,
  setAllow,
  setBlock,
  upsertAccount,
  validateConfig,
} from '../../main/core/config/index.js';
import { DEFAULT_REPLIES } from '../../main/core/policy/defaults.js';
import type { AuditEntry, GatehouseConfig } from '../../main/shared/types.js';

function errorsOf(input: unknown): string[] {
  const r = validateConfig(input, 'linux');
  if (r.ok) return [];
  return formatIssues(r.errors).split('\n');
}

const exists = (f: string) =>
  access(f).then(
    () => true,
    () => false,
  );

/** Resolve with the next emission of `event`, or fail after `ms`. */
function next<T extends unknown[]>(store: ConfigStore, event: 'change' | 'error', ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    store.once(event, (...args: unknown[]) => {
      clearTimeout(t);
      resolve(args as T);
    });
  });
}

describe('schema defaults', () => {
  it('opens the LAN on port 25 on Windows, loopback 2525 elsewhere', () => {
    expect(defaultConfig('win32').listener).toEqual({ host: '0.0.0.0', port: 25 });
    expect(defaultConfig('linux').listener).toEqual({ host: '127.0.0.1', port: 2525 });
    expect(defaultConfig('darwin').listener).toEqual({ host: '127.0.0.1', port: 2525 });
  });

  it('has the documented limits, delivery, log, admin and replies', () => {
    const d = defaultConfig('linux');
    expect(d.limits).toEqual({
      maxMessageSize: 25 * MiB,
      maxRecipients: 100,
      maxClients: 100,
      maxConnectionsPerIp: 20,
      idleTimeoutMs: 60000,
      dataTimeoutMs: 600000,
    });
    expect(d.delivery).toEqual({
      smarthost: null,
      transportOverrides: [],
      retrySchedule: [300, 600, 1200, 1800, 3600],
      maxLifetimeSeconds: 5 * 86400,
      delayWarningSeconds: 4 * 3600,
      maxConnectionsPerHop: 5,
      maxConnectionsTotal: 20,
      connectTimeoutMs: 15000,
      verifyRecipients: false,
      verifyPositiveTtlSeconds: 3600,
      verifyNegativeTtlSeconds: 300,
      senderRoutes: [],
      dnsServers: [],
      tlsCa: [],
      mtaSts: { enabled: true },
      oauth: null,
    });
    expect(d.dkim).toEqual({ keys: [] });
    expect(d.deliverability).toEqual({ publicIp: '', port25Target: null });
    expect(d.log).toEqual({ retentionDays: 30 });
    expect(d.admin).toEqual({ host: '127.0.0.1', port: 8025 });
    expect(d.replies).toEqual(DEFAULT_REPLIES);
    expect(d.hostname).toMatch(/^[a-z0-9.-]+$/);
    // Defaults are fresh objects: changing one copy leaves the next untouched.
    d.delivery.retrySchedule.push(1);
    expect(defaultConfig('linux').delivery.retrySchedule).toHaveLength(5);
  });

  it('defaults and the demo pass their own validation', () => {
    for (const cfg of [defaultConfig('win32'), defaultConfig('linux'), demoConfig()]) {
      const r = validateConfig(cfg, 'linux');
      expect(r.ok && r.config).toEqual(cfg);
    }
    const demo = demoConfig();
    expect(demo.listener).toEqual({ host: '127.0.0.1', port: 2525 });
    expect(demo.routes).toEqual([{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: 2526 }] }]);
    expect(demo.accounts[0]).toMatchObject({ pattern: 'baito@test.jp', blockExternal: true });
  });
});

describe('validateConfig', () => {
  it('fills missing fields at every depth', () => {
    const r = validateConfig(
      {
        limits: { maxRecipients: 5 },
        routes: [{ domain: 'test.jp', hosts: [{ host: '192.168.0.102' }] }],
        accounts: [{ pattern: 'baito@test.jp' }],
        delivery: { smarthost: { host: 'smtp.example.net', security: 'tls' } },
      },
      'win32',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.listener).toEqual({ host: '0.0.0.0', port: 25 });
    expect(r.config.limits.maxRecipients).toBe(5);
    expect(r.config.limits.maxClients).toBe(100);
    expect(r.config.routes[0]!.hosts[0]).toEqual({ host: '192.168.0.102', port: 25 });
    expect(r.config.accounts[0]).toEqual({ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '' });
    expect(r.config.delivery.smarthost).toMatchObject({ port: 465, security: 'tls', user: '', allowInvalidCert: false });
    expect(r.config.delivery.retrySchedule).toEqual([300, 600, 1200, 1800, 3600]);
  });

  it('names the field at fault, every one of them', () => {
    const errs = errorsOf({
      listener: { port: 70000 },
      routes: [
        { domain: 'test.jp', hosts: [{ host: '192.168.0.102', port: 25 }] },
        { domain: 'part.test.jp', hosts: [{ host: '192.168.0.104', port: '25' }] },
      ],
      limits: { maxRecipients: 2.5 },
      delivery: { verifyRecipients: 'yes' },
    });
    expect(errs).toEqual([
      'listener.port: must be an integer 0-65535',
      'routes[1].hosts[0].port: must be an integer 1-65535',
      'limits.maxRecipients: must be an integer 1-100000',
      'delivery.verifyRecipients: must be true or false',
    ]);
  });

  it('reports unknown keys, with a suggestion when one is close', () => {
    expect(errorsOf({ listener: { hots: '0.0.0.0' } })).toEqual([
      "listener.hots: unknown setting (did you mean 'host'?)",
    ]);
    expect(errorsOf({ colour: 'red' })).toEqual(['colour: unknown setting']);
    expect(errorsOf({ accounts: [{ pattern: 'a@test.jp', blocked: true }] })[0]).toMatch(
      /^accounts\[0\]\.blocked: unknown setting/,
    );
  });

  it('checks domains: lowercase, ASCII/punycode, no trailing dot', () => {
    expect(errorsOf({ internalDomains: ['Test.JP'] })).toEqual([
      "internalDomains[0]: must be lowercase (write 'test.jp')",
    ]);
    expect(errorsOf({ internalDomains: ['test.jp.'] })).toEqual([
      "internalDomains[0]: must not end with a dot (write 'test.jp')",
    ]);
    expect(errorsOf({ internalDomains: ['例え.jp'] })).toEqual([
      "internalDomains[0]: must be ASCII: write the punycode form 'xn--r8jz45g.jp'",
    ]);
    expect(errorsOf({ internalDomains: ['xn--r8jz45g.jp', 'test.jp'] })).toEqual([]);
    expect(errorsOf({ internalDomains: ['test.jp', 'test.jp'] })).toEqual([
      'internalDomains[1]: duplicate of internalDomains[0]',
    ]);
    expect(errorsOf({ routes: [{ domain: 'test.jp', hosts: [{ host: '192.168.0.300' }] }] })[0]).toMatch(
      /^routes\[0\]\.hosts\[0\]\.host: must be an IP address or a host name/,
    );
  });

  it('checks CIDRs, patterns, allow-lists and replies with the policy rules', () => {
    expect(errorsOf({ trustedNetworks: ['192.168.0.0/24', '10.0.0.0/33', '0.0.0.0/0'] })).toEqual([
      'trustedNetworks[1]: prefix length 33 is over 32',
      'trustedNetworks[2]: 0.0.0.0/0 would trust every address (open relay)',
    ]);
    const errs = errorsOf({
      accounts: [
        { pattern: 'baito%x@test.jp' },
        { pattern: '*@part.test.jp', allow: ['partner.example', 'x@@y'] },
      ],
      replies: { blockExternal: 'Nope {acount}', relayDenied: '中継は禁止' },
    });
    expect(errs).toHaveLength(4);
    expect(errs[0]).toMatch(/^accounts\[0\]\.pattern: not a valid/);
    expect(errs[1]).toMatch(/^accounts\[1\]\.allow\[1\]: /);
    expect(errs[2]).toBe('replies.blockExternal: unknown placeholder {acount} (use {account}, {recipient} or {sender})');
    expect(errs[3]).toMatch(/^replies\.relayDenied: must be printable ASCII/);
  });

  it('checks cross-field rules and refuses a non-loopback admin interface', () => {
    expect(
      errorsOf({
        routes: [
          { domain: 'test.jp', hosts: [{ host: '192.168.0.102' }] },
          { domain: 'test.jp', hosts: [{ host: '192.168.0.104' }] },
        ],
        accounts: [{ pattern: 'baito@test.jp' }, { pattern: 'Baito@test.jp' }],
        delivery: { delayWarningSeconds: 7 * 86400 },
        admin: { host: '0.0.0.0' },
      }),
    ).toEqual([
      'routes[1].domain: duplicate of routes[0].domain; put all servers of one domain in one route',
      'accounts[1].pattern: duplicate of accounts[0].pattern; edit the existing account',
      'delivery.delayWarningSeconds: must be less than delivery.maxLifetimeSeconds (432000), or 0 to send no delay warning',
      "admin.host: must be a loopback address ('127.0.0.1', '::1' or 'localhost'): the admin interface has no login",
    ]);
    expect(errorsOf({ listener: { host: '0.0.0.0', port: 8025 } })).toEqual([
      'admin.port: must differ from listener.port (8025): both would listen on it',
    ]);
    expect(errorsOf([])).toEqual(['must be an object ({ ... })']);
    expect(errorsOf({ routes: [{ domain: 'test.jp', hosts: [] }] })).toEqual(['routes[0].hosts: must not be empty']);
  });
});

describe('ConfigStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates config.json with defaults and records it as change #1', async () => {
    const store = await ConfigStore.open(dir, { platform: 'linux' });
    expect(store.get()).toEqual(defaultConfig('linux'));
    expect(store.startupProblem).toBeNull();
    const onDisk = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(onDisk).toEqual(defaultConfig('linux'));
    expect(await exists(join(dir, 'config.last-good.json'))).toBe(true);
    const h = await store.history();
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ n: 1, via: 'default', before: null });
    await store.close();
  });

  it('creates with createWith, and hands out frozen snapshots', async () => {
    const store = await ConfigStore.open(dir, { createWith: demoConfig() });
    const cfg = store.get();
    expect(cfg.routes[0]!.hosts[0]!.port).toBe(2526);
    expect(Object.isFrozen(cfg.routes[0]!.hosts)).toBe(true);
    expect(() => {
      (cfg.limits as { maxRecipients: number }).maxRecipients = 1;
    }).toThrow(TypeError);
    expect(store.get()).toBe(cfg); // cheap: the same object until something changes
    await store.close();
  });

  it('update saves, audits, emits; history and restore work', async () => {
    const store = await ConfigStore.open(dir, { platform: 'linux' });
    const seen: [GatehouseConfig, AuditEntry][] = [];
    store.on('change', (cfg, entry) => seen.push([cfg, entry]));

    const after = await store.update('cli', 'add test.jp', (d) => {
      d.internalDomains.push('test.jp');
      d.routes.push({ domain: 'test.jp', hosts: [{ host: '192.168.0.102', port: 25 }] });
    });
    expect(after.internalDomains).toEqual(['test.jp']);
    expect(store.get()).toBe(after);
    expect(seen).toHaveLength(1);
    expect(seen[0]![1]).toMatchObject({ n: 2, via: 'cli', what: 'add test.jp' });
    expect(seen[0]![1].before?.internalDomains).toEqual([]);

    await store.update('ui', 'block baito', (d) => setBlock(d, 'baito@test.jp', true));
    // A change that changes nothing leaves no trace.
    await store.update('ui', 'no-op', (d) => setBlock(d, 'baito@test.jp', true));

    const h = await store.history();
    expect(h.map((e) => [e.n, e.via, e.what])).toEqual([
      [1, 'default', 'created config.json with the defaults'],
      [2, 'cli', 'add test.jp'],
      [3, 'ui', 'block baito'],
    ]);
    const lines = (await readFile(join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(3);

    const restored = await store.restore(2);
    expect(restored.accounts).toEqual([]);
    expect(restored.internalDomains).toEqual(['test.jp']);
    const last = (await store.history()).at(-1)!;
    expect(last).toMatchObject({ n: 4, via: 'restore', what: 'restore change #2 (add test.jp)' });
    await expect(store.restore(99)).rejects.toThrow(/no change #99/);

    // The saved state survives a reopen.
    await store.close();
    const again = await ConfigStore.open(dir, { platform: 'linux' });
    expect(again.get()).toEqual(restored);
    expect((await again.history()).map((e) => e.n)).toEqual([1, 2, 3, 4]);
    await again.close();
  });

  it('an invalid update throws ConfigError naming the field and keeps the old config', async () => {
    const store = await ConfigStore.open(dir, { platform: 'linux' });
    const before = store.get();
    const fileBefore = await readFile(join(dir, 'config.json'), 'utf8');
    let changes = 0;
    store.on('change', () => changes++);
    const err = await store
      .update('ui', 'bad port', (d) => {
        d.routes.push({ domain: 'test.jp', hosts: [{ host: '192.168.0.102', port: 0 }] });
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).errors).toEqual([
      { path: 'routes[0].hosts[0].port', code: 'int_range', params: { min: 1, max: 65535 }, message: 'must be an integer 1-65535' },
    ]);
    expect((err as Error).message).toContain('routes[0].hosts[0].port: must be an integer 1-65535');
    expect(store.get()).toBe(before);
    expect(await readFile(join(dir, 'config.json'), 'utf8')).toBe(fileBefore);
    expect(await store.history()).toHaveLength(1);
    expect(changes).toBe(0);
    // replace() goes through the same gate.
    await expect(store.replace('api', 'junk', { listener: 'x' })).rejects.toBeInstanceOf(ConfigError);
    // ... and the store still works afterwards.
    await store.update('ui', 'ok', (d) => d.internalDomains.push('test.jp'));
    expect(store.get().internalDomains).toEqual(['test.jp']);
    await store.close();
  });

  it('an invalid file at start without a last good copy: ConfigError naming file and field', async () => {
    const cfg = { ...defaultConfig('linux'), limits: { ...defaultConfig('linux').limits, maxClients: -1 } };
    await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
    const err = await ConfigStore.open(dir, { platform: 'linux' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe(join(dir, 'config.json'));
    expect((err as Error).message).toContain(join(dir, 'config.json'));
    expect((err as Error).message).toContain('limits.maxClients: must be an integer 1-100000');

    await writeFile(join(dir, 'config.json'), '{\n  "listener": {\n    "port": 25,\n  }\n}');
    const syntax = await ConfigStore.open(dir, { platform: 'linux' }).catch((e: unknown) => e);
    expect((syntax as Error).message).toMatch(/not valid JSON at line 4/);
  });

  it('an invalid file at start with a last good copy: runs on it and says why', async () => {
    const store = await ConfigStore.open(dir, { platform: 'linux' });
    await store.update('cli', 'add test.jp', (d) => d.internalDomains.push('test.jp'));
    await store.close();
    const bad = { internalDomains: ['test.jp'], routes: [{ domain: 'test.jp', hosts: [{ host: 'x', port: 99999 }] }] };
    await writeFile(join(dir, 'config.json'), JSON.stringify(bad));

    const again = await ConfigStore.open(dir, { platform: 'linux' });
    expect(again.get().internalDomains).toEqual(['test.jp']);
    expect(again.get().routes).toEqual([]);
    expect(again.startupProblem).toContain('routes[0].hosts[0].port: must be an integer 1-65535');
    expect(again.startupProblem).toContain('config.last-good.json');
    // The refused edit is kept for the admin to fix.
    expect(JSON.parse(await readFile(join(dir, 'config.rejected.json'), 'utf8'))).toEqual(bad);
    await again.close();
  });

  it('a removed config.json comes back from the last good copy, not from defaults', async () => {
    const store = await ConfigStore.open(dir, { platform: 'linux' });
    await store.update('cli', 'add test.jp', (d) => d.internalDomains.push('test.jp'));
    await store.close();
    await rm(join(dir, 'config.json'));
    const again = await ConfigStore.open(dir, { platform: 'linux' });
    expect(again.get().internalDomains).toEqual(['test.jp']);
    expect(again.startupProblem).toMatch(/was missing/);
    expect(await exists(join(dir, 'config.json'))).toBe(true);
    await again.close();
  });

  it('a hand edit made while stopped is audited at the next start', async () => {
    const store = await ConfigStore.open(dir, { platform: 'linux' });
    const edited = { ...store.get(), internalDomains: ['test.jp'] };
    await store.close();
    await writeFile(join(dir, 'config.json'), JSON.stringify(edited));
    const again = await ConfigStore.open(dir, { platform: 'linux' });
    const h = await again.history();
    expect(h.map((e) => [e.n, e.via])).toEqual([
      [1, 'default'],
      [2, 'file'],
    ]);
    expect(h[1]!.what).toMatch(/while Gatehouse was not running/);
    expect(h[1]!.before?.internalDomains).toEqual([]);
    await again.close();
  });

  it('reads a file saved with a BOM (Notepad)', async () => {
    await writeFile(join(dir, 'config.json'), '\uFEFF' + JSON.stringify({ internalDomains: ['test.jp'] }));
    const store = await ConfigStore.open(dir, { platform: 'linux' });
    expect(store.get().internalDomains).toEqual(['test.jp']);
    await store.close();
  });

  it('watch() adopts a valid hand edit and audits it via file', async () => {
    const store = await ConfigStore.open(dir, { platform: 'linux' });
    store.watch();
    const changed = next<[GatehouseConfig, AuditEntry]>(store, 'change');
    const edited = { ...defaultConfig('linux'), internalDomains: ['test.jp'] };
    edited.hostname = store.get().hostname;
    await writeFile(join(dir, 'config.json'), JSON.stringify(edited, null, 2));
    const [cfg, entry] = await changed;
    expect(cfg.internalDomains).toEqual(['test.jp']);
    expect(store.get()).toBe(cfg);
    expect(entry).toMatchObject({ n: 2, via: 'file' });
    expect(JSON.parse(await readFile(join(dir, 'config.last-good.json'), 'utf8')).internalDomains).toEqual(['test.jp']);
    await store.close();
  });

  it('watch() never reads its own saves back; a write by anyone else is one edit via file', async () => {
    const serve = await ConfigStore.open(dir, { platform: 'linux' });
    serve.watch();
    let changes = 0;
    serve.on('change', () => changes++);
    // Our own save must not come back as a second change.
    await serve.update('ui', 'add test.jp', (d) => d.internalDomains.push('test.jp'));
    await new Promise((r) => setTimeout(r, 400));
    expect(changes).toBe(1);

    // A second store on the same folder is what the CLI no longer does while a gateway runs
    // (it asks the gateway): should anything still write the file, it is a hand edit, once.
    const changed = next<[GatehouseConfig, AuditEntry]>(serve, 'change');
    const other = await ConfigStore.open(dir, { platform: 'linux' });
    await other.update('cli', 'block baito', (d) => setBlock(d, 'baito@test.jp', true));
    await other.close();
    const [cfg, entry] = await changed;
    expect(cfg.accounts).toEqual([{ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: '' }]);
    expect(entry).toMatchObject({ n: 4, via: 'file' });
    await new Promise((r) => setTimeout(r, 400));
    expect(changes).toBe(2);
    // Numbering continues from the file, whoever wrote last.
    await serve.update('ui', 'unblock', (d) => setBlock(d, 'baito@test.jp', false));
    expect((await serve.history()).map((e) => [e.n, e.via])).toEqual([[1, 'default'], [2, 'ui'], [3, 'cli'], [4, 'file'], [5, 'ui']]);
    await serve.close();
  });

  it('watch() rejects an invalid edit: emits error naming the field, keeps the last good', async () => {
    const store = await ConfigStore.open(dir, { platform: 'linux' });
    await store.update('cli', 'add test.jp', (d) => d.internalDomains.push('test.jp'));
    const good = store.get();
    store.watch();
    const failed = next<[Error]>(store, 'error');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ internalDomains: ['test.jp'], limits: { maxClients: 'many' } }));
    const [err] = await failed;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('limits.maxClients: must be an integer 1-100000');
    expect(err.message).toContain(join(dir, 'config.json'));
    expect(store.get()).toBe(good);
    expect(JSON.parse(await readFile(join(dir, 'config.last-good.json'), 'utf8'))).toEqual(good);
    expect(await store.history()).toHaveLength(2);

    // Fixing the file is picked up again.
    const changed = next<[GatehouseConfig, AuditEntry]>(store, 'change');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...good, internalDomains: ['test.jp', 'part.test.jp'] }));
    const [cfg] = await changed;
    expect(cfg.internalDomains).toEqual(['test.jp', 'part.test.jp']);
    await store.close();
  });
});

describe('SeenAccounts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-seen-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts senders in memory, writes on close, reads back', async () => {
    const seen = await SeenAccounts.open(dir, { flushMs: 60_000 });
    seen.record('Baito@Test.JP', new Date('2025-01-02T00:00:00Z'));
    seen.record('baito@test.jp', new Date('2025-01-01T00:00:00Z'));
    seen.record('', new Date()); // null sender: not an account
    expect(seen.all()).toEqual({
      'baito@test.jp': { firstSeen: '2025-01-01T00:00:00.000Z', lastSeen: '2025-01-02T00:00:00.000Z', messages: 2 },
    });
    expect(await exists(join(dir, 'accounts-seen.json'))).toBe(false); // debounced, not per message
    await seen.close();
    const again = await SeenAccounts.open(dir);
    expect(again.all()['baito@test.jp']!.messages).toBe(2);
    await again.close();
  });

  it('an unreadable file is moved aside, never fatal', async () => {
    await writeFile(join(dir, 'accounts-seen.json'), '{not json');
    const seen = await SeenAccounts.open(dir);
    expect(seen.all()).toEqual({});
    expect(seen.startupProblem).toMatch(/unreadable/);
    expect(await exists(join(dir, 'accounts-seen.json.bad'))).toBe(true);
    await seen.close();
  });
});

describe('accounts view and edits', () => {
  const cfg = (): GatehouseConfig => {
    const c = defaultConfig('linux');
    c.accounts = [
      { pattern: 'baito@test.jp', blockExternal: true, allow: [], note: 'part-timer' },
      { pattern: '*@part.test.jp', blockExternal: true, allow: ['partner.example'], note: 'part office' },
    ];
    return c;
  };
  const stats = (messages: number, day: number) => ({
    firstSeen: `2025-01-0${day}T00:00:00.000Z`,
    lastSeen: `2025-01-0${day}T12:00:00.000Z`,
    messages,
  });

  it('merges configured accounts with seen senders', () => {
    const rows = listAccounts(cfg(), {
      'baito@test.jp': stats(3, 1),
      'tanaka@test.jp': stats(5, 2),
      'a@part.test.jp': stats(1, 3),
    });
    expect(rows.map((r) => [r.pattern, r.configured, r.blockExternal, r.messages, r.note])).toEqual([
      ['baito@test.jp', true, true, 3, 'part-timer'],
      ['*@part.test.jp', true, true, 1, 'part office'],
      ['a@part.test.jp', false, true, 1, 'pattern *@part.test.jp'],
      ['tanaka@test.jp', false, false, 5, ''],
    ]);
    expect(rows[1]!.lastSeen).toBe('2025-01-03T12:00:00.000Z');
  });

  it('setBlock / setAllow create an exact account from the effective values', () => {
    const d = cfg();
    setBlock(d, 'tanaka@test.jp', true);
    setAllow(d, 'a@part.test.jp', ['partner.example', 'b@other.example', ' ']);
    setBlock(d, 'BAITO@test.jp', false);
    expect(d.accounts.slice(2)).toEqual([
      { pattern: 'tanaka@test.jp', blockExternal: true, allow: [], note: '' },
      { pattern: 'a@part.test.jp', blockExternal: true, allow: ['partner.example', 'b@other.example'], note: '' },
    ]);
    expect(d.accounts[0]!.blockExternal).toBe(false);
    expect(validateConfig(d, 'linux').ok).toBe(true);
  });

  it('add / upsert / remove refuse what does not make sense', () => {
    const d = cfg();
    addAccount(d, { pattern: 'new@test.jp', blockExternal: true });
    expect(() => addAccount(d, { pattern: 'New@test.jp' })).toThrow(ConfigError);
    upsertAccount(d, { pattern: 'new@test.jp', blockExternal: false, allow: [], note: 'edited' });
    expect(d.accounts[2]).toEqual({ pattern: 'new@test.jp', blockExternal: false, allow: [], note: 'edited' });
    upsertAccount(d, { pattern: 'renamed@test.jp', blockExternal: false, allow: [], note: '' }, 'new@test.jp');
    expect(d.accounts[2]!.pattern).toBe('renamed@test.jp');
    expect(() =>
      upsertAccount(d, { pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '' }, 'renamed@test.jp'),
    ).toThrow(/already configured/);
    expect(removeAccount(d, 'renamed@test.jp').pattern).toBe('renamed@test.jp');
    expect(() => removeAccount(d, 'ghost@test.jp')).toThrow(/no account 'ghost@test.jp'/);
    expect(d.accounts).toHaveLength(2);
  });
});

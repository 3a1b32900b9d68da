/*
 * Switching between desktop mode and service mode moves the data folder (main/core/data-move.ts):
 * desktop folder -> service folder -> back, with a real gateway on each side. Queued mail
 * (deferred: its route has nobody listening), the receivelog and senderlog, the settings and
 * their audit trail and the sealed smarthost password all arrive, nothing stays behind but the
 * note saying where it went, the move is a line of the audit trail, the password is sealed
 * again for the new side, and the gateway opened on the new folder holds the same queue.
 * Refusals lose nothing: a running gateway on either side, or a destination that already holds
 * settings or mail. Runs as win32 in the Windows lane too (the real icacls under Wine).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../main/core/gateway.js';
import { moveDataFolder, MoveError } from '../../main/core/data-move.js';
import { openSecret, registerSecretProvider, sealedWith, sealWith } from '../../main/core/config/index.js';
import { startAdminHost } from '../../main/headless/admin-host.js';
import { NO_DNS, officeConfig, tempDir } from '../helpers/gateway.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { TokenStore } from '../../main/core/oauth/token-store.js';

/**
 * A second seal standing in for "the other mode's" (DPAPI machine scope vs user scope on
 * Windows); registered after the file key, so new secrets keep using the file key.
 */
const toOtherMode = (stored: string) => {
  registerSecretProvider({
    id: 'other-mode',
    encrypt: (plain) => Buffer.from(plain, 'utf8').reverse(),
    decrypt: (data) => Buffer.from(data).reverse().toString('utf8'),
  });
  return sealWith('other-mode', openSecret(stored));
};
const toFileKey = (stored: string) => sealWith('file', openSecret(stored));

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function files(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

async function send(port: number, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await SmtpTestClient.connect(port, { localAddress: '127.0.0.2' });
    await c.greeting;
    await c.cmd('HELO office.test.jp');
    await c.cmd('MAIL FROM:<tanaka@test.jp>');
    await c.cmd('RCPT TO:<boss@test.jp>');
    const end = (await c.data(`Subject: switch ${i}\r\n\r\nbody ${i}\r\n`)).end;
    expect(end.code).toBe(250);
    ids.push(/queued as (\S+)/.exec(end.text)![1]!);
    await c.quit();
  }
  return ids;
}

/** Opens a gateway on `dir` (no listener), reads what the admin would check, closes it. */
async function inspect(dir: string) {
  const gw = await Gateway.open({ dataDir: dir, resolver: NO_DNS });
  try {
    const queue = (await gw.delivery.list()).map((q) => q.id).sort();
    const day = (await gw.receivelog.days()).at(-1)!;
    const received = (await gw.receivelog.readRange(day, { limit: 5000 })).entries.filter((e) => e.event === 'data').length;
    const history = await gw.store.history();
    const cfg = gw.store.get();
    const sh = cfg.delivery.smarthost!;
    // Every other secret too: a route's password, the OAuth client secret, a DKIM key, the refresh token.
    const token = new TokenStore(dir).read();
    const others = [cfg.delivery.senderRoutes[0]?.password, cfg.delivery.oauth?.clientSecret, cfg.dkim.keys[0]?.privateKey, token?.refreshToken].map((x) => (x ? openSecret(x) : null));
    return { queue, received, history, stored: sh.password, password: openSecret(sh.password), domains: cfg.internalDomains, others };
  } finally {
    await gw.close();
  }
}

describe('mode switch: desktop folder -> service folder -> back', () => {
  it('moves settings, queue, logs and the sealed password both ways; nothing lost, the move audited', async () => {
    const desktop = await tempDir('gh-desktop-');
    const service = path.join(await tempDir('gh-programdata-'), 'Gatehouse');
    dirs.push(desktop, path.dirname(service));

    // Desktop mode: a gateway with mail waiting in its queue and a smarthost password.
    const gw = await Gateway.open({ dataDir: desktop, createWith: officeConfig(), resolver: NO_DNS });
    const st = await gw.start();
    const ids = await send(st.listen!.port, 3);
    await gw.store.update('ui', 'smarthost', (d) => {
      d.delivery.smarthost = { host: '127.0.0.1', port: 9, security: 'none', user: 'office', password: 'smarthost secret', allowInvalidCert: false };
      d.delivery.senderRoutes = [{ destination: '*', sender: 'ceo@test.jp', hosts: [{ host: '127.0.0.1', port: 9 }], auth: 'password', user: 'ceo', password: 'route secret' }];
      d.delivery.oauth = { provider: 'microsoft', clientId: 'app-1', clientSecret: 'client secret', user: 'office@test.jp' };
      d.dkim.keys = [{ domain: 'test.jp', selector: 's1', algorithm: 'ed25519', privateKey: 'dkim private key', publicKey: 'AAAA', createdAt: '' }];
    });
    await new TokenStore(desktop).write('login', 'refresh token', new Date().toISOString());
    await gw.close();
    const before = await inspect(desktop);
    expect(before.others).toEqual(['route secret', 'client secret', 'dkim private key', 'refresh token']);
    expect(before.queue).toEqual([...ids].sort());
    expect(before.received).toBeGreaterThanOrEqual(3);
    expect(sealedWith(before.stored)).toBe('file');
    const desktopFiles = await files(desktop);
    expect(desktopFiles.filter((f) => f.startsWith('spool/')).length).toBeGreaterThanOrEqual(3);

    // -> service mode.
    const there = await moveDataFolder(desktop, service, { reseal: toOtherMode, reason: 'switch to service mode' });
    expect(there.notes).toEqual([]);
    expect(there.files).toBe(desktopFiles.filter((f) => f !== 'admin.json').length);
    expect(there.resealed).toBeGreaterThanOrEqual(3); // config.json, its last good copy, audit lines
    expect(await files(desktop)).toEqual(['MOVED.txt']);
    expect(await fs.readFile(path.join(desktop, 'MOVED.txt'), 'utf8')).toContain(service);
    const inService = await inspect(service);
    expect(inService.queue).toEqual(before.queue);
    expect(inService.received).toBe(before.received);
    expect(inService.password).toBe('smarthost secret');
    expect(sealedWith(inService.stored)).toBe('other-mode');
    expect(inService.others).toEqual(before.others);
    for (const f of ['config.json', 'config.last-good.json', 'oauth-token.json']) expect(await fs.readFile(path.join(service, f), 'utf8'), f).not.toMatch(/enc:v1:file:/);
    const moveLine = inService.history.at(-1)!;
    expect(moveLine).toMatchObject({ via: 'service' });
    expect(moveLine.what).toContain(`switch to service mode: ${path.resolve(desktop)} -> ${path.resolve(service)}`);
    expect(inService.history.length).toBe(before.history.length + 1);
    // No audit line carries the old seal any more (a restore would bring back an unopenable one).
    const audit = await fs.readFile(path.join(service, 'audit.jsonl'), 'utf8');
    expect(audit).not.toMatch(/enc:v1:file:/);

    // The service keeps working on it: more mail while in service mode.
    const gw2 = await Gateway.open({ dataDir: service, resolver: NO_DNS });
    const more = await send((await gw2.start()).listen!.port, 2);
    await gw2.close();

    // -> back to desktop mode.
    const back = await moveDataFolder(service, desktop, { reseal: toFileKey, reason: 'back to desktop mode' });
    expect(back.notes).toEqual([]);
    const home = await inspect(desktop);
    expect(home.queue).toEqual([...ids, ...more].sort());
    expect(home.received).toBeGreaterThanOrEqual(before.received + 2);
    expect(home.password).toBe('smarthost secret');
    expect(sealedWith(home.stored)).toBe('file');
    expect(home.others).toEqual(before.others);
    expect(home.history.filter((e) => e.via === 'service').map((e) => e.what.split(':')[0])).toEqual(['switch to service mode', 'back to desktop mode']);
    expect((await files(desktop)).includes('MOVED.txt')).toBe(false);
    expect(await files(service)).toEqual(['MOVED.txt']);
  });

  it('refuses, moving nothing, while a gateway runs on the folder or when the destination holds data', async () => {
    const a = await tempDir('gh-a-');
    const b = await tempDir('gh-b-');
    dirs.push(a, b);
    const gw = await Gateway.open({ dataDir: a, createWith: officeConfig(), resolver: NO_DNS });
    await gw.start();
    const admin = await startAdminHost({ gateway: gw, where: { host: '127.0.0.1', port: 0 }, staticDir: a });
    const filesBefore = await files(a);
    // A running gateway: this very process (its admin.json names it).
    await expect(moveDataFolder(a, b)).rejects.toThrow(MoveError);
    const info = JSON.parse(await fs.readFile(path.join(a, 'admin.json'), 'utf8')) as { pid: number };
    await fs.writeFile(path.join(a, 'admin.json'), JSON.stringify({ ...info, pid: info.pid + 1_000_000 }));
    await expect(moveDataFolder(a, b, { alive: (pid) => pid === info.pid + 1_000_000 })).rejects.toThrow(/is running on/);
    await admin.close();
    await gw.close();
    const after = await files(a);
    for (const f of filesBefore.filter((x) => x !== 'admin.json')) expect(after).toContain(f);
    expect(await files(b)).toEqual([]);

    // A destination with settings of its own.
    const c = await tempDir('gh-c-');
    dirs.push(c);
    const other = await Gateway.open({ dataDir: c, createWith: officeConfig(), resolver: NO_DNS });
    await other.close();
    const cBefore = await files(c);
    await expect(moveDataFolder(a, c)).rejects.toThrow(/already holds Gatehouse data \(config\.json, audit\.jsonl/);
    expect(await files(c)).toEqual(cBefore);
    expect(await files(a)).toContain('config.json');

    // Nothing to move.
    await expect(moveDataFolder(b, c)).rejects.toThrow(/no config\.json/);
  });

  it('a password that cannot be re-sealed is kept as it was and reported', async () => {
    const a = await tempDir('gh-a-');
    const b = path.join(await tempDir('gh-b-'), 'svc');
    dirs.push(a, path.dirname(b));
    const gw = await Gateway.open({ dataDir: a, createWith: officeConfig(), resolver: NO_DNS });
    await gw.store.update('ui', 'smarthost', (d) => {
      d.delivery.smarthost = { host: '127.0.0.1', port: 9, security: 'none', user: 'office', password: 'pw', allowInvalidCert: false };
    });
    await gw.close();
    const report = await moveDataFolder(a, b, {
      reseal: () => {
        throw new Error('DPAPI: the key is not available to this account');
      },
    });
    expect(report.notes).toEqual(['the smarthost password could not be sealed for the new place (DPAPI: the key is not available to this account); enter it again in Settings']);
    const cfg = JSON.parse(await fs.readFile(path.join(b, 'config.json'), 'utf8'));
    expect(sealedWith(cfg.delivery.smarthost.password)).toBe('file');
  });
});

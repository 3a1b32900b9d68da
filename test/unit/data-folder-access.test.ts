/*
 * Owner-only data folder (data-folder-access.ts, private-files.ts). On Linux, with a real
 * gateway, admin host and umask 022: every folder 0700 and every file 0600 as made (config and
 * its copies, audit trail, secret.key, admin token and admin.json, TLS key, logs, spool), still
 * so after rewrites, and repaired at the next start when someone widened them, with a
 * receivelog line per repair. On Windows the ACL is set with icacls: here the command line it
 * would run and the decision when to run it are checked with a recording runner (the Windows
 * lane runs the real icacls under Wine).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../main/core/gateway.js';
import { startAdminHost } from '../../main/headless/admin-host.js';
import {
  WINDOWS_ADMINISTRATORS,
  WINDOWS_SYSTEM,
  desktopPrincipals,
  hasInheritedEntries,
  restrictPosix,
  restrictWindows,
  secureDataFolder,
  windowsAclArgs,
} from '../../main/core/data-folder-access.js';
import { writePrivateFile } from '../../main/core/private-files.js';
import { NO_DNS, officeConfig } from '../helpers/gateway.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';

const posix = process.platform !== 'win32';
const mode = async (p: string): Promise<string> => ((await fs.stat(p)).mode & 0o777).toString(8);

/** Every folder and file under `root` (spool included) with its mode, e.g. { 'logs/': '700' }. */
async function modes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = { './': await mode(root) };
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const rel = path.relative(root, p);
      if (e.isDirectory()) {
        out[`${rel}/`] = await mode(p);
        await walk(p);
      } else if (e.isFile()) out[rel] = await mode(p);
    }
  };
  await walk(root);
  return out;
}

let tmp = '';
let umask = 0;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gh-access-'));
  // What a desktop session or a service typically has: files 0644, folders 0755 unless asked.
  if (posix) umask = process.umask(0o022);
});
afterEach(async () => {
  if (posix) process.umask(umask);
  await fs.rm(tmp, { recursive: true, force: true });
});

async function openGateway(dir: string, report?: (m: string) => void): Promise<Gateway> {
  const cfg = officeConfig((c) => {
    c.tls = { mode: 'auto', certFile: '', keyFile: '' };
    c.admin = { host: '127.0.0.1', port: 0 };
  });
  return Gateway.open({ dataDir: dir, createWith: cfg, resolver: NO_DNS, report });
}

describe.skipIf(!posix)('owner-only data folder on Linux and macOS', () => {
  it('a new data folder: every folder 0700 and every file 0600, also after rewrites', async () => {
    const dir = path.join(tmp, 'Gatehouse'); // does not exist yet: Gateway.open makes it
    const gw = await openGateway(dir);
    const st = await gw.start();
    const host = await startAdminHost({ gateway: gw, where: { host: '127.0.0.1', port: 0 }, staticDir: tmp });
    try {
      const c = await SmtpTestClient.connect(st.listen!.port, { localAddress: '127.0.0.2' });
      await c.greeting;
      await c.cmd('HELO office.test.jp');
      await c.cmd('MAIL FROM:<tanaka@test.jp>');
      await c.cmd('RCPT TO:<boss@test.jp>');
      expect((await c.data('Subject: hi\r\n\r\nhello\r\n')).end.code).toBe(250);
      await c.quit();
      // The smarthost password as the Settings screen saves it: sealed, which makes secret.key.
      await gw.store.update('ui', 'smarthost', (d) => {
        d.delivery.smarthost = { host: '127.0.0.1', port: 9, security: 'none', user: 'office', password: 'smarthost secret', allowInvalidCert: false };
      });
      // Rewrites go through a temp file and a rename (steno): the renamed file must stay 0600.
      await gw.store.update('api', 'one more domain', (d) => void d.internalDomains.push('branch.test.jp'));
      await gw.store.update('api', 'and another', (d) => void d.internalDomains.push('shop.test.jp'));
      await gw.receivelog.flush();
      await gw.senderlog.flush();
      await gw.seen.flush();
      const all = await modes(dir);
      for (const name of ['config.json', 'config.last-good.json', 'audit.jsonl', 'secret.key', 'admin-token', 'admin.json', 'accounts-seen.json', 'tls/key.pem', 'tls/cert.pem']) {
        expect(all[name], name).toBe('600');
      }
      expect(Object.keys(all).some((k) => /^logs\/receivelog-.*\.jsonl$/.test(k))).toBe(true);
      expect(Object.keys(all).some((k) => /^spool\/queue\/.*\.msg$/.test(k))).toBe(true);
      for (const [name, m] of Object.entries(all)) expect(m, name).toBe(name.endsWith('/') ? '700' : '600');
      // The config holds the smarthost password sealed, never in clear.
      expect(await fs.readFile(path.join(dir, 'config.json'), 'utf8')).not.toContain('smarthost secret');
    } finally {
      await host.close();
      await gw.close();
    }
  });

  it('repairs a folder someone widened at the next start, says so in the receivelog, and keeps the refused config 0600', async () => {
    const dir = path.join(tmp, 'Gatehouse');
    let gw = await openGateway(dir);
    await gw.start();
    await gw.receivelog.flush();
    await gw.close();
    // Also a file of no known name: everything directly in the folder is made owner-only.
    await fs.writeFile(path.join(dir, 'notes.txt'), 'smarthost password: hunter2\n');
    const widened = ['config.json', 'audit.jsonl', 'tls/key.pem', 'notes.txt'];
    await fs.chmod(dir, 0o755);
    await fs.chmod(path.join(dir, 'logs'), 0o755);
    for (const f of widened) await fs.chmod(path.join(dir, f), 0o644);
    const logFile = (await fs.readdir(path.join(dir, 'logs')))[0]!;
    await fs.chmod(path.join(dir, 'logs', logFile), 0o640);
    // A hand edit that breaks config.json, saved world-readable: refused, copied aside 0600.
    await fs.writeFile(path.join(dir, 'config.json'), '{ "hostname": ', { mode: 0o644 });
    await fs.chmod(path.join(dir, 'config.json'), 0o644);
    const reported: string[] = [];
    gw = await openGateway(dir, (m) => reported.push(m));
    try {
      const all = await modes(dir);
      for (const [name, m] of Object.entries(all)) expect(m, name).toBe(name.endsWith('/') ? '700' : '600');
      expect(all['config.rejected.json']).toBe('600');
      await gw.receivelog.flush();
      const notes = (await gw.receivelog.tail(1000)).filter((e) => e.event === 'service' && e.note?.startsWith('data folder access: ')).map((e) => e.note!);
      for (const f of ['', 'logs', ...widened, path.join('logs', logFile)]) {
        const p = path.join(dir, f);
        expect(notes.some((n) => n.includes(`${p} was 0`)), p).toBe(true);
      }
      expect(notes.find((n) => n.includes(path.join(dir, 'tls', 'key.pem')))).toBe(`data folder access: ${path.join(dir, 'tls', 'key.pem')} was 0644, now 0600 (owner only)`);
      expect(reported.filter((m) => m.startsWith('data folder access: '))).toHaveLength(notes.length);
      // Nothing left to repair: the next start is quiet.
      await gw.close();
      expect(await restrictPosix(dir)).toEqual([]);
      gw = await openGateway(dir);
    } finally {
      await gw.close();
    }
  });

  it('writePrivateFile makes a stale wider file 0600 (admin.json after a crash); symlinks are left alone', async () => {
    const f = path.join(tmp, 'admin.json');
    await fs.writeFile(f, 'old', { mode: 0o644 });
    await writePrivateFile(f, 'new');
    expect(await mode(f)).toBe('600');
    const outside = path.join(tmp, 'outside.txt');
    await fs.writeFile(outside, 'x', { mode: 0o644 });
    await fs.chmod(outside, 0o644);
    const root = path.join(tmp, 'data');
    await fs.mkdir(root, { mode: 0o700 });
    await fs.symlink(outside, path.join(root, 'link.txt'));
    expect(await restrictPosix(root)).toEqual([]);
    expect(await mode(outside)).toBe('644');
  });

  it('secureDataFolder creates a missing folder 0700 (parents too) and reports nothing for a fresh one', async () => {
    const root = path.join(tmp, 'a', 'b', 'Gatehouse');
    expect(await secureDataFolder(root)).toEqual([]);
    expect(await mode(root)).toBe('700');
    expect(await mode(path.join(tmp, 'a'))).toBe('700');
  });
});

describe('Windows: the data folder ACL (icacls)', () => {
  const root = 'C:\\Users\\tanaka\\AppData\\Roaming\\Gatehouse';
  /** A recording icacls: answers the listing with `listing`, records every call. */
  const recorder = (listing: string, fail = false) => {
    const calls: string[][] = [];
    const run = async (args: string[]) => {
      calls.push(args);
      if (fail) throw new Error("'icacls' is not recognized");
      return args.length === 1 ? listing : 'processed file: ' + args[0] + '\nSuccessfully processed 1 files; Failed processing 0 files\n';
    };
    return { calls, run };
  };
  const INHERITED = `${root} NT AUTHORITY\\SYSTEM:(I)(OI)(CI)(F)
                                        BUILTIN\\Administrators:(I)(OI)(CI)(F)
                                        PC\\tanaka:(I)(OI)(CI)(F)

Successfully processed 1 files; Failed processing 0 files
`;
  const RESTRICTED = `${root} PC\\tanaka:(OI)(CI)(F)
                                        NT AUTHORITY\\SYSTEM:(OI)(CI)(F)
                                        BUILTIN\\Administrators:(OI)(CI)(F)

Successfully processed 1 files; Failed processing 0 files
`;
  // On a Japanese Windows the messages are translated (and read here as mojibake); the flags are not.
  const INHERITED_JA = `C:\\Gatehouse BUILTIN\\Administrators:(I)(OI)(CI)(F)
             NT AUTHORITY\\Authenticated Users:(I)(M)
             BUILTIN\\Users:(I)(OI)(CI)(RX)

1 \u500b\u306e\u30d5\u30a1\u30a4\u30eb\u304c\u6b63\u3057\u304f\u51e6\u7406\u3055\u308c\u307e\u3057\u305f\u3002
`;

  it('the command: no inherited entries, full control for the user, SYSTEM and Administrators, inherited by everything inside', () => {
    const principals = desktopPrincipals({ USERDOMAIN: 'PC' }, 'tanaka');
    expect(principals).toEqual(['PC\\tanaka', '*S-1-5-18', '*S-1-5-32-544']);
    expect(windowsAclArgs(root, principals)).toEqual([
      root,
      '/inheritance:r',
      '/grant:r',
      'PC\\tanaka:(OI)(CI)F',
      '*S-1-5-18:(OI)(CI)F',
      '*S-1-5-32-544:(OI)(CI)F',
    ]);
    // As a command line: icacls "C:\Users\tanaka\AppData\Roaming\Gatehouse" /inheritance:r /grant:r PC\tanaka:(OI)(CI)F *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F
    expect(desktopPrincipals({}, 'tanaka')[0]).toBe('tanaka');
    // A service (a later change) passes its own list: SYSTEM, Administrators, its account.
    expect(windowsAclArgs('C:\\ProgramData\\Gatehouse', [WINDOWS_SYSTEM, WINDOWS_ADMINISTRATORS, 'NT SERVICE\\Gatehouse']).slice(3)).toEqual([
      '*S-1-5-18:(OI)(CI)F',
      '*S-1-5-32-544:(OI)(CI)F',
      'NT SERVICE\\Gatehouse:(OI)(CI)F',
    ]);
  });

  it('inherited entries are what it looks for, whatever the language', () => {
    expect(hasInheritedEntries(INHERITED)).toBe(true);
    expect(hasInheritedEntries(INHERITED_JA)).toBe(true);
    expect(hasInheritedEntries(RESTRICTED)).toBe(false);
    // (IO) = inherit-only, not inherited.
    expect(hasInheritedEntries(`${root} PC\\tanaka:(OI)(CI)(IO)(F)\n`)).toBe(false);
  });

  it('restricts a folder that inherits, leaves a restricted one alone, and reports an icacls failure without throwing', async () => {
    const principals = desktopPrincipals({ USERDOMAIN: 'PC' }, 'tanaka');
    const inherited = recorder(INHERITED);
    const notes = await restrictWindows(root, principals, inherited.run);
    expect(inherited.calls).toEqual([[root], windowsAclArgs(root, principals)]);
    expect(notes).toEqual([`${root}: access limited to PC\\tanaka, *S-1-5-18, *S-1-5-32-544 (permissions inherited from the parent folder removed)`]);

    const restricted = recorder(RESTRICTED);
    expect(await restrictWindows(root, principals, restricted.run)).toEqual([]);
    expect(restricted.calls).toEqual([[root]]);

    const missing = recorder('', true);
    expect((await restrictWindows(root, principals, missing.run))[0]).toMatch(/^cannot limit access to .*icacls/);
  });

  it('secureDataFolder on win32: a new folder is restricted at once; an existing one only when asked (the gateway asks, the CLI does not)', async () => {
    const fresh = path.join(tmp, 'new-folder');
    const a = recorder(INHERITED);
    const notes = await secureDataFolder(fresh, { platform: 'win32', principals: ['PC\\tanaka', WINDOWS_SYSTEM, WINDOWS_ADMINISTRATORS], run: a.run });
    expect(a.calls[1]).toEqual(windowsAclArgs(fresh, ['PC\\tanaka', WINDOWS_SYSTEM, WINDOWS_ADMINISTRATORS]));
    expect(notes).toHaveLength(1);

    const b = recorder(INHERITED);
    expect(await secureDataFolder(fresh, { platform: 'win32', checkExisting: false, run: b.run })).toEqual([]);
    expect(b.calls).toEqual([]);
    const c = recorder(INHERITED);
    expect(await secureDataFolder(fresh, { platform: 'win32', principals: ['u'], run: c.run })).toHaveLength(1);
    expect(c.calls).toHaveLength(2);
  });
});

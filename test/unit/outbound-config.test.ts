/*
 * Outbound modes in the settings, the decision, the CSV and the Postfix export: an existing
 * config.json with only blockExternal loads unchanged (the file is not rewritten, `mode` is
 * not added) and means what it meant; the stricter of blockExternal and mode wins; approval
 * needs approvers in an internal domain; the decision's new rows (delay, hold-approval, the
 * allow-list still relays at once) with the tester's wording; four-column CSVs import and the
 * new columns round-trip; export postfix writes HOLD for approval and sender_bcc_maps (checked
 * with Postfix's own postmap and `postfix check` where Debian's postfix is installed) and warns
 * for the rest.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigStore, accountsToCsv, parseAccountsCsv, validateConfig } from '../../main/core/config/index.js';
import { exportPostfix } from '../../main/core/export/postfix.js';
import { check, compilePolicy, decideRecipient } from '../../main/core/policy/index.js';
import type { Account } from '../../main/shared/types.js';
import { testConfig } from './fixtures.js';

const LAN = '192.168.0.102';

describe('stored shape and compatibility', () => {
  it('an existing config.json with blockExternal loads unchanged and keeps its meaning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-outbound-cfg-'));
    try {
      const old = testConfig();
      delete (old as Partial<typeof old>).outbound; // a file from before this setting existed
      const text = JSON.stringify(old, null, 2);
      await writeFile(join(dir, 'config.json'), text);
      const store = await ConfigStore.open(dir);
      expect(await readFile(join(dir, 'config.json'), 'utf8')).toBe(text);
      expect(store.get().accounts).toEqual(old.accounts);
      expect(store.get().accounts.some((a) => 'mode' in a)).toBe(false);
      const p = compilePolicy(store.get());
      expect(decideRecipient(p, { sender: 'baito@test.jp', recipient: 'x@example.com', clientIp: LAN }).rule).toBe('block-external');
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const withAccount = (a: Partial<Account>) => {
    const c = testConfig();
    c.accounts = [{ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '', ...a }];
    return validateConfig(c);
  };

  it('mode is stored only for delay and approval; the stricter of the two wins', () => {
    const ok = (a: Partial<Account>) => {
      const r = withAccount(a);
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.config.accounts[0]!;
    };
    expect(ok({ mode: 'relay' })).toEqual({ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '' });
    expect(ok({ mode: 'block' })).toEqual({ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: '' });
    expect(ok({ mode: 'delay', delayMinutes: 10 })).toMatchObject({ blockExternal: false, mode: 'delay', delayMinutes: 10 });
    // blockExternal true with another mode: block wins, the mode's parameters are kept for later.
    expect(ok({ blockExternal: true, mode: 'delay', delayMinutes: 10 })).toEqual({ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: '', delayMinutes: 10 });
  });

  it('approval needs approvers, in an internal domain; Bcc and approvers are addresses, not patterns', () => {
    const codes = (a: Partial<Account>) => {
      const r = withAccount(a);
      return r.ok ? [] : r.errors.map((e) => `${e.path} ${e.code}`);
    };
    expect(codes({ mode: 'approval' })).toEqual(['accounts[0].approvers approver_needed']);
    expect(codes({ mode: 'approval', standIn: 'sub@test.jp' })).toEqual([]);
    expect(codes({ mode: 'approval', approvers: ['boss@example.com'] })).toEqual(['accounts[0].approvers[0] internal_address']);
    expect(codes({ bcc: ['*@test.jp'] })).toEqual(['accounts[0].bcc[0] exact_address']);
    expect(codes({ mode: 'delay', delayMinutes: 0 })).toEqual(['accounts[0].delayMinutes int_range']);
    const c = testConfig();
    c.outbound.adminAddress = 'admin@example.com';
    const r = validateConfig(c);
    expect(r.ok ? [] : r.errors.map((e) => `${e.path} ${e.code}`)).toEqual(['outbound.adminAddress internal_address']);
  });
});

describe('the decision', () => {
  const p = compilePolicy(
    testConfig({
      accounts: [
        { pattern: '*@test.jp', blockExternal: false, allow: [], note: 'office default', mode: 'delay', delayMinutes: 5 },
        { pattern: 'baito@test.jp', blockExternal: false, allow: ['partner.example'], note: '', mode: 'approval', approvers: ['boss@test.jp'], standIn: 'sub@test.jp', bcc: ['archive@test.jp'] },
        { pattern: 'ceo@test.jp', blockExternal: false, allow: [], note: '' },
        { pattern: 'odd@test.jp', blockExternal: false, allow: [], note: '', mode: 'block' },
      ],
    }),
  );
  const rule = (sender: string, rcpt: string, client = LAN) => decideRecipient(p, { sender, recipient: rcpt, clientIp: client });

  it.each([
    ['tanaka@test.jp', 'x@example.com', LAN, 'delay', 250],
    ['baito@test.jp', 'x@example.com', LAN, 'hold-approval', 250],
    ['baito@test.jp', 'sato@partner.example', LAN, 'relay', 250],
    ['baito@test.jp', 'boss@test.jp', LAN, 'inbound', 250],
    ['ceo@test.jp', 'x@example.com', LAN, 'relay', 250],
    ['odd@test.jp', 'x@example.com', LAN, 'block-external', 550],
    ['baito@test.jp', 'x@example.com', '203.0.113.5', 'relay-denied', 554],
  ] as const)('%s -> %s from %s: %s', (sender, rcpt, client, want, code) => {
    const d = rule(sender, rcpt, client);
    expect(d.rule).toBe(want);
    expect(d.code).toBe(code);
  });

  it('the tester says what happens to the external copy, in both languages', () => {
    const r = check(p, 'baito@test.jp', 'x@example.com', LAN);
    expect(r.recipient.reason.en).toContain('held for approval by boss@test.jp, sub@test.jp (stand-in)');
    expect(r.recipient.reason.en).toContain('Bcc copy also goes to archive@test.jp');
    expect(r.recipient.reason.ja).toContain('boss@test.jp、sub@test.jp（代理） の承認待ち');
    expect(check(p, 'tanaka@test.jp', 'x@example.com', LAN).recipient.reason.ja).toContain('5 分保留');
  });
});

describe('accounts CSV with modes', () => {
  it('imports four-column files as before and round-trips the new columns', () => {
    const old = parseAccountsCsv('pattern,blockExternal,allow,note\r\nbaito@test.jp,true,,part-timer\r\n');
    expect(old).toEqual({ ok: true, accounts: [{ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: 'part-timer' }] });
    const accounts: Account[] = [
      { pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '', mode: 'approval', approvers: ['boss@test.jp', 'sub@test.jp'], standIn: 'dai@test.jp', expireHours: 8, bcc: ['archive@test.jp'] },
      { pattern: '*@test.jp', blockExternal: false, allow: [], note: '', mode: 'delay', delayMinutes: 10 },
      { pattern: 'x@test.jp', blockExternal: true, allow: [], note: '' },
    ];
    const csv = accountsToCsv(accounts);
    expect(csv).toContain('baito@test.jp,false,,,approval,,boss@test.jp;sub@test.jp,dai@test.jp,8,archive@test.jp\r\n');
    expect(parseAccountsCsv(csv)).toEqual({ ok: true, accounts });
    const bad = parseAccountsCsv('pattern,mode,delayMinutes\r\na@test.jp,sometimes,\r\nb@test.jp,delay,0\r\nc@test.jp,approval,\r\n');
    expect(bad.ok ? [] : bad.errors.map((e) => `${e.line} ${e.code}`)).toEqual(['2 csv_mode', '3 csv_int', '4 csv_value']);
  });
});

describe('export postfix', () => {
  const cfg = testConfig({
    accounts: [
      { pattern: 'baito@test.jp', blockExternal: false, allow: ['partner.example'], note: '', mode: 'approval', approvers: ['boss@test.jp'], bcc: ['boss@test.jp', 'archive@test.jp'] },
      { pattern: '*@part.test.jp', blockExternal: true, allow: [], note: '' },
      { pattern: 'sales*@test.jp', blockExternal: false, allow: [], note: '', mode: 'delay', bcc: ['archive@test.jp'] },
    ],
  });
  cfg.outbound.bccConvertOver = 10;
  cfg.outbound.senderLimits.enabled = true;
  const exp = exportPostfix(cfg);

  it('approval -> a class ending in HOLD; Bcc -> sender_bcc_maps; warnings for the rest', () => {
    expect(exp.mainCf).toMatch(/^gatehouse_hold_1 = check_recipient_access hash:\$\{config_directory\}\/gatehouse_internal_domains, check_recipient_access hash:\$\{config_directory\}\/gatehouse_allow_1, check_recipient_access regexp:\$\{config_directory\}\/gatehouse_hold_1$/m);
    expect(exp.files.gatehouse_hold_1).toMatch(/^\/\^\(\.\*\)\$\/\tHOLD /m);
    expect(exp.files.gatehouse_senders).toContain('baito@test.jp\tgatehouse_hold_1');
    expect(exp.mainCf).toContain('sender_bcc_maps = hash:${config_directory}/gatehouse_sender_bcc, regexp:${config_directory}/gatehouse_sender_bcc_patterns');
    expect(exp.files.gatehouse_sender_bcc).toContain('baito@test.jp\tboss@test.jp');
    expect(exp.files.gatehouse_sender_bcc_patterns).toContain('/^sales.*@test\\.jp$/\tarchive@test.jp');
    const w = exp.warnings.join('\n');
    expect(w).toContain('approval is exported as Postfix\'s HOLD');
    expect(w).toContain('delayed sending');
    expect(w).toContain('sender_bcc_maps takes one address');
    expect(w).toContain('Bcc conversion');
    expect(w).toContain('per-sender limits');
  });

  const POSTFIX = '/usr/sbin/postfix';
  // Linux only: under Wine, /usr/sbin/postfix is found on the Z: drive but cannot be run.
  const havePostfix = process.platform === 'linux' && existsSync(POSTFIX) && existsSync('/usr/sbin/postmap') && existsSync('/etc/postfix/master.cf');
  it.skipIf(!havePostfix)('postfix check accepts it; postmap -q finds HOLD and the Bcc', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-pfx-out-'));
    try {
      const etc = join(dir, 'etc');
      await mkdir(etc);
      await mkdir(join(dir, 'spool'));
      await mkdir(join(dir, 'data'));
      await chmod(dir, 0o755);
      const head = ['compatibility_level = 3.6', `queue_directory = ${dir}/spool`, `data_directory = ${dir}/data`, 'inet_interfaces = 127.0.0.1', 'inet_protocols = ipv4', `maillog_file = ${dir}/maillog`, `maillog_file_prefixes = ${dir}`, 'alias_maps =', 'alias_database ='];
      await writeFile(join(etc, 'main.cf'), `${head.join('\n')}\n${exp.mainCf}`);
      await writeFile(join(etc, 'master.cf'), await readFile('/etc/postfix/master.cf'));
      for (const [name, text] of Object.entries(exp.files)) await writeFile(join(etc, name), text);
      for (const t of exp.hashTables) execFileSync('/usr/sbin/postmap', ['-c', etc, `hash:${join(etc, t)}`]);
      const out = execFileSync(POSTFIX, ['-c', etc, 'check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).not.toMatch(/fatal|error/i);
      const q = (table: string, key: string) => execFileSync('/usr/sbin/postmap', ['-c', etc, '-q', key, table], { encoding: 'utf8' }).trim();
      expect(q(`regexp:${join(etc, 'gatehouse_hold_1')}`, 'x@example.com')).toMatch(/^HOLD /);
      expect(q(`hash:${join(etc, 'gatehouse_sender_bcc')}`, 'baito@test.jp')).toBe('boss@test.jp');
      expect(q(`regexp:${join(etc, 'gatehouse_sender_bcc_patterns')}`, 'sales1@test.jp')).toBe('archive@test.jp');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('log lines', () => {
  it('hold lines show the rule and who decided; senderlog bookkeeping lines their rule', async () => {
    const { formatReceiveLine, formatSenderLine } = await import('../../main/core/log/index.js');
    const line = formatReceiveLine({ ts: '2025-04-01T09:00:00.000Z', event: 'hold', session: 's1', clientIp: '127.0.0.2', tls: false, sender: 'baito@test.jp', recipients: ['client@example.com'], decision: 'accept', rule: 'approved', queueId: 'q1', by: 'lan boss@test.jp', note: '1 external recipient(s) sent on as q2' });
    expect(line).toMatch(/HOLD baito@test\.jp -> client@example\.com queue=q1 ACCEPT approved by=lan boss@test\.jp 1 external/);
    const send = formatSenderLine({ ts: '2025-04-01T09:00:00.000Z', queueId: 'q1', attempt: 0, sender: 'baito@test.jp', recipients: ['client@example.com'], hop: '', via: 'dsn', tls: false, outcome: 'bounced', reply: 'rejected by ui: no', durationMs: 0, rule: 'rejected-by-approver' });
    expect(send).toContain('BOUNCED rejected-by-approver rejected by ui: no');
  });
});

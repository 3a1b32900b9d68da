/*
 * `gatehouse export postfix`: the generated main.cf lines and tables for the design-notes
 * office (fixtures.ts), and, where Debian's postfix is installed, proof with Postfix's own
 * tools: `postfix -c DIR check` accepts a private instance built from the export, and
 * `postmap -q` on the sender tables picks the same account class as Gatehouse's account index
 * for every address tried. Without /usr/sbin/postfix those tests are skipped, saying so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPostfix, globToRegexp, nexthop, postfixReadme } from '../../main/core/export/postfix.js';
import { compileAccounts } from '../../main/core/policy/index.js';
import { testConfig } from './fixtures.js';

const POSTFIX = '/usr/sbin/postfix';
const havePostfix = existsSync(POSTFIX) && existsSync('/usr/sbin/postmap') && existsSync('/etc/postfix/master.cf');
if (!havePostfix) console.warn(`export-postfix: ${POSTFIX} (Debian package postfix) is absent: skipping the postfix check / postmap tests`);

function param(mainCf: string, name: string): string | undefined {
  const m = new RegExp(`^${name} =(.*)$`, 'm').exec(mainCf);
  return m ? m[1]!.trim() : undefined;
}

describe('exportPostfix (pure)', () => {
  const cfg = testConfig();
  const exp = exportPostfix(cfg);

  it('carries trusted networks, internal domains and routes', () => {
    expect(param(exp.mainCf, 'mynetworks')).toBe('127.0.0.2/32, 192.168.0.0/24, [fd00::]/8');
    expect(param(exp.mainCf, 'relay_domains')).toBe('test.jp, part.test.jp');
    expect(param(exp.mainCf, 'mydestination')).toBe('');
    expect(param(exp.mainCf, 'relayhost')).toBe('');
    expect(param(exp.mainCf, 'smtpd_relay_restrictions')).toBe('permit_mynetworks, reject_unauth_destination');
    const t = exp.files.gatehouse_transport!;
    expect(t).toContain('test.jp\tsmtp:[192.168.0.102]:25\n');
    // Failover order kept as a nexthop list.
    expect(t).toContain('part.test.jp\tsmtp:[192.168.0.102]:25, [192.168.0.104]:2525\n');
    expect(exp.hashTables).toContain('gatehouse_transport');
  });

  it('one restriction class per blocked account: internal domains, allow-list, then reject', () => {
    const classes = param(exp.mainCf, 'smtpd_restriction_classes')!.split(/,\s*/);
    // baito@test.jp, *@part.test.jp, intern*@test.jp, *@*.test.jp are blocked.
    expect(classes).toHaveLength(4);
    const senders = exp.files.gatehouse_senders!;
    expect(senders).toMatch(/^baito@test\.jp\tgatehouse_block_\d+$/m);
    expect(senders).toMatch(/^boss@part\.test\.jp\tOK$/m);
    const baitoClass = /^baito@test\.jp\t(\S+)$/m.exec(senders)![1]!;
    const def = param(exp.mainCf, baitoClass)!;
    expect(def).toMatch(/^check_recipient_access hash:\$\{config_directory\}\/gatehouse_internal_domains, check_recipient_access regexp:\$\{config_directory\}\/gatehouse_reject_\d+$/);
    const reject = exp.files[/gatehouse_reject_\d+/.exec(def)![0]]!;
    expect(reject).toContain('/^(.*)$/\t550 5.7.1 <baito@test.jp> is not allowed to send to external recipients');
    // An account with an allow-list gets its own allow table between the two.
    const partClass = /\^\.\*@part\\\.test\\\.jp\$\/\t(\S+)/.exec(exp.files.gatehouse_sender_patterns!)![1]!;
    const partDef = param(exp.mainCf, partClass)!;
    const allowName = /gatehouse_allow_\d+/.exec(partDef)![0];
    expect(exp.files[allowName]).toContain('partner.example\tOK\n');
    expect(exp.hashTables).toContain(allowName);
  });

  it('patterns become regexps, most specific first, because hash tables cannot do wildcards', () => {
    expect(globToRegexp('intern*@test.jp')).toBe('/^intern.*@test\\.jp$/');
    expect(globToRegexp('a+b*@x.jp')).toBe('/^a\\+b.*@x\\.jp$/');
    const lines = exp.files.gatehouse_sender_patterns!.split('\n').filter((l) => l.startsWith('/'));
    const order = lines.map((l) => l.split('\t')[0]);
    expect(order.indexOf('/^intern-ok.*@test\\.jp$/')).toBeLessThan(order.indexOf('/^intern.*@test\\.jp$/'));
    expect(order.indexOf('/^.*@part\\.test\\.jp$/')).toBeLessThan(order.indexOf('/^.*@.*\\.test\\.jp$/'));
    expect(order[order.length - 1]).toBe('/^.*@test\\.jp$/');
  });

  it('an internal domain without a route answers 451 (no-route), not a relay', () => {
    const e = exportPostfix(testConfig({ internalDomains: ['test.jp', 'new.test.jp'], routes: [{ domain: 'test.jp', hosts: [{ host: '10.0.0.1', port: 25 }] }] }));
    expect(e.files.gatehouse_internal_domains).toMatch(/^new\.test\.jp\t451 4\.3\.5 /m);
    expect(e.files.gatehouse_transport).not.toContain('new.test.jp');
  });

  it('smarthost -> relayhost with TLS policy; the password never leaves Gatehouse', () => {
    const c = testConfig();
    c.delivery.smarthost = { host: 'smtp.isp.example', port: 587, security: 'starttls', user: 'office', password: 's3cret', allowInvalidCert: false };
    c.delivery.transportOverrides = [{ domain: 'example.com', hosts: [{ host: '::1', port: 2526 }] }];
    const e = exportPostfix(c);
    expect(param(e.mainCf, 'relayhost')).toBe('[smtp.isp.example]:587');
    expect(e.files.gatehouse_tls_policy).toContain('[smtp.isp.example]:587\tencrypt');
    expect(e.files.gatehouse_sasl_passwd).toContain('office:CHANGE-ME');
    expect(JSON.stringify(e)).not.toContain('s3cret');
    expect(e.files.gatehouse_transport).toContain('example.com\tsmtp:[ipv6:::1]:2526');
    expect(nexthop({ host: '192.0.2.1', port: 25 })).toBe('[192.0.2.1]:25');
  });

  it('README says where the files go and which tables to postmap', () => {
    const r = postfixReadme(exp);
    for (const t of exp.hashTables) expect(r).toContain(`postmap /etc/postfix/${t}`);
    expect(r).toContain('main.cf.gatehouse');
    expect(exp.warnings.join('\n')).toContain('header-From');
  });
});

describe.skipIf(!havePostfix)('exportPostfix against Postfix itself', () => {
  let dir = '';
  const cfg = testConfig();
  const exp = exportPostfix(cfg);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-pfx-'));
    const etc = join(dir, 'etc');
    await mkdir(etc);
    await mkdir(join(dir, 'spool'));
    await mkdir(join(dir, 'data'));
    await chmod(dir, 0o755);
    // Instance lines first, then the export (what an admin appends to main.cf).
    const instance = [
      'compatibility_level = 3.6',
      `queue_directory = ${dir}/spool`,
      `data_directory = ${dir}/data`,
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      `maillog_file = ${dir}/maillog`,
      `maillog_file_prefixes = ${dir}`,
      'alias_maps =',
      'alias_database =',
    ].join('\n');
    await writeFile(join(etc, 'main.cf'), `${instance}\n${exp.mainCf}`);
    await writeFile(join(etc, 'master.cf'), await readFile('/etc/postfix/master.cf'));
    for (const [name, text] of Object.entries(exp.files)) await writeFile(join(etc, name), text);
    for (const t of exp.hashTables) execFileSync('/usr/sbin/postmap', ['-c', etc, `hash:${join(etc, t)}`]);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('postfix -c DIR check accepts the generated instance', () => {
    const out = execFileSync(POSTFIX, ['-c', join(dir, 'etc'), 'check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).not.toMatch(/fatal|error/i);
    const eff = execFileSync('/usr/sbin/postconf', ['-c', join(dir, 'etc'), '-h', 'smtpd_restriction_classes'], { encoding: 'utf8' });
    expect(eff.trim().split(/,\s*/)).toHaveLength(4);
  });

  it('postmap -q on the sender tables picks the same account as Gatehouse', () => {
    const index = compileAccounts(cfg.accounts);
    const etc = join(dir, 'etc');
    const classOfPattern = new Map<string, string>();
    for (const line of exp.files.gatehouse_senders!.split('\n')) if (line && !line.startsWith('#')) classOfPattern.set(line.split('\t')[0]!, line.split('\t')[1]!);
    const q = (table: string, key: string): string | null => {
      try {
        return execFileSync('/usr/sbin/postmap', ['-c', etc, '-q', key, table], { encoding: 'utf8' }).trim();
      } catch {
        return null; // exit 1: not found
      }
    };
    const addrs = ['baito@test.jp', 'Baito@Test.JP', 'x@part.test.jp', 'boss@part.test.jp', 'intern1@test.jp', 'intern-ok1@test.jp', 'a@sub.test.jp', 'someone@test.jp', 'nobody@other.example'];
    for (const addr of addrs) {
      const acct = index.find(addr);
      const got = q(`hash:${join(etc, 'gatehouse_senders')}`, addr.toLowerCase()) ?? q(`regexp:${join(etc, 'gatehouse_sender_patterns')}`, addr);
      const want = acct ? (acct.blockExternal ? 'class' : 'OK') : null;
      expect(got === null ? null : got === 'OK' ? 'OK' : 'class', addr).toBe(want);
    }
  });
});

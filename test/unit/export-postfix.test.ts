/*
 * `gatehouse export postfix`: the generated main.cf lines and tables for the office of the
 * fixture (fixtures.ts), with and without STARTTLS and SMTP AUTH, and, where Debian's postfix
 * is installed, proof with Postfix's own tools: `postfix -c DIR check` accepts a private
 * instance built from the export (and postconf knows every parameter it sets), `postmap -q` on
 * the sender tables picks the same account class as Gatehouse's account index, and on the
 * sender-login tables the same logins as Gatehouse's sender-login binding, for every address
 * tried. Without /usr/sbin/postfix those tests are skipped, saying so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPD_CERT, SMTPD_KEY, exportPostfix, globToRegexp, nexthop, postfixReadme, type PostfixExport } from '../../main/core/export/postfix.js';
import { compileAccounts } from '../../main/core/policy/index.js';
import { senderAllowed } from '../../main/core/smtp/auth.js';
import type { AuthUser, GatehouseConfig } from '../../main/shared/types.js';
import { testConfig } from './fixtures.js';

const POSTFIX = '/usr/sbin/postfix';
// Postfix is Linux-only (under Wine the Linux paths exist through the Z: drive, but a Windows
// process cannot run them).
const havePostfix = process.platform === 'linux' && existsSync(POSTFIX) && existsSync('/usr/sbin/postmap') && existsSync('/etc/postfix/master.cf');
if (!havePostfix && process.platform === 'linux') {
  console.warn(`export-postfix: ${POSTFIX} is absent: skipping the postfix check / postmap tests; install Postfix with: apt-get install -y postfix (.ci/run does)`);
}

function param(mainCf: string, name: string): string | undefined {
  // The last one wins, as in main.cf.
  const all = [...mainCf.matchAll(new RegExp(`^${name} =(.*)$`, 'gm'))];
  return all.length ? all[all.length - 1]![1]!.trim() : undefined;
}

const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';
const USERS: AuthUser[] = [
  { username: 'alice', passwordHash: HASH, addresses: ['alice@test.jp', '*@sales.test.jp'] },
  { username: 'bob', passwordHash: HASH, addresses: ['Bob@Test.jp', 'x@sales.test.jp'] },
  { username: 'shop', passwordHash: HASH, addresses: ['shop-*@test.jp'] },
];

/** The fixture office with STARTTLS (auto) and SMTP AUTH for USERS. */
function authConfig(): GatehouseConfig {
  const c = testConfig();
  c.tls = { mode: 'auto', certFile: '', keyFile: '' };
  c.auth = { enabled: true, users: structuredClone(USERS) };
  return c;
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

  it('routes by sender -> sender_dependent_relayhost_maps; TLS required -> secure; what Postfix does elsewhere is a warning', () => {
    const c = testConfig();
    c.routes = [{ domain: 'test.jp', hosts: [{ host: 'mail.test.jp', port: 25 }], tls: 'required' }];
    c.delivery.senderRoutes = [
      { destination: '*', sender: 'ceo@test.jp', hosts: [{ host: 'relay.example', port: 587 }], auth: 'password', user: 'ceo', password: 'enc:v1:file:xyz', tls: 'required' },
      { destination: '*', sender: 'sales.test.jp', hosts: [{ host: 'smtp.office365.com', port: 587 }], auth: 'xoauth2' },
      { destination: 'bank.example', sender: 'test.jp', hosts: [{ host: '192.0.2.9', port: 25 }] },
    ];
    c.dkim.keys = [{ domain: 'test.jp', selector: 's1', algorithm: 'rsa', privateKey: 'enc:v1:file:abc', publicKey: 'AAAA', createdAt: '' }];
    c.delivery.dnsServers = ['192.168.0.1'];
    const e = exportPostfix(c);
    expect(param(e.mainCf, 'sender_dependent_relayhost_maps')).toBe('hash:${config_directory}/gatehouse_sender_relay');
    expect(e.files.gatehouse_sender_relay).toMatch(/^ceo@test\.jp\t\[relay\.example\]:587$/m);
    expect(e.files.gatehouse_sender_relay).toMatch(/^@sales\.test\.jp\t\[smtp\.office365\.com\]:587$/m);
    expect(e.files.gatehouse_tls_policy).toMatch(/^\[mail\.test\.jp\]:25\tsecure$/m);
    expect(e.files.gatehouse_tls_policy).toMatch(/^\[relay\.example\]:587\tsecure$/m);
    expect(e.files.gatehouse_sasl_passwd).toMatch(/^ceo@test\.jp\tceo:CHANGE-ME$/m);
    expect(param(e.mainCf, 'smtp_sender_dependent_authentication')).toBe('yes');
    expect(JSON.stringify(e)).not.toContain('enc:v1');
    const w = e.warnings.join('\n');
    expect(w).toMatch(/route bank\.example\|test\.jp has no Postfix equivalent/);
    expect(w).toMatch(/route \*\|sales\.test\.jp logs in with XOAUTH2: Postfix needs the sasl-xoauth2 plugin/);
    expect(w).toMatch(/DKIM signing \(s1\._domainkey\.test\.jp\): Postfix signs through a milter/);
    expect(w).toMatch(/DNS servers 192\.168\.0\.1/);
  });

  it('README says where the files go and which tables to postmap', () => {
    const r = postfixReadme(exp);
    for (const t of exp.hashTables) expect(r).toContain(`postmap /etc/postfix/${t}`);
    expect(r).toContain('main.cf.gatehouse');
    expect(exp.warnings.join('\n')).toContain('header-From');
  });
});


describe('exportPostfix: STARTTLS and SMTP AUTH (pure)', () => {
  it('STARTTLS: offered, not required, AUTH only after it; the key stays behind with a warning', () => {
    const e = exportPostfix(authConfig());
    expect(param(e.mainCf, 'smtpd_tls_security_level')).toBe('may');
    expect(param(e.mainCf, 'smtpd_tls_auth_only')).toBe('yes');
    expect(param(e.mainCf, 'smtpd_tls_cert_file')).toBe(`\${config_directory}/${SMTPD_CERT}`);
    expect(param(e.mainCf, 'smtpd_tls_key_file')).toBe(`\${config_directory}/${SMTPD_KEY}`);
    expect(e.warnings.filter((w) => w.startsWith('STARTTLS:'))).toHaveLength(1);
    expect(e.tlsHostname).toBe('gatehouse.test.jp');
    const files = testConfig();
    files.tls = { mode: 'files', certFile: 'C:\\certs\\gw.pem', keyFile: 'C:\\certs\\gw.key' };
    expect(exportPostfix(files).warnings.find((w) => w.startsWith('STARTTLS:'))).toContain('copy C:\\certs\\gw.pem and C:\\certs\\gw.key');
    const off = exportPostfix(testConfig());
    expect(param(off.mainCf, 'smtpd_tls_security_level')).toBe('none');
    expect(off.mainCf).not.toContain('smtpd_tls_cert_file');
    expect(off.tlsHostname).toBeNull();
  });

  it('SMTP AUTH: SASL on, logins relay, one warning per user (scrypt hashes cannot be carried over)', () => {
    const e = exportPostfix(authConfig());
    expect(param(e.mainCf, 'smtpd_sasl_auth_enable')).toBe('yes');
    expect(param(e.mainCf, 'smtpd_relay_restrictions')).toBe('permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination');
    for (const u of USERS) {
      const w = e.warnings.filter((x) => x.startsWith(`SMTP AUTH user ${u.username} `));
      expect(w, u.username).toHaveLength(1);
      expect(w[0]).toContain('scrypt');
    }
    expect(e.saslUsers.map((u) => u.username)).toEqual(['alice', 'bob', 'shop']);
    expect(JSON.stringify(e)).not.toContain(HASH);
    const readme = postfixReadme(e);
    expect(readme).toMatch(/SMTP AUTH: choose a SASL backend/);
    for (const u of USERS) expect(readme).toContain(`       ${u.username}  (may send as ${u.addresses.join(', ')})`);
    expect(readme).toContain(`-keyout /etc/postfix/${SMTPD_KEY} -out /etc/postfix/${SMTPD_CERT}`);
  });

  it('sender-login binding: address -> logins (patterns matching an exact address add their logins), authenticated clients only', () => {
    const e = exportPostfix(authConfig());
    expect(param(e.mainCf, 'smtpd_sender_login_maps')).toBe('hash:${config_directory}/gatehouse_sender_logins, regexp:${config_directory}/gatehouse_sender_login_patterns');
    // Not reject_sender_login_mismatch: the trusted office server sends unauthenticated as alice@test.jp.
    expect(param(e.mainCf, 'smtpd_sender_restrictions')).toBe('reject_authenticated_sender_login_mismatch');
    expect(e.files.gatehouse_sender_logins).toMatch(/^alice@test\.jp\talice$/m);
    expect(e.files.gatehouse_sender_logins).toMatch(/^bob@test\.jp\tbob$/m);
    expect(e.files.gatehouse_sender_logins).toMatch(/^x@sales\.test\.jp\tbob, alice$/m);
    expect(e.files.gatehouse_sender_login_patterns).toContain('/^.*@sales\\.test\\.jp$/\talice\n');
    expect(e.files.gatehouse_sender_login_patterns).toContain('/^shop-.*@test\\.jp$/\tshop\n');
    expect(e.hashTables).toContain('gatehouse_sender_logins');
    expect(e.warnings.some((w) => w.includes('From: header'))).toBe(true);
    expect(e.warnings.some((w) => w.startsWith('sender login patterns of several logins'))).toBe(true);
  });

  it('AUTH on with STARTTLS off: Gatehouse offers no AUTH, nor does the export, and says so', () => {
    const c = authConfig();
    c.tls.mode = 'off';
    const e = exportPostfix(c);
    expect(e.mainCf).not.toContain('smtpd_sasl_auth_enable');
    expect(param(e.mainCf, 'smtpd_sender_restrictions')).toBe('');
    expect(param(e.mainCf, 'smtpd_relay_restrictions')).toBe('permit_mynetworks, reject_unauth_destination');
    expect(e.warnings).toContain('SMTP AUTH is on but STARTTLS is off: Gatehouse offers AUTH only over TLS, so it offers none, and neither does this export');
    expect(e.saslUsers).toEqual([]);
  });

  it('no AUTH: no SASL lines, no sender-login tables, nothing to warn about', () => {
    const e = exportPostfix(testConfig());
    expect(e.mainCf).not.toMatch(/sasl_auth_enable|sender_login_maps/);
    expect(Object.keys(e.files).some((f) => f.includes('login'))).toBe(false);
    expect(e.warnings.some((w) => /AUTH|login/.test(w))).toBe(false);
  });
});

/** A private Postfix instance in a temp folder built from an export (instance lines first). */
async function instance(exp: PostfixExport): Promise<{ dir: string; etc: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gh-pfx-'));
  const etc = join(dir, 'etc');
  await mkdir(etc);
  await mkdir(join(dir, 'spool'));
  await mkdir(join(dir, 'data'));
  await chmod(dir, 0o755);
  const lines = [
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
  await writeFile(join(etc, 'main.cf'), `${lines}\n${exp.mainCf}`);
  await writeFile(join(etc, 'master.cf'), await readFile('/etc/postfix/master.cf'));
  for (const [name, text] of Object.entries(exp.files)) await writeFile(join(etc, name), text);
  for (const t of exp.hashTables) execFileSync('/usr/sbin/postmap', ['-c', etc, `hash:${join(etc, t)}`]);
  return { dir, etc };
}

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

describe.skipIf(!havePostfix)('exportPostfix with STARTTLS and SMTP AUTH against Postfix itself', () => {
  let dir = '';
  let etc = '';
  const cfg = authConfig();
  const exp = exportPostfix(cfg);

  beforeAll(async () => {
    ({ dir, etc } = await instance(exp));
    // README.txt's step for the certificate, as an admin would run it.
    const readme = postfixReadme(exp);
    expect(readme).toContain('openssl req -x509');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30', '-subj', `/CN=${cfg.hostname}`, '-keyout', join(etc, SMTPD_KEY), '-out', join(etc, SMTPD_CERT)], { stdio: 'ignore' });
    await chmod(join(etc, SMTPD_KEY), 0o600);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('postfix check accepts it and postconf knows every parameter it sets', () => {
    const check = spawnSync(POSTFIX, ['-c', etc, 'check'], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout + check.stderr).not.toMatch(/fatal|error|warning/i);
    const n = spawnSync('/usr/sbin/postconf', ['-c', etc, '-n'], { encoding: 'utf8' });
    expect(n.status).toBe(0);
    expect(n.stderr, 'postconf warns about unknown or unused parameters').not.toMatch(/warning/i);
    const get = (name: string) => execFileSync('/usr/sbin/postconf', ['-c', etc, '-xh', name], { encoding: 'utf8' }).trim();
    expect(get('smtpd_tls_security_level')).toBe('may');
    expect(get('smtpd_tls_auth_only')).toBe('yes');
    expect(get('smtpd_tls_cert_file')).toBe(join(etc, SMTPD_CERT));
    expect(get('smtpd_sasl_auth_enable')).toBe('yes');
    expect(get('smtpd_sender_restrictions')).toBe('reject_authenticated_sender_login_mismatch');
    expect(get('smtpd_relay_restrictions')).toContain('permit_sasl_authenticated');
    expect(get('smtpd_client_event_limit_exceptions')).toBe(get('mynetworks'));
  });

  it('the sender-login tables give every address the same logins as Gatehouse', () => {
    const q = (table: string, key: string): string | null => {
      try {
        return execFileSync('/usr/sbin/postmap', ['-c', etc, '-q', key, table], { encoding: 'utf8' }).trim();
      } catch {
        return null; // exit 1: not found
      }
    };
    // smtpd's lookup order: the address in the hash table, then @domain there, then the regexp table.
    const owners = (address: string): string[] => {
      const a = address.toLowerCase();
      const hit = q(`hash:${join(etc, 'gatehouse_sender_logins')}`, a) ?? q(`hash:${join(etc, 'gatehouse_sender_logins')}`, a.slice(a.indexOf('@'))) ?? q(`regexp:${join(etc, 'gatehouse_sender_login_patterns')}`, address);
      return hit === null ? [] : hit.split(/[,\s]+/).filter(Boolean).sort();
    };
    const addresses = ['alice@test.jp', 'ALICE@test.jp', 'bob@test.jp', 'x@sales.test.jp', 'y@Sales.Test.JP', 'shop-01@test.jp', 'shop@test.jp', 'carol@test.jp', 'alice@sales.test.jp.evil'];
    for (const address of addresses) {
      const gatehouse = cfg.auth.users.filter((u) => senderAllowed(u, address)).map((u) => u.username).sort();
      expect(owners(address), address).toEqual(gatehouse);
    }
  });
});

describe.skipIf(!havePostfix)('exportPostfix of routes by sender against Postfix itself', () => {
  let made: { dir: string; etc: string } | null = null;
  const c = testConfig();
  c.delivery.senderRoutes = [
    { destination: '*', sender: 'ceo@test.jp', hosts: [{ host: 'relay.example', port: 587 }], auth: 'password', user: 'ceo', tls: 'required' },
    { destination: '*', sender: 'sales.test.jp', hosts: [{ host: '192.0.2.25', port: 25 }] },
  ];
  const exp = exportPostfix(c);

  beforeAll(async () => {
    made = await instance(exp);
  });
  afterAll(async () => {
    if (made) await rm(made.dir, { recursive: true, force: true });
  });

  it('postfix check accepts it; postmap -q gives each sender its relay, others none', () => {
    const out = execFileSync(POSTFIX, ['-c', made!.etc, 'check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).not.toMatch(/fatal|error/i);
    const q = (key: string) => {
      try {
        return execFileSync('/usr/sbin/postmap', ['-c', made!.etc, '-q', key, `hash:${join(made!.etc, 'gatehouse_sender_relay')}`], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    };
    expect(q('ceo@test.jp')).toBe('[relay.example]:587');
    expect(q('@sales.test.jp')).toBe('[192.0.2.25]:25');
    expect(q('@test.jp')).toBe('');
    expect(execFileSync('/usr/sbin/postconf', ['-c', made!.etc, '-h', 'smtp_sender_dependent_authentication'], { encoding: 'utf8' }).trim()).toBe('yes');
  });
});

/*
 * Golden tables for the decision: each row is sender, recipient, client -> rule, code (and the
 * account that decided). Plus address / network unit checks, header From, reply texts, and
 * fast-check properties that the gateway is never an open relay.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  fullSyntaxCheck,
  check,
  checkAddressSyntax,
  compileNetworks,
  compilePolicy,
  decideHeaderFrom,
  decideRecipient,
  decideSender,
  headerFromHold,
  lowerAscii,
  normalizeAddress,
  ruleDecision,
  splitAddress,
  validateCidr,
  type CompiledPolicy,
} from '../../main/core/policy/index.js';
import type { RuleName } from '../../main/shared/types.js';
import { testConfig } from './fixtures.js';

const P = compilePolicy(testConfig());

const OUT = '203.0.113.5'; // untrusted internet client
const LAN = '192.168.0.102'; // the back end, trusted by CIDR
const V6 = 'fd00::25';
const MAPPED = '::ffff:127.0.0.2';

interface Row {
  sender: string;
  rcpt: string;
  client: string;
  rule: RuleName;
  code: number;
  account?: string;
  auth?: boolean;
  utf8?: boolean;
}

function run(p: CompiledPolicy, r: Row, explain = true) {
  return decideRecipient(p, {
    sender: r.sender,
    recipient: r.rcpt,
    clientIp: r.client,
    authenticated: r.auth,
    smtputf8: r.utf8,
    explain,
  });
}

const row = (
  sender: string,
  rcpt: string,
  client: string,
  rule: RuleName,
  code: number,
  extra: Partial<Row> = {},
): Row => ({ sender, rcpt, client, rule, code, ...extra });

const GOLDEN: Row[] = [
  // 2. inbound: internal domains, exact match, any case, from anywhere
  row('a@ext.example', 'user@test.jp', OUT, 'inbound', 250),
  row('a@ext.example', 'USER@TEST.JP', OUT, 'inbound', 250),
  row('a@ext.example', 'x@part.test.jp', OUT, 'inbound', 250),
  row('', 'postmaster@test.jp', OUT, 'inbound', 250),
  row('baito@test.jp', 'boss@test.jp', LAN, 'inbound', 250),
  row('a@ext.example', 'ユーザー@test.jp', OUT, 'inbound', 250, { utf8: true }),
  row('boss@test.jp', 'ユーザー@日本.jp', LAN, 'relay', 250, { utf8: true, account: '*@test.jp' }),
  // 3. relay-denied: external recipient, untrusted client
  row('a@ext.example', 'v@evil.com', OUT, 'relay-denied', 554),
  row('', 'v@evil.com', OUT, 'relay-denied', 554),
  row('boss@test.jp', 'v@evil.com', '127.0.0.1', 'relay-denied', 554),
  row('boss@test.jp', 'v@evil.com', '::ffff:127.0.0.1', 'relay-denied', 554),
  row('boss@test.jp', 'v@evil.com', '192.168.1.1', 'relay-denied', 554),
  row('boss@test.jp', 'v@evil.com', 'fe80::1', 'relay-denied', 554),
  row('boss@test.jp', 'v@evil.com', 'not-an-ip', 'relay-denied', 554),
  row('a@ext.example', 'user@eviltest.jp', OUT, 'relay-denied', 554),
  row('a@ext.example', 'user@test.jp.example.com', OUT, 'relay-denied', 554),
  row('a@ext.example', 'user@sub.test.jp', OUT, 'relay-denied', 554),
  row('a@ext.example', 'user@xn--tst-jma.jp', OUT, 'relay-denied', 554),
  row('a@ext.example', 'user@t\u0435st.jp', OUT, 'relay-denied', 554, { utf8: true }), // Cyrillic e
  row('a@ext.example', 'user@\u212Aeep.jp', OUT, 'address-syntax', 553, { utf8: true }), // Kelvin sign
  row('a@ext.example', 'user@\uff54\uff45\uff53\uff54.jp', OUT, 'address-syntax', 553, { utf8: true }), // fullwidth
  row('a@ext.example', 'user@日本.jp', OUT, 'relay-denied', 554, { utf8: true }),
  // 1. address-syntax: relay tricks, untrusted and trusted alike
  row('a@ext.example', 'user%evil.com@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'evil.com!user@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', '@a.com:user@evil.com', OUT, 'address-syntax', 553),
  row('a@ext.example', '@test.jp:user@evil.com', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@[1.2.3.4]', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@[IPv6:::1]', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@1.2.3.4', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@127.1', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@0x7f000001', OUT, 'address-syntax', 553),
  row('a@ext.example', '"user@evil"@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', '"user"@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@test.jp.', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@test..jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@.test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@evil.com@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', '@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user', OUT, 'address-syntax', 553),
  row('a@ext.example', '', OUT, 'address-syntax', 553),
  row('a@ext.example', 'ユーザー@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@tëst.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user@test\u3002jp', OUT, 'address-syntax', 553, { utf8: true }),
  row('a@ext.example', 'us er@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user\r\nRCPT TO:<v@evil.com>@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', 'user\u0000@test.jp', OUT, 'address-syntax', 553),
  row('a@ext.example', `${'a'.repeat(65)}@test.jp`, OUT, 'address-syntax', 553),
  row('a@ext.example', `a@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(10)}.jp`, OUT, 'address-syntax', 553),
  row('a@ext.example', `a@${'b'.repeat(64)}.jp`, OUT, 'address-syntax', 553), // label > 63
  row('a@ext.example', '<user@test.jp>', OUT, 'address-syntax', 553),
  row('boss@test.jp', 'user%evil.com@test.jp', LAN, 'address-syntax', 553),
  row('boss@test.jp', 'user@[1.2.3.4]', LAN, 'address-syntax', 553),
  row('boss@test.jp', 'v@evil.com.', LAN, 'address-syntax', 553),
  // a blocked sender cannot dodge its account with sender tricks
  row('baito@test.jp.', 'x@gmail.example', LAN, 'address-syntax', 553),
  row('baito%x@test.jp', 'x@gmail.example', LAN, 'address-syntax', 553),
  // 4. trusted client, external recipient: accounts decide
  row('baito@test.jp', 'x@gmail.example', LAN, 'block-external', 550, { account: 'baito@test.jp' }),
  row('Baito@Test.JP', 'x@gmail.example', LAN, 'block-external', 550, { account: 'baito@test.jp' }),
  row('BAITO@test.jp', 'x@gmail.example', LAN, 'block-external', 550, { account: 'baito@test.jp' }),
  row('p1@part.test.jp', 'x@gmail.example', LAN, 'block-external', 550, { account: '*@part.test.jp' }),
  row('p1@part.test.jp', 'y@partner.example', LAN, 'relay', 250, { account: '*@part.test.jp' }),
  row('p1@part.test.jp', 'y@PARTNER.Example', LAN, 'relay', 250, { account: '*@part.test.jp' }),
  row('p1@part.test.jp', 'y@sub.partner.example', LAN, 'block-external', 550, { account: '*@part.test.jp' }),
  row('p1@part.test.jp', 'y@partner.example.evil', LAN, 'block-external', 550, { account: '*@part.test.jp' }),
  row('p1@part.test.jp', 'y@evilpartner.example', LAN, 'block-external', 550, { account: '*@part.test.jp' }),
  row('p1@part.test.jp', 'colleague@test.jp', LAN, 'inbound', 250),
  row('boss@part.test.jp', 'x@gmail.example', LAN, 'relay', 250, { account: 'boss@part.test.jp' }),
  row('BOSS@PART.TEST.JP', 'x@gmail.example', LAN, 'relay', 250, { account: 'boss@part.test.jp' }),
  row('intern1@test.jp', 'friend@gmail.example', LAN, 'relay', 250, { account: 'intern*@test.jp' }),
  row('intern1@test.jp', 'FRIEND@gmail.EXAMPLE', LAN, 'relay', 250, { account: 'intern*@test.jp' }),
  row('intern1@test.jp', 'other@gmail.example', LAN, 'block-external', 550, { account: 'intern*@test.jp' }),
  row('intern@test.jp', 'other@gmail.example', LAN, 'block-external', 550, { account: 'intern*@test.jp' }),
  row('intern-ok1@test.jp', 'x@gmail.example', LAN, 'relay', 250, { account: 'intern-ok*@test.jp' }),
  row('x@sales.test.jp', 'x@gmail.example', LAN, 'block-external', 550, { account: '*@*.test.jp' }),
  row('x@a.b.test.jp', 'x@gmail.example', LAN, 'block-external', 550, { account: '*@*.test.jp' }),
  row('anyone@test.jp', 'x@gmail.example', LAN, 'relay', 250, { account: '*@test.jp' }),
  row('someone@other.example', 'x@gmail.example', LAN, 'relay', 250),
  row('', 'x@gmail.example', LAN, 'relay', 250),
  // trust: CIDR v4 /32 and /24, v6, IPv4-mapped, AUTH
  row('baito@test.jp', 'x@gmail.example', '127.0.0.2', 'block-external', 550, { account: 'baito@test.jp' }),
  row('baito@test.jp', 'x@gmail.example', V6, 'block-external', 550, { account: 'baito@test.jp' }),
  row('baito@test.jp', 'x@gmail.example', MAPPED, 'block-external', 550, { account: 'baito@test.jp' }),
  row('anyone@test.jp', 'x@gmail.example', MAPPED, 'relay', 250, { account: '*@test.jp' }),
  row('anyone@test.jp', 'x@gmail.example', '::ffff:192.168.0.9', 'relay', 250, { account: '*@test.jp' }),
  row('anyone@test.jp', 'x@gmail.example', 'FD00:0:0::1', 'relay', 250, { account: '*@test.jp' }),
  row('anyone@test.jp', 'x@gmail.example', OUT, 'relay', 250, { account: '*@test.jp', auth: true }),
  row('baito@test.jp', 'x@gmail.example', OUT, 'block-external', 550, { account: 'baito@test.jp', auth: true }),
];

describe('decideRecipient golden table', () => {
  it.each(GOLDEN.map((r) => [`${r.sender || '<>'} -> ${JSON.stringify(r.rcpt)} from ${r.client}${r.auth ? ' (auth)' : ''}${r.utf8 ? ' (smtputf8)' : ''}: ${r.rule}`, r] as const))(
    '%s',
    (_name, r) => {
      const d = run(P, r);
      expect({ rule: d.rule, code: d.code, account: d.account }).toEqual({
        rule: r.rule,
        code: r.code,
        account: r.account,
      });
      expect(d.action).toBe(r.code < 400 ? 'accept' : 'reject');
      expect(d.message).toMatch(/^[\x20-\x7e]+$/);
      expect(d.message.slice(0, 2)).toBe(`${String(r.code)[0]}.`);
      expect(d.reason.en.length).toBeGreaterThan(0);
      expect(d.reason.ja.length).toBeGreaterThan(0);
    },
  );
});

describe('explain', () => {
  it('only changes the reason: the SMTP path (no explain) gets the same rule, reply and account', () => {
    for (const r of GOLDEN) {
      const { reason, ...explained } = run(P, r, true);
      const { reason: none, ...plain } = run(P, r, false);
      expect(plain).toEqual(explained);
      expect(reason.en.length).toBeGreaterThan(0);
      expect(none).toEqual({ en: '', ja: '' });
    }
    const s = decideSender(P, { sender: 'baito@test.jp', clientIp: LAN });
    expect(s.reason).toEqual({ en: '', ja: '' });
    expect(decideSender(P, { sender: 'baito@test.jp', clientIp: LAN, explain: true }).reason.en).toContain('baito@test.jp');
  });

  it('check() (tester, gatehouse check) always explains', () => {
    const c = check(P, 'baito@test.jp', 'x@gmail.example', LAN);
    expect(c.sender.reason.en.length).toBeGreaterThan(0);
    expect(c.recipient.reason.ja).toContain('外部への送信を禁止');
  });
});

describe('reply texts', () => {
  it('block-external names the account, 550 5.7.1', () => {
    const d = decideRecipient(P, { sender: 'baito@test.jp', recipient: 'x@gmail.example', clientIp: LAN, explain: true });
    expect(d.code).toBe(550);
    expect(d.message).toBe('5.7.1 <baito@test.jp> is not allowed to send to external recipients');
    expect(d.reason.ja).toContain('外部への送信を禁止');
  });
  it('relay-denied is 554 5.7.1 and names the recipient', () => {
    const d = decideRecipient(P, { sender: 'a@b.example', recipient: 'v@evil.com', clientIp: OUT, explain: true });
    expect(d.message).toBe(
      '5.7.1 Relaying denied: <v@evil.com> is not a local domain and the client is not trusted',
    );
    expect(d.reason.ja).toContain('中継の制限');
    expect(d.reason.ja).toContain('中継を許可するネットワーク');
  });
  it('recipient syntax is 553 5.1.3, sender syntax 553 5.1.7', () => {
    const r = decideRecipient(P, { sender: '', recipient: 'a%b@test.jp', clientIp: OUT, explain: true });
    expect(r.message.startsWith('5.1.3 ')).toBe(true);
    expect(r.reason.en).toContain('percent');
    const s = decideSender(P, { sender: 'a!b@test.jp', clientIp: OUT, explain: true });
    expect([s.rule, s.code]).toEqual(['address-syntax', 553]);
    expect(s.message.startsWith('5.1.7 ')).toBe(true);
  });
  it('no-route is a temporary 451 4.3.5', () => {
    const p = compilePolicy(testConfig({ internalDomains: ['test.jp', 'part.test.jp', 'new.test.jp'] }));
    const d = decideRecipient(p, { sender: 'a@b.example', recipient: 'user@New.Test.JP', clientIp: OUT, explain: true });
    expect([d.action, d.rule, d.code]).toEqual(['reject', 'no-route', 451]);
    expect(d.message.startsWith('4.3.5 ')).toBe(true);
    expect(d.reason.ja).toContain('振り分け設定');
    // a route with no hosts is no route either
    const q = compilePolicy(testConfig({ routes: [{ domain: 'test.jp', hosts: [] }] }));
    expect(decideRecipient(q, { sender: '', recipient: 'u@test.jp', clientIp: OUT, explain: true }).rule).toBe('no-route');
  });
  it('inbound reason names the route target and 運用ドメイン', () => {
    const d = decideRecipient(P, { sender: '', recipient: 'u@part.test.jp', clientIp: OUT, explain: true });
    expect(d.message).toBe('2.1.5 Recipient <u@part.test.jp> OK');
    expect(d.reason.en).toContain('192.168.0.102:25, 192.168.0.104:2525');
    expect(d.reason.ja).toContain('運用ドメイン');
  });
  it('configured texts: non-ASCII becomes ?, own enhanced code kept, empty falls back', () => {
    const cfg = testConfig();
    cfg.replies.blockExternal = '5.7.0 {account} は外部送信禁止 ({recipient})';
    cfg.replies.relayDenied = '';
    const p = compilePolicy(cfg);
    const d = decideRecipient(p, { sender: 'baito@test.jp', recipient: 'x@gmail.example', clientIp: LAN, explain: true });
    expect(d.message).toBe('5.7.0 baito@test.jp ??????? (x@gmail.example)');
    const r = decideRecipient(p, { sender: '', recipient: 'v@evil.com', clientIp: OUT, explain: true });
    expect(r.message).toContain('Relaying denied');
  });
  it('ruleDecision covers the SMTP-layer rules and strips CR/LF', () => {
    const d = ruleDecision(P, 'recipient-unknown', { recipient: 'no\r\none@test.jp' }, { en: 'x', ja: 'x' });
    expect([d.code, d.message]).toEqual([550, '5.1.1 <no??one@test.jp>: Recipient address rejected: User unknown']);
    expect(ruleDecision(P, 'too-many-recipients', {}, { en: '', ja: '' }).code).toBe(452);
    expect(ruleDecision(P, 'message-too-big', {}, { en: '', ja: '' }).code).toBe(552);
    expect(ruleDecision(P, 'storage-error', {}, { en: '', ja: '' }).message).toMatch(/^4\.3\.0 /);
  });
});

describe('decideSender', () => {
  it.each([
    ['', 'sender-ok', 250],
    ['baito@test.jp', 'sender-ok', 250],
    ['Someone@Example.COM', 'sender-ok', 250],
    ['user%evil.com@test.jp', 'address-syntax', 553],
    ['@a.com:user@test.jp', 'address-syntax', 553],
    ['user@test.jp.', 'address-syntax', 553],
    ['ユーザー@test.jp', 'address-syntax', 553],
  ] as const)('%j -> %s', (sender, rule, code) => {
    const d = decideSender(P, { sender, clientIp: OUT });
    expect([d.rule, d.code]).toEqual([rule, code]);
  });
  it('non-ASCII sender with SMTPUTF8', () => {
    expect(decideSender(P, { sender: 'ユーザー@test.jp', clientIp: OUT, smtputf8: true }).rule).toBe('sender-ok');
  });
});

describe('decideHeaderFrom', () => {
  const H = (headerFrom: string[], recipients: string[], clientIp = LAN) =>
    decideHeaderFrom(P, { headerFrom, recipients, clientIp });
  it('blocked account in From with an external recipient: 550 5.7.1', () => {
    const d = H(['baito@test.jp'], ['boss@test.jp', 'x@gmail.example']);
    expect([d.action, d.rule, d.code, d.account]).toEqual([
      'reject',
      'block-external-header-from',
      550,
      'baito@test.jp',
    ]);
    expect(d.message).toMatch(/^5\.7\.1 Header From <baito@test\.jp> .*<x@gmail\.example>/);
  });
  it.each([
    [['"Baito" <Baito@Test.JP>'], ['x@gmail.example'], 'block-external-header-from'],
    [['boss@test.jp', 'baito@test.jp'], ['x@gmail.example'], 'block-external-header-from'],
    [['p@part.test.jp'], ['y@partner.example', 'z@gmail.example'], 'block-external-header-from'],
    [['baito@test.jp'], ['boss@test.jp', 'u@part.test.jp'], 'relay'],
    [['p@part.test.jp'], ['y@partner.example'], 'relay'],
    [['boss@test.jp'], ['x@gmail.example'], 'relay'],
    [['boss@part.test.jp'], ['x@gmail.example'], 'relay'],
    [[], ['x@gmail.example'], 'relay'],
    [['nobody@other.example'], ['x@gmail.example'], 'relay'],
  ] as const)('From %j to %j -> %s', (from, rcpts, rule) => {
    const d = H([...from], [...rcpts]);
    expect(d.rule).toBe(rule);
    expect(d.code).toBe(rule === 'relay' ? 250 : 550);
  });
});

describe('headerFromHold (a delay or approval account in From:, another envelope sender)', () => {
  const Q = compilePolicy({
    ...testConfig(),
    accounts: [
      ...testConfig().accounts,
      { pattern: 'kakunin@test.jp', blockExternal: false, allow: ['partner.example'], note: '', mode: 'approval', approvers: ['boss@test.jp'] },
      { pattern: '*@haken.test.jp', blockExternal: false, allow: [], note: '', mode: 'delay', delayMinutes: 5 },
    ],
  });
  const hold = (from: string[], rcpts: string[]) => {
    const h = headerFromHold(Q, from, rcpts);
    return h ? [h.mode, h.account.pattern, h.from, h.recipients] : null;
  };
  it.each([
    [['kakunin@test.jp'], ['boss@test.jp', 'x@gmail.example'], ['approval', 'kakunin@test.jp', 'kakunin@test.jp', ['x@gmail.example']]],
    [['"Kakunin" <Kakunin@Test.JP>'], ['x@gmail.example'], ['approval', 'kakunin@test.jp', 'Kakunin@Test.JP', ['x@gmail.example']]],
    // Its allow-list goes out at once.
    [['kakunin@test.jp'], ['y@partner.example', 'x@gmail.example'], ['approval', 'kakunin@test.jp', 'kakunin@test.jp', ['x@gmail.example']]],
    [['kakunin@test.jp'], ['y@partner.example', 'boss@test.jp'], null],
    [['a@haken.test.jp'], ['x@gmail.example'], ['delay', '*@haken.test.jp', 'a@haken.test.jp', ['x@gmail.example']]],
    // Approval is stricter than delay, whichever From: address comes first.
    [['a@haken.test.jp', 'kakunin@test.jp'], ['x@gmail.example'], ['approval', 'kakunin@test.jp', 'kakunin@test.jp', ['x@gmail.example']]],
    // Relay and block accounts hold nothing (block is decideHeaderFrom's 550).
    [['boss@test.jp'], ['x@gmail.example'], null],
    [['baito@test.jp'], ['x@gmail.example'], null],
    [[], ['x@gmail.example'], null],
  ] as const)('From %j to %j -> %j', (from, rcpts, want) => {
    expect(hold([...from], [...rcpts])).toEqual(want === null ? null : [want[0], want[1], want[2], [...want[3]]]);
  });
});

describe('check (the tester)', () => {
  it('returns both stages', () => {
    const r = check(P, 'baito@test.jp', 'x@gmail.example', '192.168.0.50');
    expect(r.sender.rule).toBe('sender-ok');
    expect(r.recipient.rule).toBe('block-external');
    const a = check(P, 'x@ext.example', 'v@evil.com', OUT, { authenticated: true });
    expect(a.recipient.rule).toBe('relay');
  });
});

describe('address helpers', () => {
  it('splitAddress / normalizeAddress / lowerAscii', () => {
    expect(splitAddress('Baito@Test.JP')).toEqual({ local: 'Baito', domain: 'test.jp' });
    expect(splitAddress('nodomain')).toEqual({ local: 'nodomain', domain: '' });
    expect(normalizeAddress('Baito@Test.JP')).toBe('Baito@test.jp');
    expect(lowerAscii('A\u212AB')).toBe('a\u212Ab');
  });
  it.each([
    ['user@test.jp', null],
    ['first.last+tag@sub.test.jp', null],
    ["o'brien@test.jp", null],
    ['a-b_c=d@x-y.example', null],
    ['user@localhost', null],
    ['user@x.123', 'IP address as domain not accepted'],
    ['.user@test.jp', 'dot at start or end of local part, or two dots'],
    ['user@exa_mple.com', 'invalid character in domain'],
    ['user(comment)@test.jp', 'invalid character in local part'],
    ['user@test.jp\t', 'control character or space in address'],
  ] as const)('%j -> %j', (addr, expected) => {
    expect(checkAddressSyntax(addr, { smtputf8: false })).toBe(expected);
  });
  it('reasons are ASCII', () => {
    for (const a of ['a%b@c.d', 'x@[1.1.1.1]', 'ü@x.jp', '"q"@x.jp', 'a@b.', '@x:y@z']) {
      expect(checkAddressSyntax(a, { smtputf8: false })).toMatch(/^[\x20-\x7e]+$/);
    }
  });
  it('254 octets is the limit, 64 for the local part', () => {
    const label = 'x'.repeat(60);
    const longDomain = `${label}.${label}.${label}.${'y'.repeat(62)}.jp`;
    expect(`aaaaa@${longDomain}`).toHaveLength(254);
    expect(checkAddressSyntax(`aaaaa@${longDomain}`, { smtputf8: false })).toBeNull();
    expect(checkAddressSyntax(`aaaaaa@${longDomain}`, { smtputf8: false })).toBe(
      'address longer than 254 octets',
    );
    expect(checkAddressSyntax(`${'a'.repeat(64)}@test.jp`, { smtputf8: false })).toBeNull();
    expect(checkAddressSyntax(`${'a'.repeat(65)}@test.jp`, { smtputf8: false })).toBe(
      'local part longer than 64 octets',
    );
    // octets, not characters: 22 three-byte characters are 66 octets
    expect(checkAddressSyntax(`${'あ'.repeat(22)}@test.jp`, { smtputf8: true })).toBe(
      'local part longer than 64 octets',
    );
  });
});

describe('networks', () => {
  it.each([
    ['192.168.0.0/24', null],
    ['127.0.0.2', null],
    ['fd00::/8', null],
    ['::1', null],
    ['10.0.0.0/33', 'prefix length 33 is over 32'],
    ['0.0.0.0/0', '0.0.0.0/0 would trust every address (open relay)'],
    ['::/0', '::/0 would trust every address (open relay)'],
    ['192.168.0/24', 'not an IP address: "192.168.0"'],
    ['10.0.0.0/8x', 'bad prefix length: "8x"'],
    ['', 'empty network'],
  ] as const)('validateCidr(%j) -> %j', (s, expected) => {
    expect(validateCidr(s)).toBe(expected);
  });
  it('contains: v4, v6, IPv4-mapped, zone ids, garbage', () => {
    const n = compileNetworks(['127.0.0.2/32', '192.168.0.5/24', 'fd00::/8', '2001:db8::1']);
    expect(n.contains('127.0.0.2')).toBe(true);
    expect(n.contains('127.0.0.3')).toBe(false);
    expect(n.contains('192.168.0.200')).toBe(true); // host bits in the CIDR are ignored
    expect(n.contains('::ffff:127.0.0.2')).toBe(true);
    expect(n.contains('::FFFF:192.168.0.1')).toBe(true);
    expect(n.contains('::ffff:127.0.0.1')).toBe(false);
    expect(n.contains('fdff::1')).toBe(true);
    expect(n.contains('fe00::1')).toBe(false);
    expect(n.contains('2001:db8::1')).toBe(true);
    expect(n.contains('2001:db8::2')).toBe(false);
    expect(n.contains('fd00::1%eth0')).toBe(true);
    expect(n.contains('')).toBe(false);
    expect(n.contains('192.168.0.1.evil')).toBe(false);
    expect(compileNetworks([]).contains('127.0.0.1')).toBe(false);
  });
  it('compileNetworks throws on a bad entry', () => {
    expect(() => compileNetworks(['nope'])).toThrow(/trustedNetworks/);
  });
});

/* ---------- properties: never an open relay ---------- */

const INTERNAL_ROUTED = new Set(['test.jp', 'part.test.jp']);
const UNTRUSTED = ['203.0.113.5', '127.0.0.1', '::ffff:127.0.0.1', '192.168.1.7', 'fe80::1', '2001:db8::5', 'garbage', ''];

/** Independent oracle: one '@', a plain local part, a domain that is exactly an internal one. */
function deliverableInbound(rcpt: string, smtputf8: boolean): boolean {
  const parts = rcpt.split('@');
  if (parts.length !== 2) return false;
  const [local, domain] = parts as [string, string];
  if (local === '' || /[%!"\s\\:<>\u0000-\u001f\u007f]/.test(local)) return false;
  if (!smtputf8 && /[^\x00-\x7f]/.test(local)) return false;
  if (/[^\x00-\x7f]/.test(domain)) return false;
  return INTERNAL_ROUTED.has(domain.toLowerCase());
}

const trickyLocal = fc.oneof(
  fc.constantFrom('user', 'USER', 'a.b', 'x%evil.com', 'evil.com!x', '"q@e"', '@a.com:u', '', '.u', 'u.', 'ü', 'ユーザー', 'u\r\n', 'a b'),
  fc.string({ unit: fc.constantFrom(...'aZ09.%!"@:[]<>\\ _-+\u00e9\u3002\r\n'.split('')), maxLength: 12 }),
);
const trickyDomain = fc.oneof(
  fc.constantFrom(
    'test.jp', 'TEST.JP', 'Test.Jp', 'part.test.jp', 'PART.test.JP', 'test.jp.', 'eviltest.jp', 'test.jp.example.com',
    '[1.2.3.4]', '1.2.3.4', 't\u0435st.jp', 'test\u3002jp', '\uff54\uff45\uff53\uff54.jp', 'test..jp', '', 'sub.test.jp',
    'test.jp ', ' test.jp', 'test.jp\r\n', 'evil.com', '[IPv6:::1]', '\u212Aeep.jp', 'test.jp@evil.com', 'evil.com@test.jp',
  ),
  fc.string({ unit: fc.constantFrom(...'testjp.[]@:-_\u00e9'.split('')), maxLength: 14 }),
);
const recipientArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 40 }),
  fc.tuple(trickyLocal, trickyDomain).map(([l, d]) => `${l}@${d}`),
  fc.tuple(fc.constantFrom('@a.com:', '@test.jp:', '@test.jp,@b.com:'), trickyLocal, trickyDomain).map(
    ([r, l, d]) => `${r}${l}@${d}`,
  ),
);

describe('properties', () => {
  it('untrusted client: never relay; accept only when the recipient domain is exactly internal with a route', () => {
    fc.assert(
      fc.property(
        recipientArb,
        fc.oneof(fc.constant(''), fc.string({ maxLength: 20 }), fc.constantFrom('baito@test.jp', 'boss@test.jp')),
        fc.constantFrom(...UNTRUSTED),
        fc.boolean(),
        (recipient, sender, clientIp, smtputf8) => {
          const d = decideRecipient(P, { sender, recipient, clientIp, smtputf8 });
          expect(d.rule).not.toBe('relay');
          expect(d.message).toMatch(/^[\x20-\x7e]+$/);
          expect(d.action === 'accept').toBe(d.code >= 200 && d.code < 300);
          if (d.action === 'accept') {
            expect(d.rule).toBe('inbound');
            expect(deliverableInbound(recipient, smtputf8)).toBe(true);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('trusted client, blocked sender (any case): nothing external gets through', () => {
    const casing = fc.constantFrom('baito@test.jp', 'Baito@Test.JP', 'BAITO@TEST.JP', 'bAiTo@tEsT.jP');
    fc.assert(
      fc.property(recipientArb, casing, fc.constantFrom(LAN, V6, MAPPED, '127.0.0.2'), fc.boolean(), (recipient, sender, clientIp, smtputf8) => {
        const d = decideRecipient(P, { sender, recipient, clientIp, smtputf8 });
        expect(d.rule).not.toBe('relay');
        if (d.action === 'accept') expect(deliverableInbound(recipient, smtputf8)).toBe(true);
        if (d.rule === 'block-external') expect(d.account).toBe('baito@test.jp');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('address syntax fast path', () => {
  // checkAddressSyntax answers everyday addresses with one regex; it must never accept what
  // the full rule-by-rule check refuses, and must agree on everything else.
  const unit = fc.constantFrom(...'aZ09._+-%!"@:[]<>\\ \u00e9\u3002x'.split(''));
  const addr = fc.oneof(
    fc.string({ unit, maxLength: 30 }),
    fc.tuple(fc.string({ unit, maxLength: 70 }), fc.string({ unit, maxLength: 20 }), fc.string({ unit, maxLength: 10 })).map(([l, d, t]) => `${l}@${d}.${t}`),
  );
  it('agrees with the full check on generated addresses', () => {
    fc.assert(
      fc.property(addr, fc.boolean(), (a, smtputf8) => {
        expect(checkAddressSyntax(a, { smtputf8 }) === null).toBe(fullSyntaxCheck(a, { smtputf8 }) === null);
      }),
      { numRuns: 5000 },
    );
  });
});

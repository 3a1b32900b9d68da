/*
 * Pins every visible field of the policy's Decisions (action, rule, code, message, account,
 * reason en/ja) over a mixed sample, so a speed-up of decideRecipient & co. cannot silently
 * change a reply or an explanation. The sample covers each branch with default and with
 * awkward configured texts (leading placeholders, own enhanced codes, non-ASCII, over-long
 * values). A larger generated sample is pinned by a digest. Each Decision must also look the
 * same however it is read: property access, JSON, object spread and structuredClone (the
 * tester's answer crosses Electron IPC, which clones).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  check,
  compilePolicy,
  decideHeaderFrom,
  decideRecipient,
  decideSender,
  ruleDecision,
  type CompiledPolicy,
} from '../../main/core/policy/index.js';
import type { Account, Decision, RuleName } from '../../main/shared/types.js';
import { testConfig } from './fixtures.js';

const LAN = '192.168.0.102';
const OUT = '203.0.113.5';

const P = compilePolicy(testConfig());

/** Configured texts that exercise every corner of the reply builder. */
const Q = (() => {
  const cfg = testConfig({ internalDomains: ['test.jp', 'part.test.jp', 'new.test.jp'] });
  Object.assign(cfg.replies, {
    blockExternal: '  {account} may not send to {recipient}  ',
    relayDenied: '{recipient} relay refused',
    noRoute: '4.7.0 custom {recipient}',
    recipientUnknown: '{sender}{recipient}{account}',
    senderLoginMismatch: 'Sender {sender} {sender} {unknown} {{sender}} 送信',
    addressSyntax: 'x'.repeat(500),
    blockExternalHeaderFrom: '5.7.1',
    tooManyRecipients: '   ',
    messageTooBig: ' 5.3.4 too big ',
    tooManyClients: '{recipient}',
    badLineEndings: 'Bad \u{1F600} ending\r\n',
    tooManyConnectionsFromIp: '',
  });
  return compilePolicy(cfg);
})();

/** Every field a consumer reads, in one line. */
function line(d: Decision): string {
  return [d.action, d.rule, d.code, d.account ?? '-', d.message, d.reason.en, d.reason.ja].join(' | ');
}

/** The plain-object view of a Decision as the code before the speed-up built it. */
function plain(d: Decision): Decision {
  const o: Decision = { action: d.action, rule: d.rule, code: d.code, message: d.message, reason: { en: d.reason.en, ja: d.reason.ja } };
  if (d.account !== undefined) o.account = d.account;
  return o;
}

type Rcpt = [sender: string, recipient: string, client: string, opts?: { auth?: boolean; utf8?: boolean }];

const RCPT: Rcpt[] = [
  ['a@ext.example', 'bad%x@test.jp', OUT],
  ['a!b@ext.example', 'user@test.jp', OUT],
  ['ユーザー@test.jp', 'user@test.jp', OUT],
  ['ユーザー@test.jp', 'user@test.jp', OUT, { utf8: true }],
  ['a@ext.example', 'User@Part.Test.JP', OUT],
  ['', 'postmaster@test.jp', OUT],
  ['a@ext.example', 'u@new.test.jp', OUT],
  ['a@ext.example', 'v@evil.com', OUT],
  ['', 'v@evil.com', LAN],
  ['', 'v@evil.com', OUT, { auth: true }],
  ['nobody@other.example', 'v@evil.com', LAN],
  ['boss@test.jp', 'v@evil.com', '::ffff:192.168.0.7'],
  ['Baito@Test.JP', 'x@gmail.example', LAN],
  ['baito@test.jp', 'x@gmail.example', OUT, { auth: true }],
  ['p@part.test.jp', 'y@Partner.Example', LAN],
  ['p@part.test.jp', 'y@other.example', LAN],
  ['boss@part.test.jp', 'y@other.example', LAN],
  ['intern7@test.jp', 'friend@gmail.example', LAN],
  ['intern7@test.jp', 'foe@gmail.example', LAN],
  ['intern-ok1@test.jp', 'foe@gmail.example', LAN],
  ['a@b.c.test.jp', 'foe@gmail.example', 'fd00::25'],
  ['ユーザー@test.jp', 'ユーザー@日本.jp', LAN, { utf8: true }],
  [`${'a'.repeat(64)}@test.jp`, `${'r'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.example`, LAN],
];

type Rule = [rule: RuleName, vars: { account?: string; recipient?: string; sender?: string }, enhanced?: string];

const LONG = `${'v'.repeat(255)}\u{1F600}${'w'.repeat(50)}`; // a surrogate pair across the 256 cut
const RULES: Rule[] = [
  ['recipient-unknown', { recipient: 'no\r\none@test.jp' }],
  ['recipient-unknown', { recipient: LONG, sender: 's@x.jp', account: 'a*@x.jp' }],
  ['sender-login-mismatch', { sender: 'Ü@x.jp' }],
  ['sender-login-mismatch', {}],
  ['too-many-recipients', { recipient: 'r@x.jp' }],
  ['message-too-big', {}],
  ['bad-line-endings', { sender: 's@x.jp' }],
  ['too-many-clients', { recipient: '5.0.0 from a var' }],
  ['too-many-clients', { recipient: '  padded  ' }],
  ['too-many-connections-from-ip', {}],
  ['storage-error', {}],
  ['address-syntax', { sender: 's' }, '5.1.7'],
  ['block-external-header-from', { sender: 'f@x.jp', recipient: 'r@y.example', account: 'f@x.jp' }],
  ['relay-denied', { recipient: '\t' }],
];

const SENDERS = ['', 'baito@test.jp', 'Someone@Example.COM', 'user%evil.com@test.jp', 'ユーザー@test.jp'];
const HEADER_FROM: [string[], string[]][] = [
  [['baito@test.jp'], ['boss@test.jp', 'x@gmail.example']],
  [['"Baito" <Baito@Test.JP>'], ['x@gmail.example']],
  [['p@part.test.jp'], ['y@partner.example', 'z@gmail.example']],
  [['p@part.test.jp'], ['y@partner.example']],
  [['boss@test.jp', 'Name <nobody@other.example>'], ['x@gmail.example']],
  [[], ['x@gmail.example']],
];

/** The hand-picked sample: [label, decision]. */
function sample(): [string, Decision][] {
  const out: [string, Decision][] = [];
  for (const [name, p] of [['P', P], ['Q', Q]] as const) {
    for (const [sender, recipient, clientIp, o] of RCPT) {
      const d = decideRecipient(p, { sender, recipient, clientIp, authenticated: o?.auth, smtputf8: o?.utf8, explain: true });
      out.push([`${name} rcpt ${sender} -> ${recipient}`, d]);
    }
    for (const [rule, vars, enhanced] of RULES) {
      out.push([`${name} rule ${rule}`, ruleDecision(p, rule, vars, { en: `en ${rule}`, ja: `ja ${rule}` }, { enhanced })]);
    }
    for (const sender of SENDERS) out.push([`${name} mail ${sender}`, decideSender(p, { sender, clientIp: OUT, smtputf8: false, explain: true })]);
    for (const [headerFrom, recipients] of HEADER_FROM) {
      out.push([`${name} from ${headerFrom.join()}`, decideHeaderFrom(p, { headerFrom, recipients, clientIp: LAN })]);
    }
    const c = check(p, 'baito@test.jp', 'x@gmail.example', LAN);
    out.push([`${name} check sender`, c.sender], [`${name} check recipient`, c.recipient]);
  }
  return out;
}

/** A smaller copy of the bench/micro.mjs policy workload, plus case and trust variations. */
function bulkPolicy(replies: boolean): CompiledPolicy {
  const cfg = testConfig({ trustedNetworks: ['127.0.0.0/8', '192.168.0.0/24'] });
  const accounts: Account[] = [];
  for (let i = 0; i < 3000; i++) {
    accounts.push({ pattern: `user${i}@dept${i % 100}.test.jp`, blockExternal: i % 3 === 0, allow: i % 10 === 0 ? ['partner.example', `Friend${i}@x.example`] : [], note: '' });
  }
  for (let i = 0; i < 200; i++) {
    const kind = i % 4;
    const pattern = kind === 0 ? `*@branch${i}.test.jp` : kind === 1 ? `staff${i}*@test.jp` : kind === 2 ? `*@*.sub${i}.test.jp` : `temp${i}-*@*`;
    accounts.push({ pattern, blockExternal: i % 2 === 0, allow: [], note: '' });
  }
  cfg.accounts = accounts;
  if (replies) cfg.replies.blockExternal = '{sender} ({account}) -> {recipient}: nein';
  return compilePolicy(cfg);
}

function bulk(): Decision[] {
  const out: Decision[] = [];
  for (const p of [bulkPolicy(false), bulkPolicy(true)]) {
    for (let i = 0; i < 2000; i++) {
      const k = i % 6;
      const sender = k === 0 ? `user${(i * 7919) % 3000}@dept${((i * 7919) % 3000) % 100}.test.jp`
        : k === 1 ? `someone@Branch${(i % 50) * 4}.test.jp`
        : k === 2 ? `STAFF${(i % 50) * 4 + 1}x@test.jp`
        : k === 3 ? `nobody${i}@test.jp`
        : k === 4 ? `a@b.sub${(i % 50) * 4 + 2}.test.jp`
        : i % 12 === 5 ? '' : `temp${(i % 50) * 4 + 3}-x@anywhere.example`;
      const recipient = i % 4 === 0 ? 'colleague@test.jp' : i % 7 === 0 ? `friend${i % 30}@X.example` : `x${i}@external${i % 50}.example`;
      const clientIp = i % 3 === 0 ? '127.0.0.1' : i % 3 === 1 ? '192.168.0.10' : '10.0.0.1';
      out.push(decideRecipient(p, { sender, recipient, clientIp, authenticated: i % 9 === 2, explain: true }));
    }
  }
  return out;
}

describe('decision shape (pinned)', () => {
  it('hand-picked sample: every field as before', () => {
    expect(sample().map(([label, d]) => `${label} => ${line(d)}`)).toMatchInlineSnapshot(`
      [
        "P rcpt a@ext.example -> bad%x@test.jp => reject | address-syntax | 553 | - | 5.1.3 Address syntax not accepted (%, !, source routes, IP literals, quoted local parts and trailing dots are refused) | Recipient <bad%x@test.jp> refused: percent hack ('%') not accepted | 宛先 <bad%x@test.jp> のアドレス書式を受け付けません（percent hack ('%') not accepted）",
        "P rcpt a!b@ext.example -> user@test.jp => reject | address-syntax | 553 | - | 5.1.7 Address syntax not accepted (%, !, source routes, IP literals, quoted local parts and trailing dots are refused) | Sender <a!b@ext.example> refused: bang path ('!') not accepted | 送信者 <a!b@ext.example> のアドレス書式を受け付けません（bang path ('!') not accepted）",
        "P rcpt ユーザー@test.jp -> user@test.jp => reject | address-syntax | 553 | - | 5.1.7 Address syntax not accepted (%, !, source routes, IP literals, quoted local parts and trailing dots are refused) | Sender <ユーザー@test.jp> refused: non-ASCII address without SMTPUTF8 | 送信者 <ユーザー@test.jp> のアドレス書式を受け付けません（non-ASCII address without SMTPUTF8）",
        "P rcpt ユーザー@test.jp -> user@test.jp => accept | inbound | 250 | - | 2.1.5 Recipient <user@test.jp> OK | test.jp is an internal domain; routed to 192.168.0.102:25 | 運用ドメイン test.jp 宛て。振り分け設定により 192.168.0.102:25 へ配送します",
        "P rcpt a@ext.example -> User@Part.Test.JP => accept | inbound | 250 | - | 2.1.5 Recipient <User@Part.Test.JP> OK | part.test.jp is an internal domain; routed to 192.168.0.102:25, 192.168.0.104:2525 | 運用ドメイン part.test.jp 宛て。振り分け設定により 192.168.0.102:25, 192.168.0.104:2525 へ配送します",
        "P rcpt  -> postmaster@test.jp => accept | inbound | 250 | - | 2.1.5 Recipient <postmaster@test.jp> OK | test.jp is an internal domain; routed to 192.168.0.102:25 | 運用ドメイン test.jp 宛て。振り分け設定により 192.168.0.102:25 へ配送します",
        "P rcpt a@ext.example -> u@new.test.jp => reject | relay-denied | 554 | - | 5.7.1 Relaying denied: <u@new.test.jp> is not a local domain and the client is not trusted | <u@new.test.jp> is external and client 203.0.113.5 is neither in trusted networks nor authenticated | 中継の制限: <u@new.test.jp> は運用ドメインではなく、接続元 203.0.113.5 は「中継を許可するネットワーク」に含まれず認証もしていません",
        "P rcpt a@ext.example -> v@evil.com => reject | relay-denied | 554 | - | 5.7.1 Relaying denied: <v@evil.com> is not a local domain and the client is not trusted | <v@evil.com> is external and client 203.0.113.5 is neither in trusted networks nor authenticated | 中継の制限: <v@evil.com> は運用ドメインではなく、接続元 203.0.113.5 は「中継を許可するネットワーク」に含まれず認証もしていません",
        "P rcpt  -> v@evil.com => accept | relay | 250 | - | 2.1.5 Recipient <v@evil.com> OK | Null sender (bounce) relayed to <v@evil.com>; client 192.168.0.102 is in trusted networks | 空の送信者（エラーメール）を <v@evil.com> へ中継します。接続元 192.168.0.102 は「中継を許可するネットワーク」に含まれます",
        "P rcpt  -> v@evil.com => accept | relay | 250 | - | 2.1.5 Recipient <v@evil.com> OK | Null sender (bounce) relayed to <v@evil.com>; client 203.0.113.5 authenticated | 空の送信者（エラーメール）を <v@evil.com> へ中継します。接続元 203.0.113.5 は認証済みです",
        "P rcpt nobody@other.example -> v@evil.com => accept | relay | 250 | - | 2.1.5 Recipient <v@evil.com> OK | No account rule for <nobody@other.example>; relayed to <v@evil.com>; client 192.168.0.102 is in trusted networks | <nobody@other.example> に該当するアカウント設定はありません。<v@evil.com> へ中継します。接続元 192.168.0.102 は「中継を許可するネットワーク」に含まれます",
        "P rcpt boss@test.jp -> v@evil.com => accept | relay | 250 | *@test.jp | 2.1.5 Recipient <v@evil.com> OK | Account *@test.jp may send externally; relayed to <v@evil.com> | アカウント *@test.jp は外部へ送信できます。<v@evil.com> へ中継します",
        "P rcpt Baito@Test.JP -> x@gmail.example => reject | block-external | 550 | baito@test.jp | 5.7.1 <baito@test.jp> is not allowed to send to external recipients | Account baito@test.jp blocks external sending and <x@gmail.example> is not on its allow-list | アカウント baito@test.jp は「外部への送信を禁止」に設定されており、<x@gmail.example> は許可リストにありません",
        "P rcpt baito@test.jp -> x@gmail.example => reject | block-external | 550 | baito@test.jp | 5.7.1 <baito@test.jp> is not allowed to send to external recipients | Account baito@test.jp blocks external sending and <x@gmail.example> is not on its allow-list | アカウント baito@test.jp は「外部への送信を禁止」に設定されており、<x@gmail.example> は許可リストにありません",
        "P rcpt p@part.test.jp -> y@Partner.Example => accept | relay | 250 | *@part.test.jp | 2.1.5 Recipient <y@Partner.Example> OK | Account *@part.test.jp blocks external sending, but <y@Partner.Example> is on its allow-list | アカウント *@part.test.jp は「外部への送信を禁止」ですが、<y@Partner.Example> は許可リストにあります",
        "P rcpt p@part.test.jp -> y@other.example => reject | block-external | 550 | *@part.test.jp | 5.7.1 <*@part.test.jp> is not allowed to send to external recipients | Account *@part.test.jp blocks external sending and <y@other.example> is not on its allow-list | アカウント *@part.test.jp は「外部への送信を禁止」に設定されており、<y@other.example> は許可リストにありません",
        "P rcpt boss@part.test.jp -> y@other.example => accept | relay | 250 | boss@part.test.jp | 2.1.5 Recipient <y@other.example> OK | Account boss@part.test.jp may send externally; relayed to <y@other.example> | アカウント boss@part.test.jp は外部へ送信できます。<y@other.example> へ中継します",
        "P rcpt intern7@test.jp -> friend@gmail.example => accept | relay | 250 | intern*@test.jp | 2.1.5 Recipient <friend@gmail.example> OK | Account intern*@test.jp blocks external sending, but <friend@gmail.example> is on its allow-list | アカウント intern*@test.jp は「外部への送信を禁止」ですが、<friend@gmail.example> は許可リストにあります",
        "P rcpt intern7@test.jp -> foe@gmail.example => reject | block-external | 550 | intern*@test.jp | 5.7.1 <intern*@test.jp> is not allowed to send to external recipients | Account intern*@test.jp blocks external sending and <foe@gmail.example> is not on its allow-list | アカウント intern*@test.jp は「外部への送信を禁止」に設定されており、<foe@gmail.example> は許可リストにありません",
        "P rcpt intern-ok1@test.jp -> foe@gmail.example => accept | relay | 250 | intern-ok*@test.jp | 2.1.5 Recipient <foe@gmail.example> OK | Account intern-ok*@test.jp may send externally; relayed to <foe@gmail.example> | アカウント intern-ok*@test.jp は外部へ送信できます。<foe@gmail.example> へ中継します",
        "P rcpt a@b.c.test.jp -> foe@gmail.example => reject | block-external | 550 | *@*.test.jp | 5.7.1 <*@*.test.jp> is not allowed to send to external recipients | Account *@*.test.jp blocks external sending and <foe@gmail.example> is not on its allow-list | アカウント *@*.test.jp は「外部への送信を禁止」に設定されており、<foe@gmail.example> は許可リストにありません",
        "P rcpt ユーザー@test.jp -> ユーザー@日本.jp => accept | relay | 250 | *@test.jp | 2.1.5 Recipient <????@??.jp> OK | Account *@test.jp may send externally; relayed to <ユーザー@日本.jp> | アカウント *@test.jp は外部へ送信できます。<ユーザー@日本.jp> へ中継します",
        "P rcpt aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@test.jp -> rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.example => accept | relay | 250 | *@test.jp | 2.1.5 Recipient <rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.example> OK | Account *@test.jp may send externally; relayed to <rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.example> | アカウント *@test.jp は外部へ送信できます。<rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.example> へ中継します",
        "P rule recipient-unknown => reject | recipient-unknown | 550 | - | 5.1.1 <no??one@test.jp>: Recipient address rejected: User unknown | en recipient-unknown | ja recipient-unknown",
        "P rule recipient-unknown => reject | recipient-unknown | 550 | - | 5.1.1 <vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv?>: Recipient address rejected: User unknown | en recipient-unknown | ja recipient-unknown",
        "P rule sender-login-mismatch => reject | sender-login-mismatch | 553 | - | 5.7.1 Sender address <?@x.jp> is not owned by the authenticated user | en sender-login-mismatch | ja sender-login-mismatch",
        "P rule sender-login-mismatch => reject | sender-login-mismatch | 553 | - | 5.7.1 Sender address <> is not owned by the authenticated user | en sender-login-mismatch | ja sender-login-mismatch",
        "P rule too-many-recipients => reject | too-many-recipients | 452 | - | 4.5.3 Too many recipients | en too-many-recipients | ja too-many-recipients",
        "P rule message-too-big => reject | message-too-big | 552 | - | 5.3.4 Message size exceeds the fixed limit | en message-too-big | ja message-too-big",
        "P rule bad-line-endings => reject | bad-line-endings | 550 | - | 5.6.0 Bare CR or NUL in message refused; use CRLF line endings | en bad-line-endings | ja bad-line-endings",
        "P rule too-many-clients => reject | too-many-clients | 421 | - | 4.7.0 Too many connections, try again later | en too-many-clients | ja too-many-clients",
        "P rule too-many-clients => reject | too-many-clients | 421 | - | 4.7.0 Too many connections, try again later | en too-many-clients | ja too-many-clients",
        "P rule too-many-connections-from-ip => reject | too-many-connections-from-ip | 421 | - | 4.7.0 Too many connections from your address, try again later | en too-many-connections-from-ip | ja too-many-connections-from-ip",
        "P rule storage-error => reject | storage-error | 451 | - | 4.3.0 Temporary local problem storing the message, try again later | en storage-error | ja storage-error",
        "P rule address-syntax => reject | address-syntax | 553 | - | 5.1.7 Address syntax not accepted (%, !, source routes, IP literals, quoted local parts and trailing dots are refused) | en address-syntax | ja address-syntax",
        "P rule block-external-header-from => reject | block-external-header-from | 550 | - | 5.7.1 Header From <f@x.jp> is not allowed to send to external recipients (<r@y.example>) | en block-external-header-from | ja block-external-header-from",
        "P rule relay-denied => reject | relay-denied | 554 | - | 5.7.1 Relaying denied: <?> is not a local domain and the client is not trusted | en relay-denied | ja relay-denied",
        "P mail  => accept | sender-ok | 250 | - | 2.1.0 Sender <> OK | Null sender (bounce) accepted | 空の送信者（エラーメール）を受け付けました",
        "P mail baito@test.jp => accept | sender-ok | 250 | - | 2.1.0 Sender <baito@test.jp> OK | Sender <baito@test.jp> accepted | 送信者 <baito@test.jp> を受け付けました",
        "P mail Someone@Example.COM => accept | sender-ok | 250 | - | 2.1.0 Sender <Someone@Example.COM> OK | Sender <Someone@Example.COM> accepted | 送信者 <Someone@Example.COM> を受け付けました",
        "P mail user%evil.com@test.jp => reject | address-syntax | 553 | - | 5.1.7 Address syntax not accepted (%, !, source routes, IP literals, quoted local parts and trailing dots are refused) | Sender <user%evil.com@test.jp> refused: percent hack ('%') not accepted | 送信者 <user%evil.com@test.jp> のアドレス書式を受け付けません（percent hack ('%') not accepted）",
        "P mail ユーザー@test.jp => reject | address-syntax | 553 | - | 5.1.7 Address syntax not accepted (%, !, source routes, IP literals, quoted local parts and trailing dots are refused) | Sender <ユーザー@test.jp> refused: non-ASCII address without SMTPUTF8 | 送信者 <ユーザー@test.jp> のアドレス書式を受け付けません（non-ASCII address without SMTPUTF8）",
        "P from baito@test.jp => reject | block-external-header-from | 550 | baito@test.jp | 5.7.1 Header From <baito@test.jp> is not allowed to send to external recipients (<x@gmail.example>) | Header From <baito@test.jp> is governed by account baito@test.jp, which blocks external sending; <x@gmail.example> is external and not on its allow-list | ヘッダーの From <baito@test.jp> はアカウント baito@test.jp（外部への送信を禁止）に該当し、宛先 <x@gmail.example> は許可リストにない外部アドレスです",
        "P from "Baito" <Baito@Test.JP> => reject | block-external-header-from | 550 | baito@test.jp | 5.7.1 Header From <baito@test.jp> is not allowed to send to external recipients (<x@gmail.example>) | Header From <Baito@Test.JP> is governed by account baito@test.jp, which blocks external sending; <x@gmail.example> is external and not on its allow-list | ヘッダーの From <Baito@Test.JP> はアカウント baito@test.jp（外部への送信を禁止）に該当し、宛先 <x@gmail.example> は許可リストにない外部アドレスです",
        "P from p@part.test.jp => reject | block-external-header-from | 550 | *@part.test.jp | 5.7.1 Header From <*@part.test.jp> is not allowed to send to external recipients (<z@gmail.example>) | Header From <p@part.test.jp> is governed by account *@part.test.jp, which blocks external sending; <z@gmail.example> is external and not on its allow-list | ヘッダーの From <p@part.test.jp> はアカウント *@part.test.jp（外部への送信を禁止）に該当し、宛先 <z@gmail.example> は許可リストにない外部アドレスです",
        "P from p@part.test.jp => accept | relay | 250 | - | 2.6.0 Header From OK | Header From check passed | ヘッダーの From の確認を通過しました",
        "P from boss@test.jp,Name <nobody@other.example> => accept | relay | 250 | - | 2.6.0 Header From OK | Header From check passed | ヘッダーの From の確認を通過しました",
        "P from  => accept | relay | 250 | - | 2.6.0 Header From OK | Header From check passed | ヘッダーの From の確認を通過しました",
        "P check sender => accept | sender-ok | 250 | - | 2.1.0 Sender <baito@test.jp> OK | Sender <baito@test.jp> accepted | 送信者 <baito@test.jp> を受け付けました",
        "P check recipient => reject | block-external | 550 | baito@test.jp | 5.7.1 <baito@test.jp> is not allowed to send to external recipients | Account baito@test.jp blocks external sending and <x@gmail.example> is not on its allow-list | アカウント baito@test.jp は「外部への送信を禁止」に設定されており、<x@gmail.example> は許可リストにありません",
        "Q rcpt a@ext.example -> bad%x@test.jp => reject | address-syntax | 553 | - | 5.1.3 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | Recipient <bad%x@test.jp> refused: percent hack ('%') not accepted | 宛先 <bad%x@test.jp> のアドレス書式を受け付けません（percent hack ('%') not accepted）",
        "Q rcpt a!b@ext.example -> user@test.jp => reject | address-syntax | 553 | - | 5.1.7 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | Sender <a!b@ext.example> refused: bang path ('!') not accepted | 送信者 <a!b@ext.example> のアドレス書式を受け付けません（bang path ('!') not accepted）",
        "Q rcpt ユーザー@test.jp -> user@test.jp => reject | address-syntax | 553 | - | 5.1.7 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | Sender <ユーザー@test.jp> refused: non-ASCII address without SMTPUTF8 | 送信者 <ユーザー@test.jp> のアドレス書式を受け付けません（non-ASCII address without SMTPUTF8）",
        "Q rcpt ユーザー@test.jp -> user@test.jp => accept | inbound | 250 | - | 2.1.5 Recipient <user@test.jp> OK | test.jp is an internal domain; routed to 192.168.0.102:25 | 運用ドメイン test.jp 宛て。振り分け設定により 192.168.0.102:25 へ配送します",
        "Q rcpt a@ext.example -> User@Part.Test.JP => accept | inbound | 250 | - | 2.1.5 Recipient <User@Part.Test.JP> OK | part.test.jp is an internal domain; routed to 192.168.0.102:25, 192.168.0.104:2525 | 運用ドメイン part.test.jp 宛て。振り分け設定により 192.168.0.102:25, 192.168.0.104:2525 へ配送します",
        "Q rcpt  -> postmaster@test.jp => accept | inbound | 250 | - | 2.1.5 Recipient <postmaster@test.jp> OK | test.jp is an internal domain; routed to 192.168.0.102:25 | 運用ドメイン test.jp 宛て。振り分け設定により 192.168.0.102:25 へ配送します",
        "Q rcpt a@ext.example -> u@new.test.jp => reject | no-route | 451 | - | 4.7.0 custom u@new.test.jp | new.test.jp is an internal domain but has no route; the client retries (4xx) until one is configured | 運用ドメイン new.test.jp の振り分け設定がありません。振り分け設定を追加するまで一時エラー（4xx）で再送を待ちます",
        "Q rcpt a@ext.example -> v@evil.com => reject | relay-denied | 554 | - | 5.7.1 v@evil.com relay refused | <v@evil.com> is external and client 203.0.113.5 is neither in trusted networks nor authenticated | 中継の制限: <v@evil.com> は運用ドメインではなく、接続元 203.0.113.5 は「中継を許可するネットワーク」に含まれず認証もしていません",
        "Q rcpt  -> v@evil.com => accept | relay | 250 | - | 2.1.5 Recipient <v@evil.com> OK | Null sender (bounce) relayed to <v@evil.com>; client 192.168.0.102 is in trusted networks | 空の送信者（エラーメール）を <v@evil.com> へ中継します。接続元 192.168.0.102 は「中継を許可するネットワーク」に含まれます",
        "Q rcpt  -> v@evil.com => accept | relay | 250 | - | 2.1.5 Recipient <v@evil.com> OK | Null sender (bounce) relayed to <v@evil.com>; client 203.0.113.5 authenticated | 空の送信者（エラーメール）を <v@evil.com> へ中継します。接続元 203.0.113.5 は認証済みです",
        "Q rcpt nobody@other.example -> v@evil.com => accept | relay | 250 | - | 2.1.5 Recipient <v@evil.com> OK | No account rule for <nobody@other.example>; relayed to <v@evil.com>; client 192.168.0.102 is in trusted networks | <nobody@other.example> に該当するアカウント設定はありません。<v@evil.com> へ中継します。接続元 192.168.0.102 は「中継を許可するネットワーク」に含まれます",
        "Q rcpt boss@test.jp -> v@evil.com => accept | relay | 250 | *@test.jp | 2.1.5 Recipient <v@evil.com> OK | Account *@test.jp may send externally; relayed to <v@evil.com> | アカウント *@test.jp は外部へ送信できます。<v@evil.com> へ中継します",
        "Q rcpt Baito@Test.JP -> x@gmail.example => reject | block-external | 550 | baito@test.jp | 5.7.1 baito@test.jp may not send to x@gmail.example | Account baito@test.jp blocks external sending and <x@gmail.example> is not on its allow-list | アカウント baito@test.jp は「外部への送信を禁止」に設定されており、<x@gmail.example> は許可リストにありません",
        "Q rcpt baito@test.jp -> x@gmail.example => reject | block-external | 550 | baito@test.jp | 5.7.1 baito@test.jp may not send to x@gmail.example | Account baito@test.jp blocks external sending and <x@gmail.example> is not on its allow-list | アカウント baito@test.jp は「外部への送信を禁止」に設定されており、<x@gmail.example> は許可リストにありません",
        "Q rcpt p@part.test.jp -> y@Partner.Example => accept | relay | 250 | *@part.test.jp | 2.1.5 Recipient <y@Partner.Example> OK | Account *@part.test.jp blocks external sending, but <y@Partner.Example> is on its allow-list | アカウント *@part.test.jp は「外部への送信を禁止」ですが、<y@Partner.Example> は許可リストにあります",
        "Q rcpt p@part.test.jp -> y@other.example => reject | block-external | 550 | *@part.test.jp | 5.7.1 *@part.test.jp may not send to y@other.example | Account *@part.test.jp blocks external sending and <y@other.example> is not on its allow-list | アカウント *@part.test.jp は「外部への送信を禁止」に設定されており、<y@other.example> は許可リストにありません",
        "Q rcpt boss@part.test.jp -> y@other.example => accept | relay | 250 | boss@part.test.jp | 2.1.5 Recipient <y@other.example> OK | Account boss@part.test.jp may send externally; relayed to <y@other.example> | アカウント boss@part.test.jp は外部へ送信できます。<y@other.example> へ中継します",
        "Q rcpt intern7@test.jp -> friend@gmail.example => accept | relay | 250 | intern*@test.jp | 2.1.5 Recipient <friend@gmail.example> OK | Account intern*@test.jp blocks external sending, but <friend@gmail.example> is on its allow-list | アカウント intern*@test.jp は「外部への送信を禁止」ですが、<friend@gmail.example> は許可リストにあります",
        "Q rcpt intern7@test.jp -> foe@gmail.example => reject | block-external | 550 | intern*@test.jp | 5.7.1 intern*@test.jp may not send to foe@gmail.example | Account intern*@test.jp blocks external sending and <foe@gmail.example> is not on its allow-list | アカウント intern*@test.jp は「外部への送信を禁止」に設定されており、<foe@gmail.example> は許可リストにありません",
        "Q rcpt intern-ok1@test.jp -> foe@gmail.example => accept | relay | 250 | intern-ok*@test.jp | 2.1.5 Recipient <foe@gmail.example> OK | Account intern-ok*@test.jp may send externally; relayed to <foe@gmail.example> | アカウント intern-ok*@test.jp は外部へ送信できます。<foe@gmail.example> へ中継します",
        "Q rcpt a@b.c.test.jp -> foe@gmail.example => reject | block-external | 550 | *@*.test.jp | 5.7.1 *@*.test.jp may not send to foe@gmail.example | Account *@*.test.jp blocks external sending and <foe@gmail.example> is not on its allow-list | アカウント *@*.test.jp は「外部への送信を禁止」に設定されており、<foe@gmail.example> は許可リストにありません",
        "Q rcpt ユーザー@test.jp -> ユーザー@日本.jp => accept | relay | 250 | *@test.jp | 2.1.5 Recipient <????@??.jp> OK | Account *@test.jp may send externally; relayed to <ユーザー@日本.jp> | アカウント *@test.jp は外部へ送信できます。<ユーザー@日本.jp> へ中継します",
        "Q rcpt aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@test.jp -> rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.example => accept | relay | 250 | *@test.jp | 2.1.5 Recipient <rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.example> OK | Account *@test.jp may send externally; relayed to <rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.example> | アカウント *@test.jp は外部へ送信できます。<rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.example> へ中継します",
        "Q rule recipient-unknown => reject | recipient-unknown | 550 | - | 5.1.1 no??one@test.jp | en recipient-unknown | ja recipient-unknown",
        "Q rule recipient-unknown => reject | recipient-unknown | 550 | - | 5.1.1 s@x.jpvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv?a*@x.jp | en recipient-unknown | ja recipient-unknown",
        "Q rule sender-login-mismatch => reject | sender-login-mismatch | 553 | - | 5.7.1 Sender ?@x.jp ?@x.jp {unknown} {?@x.jp} ?? | en sender-login-mismatch | ja sender-login-mismatch",
        "Q rule sender-login-mismatch => reject | sender-login-mismatch | 553 | - | 5.7.1 Sender   {unknown} {} ?? | en sender-login-mismatch | ja sender-login-mismatch",
        "Q rule too-many-recipients => reject | too-many-recipients | 452 | - | 4.5.3 Too many recipients | en too-many-recipients | ja too-many-recipients",
        "Q rule message-too-big => reject | message-too-big | 552 | - | 5.3.4 too big | en message-too-big | ja message-too-big",
        "Q rule bad-line-endings => reject | bad-line-endings | 550 | - | 5.6.0 Bad ?? ending?? | en bad-line-endings | ja bad-line-endings",
        "Q rule too-many-clients => reject | too-many-clients | 421 | - | 5.0.0 from a var | en too-many-clients | ja too-many-clients",
        "Q rule too-many-clients => reject | too-many-clients | 421 | - | 4.7.0 padded | en too-many-clients | ja too-many-clients",
        "Q rule too-many-connections-from-ip => reject | too-many-connections-from-ip | 421 | - | 4.7.0 Too many connections from your address, try again later | en too-many-connections-from-ip | ja too-many-connections-from-ip",
        "Q rule storage-error => reject | storage-error | 451 | - | 4.3.0 Temporary local problem storing the message, try again later | en storage-error | ja storage-error",
        "Q rule address-syntax => reject | address-syntax | 553 | - | 5.1.7 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | en address-syntax | ja address-syntax",
        "Q rule block-external-header-from => reject | block-external-header-from | 550 | - | 5.7.1 5.7.1 | en block-external-header-from | ja block-external-header-from",
        "Q rule relay-denied => reject | relay-denied | 554 | - | 5.7.1 ? relay refused | en relay-denied | ja relay-denied",
        "Q mail  => accept | sender-ok | 250 | - | 2.1.0 Sender <> OK | Null sender (bounce) accepted | 空の送信者（エラーメール）を受け付けました",
        "Q mail baito@test.jp => accept | sender-ok | 250 | - | 2.1.0 Sender <baito@test.jp> OK | Sender <baito@test.jp> accepted | 送信者 <baito@test.jp> を受け付けました",
        "Q mail Someone@Example.COM => accept | sender-ok | 250 | - | 2.1.0 Sender <Someone@Example.COM> OK | Sender <Someone@Example.COM> accepted | 送信者 <Someone@Example.COM> を受け付けました",
        "Q mail user%evil.com@test.jp => reject | address-syntax | 553 | - | 5.1.7 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | Sender <user%evil.com@test.jp> refused: percent hack ('%') not accepted | 送信者 <user%evil.com@test.jp> のアドレス書式を受け付けません（percent hack ('%') not accepted）",
        "Q mail ユーザー@test.jp => reject | address-syntax | 553 | - | 5.1.7 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | Sender <ユーザー@test.jp> refused: non-ASCII address without SMTPUTF8 | 送信者 <ユーザー@test.jp> のアドレス書式を受け付けません（non-ASCII address without SMTPUTF8）",
        "Q from baito@test.jp => reject | block-external-header-from | 550 | baito@test.jp | 5.7.1 5.7.1 | Header From <baito@test.jp> is governed by account baito@test.jp, which blocks external sending; <x@gmail.example> is external and not on its allow-list | ヘッダーの From <baito@test.jp> はアカウント baito@test.jp（外部への送信を禁止）に該当し、宛先 <x@gmail.example> は許可リストにない外部アドレスです",
        "Q from "Baito" <Baito@Test.JP> => reject | block-external-header-from | 550 | baito@test.jp | 5.7.1 5.7.1 | Header From <Baito@Test.JP> is governed by account baito@test.jp, which blocks external sending; <x@gmail.example> is external and not on its allow-list | ヘッダーの From <Baito@Test.JP> はアカウント baito@test.jp（外部への送信を禁止）に該当し、宛先 <x@gmail.example> は許可リストにない外部アドレスです",
        "Q from p@part.test.jp => reject | block-external-header-from | 550 | *@part.test.jp | 5.7.1 5.7.1 | Header From <p@part.test.jp> is governed by account *@part.test.jp, which blocks external sending; <z@gmail.example> is external and not on its allow-list | ヘッダーの From <p@part.test.jp> はアカウント *@part.test.jp（外部への送信を禁止）に該当し、宛先 <z@gmail.example> は許可リストにない外部アドレスです",
        "Q from p@part.test.jp => accept | relay | 250 | - | 2.6.0 Header From OK | Header From check passed | ヘッダーの From の確認を通過しました",
        "Q from boss@test.jp,Name <nobody@other.example> => accept | relay | 250 | - | 2.6.0 Header From OK | Header From check passed | ヘッダーの From の確認を通過しました",
        "Q from  => accept | relay | 250 | - | 2.6.0 Header From OK | Header From check passed | ヘッダーの From の確認を通過しました",
        "Q check sender => accept | sender-ok | 250 | - | 2.1.0 Sender <baito@test.jp> OK | Sender <baito@test.jp> accepted | 送信者 <baito@test.jp> を受け付けました",
        "Q check recipient => reject | block-external | 550 | baito@test.jp | 5.7.1 baito@test.jp may not send to x@gmail.example | Account baito@test.jp blocks external sending and <x@gmail.example> is not on its allow-list | アカウント baito@test.jp は「外部への送信を禁止」に設定されており、<x@gmail.example> は許可リストにありません",
      ]
    `);
  });

  it('generated sample: digest of every field as before', () => {
    const digest = createHash('sha256');
    for (const d of bulk()) digest.update(`${line(d)}\n`);
    expect(digest.digest('hex')).toBe('346c09983e920f83cdba842388060167228371929c294a6eed5849a0531c3c03');
  });

  it('reads the same through JSON, spread and structuredClone', () => {
    for (const [label, d] of sample()) {
      const want = plain(d);
      expect(JSON.parse(JSON.stringify(d)), label).toEqual(JSON.parse(JSON.stringify(want)));
      expect(JSON.stringify(d), label).toBe(JSON.stringify(want));
      expect({ ...d }, label).toEqual(want);
      expect(structuredClone(d), label).toEqual(want);
      expect(Object.keys(d), label).toEqual(Object.keys(want));
    }
  });

  it('a Decision stays writable (decideHeaderFrom and callers overwrite message)', () => {
    const d = decideRecipient(P, { sender: 'baito@test.jp', recipient: 'x@gmail.example', clientIp: LAN });
    d.message = '5.0.0 changed';
    expect(d.message).toBe('5.0.0 changed');
    expect(JSON.parse(JSON.stringify(d)).message).toBe('5.0.0 changed');
  });
});

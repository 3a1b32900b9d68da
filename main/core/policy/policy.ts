/*
 * The decision (ARCHITECTURE.md, "The decision"): pure functions, one per SMTP stage, each returning
 * a Decision that names exactly one rule. compilePolicy precomputes everything a check needs
 * from a GatehouseConfig (internal domain set, routes, trusted networks, account index, reply
 * texts split at their placeholders, the answer for each internal domain), so a decision is a
 * few lookups and concatenations (bench/micro.mjs policy: under 2 us with 100,000 accounts);
 * it throws only when the config holds a bad trusted network (the config layer
 * validates first). decideSender / decideRecipient / decideHeaderFrom / check never throw:
 * bad input becomes a reject Decision. Recipient verification against the back end
 * (`recipient-unknown`) is async and done elsewhere; ruleDecision builds its reply so every
 * SMTP reply comes from this one table.
 */
import type {
  Account,
  Decision,
  GatehouseConfig,
  HostPort,
  PolicyInput,
  ReplyTexts,
  RuleName,
} from '../../shared/types.js';
import { compileAccounts, onAllowList, type AccountIndex } from './accounts.js';
import { checkAddressSyntax, domainOf, lowerAscii, splitAddress, type SyntaxOptions } from '../../shared/address.js';
import { DEFAULT_REPLIES } from './defaults.js';
import { compileNetworks, type NetworkMatcher } from './networks.js';
import { externalMode, outboundRule } from '../../shared/outbound.js';

/** Rule name for recipient verification, which the async delivery side performs. */
export const RULE_RECIPIENT_UNKNOWN = 'recipient-unknown' satisfies RuleName;

export interface CompiledPolicy {
  readonly config: GatehouseConfig;
  /** ASCII-lowercased, no trailing dot. */
  readonly internalDomains: ReadonlySet<string>;
  /** Lowercased domain -> hosts in order (several config lines for one domain concatenate). */
  readonly routes: ReadonlyMap<string, readonly HostPort[]>;
  readonly trusted: NetworkMatcher;
  readonly accounts: AccountIndex;
  /** Configured texts over DEFAULT_REPLIES (an empty configured text falls back). */
  readonly replies: ReplyTexts;
  /** Each rule's reply text, compiled from `replies` / RULE_REPLIES (see compileReply). */
  readonly replyOf: Readonly<Record<RuleName, CompiledReply>>;
  /** The answer for a recipient in each internal domain, built once (see compileInbound). */
  readonly inbound: ReadonlyMap<string, InboundAnswer>;
}

/** What every recipient of one internal domain gets: routed (inbound) or no-route. */
export interface InboundAnswer {
  readonly rule: 'inbound' | 'no-route';
  readonly reason: Readonly<Reason>;
}

export type Reason = { en: string; ja: string };

export interface SenderInput {
  sender: string; // '' = null sender
  clientIp: string;
  smtputf8?: boolean;
  /** Build the bilingual reason (see PolicyInput.explain). */
  explain?: boolean;
}

export interface HeaderFromInput {
  /** Addresses from the From: header (`a@b` or `Name <a@b>`). */
  headerFrom: string[];
  /** Recipients accepted at RCPT. */
  recipients: string[];
  clientIp: string;
  authenticated?: boolean;
}

export interface CheckResult {
  sender: Decision;
  recipient: Decision;
}

/** Substitution values for reply texts. */
export interface ReplyVars {
  account?: string;
  recipient?: string;
  sender?: string;
}

export interface RuleSpec {
  action: 'accept' | 'reject';
  code: number;
  enhanced: string;
  /** A ReplyTexts key, or a fixed text for accepts and rules without a configurable text. */
  text: keyof ReplyTexts | { fixed: string };
}

/** Every rule's SMTP reply in one table. */
export const RULE_REPLIES: Readonly<Record<RuleName, RuleSpec>> = {
  'address-syntax': { action: 'reject', code: 553, enhanced: '5.1.3', text: 'addressSyntax' },
  inbound: { action: 'accept', code: 250, enhanced: '2.1.5', text: { fixed: 'Recipient <{recipient}> OK' } },
  'no-route': { action: 'reject', code: 451, enhanced: '4.3.5', text: 'noRoute' },
  'recipient-unknown': { action: 'reject', code: 550, enhanced: '5.1.1', text: 'recipientUnknown' },
  'relay-denied': { action: 'reject', code: 554, enhanced: '5.7.1', text: 'relayDenied' },
  'block-external': { action: 'reject', code: 550, enhanced: '5.7.1', text: 'blockExternal' },
  'block-external-header-from': {
    action: 'reject',
    code: 550,
    enhanced: '5.7.1',
    text: 'blockExternalHeaderFrom',
  },
  relay: { action: 'accept', code: 250, enhanced: '2.1.5', text: { fixed: 'Recipient <{recipient}> OK' } },
  'sender-ok': { action: 'accept', code: 250, enhanced: '2.1.0', text: { fixed: 'Sender <{sender}> OK' } },
  'sender-login-mismatch': { action: 'reject', code: 553, enhanced: '5.7.1', text: 'senderLoginMismatch' },
  'too-many-recipients': { action: 'reject', code: 452, enhanced: '4.5.3', text: 'tooManyRecipients' },
  'message-too-big': { action: 'reject', code: 552, enhanced: '5.3.4', text: 'messageTooBig' },
  'bad-line-endings': { action: 'reject', code: 550, enhanced: '5.6.0', text: 'badLineEndings' },
  'too-many-clients': { action: 'reject', code: 421, enhanced: '4.7.0', text: 'tooManyClients' },
  'too-many-connections-from-ip': {
    action: 'reject',
    code: 421,
    enhanced: '4.7.0',
    text: 'tooManyConnectionsFromIp',
  },
  'storage-error': {
    action: 'reject',
    code: 451,
    enhanced: '4.3.0',
    text: { fixed: 'Temporary local problem storing the message, try again later' },
  },
  // Outbound controls (main/core/outbound): accepted at RCPT, then held in the held queue.
  delay: { action: 'accept', code: 250, enhanced: '2.1.5', text: { fixed: 'Recipient <{recipient}> OK, delayed' } },
  'hold-approval': { action: 'accept', code: 250, enhanced: '2.1.5', text: { fixed: 'Recipient <{recipient}> OK, held for approval' } },
  // The 5xx variant (senderLimits.freeze 'permanent') is made from this one by the receiver.
  'sender-frozen': { action: 'reject', code: 451, enhanced: '4.7.1', text: 'senderFrozen' },
  // Log-only rules: decisions after the SMTP session (hold lines, bookkeeping); never a reply.
  approved: { action: 'accept', code: 250, enhanced: '2.0.0', text: { fixed: 'Approved' } },
  'rejected-by-approver': { action: 'reject', code: 550, enhanced: '5.7.1', text: { fixed: 'Rejected by the approver' } },
  'approval-expired': { action: 'reject', code: 550, enhanced: '5.7.1', text: { fixed: 'Nobody approved it in time' } },
  'delay-cancelled': { action: 'reject', code: 550, enhanced: '5.7.1', text: { fixed: 'Cancelled by the sender' } },
  'delay-sent-now': { action: 'accept', code: 250, enhanced: '2.0.0', text: { fixed: 'Sent now' } },
  'bcc-added': { action: 'accept', code: 250, enhanced: '2.1.5', text: { fixed: 'Bcc <{recipient}> added' } },
  'bcc-convert': { action: 'accept', code: 250, enhanced: '2.6.0', text: { fixed: 'To/Cc turned into Bcc' } },
};

const MAX_VAR = 256;
const MAX_MESSAGE = 480; // an SMTP reply line is at most 512 octets with code and CRLF
const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

/** Printable ASCII only: anything else (non-ASCII, CR, LF, NUL, ...) becomes '?'. */
const NOT_PRINTABLE_ALL = /[^\x20-\x7e]/g;

export function toAsciiReply(s: string): string {
  // A charCode scan is cheaper than a regex on the short, nearly always clean, values here.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return s.replace(NOT_PRINTABLE_ALL, '?');
  }
  return s;
}

const PLACEHOLDER = /\{(account|recipient|sender)\}/;

/**
 * A reply text split once at its placeholders, so building a reply is a few concatenations
 * instead of a regex replace per decision. The result is what the original definition gives:
 *   text = toAsciiReply(substitute(template, vars)).trim()
 *   message = (text starts with an enhanced code ? text : `${enhanced} ${text}`).slice(0, 480)
 * with each placeholder replaced by its value cut to 256 characters. toAsciiReply works per
 * UTF-16 unit, so it can be applied to the literal pieces here and to each value at run time.
 */
export interface CompiledReply {
  /** Literal pieces, printable ASCII already; keys[i] sits between parts[i] and parts[i + 1]. */
  readonly parts: readonly string[];
  readonly keys: readonly (keyof ReplyVars)[];
  /** The text cannot start with an enhanced code whatever the values, so always prefix one. */
  readonly alwaysPrefix: boolean;
}

function compileReply(template: string): CompiledReply {
  // split() with a capture group alternates literal, key, literal, ... and finds the same
  // (leftmost, non-overlapping) placeholders as a global replace.
  const pieces = template.split(PLACEHOLDER);
  const parts = pieces.filter((_, i) => i % 2 === 0).map(toAsciiReply);
  const keys = pieces.filter((_, i) => i % 2 === 1) as (keyof ReplyVars)[];
  // After toAsciiReply the only whitespace trim() removes is ' ': when the first literal has a
  // non-space, that is the trimmed text's first character.
  const head = parts[0]!.replace(/^ +/, '');
  return { parts, keys, alwaysPrefix: head !== '' && !/^[245]/.test(head) };
}

function replyValue(v: string | undefined): string {
  const s = v ?? '';
  return toAsciiReply(s.length > MAX_VAR ? s.slice(0, MAX_VAR) : s);
}

function renderReply(r: CompiledReply, vars: ReplyVars, enhanced: string): string {
  let text = r.parts[0]!;
  for (let i = 0; i < r.keys.length; i++) text += replyValue(vars[r.keys[i]!]) + r.parts[i + 1]!;
  // Only ' ' can be leading or trailing whitespace here (see compileReply).
  if (text.charCodeAt(0) === 32 || text.charCodeAt(text.length - 1) === 32) text = text.trim();
  if (r.alwaysPrefix || !ENHANCED_PREFIX.test(text)) text = `${enhanced} ${text}`;
  return text.length > MAX_MESSAGE ? text.slice(0, MAX_MESSAGE) : text;
}

function compileReplies(replies: ReplyTexts): Record<RuleName, CompiledReply> {
  const out = {} as Record<RuleName, CompiledReply>;
  for (const rule of Object.keys(RULE_REPLIES) as RuleName[]) {
    const text = RULE_REPLIES[rule].text;
    out[rule] = compileReply(typeof text === 'string' ? replies[text] : text.fixed);
  }
  return out;
}

/** The Decision itself; `enhanced` overrides the table, `account` is set only when given. */
function decision(
  p: CompiledPolicy,
  rule: RuleName,
  vars: ReplyVars,
  reason: Reason,
  enhanced?: string,
  account?: string,
): Decision {
  const spec = RULE_REPLIES[rule];
  const d: Decision = {
    action: spec.action,
    rule,
    code: spec.code,
    message: renderReply(p.replyOf[rule], vars, enhanced ?? spec.enhanced),
    reason,
  };
  if (account !== undefined) d.account = account;
  return d;
}

/**
 * A Decision for `rule` with its reply from RULE_REPLIES and the policy's texts.
 * `enhanced` overrides the table (address-syntax uses 5.1.7 for the sender).
 */
export function ruleDecision(
  p: CompiledPolicy,
  rule: RuleName,
  vars: ReplyVars,
  reason: { en: string; ja: string },
  opts: { account?: string; enhanced?: string } = {},
): Decision {
  return decision(p, rule, vars, reason, opts.enhanced, opts.account);
}

function normalizeDomain(d: string): string {
  return lowerAscii(d.trim()).replace(/\.+$/, '');
}

export function compilePolicy(cfg: GatehouseConfig): CompiledPolicy {
  const routes = new Map<string, HostPort[]>();
  for (const r of cfg.routes) {
    const key = normalizeDomain(r.domain);
    routes.set(key, [...(routes.get(key) ?? []), ...r.hosts]);
  }
  const replies = { ...DEFAULT_REPLIES };
  for (const k of Object.keys(DEFAULT_REPLIES) as (keyof ReplyTexts)[]) {
    const t = cfg.replies?.[k];
    if (typeof t === 'string' && t.trim() !== '') replies[k] = t;
  }
  const internalDomains = new Set(cfg.internalDomains.map(normalizeDomain));
  return {
    config: cfg,
    internalDomains,
    routes,
    trusted: compileNetworks(cfg.trustedNetworks),
    accounts: compileAccounts(cfg.accounts),
    replies,
    replyOf: compileReplies(replies),
    inbound: compileInbound(internalDomains, routes),
  };
}

/**
 * The rule and reason for a recipient in each internal domain: they depend on the domain
 * alone, so they are built here rather than per RCPT. Reasons are frozen: decisions share them.
 */
function compileInbound(
  internalDomains: ReadonlySet<string>,
  routes: ReadonlyMap<string, readonly HostPort[]>,
): Map<string, InboundAnswer> {
  const out = new Map<string, InboundAnswer>();
  for (const domain of internalDomains) {
    const hosts = routes.get(domain);
    if (!hosts || hosts.length === 0) {
      out.set(domain, {
        rule: 'no-route',
        reason: Object.freeze({
          en: `${domain} is an internal domain but has no route; the client retries (4xx) until one is configured`,
          ja: `運用ドメイン ${domain} の振り分け設定がありません。振り分け設定を追加するまで一時エラー（4xx）で再送を待ちます`,
        }),
      });
      continue;
    }
    const to = hosts.map((h) => `${h.host}:${h.port}`).join(', ');
    out.set(domain, {
      rule: 'inbound',
      reason: Object.freeze({
        en: `${domain} is an internal domain; routed to ${to}`,
        ja: `運用ドメイン ${domain} 宛て。振り分け設定により ${to} へ配送します`,
      }),
    });
  }
  return out;
}

/** Exact (ASCII case-insensitive) match against the internal domains; no suffix matching. */
export function isInternalDomain(p: CompiledPolicy, domain: string): boolean {
  return p.internalDomains.has(lowerAscii(domain));
}

/** Hosts for an internal domain, or undefined when there is no usable route. */
export function routeFor(p: CompiledPolicy, domain: string): readonly HostPort[] | undefined {
  const hosts = p.routes.get(lowerAscii(domain));
  return hosts && hosts.length > 0 ? hosts : undefined;
}

/** How a client is trusted, or null: a trusted network, or SMTP AUTH. */
export function trustOf(p: CompiledPolicy, clientIp: string, authenticated?: boolean): 'network' | 'auth' | null {
  if (p.trusted.contains(clientIp)) return 'network';
  if (authenticated) return 'auth';
  return null;
}

function trustText(how: 'network' | 'auth', ip: string): Reason {
  return how === 'network'
    ? { en: `client ${ip} is in trusted networks`, ja: `接続元 ${ip} は「中継を許可するネットワーク」に含まれます` }
    : { en: `client ${ip} authenticated`, ja: `接続元 ${ip} は認証済みです` };
}

const MODE_TEXT: Record<'delay' | 'approval', Reason> = {
  delay: { en: 'delays external mail', ja: '一時保留（送信ディレイ）' },
  approval: { en: 'holds external mail for approval', ja: '上長承認' },
};

/** The reason, plus the automatic Bcc the account adds to external mail. */
function withBcc(a: Account, r: Reason): Reason {
  const bcc = a.bcc ?? [];
  if (bcc.length === 0) return r;
  return { en: `${r.en}; a Bcc copy also goes to ${bcc.join(', ')}`, ja: `${r.ja}。BCC自動追加: ${bcc.join('、')} にも写しを送ります` };
}

/** The reason of a decision nobody asked to explain (see PolicyInput.explain). */
const NO_REASON: Readonly<Reason> = Object.freeze({ en: '', ja: '' });

// Shared options for checkAddressSyntax (one allocation per process, not per call).
const ASCII_ONLY: SyntaxOptions = Object.freeze({ smtputf8: false });
const UTF8_OK: SyntaxOptions = Object.freeze({ smtputf8: true });

/** Address of a From: header entry: the part in angle brackets when there is one. */
function bareAddress(s: string): string {
  const lt = s.lastIndexOf('<');
  if (lt < 0) return s.trim();
  const gt = s.indexOf('>', lt);
  return s.slice(lt + 1, gt < 0 ? undefined : gt).trim();
}

/** MAIL FROM: null sender and well-formed addresses pass; relay tricks get 553 5.1.7. */
export function decideSender(p: CompiledPolicy, input: SenderInput): Decision {
  const { sender } = input;
  const ex = input.explain === true; // see decideRecipient
  if (sender === '') {
    return ruleDecision(p, 'sender-ok', { sender }, ex ? {
      en: 'Null sender (bounce) accepted',
      ja: '空の送信者（エラーメール）を受け付けました',
    } : NO_REASON);
  }
  const bad = checkAddressSyntax(sender, { smtputf8: input.smtputf8 === true });
  if (bad) {
    return ruleDecision(p, 'address-syntax', { sender }, ex ? {
      en: `Sender <${sender}> refused: ${bad}`,
      ja: `送信者 <${sender}> のアドレス書式を受け付けません（${bad}）`,
    } : NO_REASON, { enhanced: '5.1.7' });
  }
  return ruleDecision(p, 'sender-ok', { sender }, ex ? {
    en: `Sender <${sender}> accepted`,
    ja: `送信者 <${sender}> を受け付けました`,
  } : NO_REASON);
}

/** RCPT TO, per recipient: address-syntax, inbound / no-route, relay-denied, block-external, relay. */
export function decideRecipient(p: CompiledPolicy, input: PolicyInput): Decision {
  const { sender, recipient, clientIp } = input;
  // All three keys from the start: one object shape for every decision.
  const vars: ReplyVars = { sender, recipient, account: undefined };
  const syntax = input.smtputf8 === true ? UTF8_OK : ASCII_ONLY;
  // The bilingual explanation only when asked (tester, `gatehouse check`): the SMTP path logs
  // the rule and the reply, never the reason (~8% of a decision in bench/micro.mjs policy).
  const ex = input.explain === true;

  // 1. Syntax that enables relay tricks (recipient first, then a non-null sender).
  const badRcpt = checkAddressSyntax(recipient, syntax);
  if (badRcpt) {
    return decision(p, 'address-syntax', vars, ex ? {
      en: `Recipient <${recipient}> refused: ${badRcpt}`,
      ja: `宛先 <${recipient}> のアドレス書式を受け付けません（${badRcpt}）`,
    } : NO_REASON);
  }
  if (sender !== '') {
    const badSender = checkAddressSyntax(sender, syntax);
    if (badSender) {
      return decision(p, 'address-syntax', vars, ex ? {
        en: `Sender <${sender}> refused: ${badSender}`,
        ja: `送信者 <${sender}> のアドレス書式を受け付けません（${badSender}）`,
      } : NO_REASON, '5.1.7');
    }
  }

  // 2. Internal recipient: route it, or ask the client to retry while the admin adds a route.
  const internal = p.inbound.get(domainOf(recipient));
  if (internal) return decision(p, internal.rule, vars, ex ? internal.reason : NO_REASON);

  // 3. External recipient from an untrusted client: never an open relay.
  const how = trustOf(p, clientIp, input.authenticated);
  if (!how) {
    return decision(p, 'relay-denied', vars, ex ? {
      en: `<${recipient}> is external and client ${clientIp} is neither in trusted networks nor authenticated`,
      ja: `中継の制限: <${recipient}> は運用ドメインではなく、接続元 ${clientIp} は「中継を許可するネットワーク」に含まれず認証もしていません`,
    } : NO_REASON);
  }

  // 4. External recipient, trusted client: the sender's account decides.
  if (sender === '') {
    const trust = ex ? trustText(how, clientIp) : null;
    return decision(p, 'relay', vars, trust ? {
      en: `Null sender (bounce) relayed to <${recipient}>; ${trust.en}`,
      ja: `空の送信者（エラーメール）を <${recipient}> へ中継します。${trust.ja}`,
    } : NO_REASON);
  }
  const governing = p.accounts.lookup(sender);
  if (!governing) {
    const trust = ex ? trustText(how, clientIp) : null;
    return decision(p, 'relay', vars, trust ? {
      en: `No account rule for <${sender}>; relayed to <${recipient}>; ${trust.en}`,
      ja: `<${sender}> に該当するアカウント設定はありません。<${recipient}> へ中継します。${trust.ja}`,
    } : NO_REASON);
  }
  const account = governing.account.pattern;
  vars.account = account;
  const mode = externalMode(governing.account);
  if (mode === 'relay') {
    return decision(p, 'relay', vars, ex ? withBcc(governing.account, {
      en: `Account ${account} may send externally; relayed to <${recipient}>`,
      ja: `アカウント ${account} は外部へ送信できます。<${recipient}> へ中継します`,
    }) : NO_REASON, undefined, account);
  }
  if (onAllowList(governing.allow, recipient)) {
    if (mode === 'block') {
      return decision(p, 'relay', vars, ex ? withBcc(governing.account, {
        en: `Account ${account} blocks external sending, but <${recipient}> is on its allow-list`,
        ja: `アカウント ${account} は「外部への送信を禁止」ですが、<${recipient}> は許可リストにあります`,
      }) : NO_REASON, undefined, account);
    }
    const what = MODE_TEXT[mode];
    return decision(p, 'relay', vars, ex ? withBcc(governing.account, {
      en: `Account ${account} ${what.en}, but <${recipient}> is on its allow-list; relayed at once`,
      ja: `アカウント ${account} は「${what.ja}」ですが、<${recipient}> は許可リストにあるため、すぐに中継します`,
    }) : NO_REASON, undefined, account);
  }
  if (mode === 'delay') {
    const r = outboundRule(governing.account);
    return decision(p, 'delay', vars, ex ? withBcc(governing.account, {
      en: `Accepted; the external copy to <${recipient}> waits ${r.delayMinutes} min (account ${account}: the sender may cancel it or send it at once); colleagues get it at once`,
      ja: `受け付けます。<${recipient}> 宛ての外部向けは ${r.delayMinutes} 分保留します（アカウント ${account}。送信者は取り消しや今すぐ送信ができます）。社内宛てはすぐに配送します`,
    }) : NO_REASON, undefined, account);
  }
  if (mode === 'approval') {
    const r = outboundRule(governing.account);
    const who = [...r.approvers, ...(r.standIn ? [`${r.standIn} (stand-in)`] : [])].join(', ');
    const whoJa = [...r.approvers, ...(r.standIn ? [`${r.standIn}（代理）`] : [])].join('、');
    return decision(p, 'hold-approval', vars, ex ? withBcc(governing.account, {
      en: `Accepted; external copy to <${recipient}> held for approval by ${who} (account ${account}; rejected with a DSN after ${r.expireHours} h without a decision); colleagues get it at once`,
      ja: `受け付けます。<${recipient}> 宛ての外部向けは ${whoJa} の承認待ちで保留します（アカウント ${account}。${r.expireHours} 時間以内に承認されなければエラーメールで差し戻します）。社内宛てはすぐに配送します`,
    }) : NO_REASON, undefined, account);
  }
  return decision(p, 'block-external', vars, ex ? {
    en: `Account ${account} blocks external sending and <${recipient}> is not on its allow-list`,
    ja: `アカウント ${account} は「外部への送信を禁止」に設定されており、<${recipient}> は許可リストにありません`,
  } : NO_REASON, undefined, account);
}

/**
 * After DATA: a header From governed by a blockExternal account, with any external recipient
 * not on that account's allow-list, rejects the message. Applied whatever the client's trust
 * (untrusted clients cannot have external recipients by now anyway).
 */
export function decideHeaderFrom(p: CompiledPolicy, input: HeaderFromInput): Decision {
  const external = input.recipients.filter((r) => !isInternalDomain(p, splitAddress(r).domain));
  for (const raw of input.headerFrom) {
    const from = bareAddress(raw);
    const account = from === '' ? undefined : p.accounts.find(from);
    if (!account || externalMode(account) !== 'block') continue;
    const denied = external.find((r) => !p.accounts.allows(account, r));
    if (denied === undefined) continue;
    return ruleDecision(p, 'block-external-header-from', { sender: from, recipient: denied, account: account.pattern }, {
      en: `Header From <${from}> is governed by account ${account.pattern}, which blocks external sending; <${denied}> is external and not on its allow-list`,
      ja: `ヘッダーの From <${from}> はアカウント ${account.pattern}（外部への送信を禁止）に該当し、宛先 <${denied}> は許可リストにない外部アドレスです`,
    }, { account: account.pattern });
  }
  const d = ruleDecision(p, 'relay', { sender: input.headerFrom.map(bareAddress).join(', ') }, {
    en: 'Header From check passed',
    ja: 'ヘッダーの From の確認を通過しました',
  });
  d.message = '2.6.0 Header From OK';
  return d;
}

/** What a header From asks of a message whose envelope sender is someone else (see headerFromHold). */
export interface HeaderFromHold {
  /** The From: address, and the account (delay or approval mode) that governs it. */
  from: string;
  account: Account;
  mode: 'delay' | 'approval';
  /** The external recipients that account holds (those not on its allow-list). */
  recipients: string[];
}

/**
 * After DATA, the hold side of the header-From check: a From: address governed by an account in
 * `delay` or `approval` mode holds the message's external recipients (not on that account's
 * allow-list) as if that account had sent it, whoever the envelope sender is, so a rewritten
 * envelope cannot take mail past the supervisor. With several such From: addresses the
 * strictest wins (approval over delay). Null when nothing is held. Pure; never throws.
 */
export function headerFromHold(p: CompiledPolicy, headerFrom: readonly string[], recipients: readonly string[]): HeaderFromHold | null {
  let best: HeaderFromHold | null = null;
  for (const raw of headerFrom) {
    const from = bareAddress(raw);
    const account = from === '' ? undefined : p.accounts.find(from);
    if (!account) continue;
    const mode = externalMode(account);
    if (mode !== 'delay' && mode !== 'approval') continue;
    const held = recipients.filter((r) => !isInternalDomain(p, splitAddress(r).domain) && !p.accounts.allows(account, r));
    if (held.length === 0) continue;
    if (!best || (best.mode === 'delay' && mode === 'approval')) best = { from, account, mode, recipients: held };
  }
  return best;
}

/** The "who can send to what" tester (CLI and UI): both stages for one sender/recipient. */
export function check(
  p: CompiledPolicy,
  sender: string,
  recipient: string,
  clientIp: string,
  opts: { authenticated?: boolean; smtputf8?: boolean } = {},
): CheckResult {
  return {
    sender: decideSender(p, { sender, clientIp, smtputf8: opts.smtputf8, explain: true }),
    recipient: decideRecipient(p, { sender, recipient, clientIp, ...opts, explain: true }),
  };
}

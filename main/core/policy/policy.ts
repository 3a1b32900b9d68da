/*
 * The decision (DESIGN.md "The decision"): pure functions, one per SMTP stage, each returning
 * a Decision that names exactly one rule. compilePolicy precomputes everything a check needs
 * from a GatehouseConfig (internal domain set, routes, trusted networks, account index, reply
 * texts); it throws only when the config holds a bad trusted network (the config layer
 * validates first). decideSender / decideRecipient / decideHeaderFrom / check never throw:
 * bad input becomes a reject Decision. Recipient verification against the back end
 * (`recipient-unknown`) is async and done elsewhere; ruleDecision builds its reply so every
 * SMTP reply comes from this one table.
 */
import type {
  Decision,
  GatehouseConfig,
  HostPort,
  PolicyInput,
  ReplyTexts,
  RuleName,
} from '../../shared/types.js';
import { compileAccounts, type AccountIndex } from './accounts.js';
import { checkAddressSyntax, lowerAscii, splitAddress } from './address.js';
import { DEFAULT_REPLIES } from './defaults.js';
import { compileNetworks, type NetworkMatcher } from './networks.js';

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
}

export interface SenderInput {
  sender: string; // '' = null sender
  clientIp: string;
  smtputf8?: boolean;
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
};

const MAX_VAR = 256;
const MAX_MESSAGE = 480; // an SMTP reply line is at most 512 octets with code and CRLF
const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

/** Printable ASCII only: anything else (non-ASCII, CR, LF, NUL, ...) becomes '?'. */
const NOT_PRINTABLE = /[^\x20-\x7e]/;

export function toAsciiReply(s: string): string {
  return NOT_PRINTABLE.test(s) ? s.replace(/[^\x20-\x7e]/g, '?') : s;
}

function substitute(text: string, vars: ReplyVars): string {
  if (!text.includes('{')) return text;
  return text.replace(/\{(account|recipient|sender)\}/g, (_, k: keyof ReplyVars) =>
    (vars[k] ?? '').slice(0, MAX_VAR),
  );
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
  const spec = RULE_REPLIES[rule];
  const template = typeof spec.text === 'string' ? p.replies[spec.text] : spec.text.fixed;
  let text = toAsciiReply(substitute(template, vars)).trim();
  if (!ENHANCED_PREFIX.test(text)) text = `${opts.enhanced ?? spec.enhanced} ${text}`;
  const d: Decision = {
    action: spec.action,
    rule,
    code: spec.code,
    message: text.slice(0, MAX_MESSAGE),
    reason,
  };
  if (opts.account !== undefined) d.account = opts.account;
  return d;
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
  return {
    config: cfg,
    internalDomains: new Set(cfg.internalDomains.map(normalizeDomain)),
    routes,
    trusted: compileNetworks(cfg.trustedNetworks),
    accounts: compileAccounts(cfg.accounts),
    replies,
  };
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

function trustText(how: 'network' | 'auth', ip: string): { en: string; ja: string } {
  return how === 'network'
    ? { en: `client ${ip} is in trusted networks`, ja: `接続元 ${ip} は「中継を許可するネットワーク」に含まれます` }
    : { en: `client ${ip} authenticated`, ja: `接続元 ${ip} は認証済みです` };
}

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
  if (sender === '') {
    return ruleDecision(p, 'sender-ok', { sender }, {
      en: 'Null sender (bounce) accepted',
      ja: '空の送信者（エラーメール）を受け付けました',
    });
  }
  const bad = checkAddressSyntax(sender, { smtputf8: input.smtputf8 === true });
  if (bad) {
    return ruleDecision(p, 'address-syntax', { sender }, {
      en: `Sender <${sender}> refused: ${bad}`,
      ja: `送信者 <${sender}> のアドレス書式を受け付けません（${bad}）`,
    }, { enhanced: '5.1.7' });
  }
  return ruleDecision(p, 'sender-ok', { sender }, {
    en: `Sender <${sender}> accepted`,
    ja: `送信者 <${sender}> を受け付けました`,
  });
}

/** RCPT TO, per recipient: address-syntax, inbound / no-route, relay-denied, block-external, relay. */
export function decideRecipient(p: CompiledPolicy, input: PolicyInput): Decision {
  const { sender, recipient, clientIp } = input;
  const vars: ReplyVars = { sender, recipient };
  const smtputf8 = input.smtputf8 === true;

  // 1. Syntax that enables relay tricks (recipient first, then a non-null sender).
  const badRcpt = checkAddressSyntax(recipient, { smtputf8 });
  if (badRcpt) {
    return ruleDecision(p, 'address-syntax', vars, {
      en: `Recipient <${recipient}> refused: ${badRcpt}`,
      ja: `宛先 <${recipient}> のアドレス書式を受け付けません（${badRcpt}）`,
    });
  }
  if (sender !== '') {
    const badSender = checkAddressSyntax(sender, { smtputf8 });
    if (badSender) {
      return ruleDecision(p, 'address-syntax', vars, {
        en: `Sender <${sender}> refused: ${badSender}`,
        ja: `送信者 <${sender}> のアドレス書式を受け付けません（${badSender}）`,
      }, { enhanced: '5.1.7' });
    }
  }

  // 2. Internal recipient: route it, or ask the client to retry while the admin adds a route.
  const { domain } = splitAddress(recipient);
  if (isInternalDomain(p, domain)) {
    const hosts = routeFor(p, domain);
    if (!hosts) {
      return ruleDecision(p, 'no-route', vars, {
        en: `${domain} is an internal domain but has no route; the client retries (4xx) until one is configured`,
        ja: `運用ドメイン ${domain} の振り分け設定がありません。振り分け設定を追加するまで一時エラー（4xx）で再送を待ちます`,
      });
    }
    const to = hosts.map((h) => `${h.host}:${h.port}`).join(', ');
    return ruleDecision(p, 'inbound', vars, {
      en: `${domain} is an internal domain; routed to ${to}`,
      ja: `運用ドメイン ${domain} 宛て。振り分け設定により ${to} へ配送します`,
    });
  }

  // 3. External recipient from an untrusted client: never an open relay.
  const how = trustOf(p, clientIp, input.authenticated);
  if (!how) {
    return ruleDecision(p, 'relay-denied', vars, {
      en: `<${recipient}> is external and client ${clientIp} is neither in trusted networks nor authenticated`,
      ja: `中継の制限: <${recipient}> は運用ドメインではなく、接続元 ${clientIp} は「中継を許可するネットワーク」に含まれず認証もしていません`,
    });
  }
  const trust = trustText(how, clientIp);

  // 4. External recipient, trusted client: the sender's account decides.
  if (sender === '') {
    return ruleDecision(p, 'relay', vars, {
      en: `Null sender (bounce) relayed to <${recipient}>; ${trust.en}`,
      ja: `空の送信者（エラーメール）を <${recipient}> へ中継します。${trust.ja}`,
    });
  }
  const account = p.accounts.find(sender);
  if (!account) {
    return ruleDecision(p, 'relay', vars, {
      en: `No account rule for <${sender}>; relayed to <${recipient}>; ${trust.en}`,
      ja: `<${sender}> に該当するアカウント設定はありません。<${recipient}> へ中継します。${trust.ja}`,
    });
  }
  const acct = { account: account.pattern };
  if (!account.blockExternal) {
    return ruleDecision(p, 'relay', { ...vars, ...acct }, {
      en: `Account ${account.pattern} may send externally; relayed to <${recipient}>`,
      ja: `アカウント ${account.pattern} は外部へ送信できます。<${recipient}> へ中継します`,
    }, acct);
  }
  if (p.accounts.allows(account, recipient)) {
    return ruleDecision(p, 'relay', { ...vars, ...acct }, {
      en: `Account ${account.pattern} blocks external sending, but <${recipient}> is on its allow-list`,
      ja: `アカウント ${account.pattern} は「外部への送信を禁止」ですが、<${recipient}> は許可リストにあります`,
    }, acct);
  }
  return ruleDecision(p, 'block-external', { ...vars, ...acct }, {
    en: `Account ${account.pattern} blocks external sending and <${recipient}> is not on its allow-list`,
    ja: `アカウント ${account.pattern} は「外部への送信を禁止」に設定されており、<${recipient}> は許可リストにありません`,
  }, acct);
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
    if (!account?.blockExternal) continue;
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

/** The "who can send to what" tester (CLI and UI): both stages for one sender/recipient. */
export function check(
  p: CompiledPolicy,
  sender: string,
  recipient: string,
  clientIp: string,
  opts: { authenticated?: boolean; smtputf8?: boolean } = {},
): CheckResult {
  return {
    sender: decideSender(p, { sender, clientIp, smtputf8: opts.smtputf8 }),
    recipient: decideRecipient(p, { sender, recipient, clientIp, ...opts }),
  };
}

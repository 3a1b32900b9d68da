/*
 * An in-memory stand-in for the core's CommandHandlers, for screenshots and UI tests that
 * must not depend on a real gateway: a small office (test.jp, the back end 192.168.0.102,
 * baito@test.jp blocked), deterministic traffic and logs for "today", a queue, a history.
 * `createFake()` returns the handlers, a `subscribe` for the admin server, `emit` to push
 * events like the core would, and `addLines(n)` to grow the receivelog. The admin server puts
 * the core's dispatcher in front of these handlers, so arguments are checked by the real
 * command schemas; the handlers add only what depends on their state, and throw
 * ApiError('validation' | 'not-found') with coded issues like the core does; nothing else.
 */
import { EventEmitter } from 'node:events';
import { issueAt, problem } from '../../main/shared/issues.js';
import {
  ApiError,
  type ValidationIssue,
  type AuditEntryView,
  type CommandHandlers,
  type ConfigView,
  type EventName,
  type Events,
  type GatewayStatus,
  type LogFilter,
  type OAuthStatus,
  type RouteChoice,
  type RouteHealth,
  type TrafficBucket,
} from '../../main/shared/contract.js';
import { appLayout } from '../../main/core/service/layout.js';
import { describeStep, installPlan } from '../../main/core/service/plan.js';
import type { CheckResult } from '../../main/shared/deliverability.js';
import type { AccountView, Decision, QueueItem, ReceiveLogEntry, Route, RuleName, SenderLogEntry, TlsConfig } from '../../main/shared/types.js';
import { MessageBook, entryMatches, timelineSteps } from '../../main/shared/messages.js';
import { healthOf } from '../../main/shared/health.js';
import { ProblemBook } from '../../main/core/stats/problems.js';
import type { ActionEntry, Actor, DeliveryStatus, HeldItem, MessageTimeline, Notice } from '../../main/shared/contract.js';
import { decidedError } from '../../main/core/outbound/held-queue.js';

export interface Fake {
  handlers: CommandHandlers;
  subscribe: <E extends EventName>(event: E, cb: (data: Events[E]) => void) => () => void;
  emit: <E extends EventName>(event: E, data: Events[E]) => void;
  addLines(n: number): void;
  state: { setupNeeded: boolean; running: boolean; config: ConfigView; portInUse: GatewayStatus['portInUse'] };
  /**
   * Someone else (an approver on the LAN page) decides a held message; the window hears of it
   * only when `announce` is true (false: the event still on its way, the window's list stale).
   */
  decideElsewhere(id: string, action: 'approved' | 'rejected', by: Actor, announce: boolean): void;
  /** Every `auth.setUser` call as received (the fake's stand-in for the core's hashes). */
  authCalls: { username: string; password?: string; addresses: string[] }[];
}

const pad = (n: number) => String(n).padStart(2, '0');
function localDay(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function baseConfig(): ConfigView {
  return {
    listener: { host: '0.0.0.0', port: 25 },
    hostname: 'gw.test.jp',
    trustedNetworks: ['192.168.0.102/32', '127.0.0.1/32'],
    internalDomains: ['test.jp', 'part.test.jp'],
    routes: [
      { domain: 'test.jp', hosts: [{ host: '192.168.0.102', port: 25 }, { host: '192.168.0.104', port: 25 }] },
      { domain: 'part.test.jp', hosts: [{ host: '192.168.0.102', port: 2525 }] },
    ],
    accounts: [
      { pattern: 'baito@test.jp', blockExternal: true, allow: [], note: 'アルバイト（4月〜）' },
      { pattern: '*@part.test.jp', blockExternal: true, allow: ['partner.example', 'boss@customer.example'], note: 'パート全員' },
      { pattern: 'tanaka@test.jp', blockExternal: false, allow: [], note: '営業部' },
    ],
    limits: { maxMessageSize: 25 * 1024 * 1024, maxRecipients: 100, maxClients: 50, maxConnectionsPerIp: 10, idleTimeoutMs: 60_000, dataTimeoutMs: 600_000 },
    replies: {
      blockExternal: '5.7.1 <{sender}> is not allowed to send to external recipients',
      blockExternalHeaderFrom: '5.7.1 From: <{account}> may not send externally',
      relayDenied: '5.7.1 Relaying denied',
      addressSyntax: '5.1.3 Bad address syntax',
      noRoute: '5.1.2 No route for domain',
      recipientUnknown: '5.1.1 User unknown',
      tooManyRecipients: '5.5.3 Too many recipients',
      messageTooBig: '5.3.4 Message too big',
      tooManyClients: '4.7.0 Too many connections',
      tooManyConnectionsFromIp: '4.7.0 Too many connections from your IP',
      badLineEndings: '5.5.2 Bare CR or LF not allowed',
      senderLoginMismatch: 'Sender address <{sender}> is not owned by the authenticated user',
      senderFrozen: '<{sender}> is frozen: it went past its sending limit; ask the administrator to unfreeze it',
    },
    delivery: {
      smarthost: { host: 'smtp.provider.ne.jp', port: 587, security: 'starttls', user: 'office@test.jp', hasPassword: true, allowInvalidCert: false },
      transportOverrides: [],
      retrySchedule: [60, 300, 900, 3600],
      maxLifetimeSeconds: 5 * 86400,
      delayWarningSeconds: 4 * 3600,
      maxConnectionsPerHop: 5,
      maxConnectionsTotal: 20,
      connectTimeoutMs: 30_000,
      verifyRecipients: false,
      verifyPositiveTtlSeconds: 3600,
      verifyNegativeTtlSeconds: 600,
      senderRoutes: [
        { destination: '*', sender: 'ceo@test.jp', hosts: [{ host: 'smtp.office365.com', port: 587 }], auth: 'xoauth2', tls: 'required', hasPassword: false },
        { destination: 'partner.example', sender: 'test.jp', hosts: [{ host: '203.0.113.25', port: 25 }], tls: 'required', hasPassword: false },
      ],
      dnsServers: [],
      tlsCa: [],
      mtaSts: { enabled: true },
      // The CEO's route logs in with XOAUTH2 (Microsoft 365), signed in and working.
      oauth: { provider: 'microsoft', clientId: '0f6c2f55-7d1a-4c1e-9a51-3b2d8e7c4a10', tenant: 'test.jp', user: 'ceo@test.jp', hasClientSecret: false },
    },
    log: { retentionDays: 30 },
    tls: { mode: 'auto', certFile: '', keyFile: '' },
    auth: { enabled: false, users: [] },
    admin: { host: '127.0.0.1', port: 8025 },
    performance: { listenerProcesses: 1 },
    outbound: { bccConvertOver: 0, senderLimits: { enabled: false, messagesPerHour: 200, externalRecipientsPerHour: 500, freeze: 'temporary', exempt: [] }, adminAddress: '' },
    dkim: { keys: [] },
    deliverability: { publicIp: '203.0.113.10', port25Target: null },
    approvalPage: { enabled: false, listen: { host: '0.0.0.0', port: 8443 }, publicUrl: '' },
    notifications: {
      desktop: true,
      mailTo: '',
      routeDown: { enabled: true, failures: 3 },
      queueSize: { enabled: true, messages: 50 },
      nearExpiry: { enabled: true, hours: 12 },
      approvals: { enabled: true, waiting: 1 },
      senderFrozen: { enabled: true },
    },
  };
}

/** A fixed-looking RSA public key for screenshots (the fake makes no real keys). */
const FAKE_P = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' + 'q'.repeat(300) + 'IDAQAB';
const dkimRecord = (domain: string, selector: string, algorithm: 'rsa' | 'ed25519', p: string) => {
  const name = `${selector}._domainkey.${domain}`;
  const value = `v=DKIM1; k=${algorithm}; p=${p}`;
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return { name, value, zoneLine: `${name}. IN TXT ( ${parts.join(' ')} )` };
};

/** What the fake's deliverability check finds for the office: a mix of good, doubtful and missing. */
function doctorResults(cfg: ConfigView): CheckResult[] {
  const out: CheckResult[] = [];
  for (const domain of cfg.internalDomains) {
    const good = domain === 'test.jp';
    out.push(
      good
        ? { check: 'spf', domain, status: 'ok', code: 'spf.ok', params: { domain, via: 'smtp.provider.ne.jp' } }
        : { check: 'spf', domain, status: 'fail', code: 'spf.missing', params: { domain, via: 'smtp.provider.ne.jp' }, record: { name: domain, type: 'TXT', value: 'v=spf1 a:smtp.provider.ne.jp -all', zoneLine: `${domain}. IN TXT ( "v=spf1 a:smtp.provider.ne.jp -all" )` } },
    );
    const keys = cfg.dkim.keys.filter((k) => k.domain === domain);
    if (keys.length === 0) out.push({ check: 'dkim', domain, status: 'warn', code: 'dkim.no-key', params: { domain } });
    for (const k of keys) out.push({ check: 'dkim', domain, status: 'fail', code: 'dkim.missing', params: { domain, selector: k.selector, name: k.record.name, detail: 'ENOTFOUND' }, record: { name: k.record.name, type: 'TXT', value: k.record.value, zoneLine: k.record.zoneLine } });
    out.push(
      good
        ? { check: 'dmarc', domain, status: 'ok', code: 'dmarc.ok', params: { domain, policy: 'none' } }
        : { check: 'dmarc', domain, status: 'fail', code: 'dmarc.missing', params: { domain }, record: { name: `_dmarc.${domain}`, type: 'TXT', value: `v=DMARC1; p=none; rua=mailto:postmaster@${domain}`, zoneLine: `_dmarc.${domain}. IN TXT ( "v=DMARC1; p=none; rua=mailto:postmaster@${domain}" )` } },
    );
    out.push({ check: 'mta-sts', domain, status: 'warn', code: 'mta-sts.none', params: { domain } });
  }
  out.push({ check: 'fcrdns', status: 'warn', code: 'fcrdns.no-ptr', params: { hostname: cfg.hostname, ip: '203.0.113.10' }, record: { name: '10.113.0.203.in-addr.arpa', type: 'PTR', value: `${cfg.hostname}.`, zoneLine: `10.113.0.203.in-addr.arpa. IN PTR ${cfg.hostname}.` } });
  out.push({ check: 'smarthost-login', status: 'ok', code: 'smarthost-login.ok', params: { target: 'smtp.provider.ne.jp:587', method: 'PLAIN' } });
  return out;
}

/** A deterministic pseudo-random sequence (screenshots must not change run to run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const USERS = ['tanaka@test.jp', 'suzuki@test.jp', 'baito@test.jp', 'yamada@test.jp', 'sato@part.test.jp', 'kobayashi@test.jp'];
const EXTERNAL = ['info@customer.example', 'order@partner.example', 'support@vendor.example', 'news@example.com'];

const SUBJECTS = ['見積書の件', '打ち合わせの日程について', 'Re: 請求書の送付', '納品書（4月分）', '会議資料', 'お問い合わせありがとうございます'];

/**
 * One mail transaction as the core logs it: connect, MAIL, each RCPT with its decision, DATA
 * (queued, with the subject) and close, then the delivery attempt in the senderlog. Internal
 * mail goes to the office server (route), external mail through the smarthost; the part-timer's
 * external recipients are refused at RCPT (block-external), an outside client's relay attempt
 * too (relay-denied).
 */
function transaction(i: number, ts: Date, r: () => number): { receive: ReceiveLogEntry[]; send: SenderLogEntry[] } {
  const session = `s${(100000 + i).toString(36)}`;
  const at = (ms: number) => new Date(ts.getTime() + ms).toISOString();
  const spam = r() < 0.04;
  const clientIp = spam ? '203.0.113.9' : '192.168.0.102';
  const base = { session, clientIp, tls: false, trusted: !spam } as const;
  const receive: ReceiveLogEntry[] = [{ ts: at(0), event: 'connect', ...base }];
  if (spam) {
    receive.push({ ts: at(20), event: 'mail', ...base, helo: 'bad.example', txn: 1, sender: 'spam@bad.example', decision: 'accept', rule: 'sender-ok', code: 250, reply: '250 2.1.0 Ok' });
    receive.push({ ts: at(40), event: 'rcpt', ...base, helo: 'bad.example', txn: 1, sender: 'spam@bad.example', recipient: 'someone@elsewhere.example', decision: 'reject', rule: 'relay-denied', code: 554, reply: '554 5.7.1 Relaying denied' });
    receive.push({ ts: at(60), event: 'close', ...base });
    return { receive, send: [] };
  }
  const sender = USERS[Math.floor(r() * USERS.length)]!;
  const n = r() < 0.25 ? 2 : 1;
  const rcpts: string[] = [];
  for (let k = 0; k < n; k++) {
    const external = r() < 0.6;
    const a = external ? EXTERNAL[Math.floor(r() * EXTERNAL.length)]! : USERS[Math.floor(r() * USERS.length)]!;
    if (!rcpts.includes(a)) rcpts.push(a);
  }
  const line = { ...base, helo: 'mail.test.jp', txn: 1, sender };
  receive.push({ ts: at(10), event: 'mail', ...line, decision: 'accept', rule: 'sender-ok', code: 250, reply: '250 2.1.0 Ok' });
  const accepted: string[] = [];
  rcpts.forEach((rcpt, k) => {
    const external = !rcpt.endsWith('test.jp');
    const blocked = external && (sender === 'baito@test.jp' || sender.endsWith('@part.test.jp')) && !rcpt.endsWith('@partner.example');
    if (blocked) {
      receive.push({ ts: at(20 + k), event: 'rcpt', ...line, recipient: rcpt, decision: 'reject', rule: 'block-external', account: sender.endsWith('@part.test.jp') ? '*@part.test.jp' : sender, code: 550, reply: `550 5.7.1 <${sender}> is not allowed to send to external recipients` });
    } else {
      accepted.push(rcpt);
      receive.push({ ts: at(20 + k), event: 'rcpt', ...line, recipient: rcpt, decision: 'accept', rule: external ? 'relay' : 'inbound', code: 250, reply: '250 2.1.5 Ok' });
    }
  });
  const send: SenderLogEntry[] = [];
  if (accepted.length) {
    const queueId = `${(ts.getTime()).toString(36).padStart(8, '0').slice(-8)}-${(i % 1679616).toString(36).padStart(4, '0')}-${(i * 7919 % 1679616).toString(36).padStart(4, '0')}`;
    const subject = SUBJECTS[i % SUBJECTS.length]!;
    receive.push({ ts: at(200), event: 'data', ...line, recipients: accepted, decision: 'accept', code: 250, reply: `250 2.0.0 Ok: queued as ${queueId}`, queueId, size: 4000 + (i % 50) * 1000, subject, messageId: `<${i}.${session}@mail.test.jp>` });
    const external = accepted.filter((a) => !a.endsWith('test.jp'));
    const internal = accepted.filter((a) => a.endsWith('test.jp'));
    const deferred = i % 17 === 5;
    if (internal.length) {
      send.push({ ts: at(800), queueId, attempt: 1, sender, recipients: internal, hop: '192.168.0.102:25', via: 'route', tls: false, outcome: 'delivered', code: 250, reply: '250 2.0.0 Ok: queued', durationMs: 120 + (i % 9) * 37, perRecipient: internal.map((x) => ({ recipient: x, code: 250, reply: '250 2.0.0 Ok', outcome: 'delivered' as const })) });
    }
    if (external.length) {
      send.push(
        deferred
          ? { ts: at(900), queueId, attempt: 1, sender, recipients: external, hop: 'smtp.provider.ne.jp:587', via: 'smarthost', tls: true, outcome: 'deferred', code: 451, reply: '451 4.4.1 Connection timed out', durationMs: 30000, nextAttemptAt: at(300_000), perRecipient: external.map((x) => ({ recipient: x, code: 451, reply: '451 4.4.1 Connection timed out', outcome: 'deferred' as const })) }
          : { ts: at(900), queueId, attempt: 1, sender, recipients: external, hop: 'smtp.provider.ne.jp:587', via: 'smarthost', tls: true, outcome: 'delivered', code: 250, reply: '250 2.0.0 OK queued', durationMs: 300 + (i % 9) * 41, perRecipient: external.map((x) => ({ recipient: x, code: 250, reply: '250 2.0.0 OK', outcome: 'delivered' as const })) },
      );
    }
  }
  receive.push({ ts: at(300), event: 'close', ...base });
  return { receive, send };
}

export interface FakeOptions {
  setupNeeded?: boolean;
  /** Receivelog lines of today (default 400). */
  lines?: number;
  /** Minimal lines (for the million-line test: ~80 bytes each). */
  tiny?: boolean;
  /** log.page returns up to limit x boost lines (the UI treats pages as opaque). */
  pageBoost?: number;
  now?: Date;
  /** The XOAUTH2 login's state to start with (default: in use by the CEO's route, signed in, working). */
  oauth?: OAuthStatus;
}

export function createFake(opts: FakeOptions = {}): Fake {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const now = opts.now ?? new Date();
  const today = localDay(now);
  const r = rng(42);
  const state = { setupNeeded: opts.setupNeeded ?? false, running: true, config: baseConfig(), portInUse: null as GatewayStatus['portInUse'] };
  let startedAt = new Date(now.getTime() - 3 * 3600_000).toISOString();

  // Receivelog of today: `lines` entries spread over the day so far, whole transactions.
  const receive: ReceiveLogEntry[] = [];
  const send: SenderLogEntry[] = [];
  const dayStart = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const span = Math.max(1, now.getTime() - dayStart);
  const nLines = opts.lines ?? 400;
  let txn = 0;
  /** Lines of the next transactions, handed out one at a time (addLines). */
  let spare: ReceiveLogEntry[] = [];
  const nextLines = (count: number, ts: (k: number) => Date): ReceiveLogEntry[] => {
    const out: ReceiveLogEntry[] = [];
    while (out.length < count) {
      if (spare.length === 0) {
        const t = transaction(txn++, ts(out.length), r);
        spare = t.receive;
        send.push(...t.send);
      }
      out.push(spare.shift()!);
    }
    return out;
  };
  if (opts.tiny) {
    for (let i = 0; i < nLines; i++) receive.push({ ts: new Date(dayStart + (span * i) / nLines).toISOString(), event: 'rcpt', session: String(i), clientIp: '10.0.0.1', tls: false });
  } else {
    receive.push(...nextLines(nLines, (k) => new Date(dayStart + (span * (receive.length + k)) / nLines)));
    spare = [];
  }
  const days = [today, localDay(new Date(now.getTime() - 86400_000)), localDay(new Date(now.getTime() - 2 * 86400_000))];

  let accounts: AccountView[] = [
    ...state.config.accounts.map((a, i) => ({ ...a, configured: true, messages: [42, 7, 310][i] ?? 0, firstSeen: '2025-04-01T09:00:00.000Z', lastSeen: new Date(now.getTime() - (i + 1) * 600_000).toISOString() })),
    { pattern: 'suzuki@test.jp', blockExternal: false, allow: [], note: '', configured: false, messages: 128, firstSeen: '2025-04-02T09:00:00.000Z', lastSeen: new Date(now.getTime() - 120_000).toISOString() },
    { pattern: 'yamada@test.jp', blockExternal: false, allow: [], note: '', configured: false, messages: 56, firstSeen: '2025-04-03T09:00:00.000Z', lastSeen: new Date(now.getTime() - 3_600_000).toISOString() },
  ];

  let queue: QueueItem[] = [
    { id: 'Q2K9F1', receivedAt: new Date(now.getTime() - 40 * 60_000).toISOString(), sender: 'tanaka@test.jp', recipients: ['order@partner.example'], pending: ['order@partner.example'], size: 48_213, state: 'deferred', attempts: 3, nextAttemptAt: new Date(now.getTime() + 15 * 60_000).toISOString(), lastError: 'order@partner.example: connect ECONNREFUSED 192.0.2.25:25', subject: '見積書の件（再送）' },
    { id: 'Q2K9G7', receivedAt: new Date(now.getTime() - 5 * 60_000).toISOString(), sender: 'suzuki@test.jp', recipients: ['a@customer.example', 'b@customer.example'], pending: ['b@customer.example'], size: 1_204_551, state: 'queued', attempts: 1, subject: '新製品カタログの送付' },
    { id: 'Q2K9H3', receivedAt: new Date(now.getTime() - 2 * 3600_000).toISOString(), sender: 'yamada@test.jp', recipients: ['big@vendor.example'], pending: ['big@vendor.example'], size: 18_400_000, state: 'hold', attempts: 0, subject: '図面データ一式' },
  ];
  // The queued messages' own lines, so their timelines show how they got there.
  if (!opts.tiny) {
    for (const q of queue) {
      const t0 = Date.parse(q.receivedAt);
      const session = `q${q.id.toLowerCase()}`;
      const at = (ms: number) => new Date(t0 + ms).toISOString();
      const base = { session, clientIp: '192.168.0.102', tls: false, trusted: true } as const;
      const line = { ...base, helo: 'mail.test.jp', txn: 1, sender: q.sender };
      receive.push({ ts: at(-300), event: 'connect', ...base }, { ts: at(-200), event: 'mail', ...line, decision: 'accept', rule: 'sender-ok', code: 250, reply: '250 2.1.0 Ok' });
      q.recipients.forEach((rc, k) => receive.push({ ts: at(-100 + k), event: 'rcpt', ...line, recipient: rc, decision: 'accept', rule: 'relay', code: 250, reply: '250 2.1.5 Ok' }));
      receive.push({ ts: at(0), event: 'data', ...line, recipients: q.recipients, decision: 'accept', code: 250, reply: `250 2.0.0 Ok: queued as ${q.id}`, queueId: q.id, size: q.size, subject: q.subject, messageId: `<${q.id}@mail.test.jp>` });
      if (q.id === 'Q2K9F1') {
        for (let k = 1; k <= 3; k++) {
          send.push({ ts: at(k * 600_000), queueId: q.id, attempt: k, sender: q.sender, recipients: q.recipients, hop: '192.0.2.25:25', mx: 'mx.partner.example', via: 'mx', tls: false, outcome: 'deferred', reply: 'connect ECONNREFUSED 192.0.2.25:25', durationMs: 12, nextAttemptAt: at((k + 1) * 600_000 + 900_000), perRecipient: [{ recipient: 'order@partner.example', reply: 'connect ECONNREFUSED 192.0.2.25:25', outcome: 'deferred' }] });
        }
      }
      if (q.id === 'Q2K9G7') {
        send.push({ ts: at(2000), queueId: q.id, attempt: 1, sender: q.sender, recipients: q.recipients, hop: 'smtp.provider.ne.jp:587', via: 'smarthost', tls: true, outcome: 'partial', code: 250, reply: '250 2.0.0 OK', durationMs: 640, nextAttemptAt: at(302_000), perRecipient: [{ recipient: 'a@customer.example', code: 250, reply: '250 2.0.0 OK', outcome: 'delivered' }, { recipient: 'b@customer.example', code: 452, reply: '452 4.2.2 Mailbox full', outcome: 'deferred' }] });
      }
    }
    receive.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    send.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  }
  // The same grouping the core uses, over the fake's lines: timelines and search answer alike.
  const book = () => {
    const b = new MessageBook();
    const all: (ReceiveLogEntry | SenderLogEntry)[] = [...receive, ...send].sort((a, c) => (a.ts < c.ts ? -1 : a.ts > c.ts ? 1 : 0));
    for (const e of all) b.add(e);
    return b;
  };
  // Held for approval: baito's mail to a customer, and a part-timer's with no subject.
  let approvals: HeldItem[] = [
    {
      id: 'H7Q2M4',
      kind: 'approval',
      receivedAt: new Date(now.getTime() - 25 * 60_000).toISOString(),
      sender: 'baito@test.jp',
      account: 'baito@test.jp',
      recipients: ['info@customer.example'],
      until: new Date(now.getTime() + 23 * 3600_000).toISOString(),
      approvers: ['boss@test.jp'],
      standIn: 'sub@test.jp',
      size: 184_320,
      preview: {
        subject: '見積書の送付（株式会社カスタマー様）',
        from: '"アルバイト 山本" <baito@test.jp>',
        to: ['info@customer.example'],
        cc: ['tanaka@test.jp'],
        attachments: [{ name: '見積書_2025.pdf', size: 176_128, type: 'application/pdf' }],
        text: '株式会社カスタマー\nご担当者様\n\nいつもお世話になっております。\nご依頼の見積書をお送りします。\nご確認のほどよろしくお願いいたします。',
        more: true,
      },
    },
    {
      id: 'H7Q2P9',
      kind: 'approval',
      receivedAt: new Date(now.getTime() - 5 * 60_000).toISOString(),
      sender: 'sato@part.test.jp',
      account: '*@part.test.jp',
      recipients: ['support@vendor.example', 'news@example.com'],
      until: new Date(now.getTime() + 7 * 3600_000).toISOString(),
      approvers: ['boss@test.jp', 'kanri@test.jp'],
      standIn: '',
      size: 2_048,
      preview: { subject: '', from: 'sato@part.test.jp', to: ['support@vendor.example'], cc: [], attachments: [], text: '', more: false },
    },
  ];
  /** Decisions made so far (by held id), for the refusal of a second one. */
  const decided = new Map<string, ActionEntry>();
  const decide = (id: string, action: 'approved' | 'rejected', by: Actor = { via: 'ui' }, announce = true) => {
    const before = decided.get(id);
    if (before) throw decidedError(id, before);
    const item = approvals.find((a) => a.id === id);
    if (!item) throw new ApiError(`no held message ${id}`, 'not-found');
    decided.set(id, { n: decided.size + 1, at: new Date().toISOString(), action, by, subject: id, sender: item.sender, recipients: item.recipients });
    approvals = approvals.filter((a) => a.id !== id);
    if (!announce) return;
    emit('approvals', approvals);
    emit('status', status());
  };
  let paused = false;
  let heldDomains: { domain: string; since: string }[] = [];
  const deliveryStatus = (): DeliveryStatus => ({
    paused,
    ...(paused ? { pausedAt: new Date(now.getTime() - 600_000).toISOString(), pausedVia: 'ui' as const } : {}),
    heldDomains,
    durable: true,
    queue: { total: queue.length, deferred: queue.filter((q) => q.state === 'deferred').length, hold: queue.filter((q) => q.state === 'hold').length },
  });

  const authCalls: Fake['authCalls'] = [];
  const history: AuditEntryView[] = [];
  const record = (via: AuditEntryView['via'], what: string, before: ConfigView | null) => {
    history.push({ n: history.length + 1, at: new Date().toISOString(), via, what, before, after: structuredClone(state.config) });
  };
  record('default', 'defaults', null);
  if (!state.setupNeeded) {
    const b = structuredClone(state.config);
    history[0]!.at = new Date(now.getTime() - 7 * 86400_000).toISOString();
    record('setup', 'first-run setup', b);
    history[1]!.at = new Date(now.getTime() - 7 * 86400_000 + 60_000).toISOString();
    record('ui', 'block baito@test.jp', structuredClone(state.config));
    history[2]!.at = new Date(now.getTime() - 2 * 86400_000).toISOString();
  }

  const emit = <E extends EventName>(event: E, data: Events[E]) => void events.emit(event, data);
  const change = (what: string, mutate: (c: ConfigView) => void) => {
    const before = structuredClone(state.config);
    mutate(state.config);
    record('ui', what, before);
    emit('config', structuredClone(state.config));
    emit('accounts', structuredClone(accounts));
  };
  const accountsChanged = (what: string) => change(what, () => undefined);

  const health = (): RouteHealth[] => [
    { hop: '192.168.0.102:25', via: 'route', state: 'ok', lastSuccess: new Date(now.getTime() - 60_000).toISOString(), consecutiveFailures: 0 },
    { hop: '192.168.0.104:25', via: 'route', state: 'failing', lastFailure: new Date(now.getTime() - 300_000).toISOString(), lastError: 'connect ECONNREFUSED 192.168.0.104:25', consecutiveFailures: 4 },
    { hop: 'smtp.provider.ne.jp:587', via: 'smarthost', state: 'ok', lastSuccess: new Date(now.getTime() - 30_000).toISOString(), consecutiveFailures: 0 },
  ];
  const counts = () => {
    const t = { accepted: 0, rejected: 0, deferred: 0, bounced: 0, delivered: 0 };
    for (const e of receive) {
      if (e.decision === 'accept') t.accepted++;
      if (e.decision === 'reject') t.rejected++;
    }
    for (const e of send) {
      if (e.outcome === 'delivered') t.delivered++;
      if (e.outcome === 'deferred') t.deferred++;
    }
    t.bounced = 2;
    return t;
  };

  const service: { state: 'not-installed' | 'running' | 'stopped' } = { state: 'not-installed' };
  const status = (): GatewayStatus => ({
    running: state.running,
    // After "run as a Windows service" the real app relaunches as the service's remote control.
    role: service.state === 'not-installed' ? 'desktop' : 'service',
    listen: state.running ? { host: '0.0.0.0', port: 25 } : null,
    listenerProcesses: state.running ? 2 : 0,
    configured: state.config.listener,
    startedAt: state.running ? startedAt : null,
    error: null,
    configProblem: null,
    portInUse: state.portInUse,
    dataDir: 'C:\\ProgramData\\Gatehouse',
    logDir: 'C:\\ProgramData\\Gatehouse\\logs',
    today: counts(),
    queue: { total: queue.length, deferred: queue.filter((q) => q.state === 'deferred').length, hold: queue.filter((q) => q.state === 'hold').length },
    delivery: { paused, heldDomains: heldDomains.map((d) => d.domain) },
    outbound: { approvals: approvals.length, delayed: 0, frozen: 0 },
    health: healthOf({
      running: state.running,
      error: null,
      configProblem: null,
      paused,
      heldDomains: heldDomains.map((d) => d.domain),
      queueTotal: queue.length,
      routes: health(),
      groups: [
        { name: 'test.jp', hops: ['192.168.0.102:25', '192.168.0.104:25'] },
        { name: 'smtp.provider.ne.jp:587', hops: ['smtp.provider.ne.jp:587'] },
      ],
      failures: 3,
      queueThreshold: 50,
    }),
  });

  const match = (e: ReceiveLogEntry | SenderLogEntry, f?: LogFilter) => {
    if (!f) return true;
    if ('event' in e) {
      if (f.decision && e.decision !== f.decision) return false;
      if (f.rule && e.rule !== f.rule) return false;
    } else if (f.decision === 'accept' ? e.outcome !== 'delivered' : f.decision === 'reject' ? e.outcome === 'delivered' : false) return false;
    return !f.text || JSON.stringify(e).toLowerCase().includes(f.text.toLowerCase());
  };

  const trusted = (ip: string) => state.config.trustedNetworks.some((n) => n.split('/')[0] === ip);
  const internal = (addr: string) => state.config.internalDomains.includes(addr.split('@')[1]?.toLowerCase() ?? '');
  const decision = (action: 'accept' | 'reject', rule: RuleName, code: number, message: string, en: string, ja: string, account?: string): Decision => ({ action, rule, code, message, account, reason: { en, ja } });

  let oauth: OAuthStatus = opts.oauth ?? { configured: true, provider: 'microsoft', user: 'ceo@test.jp', inUse: true, signedIn: true, signedInAt: new Date(now.getTime() - 3 * 86400_000).toISOString(), flow: null, token: { ok: true } };
  const handlers: CommandHandlers = {
    'status': async () => status(),
    'gateway.start': async () => {
      state.running = true;
      startedAt = new Date().toISOString();
      emit('status', status());
      return status();
    },
    'gateway.stop': async () => {
      state.running = false;
      emit('status', status());
      return status();
    },
    'stats.traffic': async () => {
      const hours: TrafficBucket[] = [];
      for (let h = 0; h < 24; h++) {
        const start = new Date(now.getFullYear(), now.getMonth(), now.getDate(), h).toISOString();
        const work = h >= 8 && h <= 19 && h <= now.getHours();
        // Every hour up to now has some mail (the night's a little): the chart has bars
        // whatever the hour the test runs, also between 00:00 and 01:00.
        const a = work ? 20 + ((h * 37) % 45) : h <= now.getHours() ? 1 + ((h * 7) % 4) : 0;
        hours.push({ start, accepted: a, rejected: work ? 2 + (h % 5) : 0, deferred: work && h % 4 === 1 ? 3 : 0, bounced: 0, delivered: a });
      }
      const week: TrafficBucket[] = [];
      for (let d = 6; d >= 0; d--) {
        const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() - d);
        const weekend = day.getDay() === 0 || day.getDay() === 6;
        const a = weekend ? 12 + d : 380 + ((d * 53) % 120);
        week.push({ start: day.toISOString(), accepted: a, rejected: weekend ? 3 : 25 + d * 3, deferred: weekend ? 0 : 6 + (d % 3) * 4, bounced: d % 3 === 0 ? 1 : 0, delivered: a });
      }
      return {
        today: hours,
        week,
        recentErrors: [
          { ts: new Date(now.getTime() - 4 * 60_000).toISOString(), text: 'baito@test.jp -> info@customer.example: rejected (550 5.7.1)', rule: 'block-external' },
          { ts: new Date(now.getTime() - 35 * 60_000).toISOString(), text: 'smtp.provider.ne.jp:587: connection timed out; Q2K9F1 deferred' },
          { ts: new Date(now.getTime() - 80 * 60_000).toISOString(), text: '203.0.113.9 -> someone@elsewhere.example: relaying denied', rule: 'relay-denied' },
        ],
        problems: (() => {
          const p = new ProblemBook();
          for (const e of [...receive, ...send].sort((a, c) => (a.ts < c.ts ? -1 : 1))) {
            if ('event' in e) p.addReceive(e);
            else p.addSend(e);
          }
          return p.list();
        })(),
      };
    },
    'setup.needed': async () => state.setupNeeded,
    'setup.complete': async (input) => {
      change('first-run setup', (c) => {
        c.trustedNetworks = [`${input.officeServer.host}/32`];
        c.internalDomains = input.domains;
        c.routes = input.domains.map((domain) => ({ domain, hosts: [{ ...input.officeServer }] }));
        if (input.outbound.mode === 'direct') c.delivery.smarthost = null;
      });
      state.setupNeeded = false;
      state.running = true;
      return state.config;
    },
    'config.get': async () => state.config,
    'config.set': async ({ key, value }) => {
      // A listener move to a free port: the gateway starts there.
      if (key === 'listener' && state.portInUse) {
        state.portInUse = null;
        state.running = true;
        emit('status', status());
      }
      change(`set ${key}`, (c) => {
        if (key === 'delivery') c.delivery = { ...(value as Omit<ConfigView['delivery'], 'smarthost' | 'senderRoutes' | 'oauth'>), smarthost: c.delivery.smarthost, senderRoutes: c.delivery.senderRoutes, oauth: c.delivery.oauth };
        else (c as unknown as Record<string, unknown>)[key] = value;
      });
      return state.config;
    },
    'config.setSmarthost': async (input) => {
      change('set smarthost', (c) => {
        c.delivery.smarthost = input
          ? {
              host: input.host,
              port: input.port ?? (input.security === 'tls' ? 465 : 587),
              security: input.security ?? 'starttls',
              user: input.user ?? '',
              allowInvalidCert: input.allowInvalidCert ?? false,
              hasPassword: Boolean(input.password) || Boolean(c.delivery.smarthost?.hasPassword),
            }
          : null;
      });
      return state.config;
    },
    'accounts.list': async () => accounts,
    'accounts.setBlock': async ({ pattern, block }) => {
      const a = accounts.find((x) => x.pattern === pattern);
      if (!a) throw new ApiError(`no account ${pattern}`, 'not-found');
      accounts = accounts.map((x) => (x.pattern === pattern ? { ...x, blockExternal: block, configured: true } : x));
      accountsChanged(`${block ? 'block' : 'unblock'} ${pattern}`);
      return accounts;
    },
    'accounts.setAllow': async ({ pattern, allow }) => {
      accounts = accounts.map((x) => (x.pattern === pattern ? { ...x, allow, configured: true } : x));
      accountsChanged(`allow-list of ${pattern}`);
      return accounts;
    },
    'accounts.save': async ({ original, account }) => {
      if (!original && accounts.some((a) => a.configured && a.pattern === account.pattern)) {
        throw new ApiError('Account not added', 'validation', [issueAt('accounts[0].pattern', problem('account_exists', { pattern: account.pattern }))]);
      }
      const rest = accounts.filter((a) => a.pattern !== (original ?? account.pattern) && a.pattern !== account.pattern);
      accounts = [...rest, { ...account, configured: true, messages: 0 }];
      accountsChanged(`save account ${account.pattern}`);
      return accounts;
    },
    'accounts.remove': async ({ pattern }) => {
      accounts = accounts.filter((a) => a.pattern !== pattern);
      accountsChanged(`remove account ${pattern}`);
      return accounts;
    },
    'accounts.import': async ({ csv }) => {
      const lines = csv.replace(/^\uFEFF/, '').trim().split(/\r?\n/).slice(1);
      for (const l of lines) {
        const [pattern = '', block = '', allow = '', note = ''] = l.split(',');
        accounts = [...accounts.filter((a) => a.pattern !== pattern), { pattern, blockExternal: block === 'true', allow: allow ? allow.split(';') : [], note, configured: true, messages: 0 }];
      }
      accountsChanged(`import ${lines.length} accounts`);
      return { imported: lines.length };
    },
    'accounts.export': async () => ({
      csv: '\uFEFFpattern,blockExternal,allow,note\r\n' + accounts.filter((a) => a.configured).map((a) => `${a.pattern},${a.blockExternal},${a.allow.join(';')},${a.note}`).join('\r\n') + '\r\n',
    }),
    'routes.set': async ({ routes, senderRoutes }) => {
      change('edit routes', (c) => {
        c.routes = routes;
        if (senderRoutes) {
          c.delivery.senderRoutes = senderRoutes.map(({ password, ...r }) => {
            const old = c.delivery.senderRoutes.find((o) => o.destination === r.destination && (o.sender ?? '') === (r.sender ?? ''));
            return { ...r, hasPassword: r.auth === 'password' && (Boolean(password) || Boolean(old?.hasPassword)) };
          });
        }
      });
      return state.config;
    },
    'routes.import': async ({ text, mode }) => {
      const routes: Route[] = [];
      const issues: ValidationIssue[] = [];
      let n = 0;
      for (const raw of text.split(/\r?\n/)) {
        n++;
        const line = raw.trim();
        if (!line || line.startsWith('#')) continue;
        const [domain, host, port] = line.split(',').map((s) => s.trim());
        if (!domain || !host || !port || !/^\d+$/.test(port)) {
          issues.push({ path: `line ${n}`, line: n, ...problem('dat_fields', { text: line }) });
          continue;
        }
        let r = routes.find((x) => x.domain === domain);
        if (!r) routes.push((r = { domain, hosts: [] }));
        r.hosts.push({ host, port: Number(port) });
      }
      if (issues.length) throw new ApiError(`Gateway.dat has ${issues.length} bad line(s); nothing imported`, 'validation', issues);
      change(`import Gateway.dat (${routes.length} domains, ${mode})`, (c) => {
        c.routes = mode === 'replace' ? routes : [...c.routes.filter((x) => !routes.some((y) => y.domain === x.domain)), ...routes];
      });
      return { imported: routes.length, routes: state.config.routes, senderRoutes: state.config.delivery.senderRoutes };
    },
    'routes.export': async () => ({ text: state.config.routes.flatMap((r) => r.hosts.map((h) => `${r.domain}, ${h.host}, ${h.port}`)).join('\r\n') + '\r\n' }),
    'routes.health': async (): Promise<RouteHealth[]> => health(),
    // The fake's route choice: a sender route for its sender (or any sender), the smarthost, or MX.
    'routes.which': async ({ sender, recipient }): Promise<RouteChoice> => {
      const c = state.config;
      const domain = (recipient.split('@')[1] ?? '').toLowerCase();
      if (c.internalDomains.includes(domain)) {
        const r = c.routes.find((x) => x.domain === domain);
        return r ? { via: 'route', domain, internal: true, hosts: r.hosts, tls: r.tls ?? 'opportunistic', auth: 'none' } : { via: 'no-route', domain, internal: true, hosts: [], tls: 'opportunistic', auth: 'none' };
      }
      const s = sender.toLowerCase();
      const score = (r: (typeof c.delivery.senderRoutes)[number]) =>
        (r.destination === domain ? 10 : r.destination === '*' ? 0 : -100) + (!r.sender ? 0 : r.sender === s ? 2 : s.endsWith(`@${r.sender}`) ? 1 : -100);
      const best = c.delivery.senderRoutes.filter((r) => score(r) >= 0).sort((a, b) => score(b) - score(a))[0];
      if (best) return { via: 'sender-route', domain, internal: false, hosts: best.hosts, senderRoute: { destination: best.destination, ...(best.sender ? { sender: best.sender } : {}) }, tls: best.tls ?? 'opportunistic', auth: best.auth ?? 'none' };
      const sh = c.delivery.smarthost;
      if (sh) return { via: 'smarthost', domain, internal: false, hosts: [{ host: sh.host, port: sh.port }], tls: 'required', auth: sh.auth === 'xoauth2' ? 'xoauth2' : 'password' };
      return { via: 'mx', domain, internal: false, hosts: [], tls: 'mta-sts', auth: 'none' };
    },

    'dkim.generate': async ({ domain, selector, algorithm }) => {
      if (state.config.dkim.keys.some((k) => k.domain === domain && k.selector === selector)) {
        throw new ApiError('selector: exists', 'validation', [issueAt('selector', problem('dkim_key_exists', { domain, selector }))]);
      }
      const p = algorithm === 'ed25519' ? '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' : FAKE_P;
      const key = { domain, selector, algorithm, publicKey: p, createdAt: now.toISOString(), record: dkimRecord(domain, selector, algorithm, p) };
      change(`generate DKIM key ${selector}._domainkey.${domain} (${algorithm})`, (c) => void c.dkim.keys.push(key));
      return key;
    },
    'dkim.show': async ({ domain }) => ({
      domain,
      keys: state.config.dkim.keys.filter((k) => k.domain === domain).map((k) => ({ ...k, published: { status: 'missing' as const, detail: 'ENOTFOUND' } })),
    }),
    'dkim.remove': async ({ domain, selector }) => {
      change(`remove DKIM key ${selector}._domainkey.${domain}`, (c) => void (c.dkim.keys = c.dkim.keys.filter((k) => !(k.domain === domain && k.selector === selector))));
      return state.config;
    },
    'doctor.run': async () => ({ ranAt: now.toISOString(), dns: '', results: doctorResults(state.config) }),

    'oauth.set': async (input) => {
      change(input ? `set the XOAUTH2 login for ${input.user}` : 'remove the XOAUTH2 login', (c) => {
        if (!input) c.delivery.oauth = null;
        else {
          const { clientSecret, ...rest } = input;
          c.delivery.oauth = { ...rest, hasClientSecret: Boolean(clientSecret) || Boolean(c.delivery.oauth?.hasClientSecret) };
        }
      });
      oauth = { ...oauth, configured: !!input, provider: input?.provider, user: input?.user, signedIn: false, flow: null };
      emit('oauth', oauth);
      return state.config;
    },
    'oauth.start': async ({ flow }) => {
      if (!state.config.delivery.oauth) throw new ApiError('no login', 'validation', [issueAt('', problem('oauth_not_configured'))]);
      const expiresAt = new Date(Date.now() + 15 * 60_000).toISOString();
      oauth = {
        ...oauth,
        flowError: undefined,
        // The browser sign-in goes nowhere real: a test must not send a browser to the internet.
        flow: flow === 'device' ? { kind: 'device', userCode: 'GH7K-2QPL', verificationUri: 'https://microsoft.com/devicelogin', expiresAt } : { kind: 'browser', url: 'about:blank#provider-sign-in', expiresAt },
      };
      emit('oauth', oauth);
      return oauth;
    },
    'oauth.cancel': async () => {
      oauth = { ...oauth, flow: null, flowError: { code: 'cancelled', message: 'sign-in cancelled' } };
      emit('oauth', oauth);
      return oauth;
    },
    'oauth.status': async () => oauth,

    'log.tail': async ({ kind, n }) => (kind === 'send' ? send : receive).slice(-n),
    'log.days': async () => days,
    'log.page': async ({ kind, day, before, limit, filter }) => {
      const all: (ReceiveLogEntry | SenderLogEntry)[] = day === today ? (kind === 'send' ? send : receive) : [];
      // `before` is an index here (the core uses byte offsets; the UI treats it as opaque).
      let i = Math.min(before ?? all.length, all.length);
      const out: (ReceiveLogEntry | SenderLogEntry)[] = [];
      const want = limit * (opts.pageBoost ?? 1);
      while (i > 0 && out.length < want) {
        const e = all[--i]!;
        if (match(e, filter)) out.push(e);
      }
      return { entries: out.reverse(), nextBefore: i > 0 ? i : null };
    },
    'queue.list': async (args) => queue.filter((q) => (!args || !args.state || q.state === args.state) && (!args || !args.text || JSON.stringify(q).includes(args.text))),
    'queue.show': async ({ id }) => {
      const item = queue.find((q) => q.id === id);
      if (!item) throw new ApiError(`no message ${id} in the queue`, 'not-found');
      return { item, headers: `From: <${item.sender}>\r\nTo: ${item.recipients.join(', ')}\r\nSubject: 見積書の件\r\nDate: ${new Date(item.receivedAt).toUTCString()}\r\n`, failed: item.lastError ? [{ rcpt: item.pending[0]!, code: 451, reply: item.lastError }] : [] };
    },
    'queue.retry': async () => undefined,
    'queue.hold': async ({ id }) => void (queue = queue.map((q) => (q.id === id ? { ...q, state: 'hold' } : q))),
    'queue.release': async ({ id }) => void (queue = queue.map((q) => (q.id === id ? { ...q, state: 'queued' } : q))),
    'queue.delete': async ({ id }) => void (queue = queue.filter((q) => q.id !== id)),
    'queue.bounce': async ({ id }) => void (queue = queue.filter((q) => q.id !== id)),
    'check': async ({ sender, recipient, clientIp }) => {
      const s = decision('accept', 'sender-ok', 250, '2.1.0 OK', 'Sender accepted', '送信者を受け付けました');
      if (internal(recipient)) return { sender: s, recipient: decision('accept', 'inbound', 250, '2.1.5 OK', 'Internal recipient with a route', '運用ドメイン宛て') };
      if (!trusted(clientIp)) return { sender: s, recipient: decision('reject', 'relay-denied', 554, '5.7.1 Relaying denied', 'Client not trusted', '中継が許可されていないクライアント') };
      const acc = accounts.find((a) => a.configured && a.blockExternal && (a.pattern === sender || (a.pattern.startsWith('*@') && sender.endsWith(a.pattern.slice(1)))));
      if (acc && !acc.allow.some((x) => recipient.endsWith(x))) {
        return { sender: s, recipient: decision('reject', 'block-external', 550, `5.7.1 <${sender}> is not allowed to send to external recipients`, `Account ${acc.pattern} may not send outside the office`, `アカウント ${acc.pattern} は外部への送信が禁止されています`, acc.pattern) };
      }
      const held = accounts.find((a) => a.configured && (a.mode === 'approval' || a.mode === 'delay') && a.pattern === sender);
      if (held?.mode === 'approval') {
        const who = (held.approvers ?? []).join(', ');
        return { sender: s, recipient: decision('accept', 'hold-approval', 250, `2.1.5 Recipient <${recipient}> OK, held for approval`, `Accepted; external copy to <${recipient}> held for approval by ${who}; colleagues get it at once`, `受け付けます。<${recipient}> 宛ての外部向けは ${who} の承認待ちで保留します。社内宛てはすぐに配送します`, held.pattern) };
      }
      if (held?.mode === 'delay') {
        return { sender: s, recipient: decision('accept', 'delay', 250, `2.1.5 Recipient <${recipient}> OK, delayed`, `Accepted; the external copy waits ${held.delayMinutes ?? 5} min`, `受け付けます。外部向けは ${held.delayMinutes ?? 5} 分保留します`, held.pattern) };
      }
      return { sender: s, recipient: decision('accept', 'relay', 250, '2.1.5 OK', 'Trusted client, relayed', '中継を許可') };
    },
    'auth.setEnabled': async ({ enabled }) => {
      change(`${enabled ? 'enable' : 'disable'} SMTP AUTH`, (c) => void (c.auth.enabled = Boolean(enabled)));
      return state.config;
    },
    // Like the core: a new user needs a password, a password has 8+ characters, names and
    // addresses follow the schema (issues at `auth.users[n]...`). The fake keeps no hash, but
    // records what it was sent so a test can see the password was (or was not) sent.
    'auth.setUser': async ({ username, password, addresses }) => {
      const name = username;
      authCalls.push({ username: name, addresses, ...(password !== undefined ? { password } : {}) });
      const users = state.config.auth.users;
      const existing = users.findIndex((u) => u.username.toLowerCase() === name.toLowerCase());
      if (existing < 0 && !password) throw new ApiError('password: is required for a new user', 'validation', [issueAt('password', problem('password_needed'))]);
      const n = existing < 0 ? users.length : existing;
      change(`set SMTP AUTH user ${name}`, (c) => {
        const u = c.auth.users[n];
        if (u) u.addresses = addresses;
        else c.auth.users.push({ username: name, addresses });
      });
      return state.config;
    },
    'auth.removeUser': async ({ username }) => {
      change(`remove SMTP AUTH user ${username}`, (c) => {
        c.auth.users = c.auth.users.filter((u) => u.username.toLowerCase() !== String(username).toLowerCase());
      });
      return state.config;
    },

    'domains.add': async ({ domain }) => {
      change(`add domain ${domain}`, (c) => void c.internalDomains.push(domain));
      return state.config;
    },
    'domains.remove': async ({ domain }) => {
      change(`remove domain ${domain}`, (c) => void (c.internalDomains = c.internalDomains.filter((d) => d !== domain)));
      return state.config;
    },
    'trusted.add': async ({ cidr }) => {
      change(`add CIDR ${cidr}`, (c) => void c.trustedNetworks.push(cidr));
      return state.config;
    },
    'trusted.remove': async ({ cidr }) => {
      change(`remove CIDR ${cidr}`, (c) => void (c.trustedNetworks = c.trustedNetworks.filter((d) => d !== cidr)));
      return state.config;
    },

    // Outbound controls: enough for the screens to load (the approvals screen fills these in).
    'accounts.setMode': async ({ pattern, mode, ...rest }) => {
      accounts = accounts.map((x) => (x.pattern === pattern ? { ...x, ...rest, mode, blockExternal: mode === 'block', configured: true } : x));
      accountsChanged(`external mode of ${pattern}: ${mode}`);
      return accounts;
    },
    'accounts.setBcc': async ({ pattern, bcc }) => {
      accounts = accounts.map((x) => (x.pattern === pattern ? { ...x, bcc, configured: true } : x));
      accountsChanged(`automatic Bcc of ${pattern}`);
      return accounts;
    },
    'accounts.frozen': async () => [],
    'accounts.unfreeze': async ({ address }) => {
      throw new ApiError(`${address} is not frozen`, 'not-found');
    },
    // Mail waiting for approval; a decision takes it off the list (the core's event), and a
    // second decision on the same message is refused with the core's own 'conflict'.
    'approvals.list': async () => approvals,
    'approvals.approve': async ({ id }) => {
      decide(id, 'approved');
      return { id, queueId: `${id}-A` };
    },
    'approvals.reject': async ({ id }) => {
      decide(id, 'rejected');
      return { id };
    },
    'queue.delayed': async () => [],
    'queue.sendNow': async ({ id }) => {
      throw new ApiError(`no held message ${id}`, 'not-found');
    },
    'queue.cancel': async ({ id }) => {
      throw new ApiError(`no held message ${id}`, 'not-found');
    },
    'history.actions': async () => [],
    'messages.timeline': async ({ ref }): Promise<MessageTimeline> => {
      const found = book().get(ref);
      if (!found) throw new ApiError(`no message ${ref} in the logs or the queue`, 'not-found', [], { ref });
      const q = queue.find((x) => x.id === found.summary.queueId);
      const out: MessageTimeline = {
        summary: found.summary,
        steps: timelineSteps(found.lines),
        client: { ip: found.summary.clientIp ?? '192.168.0.102', helo: 'mail.test.jp', tls: false, trusted: true },
        attachments: q ? ['見積書_2025.pdf', '仕様書.xlsx'] : [],
        bounces: [],
      };
      if (q) out.queue = q;
      return out;
    },
    'messages.search': async ({ text, limit }) => {
      const b = book();
      const messages = b
        .list()
        .filter((m) => (b.get(m.ref)?.lines ?? []).some((l) => entryMatches(l, text)))
        .reverse();
      const max = limit ?? 100;
      return { messages: messages.slice(0, max), truncated: messages.length > max, days: 3, scannedBytes: 1_234_567, elapsedMs: 42 };
    },
    'delivery.status': async () => deliveryStatus(),
    'delivery.pause': async () => {
      paused = true;
      emit('delivery', deliveryStatus());
      emit('status', status());
      return deliveryStatus();
    },
    'delivery.resume': async () => {
      paused = false;
      emit('delivery', deliveryStatus());
      emit('status', status());
      return deliveryStatus();
    },
    'delivery.hold': async ({ domain }) => {
      if (!heldDomains.some((d) => d.domain === domain)) heldDomains = [...heldDomains, { domain, since: new Date().toISOString() }];
      emit('delivery', deliveryStatus());
      emit('status', status());
      return deliveryStatus();
    },
    'delivery.release': async ({ domain }) => {
      heldDomains = heldDomains.filter((d) => d.domain !== domain);
      emit('delivery', deliveryStatus());
      emit('status', status());
      return deliveryStatus();
    },
    'notices.test': async (): Promise<Notice> => {
      const n: Notice = { id: `t${Date.now()}`, ts: new Date().toISOString(), kind: 'test', level: 'ok', params: {} };
      emit('notice', n);
      return n;
    },

    'history.list': async () => [...history].reverse(),
    'history.restore': async ({ n }) => {
      const e = history.find((h) => h.n === n);
      if (!e) throw new ApiError(`no change #${n}`, 'not-found');
      const before = structuredClone(state.config);
      state.config = structuredClone(e.after);
      record('restore', `restore change #${n} (${e.what})`, before);
      emit('config', state.config);
      return state.config;
    },

    // A Windows PC seen from the desktop app: the service's state is kept here.
    'service.status': async () => ({
      supported: true,
      state: service.state,
      dataDir: 'C:\\ProgramData\\Gatehouse',
      answeredBy: 'desktop' as const,
      administrators: service.state === 'not-installed' ? [] : ['OFFICE\\kanri'],
    }),
    'service.install': async (a) => {
      if (!a?.dryRun) {
        service.state = 'running';
        emit('status', status());
      }
      // The plan as the core prints it (plan.ts is pure: the real steps for this fake PC).
      const layout = appLayout('C:\\Program Files\\Gatehouse', 'C:\\ProgramData\\Gatehouse');
      const steps = installPlan({ layout, dataDir: 'C:\\ProgramData\\Gatehouse', smtpPort: 25, admin: { name: 'OFFICE\\kanri', sid: 'S-1-5-21-1-2-3-1001' }, moveFrom: 'C:\\Users\\kanri\\AppData\\Roaming\\Gatehouse', env: { SystemRoot: 'C:\\Windows' } });
      return { dryRun: Boolean(a?.dryRun), steps: steps.map(describeStep), done: [], notes: [] };
    },
    'service.uninstall': async (a) => {
      if (!a?.dryRun) {
        service.state = 'not-installed';
        emit('status', status());
      }
      return { dryRun: Boolean(a?.dryRun), steps: [], done: [], notes: [] };
    },
    'service.start': async () => {
      service.state = 'running';
      return { dryRun: false, steps: [], done: [], notes: [] };
    },
    'service.stop': async () => {
      service.state = 'stopped';
      return { dryRun: false, steps: [], done: [], notes: [] };
    },
    'service.firewall': async (a) => ({ dryRun: a.dryRun, steps: [], done: [], notes: [] }),
  };

  return {
    handlers,
    subscribe: (event, cb) => {
      events.on(event, cb);
      return () => void events.off(event, cb);
    },
    emit,
    addLines(n: number) {
      const start = receive.length;
      void start;
      for (const e of nextLines(n, () => new Date())) {
        e.ts = new Date().toISOString();
        receive.push(e);
        emit('receivelog', e);
      }
    },
    state,
    authCalls,
    decideElsewhere: (id, action, by, announce) => decide(id, action, by, announce),
  };
}

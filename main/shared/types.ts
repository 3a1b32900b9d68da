/*
 * Plain-JSON data shapes shared by the core, the CLI, the HTTP/IPC transports and the UI.
 * Nothing here imports Node or Electron; nothing here carries a secret (passwords never
 * leave the core).
 */
import type { DeliverabilitySettings, DkimSettings, MtaStsSettings, OAuthSettings, RouteTls, SenderRoute } from './deliverability.js';

/** host:port of a next hop (office server, smarthost, transport override). */
export interface HostPort {
  host: string;
  port: number;
}

/** Gateway.dat semantics: first host is the primary, the rest are failover in order. */
export interface Route {
  domain: string;
  hosts: HostPort[];
  /** `required`: no delivery to these hosts without TLS and a verified certificate. Absent = opportunistic. */
  tls?: RouteTls;
}

/** An address (`baito@test.jp`) or wildcard pattern (`*@part.test.jp`, `baito*@test.jp`). */
export interface Account {
  pattern: string;
  blockExternal: boolean;
  /** External domains (`partner.example`) or addresses (`a@partner.example`) still allowed. */
  allow: string[];
  note: string;
  /**
   * What happens to external recipients (誤送信防止). Stored with every account once the config
   * has been saved; a file without it (older versions) means `blockExternal ? 'block' : 'relay'`.
   * `blockExternal` mirrors `mode === 'block'`; when the two disagree the stricter wins (block).
   * See main/shared/outbound.ts.
   */
  mode?: ExternalMode;
  /** delay: minutes external recipients wait (the sender may cancel or send at once). */
  delayMinutes?: number;
  /** approval: who may approve (internal addresses); the stand-in approves too. */
  approvers?: string[];
  standIn?: string;
  /** approval: hours before a message nobody decided on is rejected with a DSN. */
  expireHours?: number;
  /** Automatic Bcc of external mail (envelope only): added once per message with an external recipient. */
  bcc?: string[];
}

/** External-sending modes: relay (default), delay N minutes, hold for approval, block (550 at RCPT). */
export type ExternalMode = 'relay' | 'delay' | 'approval' | 'block';

/** Outbound controls that are not per account (誤送信防止). */
export interface OutboundConfig {
  /** Rewrite To/Cc to an undisclosed-recipients group when a message has more external To/Cc addresses than this; 0 = off. */
  bccConvertOver: number;
  /** Per-sender limits for mail from trusted clients (hijack detection). */
  senderLimits: SenderLimits;
  /** Internal address that gets notices about frozen senders; '' = none (the window and tray still show them). */
  adminAddress: string;
}

export interface SenderLimits {
  enabled: boolean;
  /** Messages per sender in any 60 minutes; 0 = no limit. */
  messagesPerHour: number;
  /** External recipients per sender in any 60 minutes; 0 = no limit. */
  externalRecipientsPerHour: number;
  /** What a frozen sender gets: 'temporary' = 451 4.7.1 (the office server retries), 'permanent' = 550 5.7.1 (it bounces). */
  freeze: 'temporary' | 'permanent';
  /** Addresses or patterns never counted (a newsletter sender). */
  exempt: string[];
}

/**
 * The approval page on the office LAN (承認ページ): an approver at another PC opens the link in
 * a notice and approves or rejects that one message; a sender of delayed mail cancels it or
 * sends it now. Off by default. HTTPS with the STARTTLS certificate when `tls` has one.
 */
export interface ApprovalPageConfig {
  enabled: boolean;
  /** Where it listens: a LAN address of this PC ('0.0.0.0' = every address) and a port. */
  listen: HostPort;
  /** The page's address as the approvers' PCs reach it (`https://192.168.0.103:8443`); '' = made from `listen`. */
  publicUrl: string;
}

export interface Limits {
  /** Bytes; advertised in EHLO SIZE and enforced on the actual stream. */
  maxMessageSize: number;
  maxRecipients: number;
  maxClients: number;
  maxConnectionsPerIp: number;
  /** Idle socket timeout between commands / data chunks. */
  idleTimeoutMs: number;
  /** Total deadline for one DATA phase, however the client trickles. */
  dataTimeoutMs: number;
}

/** SMTP reply texts (ASCII). `{account}`, `{recipient}`, `{sender}` are substituted. */
export interface ReplyTexts {
  blockExternal: string;
  blockExternalHeaderFrom: string;
  relayDenied: string;
  addressSyntax: string;
  noRoute: string;
  recipientUnknown: string;
  tooManyRecipients: string;
  messageTooBig: string;
  tooManyClients: string;
  tooManyConnectionsFromIp: string;
  badLineEndings: string;
  senderLoginMismatch: string;
  senderFrozen: string;
}

/** STARTTLS for the SMTP listener. */
export interface TlsConfig {
  /** 'auto': a self-signed certificate made at first run in <data>/tls; 'files': the admin's own; 'off': no STARTTLS. */
  mode: 'auto' | 'files' | 'off';
  /** PEM files for mode 'files' (absolute, or relative to the data folder). */
  certFile: string;
  keyFile: string;
}

/** A user for SMTP AUTH (clients outside the trusted networks, only after STARTTLS). */
export interface AuthUser {
  username: string;
  /** scrypt hash (`scrypt$N$r$p$salt$hash`, base64); the password itself is never stored. */
  passwordHash: string;
  /** The addresses (or patterns) this login may use in MAIL FROM and From:. */
  addresses: string[];
}

export interface AuthConfig {
  enabled: boolean;
  users: AuthUser[];
}

export interface SmarthostConfig {
  host: string;
  port: number;
  /** 'starttls' = plain then STARTTLS (required), 'tls' = implicit TLS (465), 'none' = no TLS. */
  security: 'starttls' | 'tls' | 'none';
  user: string;
  /** Stored sealed (`enc:v1:...`, see core/config/secrets.ts); never sent to a UI (DTOs carry `hasPassword`). */
  password: string;
  /** Accept a self-signed certificate (tests, some provider boxes). */
  allowInvalidCert: boolean;
  /** 'xoauth2': log in with the XOAUTH2 login (`delivery.oauth`) instead of user and password; absent = password. */
  auth?: 'password' | 'xoauth2';
}

export interface DeliveryConfig {
  /** null: direct delivery by MX. */
  smarthost: SmarthostConfig | null;
  /** domain -> host:port, overriding MX/smarthost for that domain. */
  transportOverrides: Route[];
  /** Retry schedule in seconds; the last value repeats. */
  retrySchedule: number[];
  maxLifetimeSeconds: number;
  /** 0 disables the delay warning DSN. */
  delayWarningSeconds: number;
  maxConnectionsPerHop: number;
  maxConnectionsTotal: number;
  connectTimeoutMs: number;
  /** Probe the office server with RCPT for inbound mail from untrusted clients. */
  verifyRecipients: boolean;
  verifyPositiveTtlSeconds: number;
  verifyNegativeTtlSeconds: number;
  /** Routes with sender conditions (E-Post's extended Gateway.dat): external mail, before the smarthost and MX. */
  senderRoutes: SenderRoute[];
  /** DNS servers (`ip` or `ip:port`) for delivery and the checks; empty = the system's. */
  dnsServers: string[];
  /** Extra trust anchors (PEM) for servers' certificates, besides the built-in ones. */
  tlsCa: string[];
  /** MTA-STS policies of receiving domains, for direct delivery. */
  mtaSts: MtaStsSettings;
  /** The XOAUTH2 login (Microsoft 365, Google Workspace) for the smarthost and routes with auth xoauth2. */
  oauth: OAuthSettings | null;
}

export interface GatehouseConfig {
  listener: HostPort;
  /** Name used in the greeting, Received: headers and DSNs. */
  hostname: string;
  trustedNetworks: string[];
  internalDomains: string[];
  routes: Route[];
  accounts: Account[];
  limits: Limits;
  replies: ReplyTexts;
  delivery: DeliveryConfig;
  log: { retentionDays: number };
  tls: TlsConfig;
  auth: AuthConfig;
  /** Admin HTTP host (headless): loopback only. */
  admin: HostPort;
  performance: PerformanceConfig;
  outbound: OutboundConfig;
  /** DKIM signing keys, per From: domain. */
  dkim: DkimSettings;
  /** What the deliverability check needs to know (public address, where to test port 25). */
  deliverability: DeliverabilitySettings;
  approvalPage: ApprovalPageConfig;
  notifications: NotificationConfig;
}

/**
 * When the gateway tells the admin that something needs them: a desktop notification and,
 * when `mailTo` is set, a mail (from the null sender, so it can never bounce back in a loop).
 * Each condition has its threshold and its own off switch.
 */
export interface NotificationConfig {
  /** Desktop notifications (the Windows notification area) from the desktop app. */
  desktop: boolean;
  /** Also mail each notice to this address ('' = no mail). */
  mailTo: string;
  /** A next hop (route server, smarthost) failed this many times in a row. */
  routeDown: { enabled: boolean; failures: number };
  /** The queue holds this many messages or more. */
  queueSize: { enabled: boolean; messages: number };
  /** A message is this many hours from being given up (maxLifetime). */
  nearExpiry: { enabled: boolean; hours: number };
  /** This many messages wait for an approver (outbound approval). */
  approvals: { enabled: boolean; waiting: number };
  /** A sender was frozen by an outbound limit. */
  senderFrozen: { enabled: boolean };
}

export interface PerformanceConfig {
  /**
   * Processes accepting SMTP on the listener, the main one included. 1 (the default) suits an
   * office: lowest memory and latency. 2 lets receiving use another CPU core, which helps only
   * where cores are to spare (on the 2-core bench machine it did not: bench/README.md), at the
   * cost of one more process (~70-100 MB).
   */
  listenerProcesses: number;
}

/** Where a config change came from (audit trail). */
export type ChangeVia = 'cli' | 'ui' | 'api' | 'file' | 'setup' | 'restore' | 'default' | 'service';

export interface AuditEntry {
  n: number;
  at: string;
  via: ChangeVia;
  /** What changed, in English (the CLI prints it). */
  what: string;
  /** The same as a code and parameters (main/shared/audit.ts), for the window to word; absent in older entries. */
  whatCode?: string;
  whatParams?: Record<string, string | number>;
  before: GatehouseConfig | null;
  after: GatehouseConfig;
}

/** Rule names: public interface (logs, CLI, UI filters). */
export type RuleName =
  | 'address-syntax'
  | 'inbound'
  | 'no-route'
  | 'recipient-unknown'
  | 'relay-denied'
  | 'block-external'
  | 'block-external-header-from'
  | 'relay'
  | 'sender-ok'
  | 'sender-login-mismatch'
  | 'too-many-recipients'
  | 'message-too-big'
  | 'bad-line-endings'
  | 'too-many-clients'
  | 'too-many-connections-from-ip'
  | 'storage-error'
  // outbound controls (誤送信防止): main/core/outbound
  | 'delay'
  | 'hold-approval'
  | 'approved'
  | 'rejected-by-approver'
  | 'approval-expired'
  | 'delay-cancelled'
  | 'delay-sent-now'
  | 'bcc-added'
  | 'bcc-convert'
  | 'sender-frozen';

export interface Decision {
  action: 'accept' | 'reject';
  rule: RuleName;
  /** SMTP reply code, e.g. 250, 550, 554, 451. */
  code: number;
  /** The full reply text after the code, ASCII, e.g. `5.7.1 <baito@test.jp> is not allowed ...`. */
  message: string;
  /** The account (pattern) that decided, when one did. */
  account?: string;
  /**
   * Human explanation for the tester and `gatehouse check`, English and Japanese. Empty
   * ('' / '') for decideSender / decideRecipient unless the input asked `explain: true`.
   */
  reason: { en: string; ja: string };
}

/** What the policy needs to know about one recipient check. */
export interface PolicyInput {
  sender: string; // '' = null sender
  recipient: string;
  clientIp: string;
  /** Client authenticated with SMTP AUTH (counts as trusted). */
  authenticated?: boolean;
  /** Client used SMTPUTF8 in MAIL FROM (allows non-ASCII). */
  smtputf8?: boolean;
  /**
   * Build the bilingual reason. The tester and `gatehouse check` ask for it; the SMTP path
   * does not (it logs the rule and the reply), and its decisions carry an empty reason.
   */
  explain?: boolean;
}

export type ReceiveEvent =
  | 'connect'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'auth'
  | 'reject-connection'
  | 'close'
  | 'error'
  /** The service itself: listener started or stopped (not an error). */
  | 'service'
  /** A decision on held or delayed mail (approved, rejected, expired, cancelled, sent now). */
  | 'hold';

/** One receivelog line. */
export interface ReceiveLogEntry {
  ts: string;
  event: ReceiveEvent;
  session: string;
  clientIp: string;
  clientHost?: string;
  helo?: string;
  tls: boolean;
  auth?: string;
  trusted?: boolean;
  sender?: string;
  recipient?: string;
  /** From: header address (DATA stage). */
  headerFrom?: string;
  recipients?: string[];
  decision?: 'accept' | 'reject';
  rule?: RuleName;
  account?: string;
  code?: number;
  reply?: string;
  queueId?: string;
  size?: number;
  error?: string;
  /** Text of a 'service' line (e.g. `listening on 127.0.0.1:2525`), or what an outbound control did. */
  note?: string;
  /** 'hold' lines: who decided (`cli`, `ui`, `lan boss@test.jp`, `timer`). */
  by?: string;
  /** 'hold' lines of an approval or a send-now: the queue id of the copy sent on (its attempts are the message's). */
  released?: string;
  /**
   * The mail transaction within the session (1 for the first MAIL FROM, 2 after the next...):
   * on mail, rcpt and data lines, so a refused RCPT is tied to the message its session queued.
   */
  txn?: number;
  /** Subject: of an accepted message (data line), RFC 2047 decoded. */
  subject?: string;
  /** Message-ID: of an accepted message (data line). */
  messageId?: string;
}

/** One senderlog line: one delivery attempt to one next hop. */
export interface SenderLogEntry {
  ts: string;
  queueId: string;
  attempt: number;
  sender: string;
  recipients: string[];
  hop: string; // host:port
  mx?: string;
  /** sender-route: a route with a sender condition (E-Post's extended Gateway.dat). */
  via: 'route' | 'smarthost' | 'mx' | 'override' | 'sender-route' | 'dsn';
  tls: boolean;
  outcome: 'delivered' | 'deferred' | 'bounced' | 'partial' | 'expired';
  code?: number;
  reply?: string;
  durationMs: number;
  nextAttemptAt?: string;
  /** Set on bookkeeping lines an outbound control made (`rejected-by-approver`, `approval-expired`). */
  rule?: RuleName;
  perRecipient?: { recipient: string; code?: number; reply?: string; outcome: 'delivered' | 'deferred' | 'bounced' }[];
  /** DKIM: `d=test.jp s=s1` when the bytes sent were signed, `error: ...` when signing failed. */
  dkim?: string;
  /** Lines over 998 octets that were folded before sending (the message had them). */
  foldedLines?: number;
  /** The session's TLS version (`TLSv1.3`), when it ran TLS. */
  tlsVersion?: string;
  /** The server's certificate chain and name were verified (false: encrypted, but not authenticated). */
  tlsVerified?: boolean;
  /** Why the certificate did not verify (e.g. DEPTH_ZERO_SELF_SIGNED_CERT). */
  tlsVerifyError?: string;
  /** A TLS requirement applied to this hop (MTA-STS policy or route `tls: required`) and whether it was met. */
  tlsPolicy?: { source: 'mta-sts' | 'route'; mode: 'enforce' | 'testing' | 'none' | 'required'; id?: string; ok: boolean; reason?: string };
  /** Queue id of the bounce (DSN) this attempt spooled for its failed recipients. */
  dsn?: string;
  /** Queue id of the delay warning (DSN) spooled after this attempt. */
  delayDsn?: string;
}

/** A queued message as shown by `queue list` and the UI. */
export type QueueState = 'queued' | 'active' | 'deferred' | 'hold';

export interface QueueItem {
  id: string;
  receivedAt: string;
  sender: string;
  recipients: string[];
  /** Recipients still to deliver. */
  pending: string[];
  size: number;
  state: QueueState;
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  /** Subject: as received, decoded (messages spooled before it was recorded have none). */
  subject?: string;
}

/** An account as listed: configured and/or discovered from traffic. */
export interface AccountView extends Account {
  configured: boolean;
  firstSeen?: string;
  lastSeen?: string;
  messages: number;
}

export interface SeenStats {
  firstSeen: string;
  lastSeen: string;
  messages: number;
}

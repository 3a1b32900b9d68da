/*
 * The one typed contract between the core and any UI or CLI. A command is its argument
 * schema (command-args.ts, which gives the argument types) plus one line in `Results`
 * here; the core's command table, the dispatcher, the HTTP and IPC transports, the CLI and
 * the renderer's api module are all typed from them, so the compiler finds every side.
 * Arguments and results are plain JSON. Errors cross as data (`ApiResult`) and become real
 * `ApiError`s again on the other side; validation errors carry issues with a code, params
 * and the English message (issues.ts). No secret ever appears here: passwords, DKIM private
 * keys and the OAuth client secret are write-only (views carry `has...` flags), and the OAuth
 * refresh token never leaves the core.
 */
import type { ArgsOf, CheckedArgsOf, CommandName } from './command-args.js';
import type { CheckResult, DkimAlgorithm, DkimKey, DkimRecord, OAuthProvider, OAuthSettings, RouteAuth, RouteTls, SenderRoute } from './deliverability.js';
import type { ValidationIssue } from './issues.js';
import type { ActionEntry, FrozenSender, HeldItem } from './outbound.js';
import type { Health } from './health.js';
import type { MessageSummary, MessageTimeline } from './messages.js';
import type { Notice } from './notices.js';
import type { Explained } from './explain.js';
import type {
  AccountView,
  AuditEntry,
  ChangeVia,
  Decision,
  GatehouseConfig,
  HostPort,
  QueueItem,
  ReceiveLogEntry,
  Route,
  RuleName,
  SenderLogEntry,
  SmarthostConfig,
} from './types.js';

export type { Health, HealthLevel, HealthReason } from './health.js';
export type { MessageSummary, MessageTimeline, TimelineStep, MessageOutcome } from './messages.js';
export type { Notice, NoticeKind } from './notices.js';
export { COMMAND_NAMES, CONFIG_KEYS, isCommandName, validateArgs, type ArgsOf, type CheckedArgsOf, type CommandName, type ConfigKey } from './command-args.js';
export type { IssueCode, ValidationIssue } from './issues.js';
export type { ActionEntry, Actor, FrozenSender, HeldItem, HeldPreview, HoldKind } from './outbound.js';

/** Config as the UI sees it: every secret replaced by a flag saying it is set. */
export type SmarthostView = Omit<SmarthostConfig, 'password'> & { hasPassword: boolean };
/** A route with a sender condition; its password (auth 'password') is write-only. */
export type SenderRouteView = Omit<SenderRoute, 'password'> & { hasPassword: boolean };
/** The XOAUTH2 app registration; the client secret is write-only. */
export type OAuthView = Omit<OAuthSettings, 'clientSecret'> & { hasClientSecret: boolean };
/** A DKIM key without its private part, with the record that publishes it. */
export type DkimKeyView = Omit<DkimKey, 'privateKey'> & { record: DkimRecord };
export type ConfigView = Omit<GatehouseConfig, 'delivery' | 'auth' | 'dkim'> & {
  delivery: Omit<GatehouseConfig['delivery'], 'smarthost' | 'senderRoutes' | 'oauth'> & {
    smarthost: SmarthostView | null;
    senderRoutes: SenderRouteView[];
    oauth: OAuthView | null;
  };
  /** SMTP AUTH users without their password hashes (managed with `gatehouse auth`). */
  auth: { enabled: boolean; users: { username: string; addresses: string[] }[] };
  dkim: { keys: DkimKeyView[] };
};
/** Smarthost as the UI sends it: password omitted = keep the stored one. */
export type SmarthostInput = NonNullable<ArgsOf<'config.setSmarthost'>>;

/** Which process hosts the gateway: the desktop app, `gatehouse serve`, or the Windows service. */
export type GatewayRole = 'desktop' | 'serve' | 'service';

export interface GatewayStatus {
  running: boolean;
  role: GatewayRole;
  /** Bound SMTP address while running. */
  listen: HostPort | null;
  /** Processes accepting on it while running (the main one included; see performance.listenerProcesses). */
  listenerProcesses: number;
  /** Configured listener (what a start will bind). */
  configured: HostPort;
  startedAt: string | null;
  /** Last start/stop/listener error, shown on the dashboard and tray. */
  error: string | null;
  /** A config problem found at start (e.g. config.json invalid, last good one in use). */
  configProblem: string | null;
  /** The last start failed because the SMTP port was taken: by whom, and a free port to offer. */
  portInUse: PortInUse | null;
  dataDir: string;
  logDir: string;
  today: TrafficCounts;
  queue: { total: number; deferred: number; hold: number };
  /** Held mail waiting for approval, delayed mail, frozen senders (badges, the tray); absent from older cores. */
  outbound?: { approvals: number; delayed: number; frozen: number };
  /** Outgoing delivery: paused by the admin (receiving goes on), domains held. */
  delivery: { paused: boolean; heldDomains: string[] };
  /** Green, amber or red, and why (health.ts). */
  health: Health;
  /** The LAN approval page (absent from older cores). */
  approvalPage?: ApprovalPageStatus;
}

/** The LAN approval page as it runs now: its address for approvers, or why it does not run. */
export interface ApprovalPageStatus {
  running: boolean;
  /** The address its links start with (`https://192.168.0.103:8443`), while it runs. */
  url: string | null;
  https: boolean;
  /** Why it is not running although turned on (the port is in use, a certificate file unreadable). */
  error: string | null;
  /** The kind of `error`, for the window's words: the port is taken, the certificate cannot be read, else 'failed'. */
  errorCode?: 'port-in-use' | 'tls' | 'failed' | null;
}

export interface PortInUse {
  host: string;
  port: number;
  /** The process holding it (null when it cannot be seen, e.g. another user's). */
  pid: number | null;
  name: string | null;
  /** A port that is free on the same address, to offer instead (null when none is). */
  suggestion: number | null;
}

export interface TrafficCounts {
  accepted: number;
  rejected: number;
  deferred: number;
  bounced: number;
  delivered: number;
}

export interface TrafficBucket extends TrafficCounts {
  /** ISO start of the hour (today) or the day (week). */
  start: string;
}

export interface TrafficStats {
  today: TrafficBucket[]; // 24 hourly buckets
  week: TrafficBucket[]; // 7 daily buckets, oldest first
  recentErrors: { ts: string; text: string; rule?: RuleName }[];
  /** Refused and undelivered messages, newest first, each linked to its timeline. */
  problems: DashboardProblem[];
}

/** One refusal or delivery problem on the dashboard, in plain words (a code and parameters). */
export interface DashboardProblem {
  ts: string;
  kind: 'rejected' | 'deferred' | 'bounced' | 'expired';
  /** The message's timeline ref (queue id or `<session>.<txn>`) and its day. */
  ref: string;
  day: string;
  sender: string;
  recipients: string[];
  rule?: string;
  code?: number;
  reply?: string;
  hop?: string;
  why?: Explained;
  /** Lines of the same kind folded into this one (the same message, retried). */
  count: number;
}

/** What messages.search answers. */
export interface MessageSearchResult {
  messages: MessageSummary[];
  /** More messages matched than the limit: the newest are shown. */
  truncated: boolean;
  /** Day files searched, and how long it took. */
  days: number;
  scannedBytes: number;
  elapsedMs: number;
}

/** Outgoing delivery as the admin controls it (delivery-control.json). */
export interface DeliveryStatus {
  paused: boolean;
  pausedAt?: string;
  pausedVia?: ChangeVia;
  heldDomains: { domain: string; since: string }[];
  /** Kept across a restart (always true: the state is a file in the data folder). */
  durable: true;
  queue: { total: number; deferred: number; hold: number };
}

export interface RouteHealth {
  hop: string;
  via: string;
  state: 'ok' | 'failing' | 'unknown';
  lastSuccess?: string;
  lastFailure?: string;
  lastError?: string;
  consecutiveFailures: number;
}

export type LogKind = 'receive' | 'send';

export interface LogFilter {
  /** Substring match on sender / recipient / client IP / account. */
  text?: string;
  decision?: 'accept' | 'reject';
  rule?: RuleName;
}

export interface LogPage<T> {
  entries: T[];
  /** Byte offset to continue paging backwards; null at the start of the file. */
  nextBefore: number | null;
}

export type SetupInput = ArgsOf<'setup.complete'>;

/** What `routes.which` answers: the next hop the delivery would choose for one sender and recipient. */
export interface RouteChoice {
  /** route / override / sender-route / smarthost / mx; no-route: an operated domain without a route; invalid: no domain. */
  via: 'route' | 'override' | 'sender-route' | 'smarthost' | 'mx' | 'no-route' | 'invalid';
  /** The recipient's domain (lowercase). */
  domain: string;
  /** The domain is operated (internal). */
  internal: boolean;
  /** Hosts in failover order (route, override, sender route, the smarthost); empty for MX. */
  hosts: HostPort[];
  /** The route with a sender condition that applies (via sender-route). */
  senderRoute?: { destination: string; sender?: string };
  /** TLS the hop insists on: route `tls: required`, the smarthost's security, or opportunistic (MX: MTA-STS decides per domain). */
  tls: RouteTls | 'mta-sts';
  /** How the hop logs in. */
  auth: RouteAuth;
}

/** One DKIM key and whether DNS publishes it (`dkim.show`). */
export interface DkimKeyCheck extends DkimKeyView {
  published: { status: 'match' | 'missing' | 'mismatch' | 'revoked' | 'invalid' | 'dns-error'; detail?: string; found?: string };
}

/** What `dkim.generate` answers: the new key and its record. */
export type DkimGenerated = DkimKeyView & { algorithm: DkimAlgorithm };

/** The deliverability check's results (`gatehouse doctor`, the window's page). */
export interface DoctorReport {
  ranAt: string;
  /** The DNS servers asked ('' = the system's). */
  dns: string;
  results: CheckResult[];
}

/** A sign-in in progress for the XOAUTH2 login. */
export type OAuthFlowView =
  | { kind: 'browser'; url: string; expiresAt: string }
  | { kind: 'device'; userCode: string; verificationUri: string; message?: string; expiresAt: string };

/** The XOAUTH2 login's state: set up, signed in, a sign-in in progress, access tokens for delivery. */
export interface OAuthStatus {
  /** An app registration is stored (`delivery.oauth`). */
  configured: boolean;
  provider?: OAuthProvider;
  user?: string;
  /** The smarthost or a route logs in with it. */
  inUse: boolean;
  /** A refresh token from the consent is stored for this registration. */
  signedIn: boolean;
  signedInAt?: string;
  flow: OAuthFlowView | null;
  /** Why the last sign-in did not finish (cleared when a new one starts). */
  flowError?: { code: string; message: string };
  /** Access tokens for delivery (only while a gateway runs). */
  token?: { ok: boolean; expiresAt?: string; lastRefreshAt?: string; error?: string; errorCode?: string };
}

export interface QueueDetail {
  item: QueueItem;
  headers: string;
  failed: { rcpt: string; code?: number; reply: string }[];
}

/** What each command answers. Its arguments are its schema's (command-args.ts). */
export interface Results {
  'status': GatewayStatus;
  'gateway.start': GatewayStatus;
  'gateway.stop': GatewayStatus;
  'stats.traffic': TrafficStats;

  'setup.needed': boolean;
  'setup.complete': ConfigView;

  'config.get': ConfigView;
  'config.set': ConfigView;
  'config.setSmarthost': ConfigView;

  'accounts.list': AccountView[];
  'accounts.setBlock': AccountView[];
  'accounts.setAllow': AccountView[];
  'accounts.save': AccountView[];
  'accounts.remove': AccountView[];
  'accounts.import': { imported: number };
  'accounts.export': { csv: string };
  /** External-sending mode (relay, delay N minutes, approval, block) of an address or pattern. */
  'accounts.setMode': AccountView[];
  /** Automatic Bcc of external mail (envelope only); [] clears it. */
  'accounts.setBcc': AccountView[];
  /** Senders past their hourly limit, refused until unfrozen. */
  'accounts.frozen': FrozenSender[];
  'accounts.unfreeze': FrozenSender[];

  /** Mail held for approval, oldest first, with a decoded preview. */
  'approvals.list': HeldItem[];
  /** Sends the held external copy on; answers with the queue id it got. */
  'approvals.approve': { id: string; queueId: string };
  /** Bounces the held recipients to the sender (a DSN with the reason). */
  'approvals.reject': { id: string };

  'routes.set': ConfigView;
  /** `imported`: the routes and routes with sender conditions the file held. */
  'routes.import': { imported: number; routes: Route[]; senderRoutes: SenderRouteView[] };
  'routes.export': { text: string };
  'routes.health': RouteHealth[];
  'routes.which': RouteChoice;

  /** DKIM keys: a new key and the TXT record to publish; a domain's keys checked against DNS; removal. */
  'dkim.generate': DkimGenerated;
  'dkim.show': { domain: string; keys: DkimKeyCheck[] };
  'dkim.remove': ConfigView;
  'doctor.run': DoctorReport;

  'oauth.set': ConfigView;
  'oauth.start': OAuthStatus;
  'oauth.cancel': OAuthStatus;
  'oauth.status': OAuthStatus;

  /** Internal (operated) domains and trusted networks, one entry at a time (the CLI's verbs). */
  'domains.add': ConfigView;
  'domains.remove': ConfigView;
  'trusted.add': ConfigView;
  'trusted.remove': ConfigView;

  'log.tail': (ReceiveLogEntry | SenderLogEntry)[];
  'log.days': string[];
  'log.page': LogPage<ReceiveLogEntry | SenderLogEntry>;

  'queue.list': QueueItem[];
  'queue.show': QueueDetail;
  'queue.retry': void;
  'queue.hold': void;
  'queue.release': void;
  'queue.delete': void;
  'queue.bounce': void;
  /** Delayed mail (一時保留), soonest first. */
  'queue.delayed': HeldItem[];
  /** Delayed mail goes out now; answers with the queue id it got. */
  'queue.sendNow': { id: string; queueId: string };
  /** Delayed mail is dropped: nothing goes to its external recipients. */
  'queue.cancel': { id: string };

  'check': { sender: Decision; recipient: Decision };

  /** SMTP AUTH users: the password goes in once and is stored only as a scrypt hash. */
  'auth.setEnabled': ConfigView;
  'auth.setUser': ConfigView;
  'auth.removeUser': ConfigView;

  'history.list': AuditEntryView[];
  'history.restore': ConfigView;
  /** Decisions on held mail and freezes (actions.jsonl), newest first. */
  'history.actions': ActionEntry[];

  /** The Windows service: its state here, and what this process can do about it. */
  'service.status': ServiceStatus;
  'service.install': ServicePlanResult;
  'service.uninstall': ServicePlanResult;
  'service.start': ServicePlanResult;
  'service.stop': ServicePlanResult;
  /** The inbound firewall rule moved to a new SMTP port. */
  'service.firewall': ServicePlanResult;

  /** One message from the retained logs: received, decided, queued, attempted, delivered or bounced. */
  'messages.timeline': MessageTimeline;
  /** Messages by address, subject, queue id or Message-ID over the retained days. */
  'messages.search': MessageSearchResult;

  /** Pause and resume outgoing delivery (receiving goes on), hold one domain. */
  'delivery.status': DeliveryStatus;
  'delivery.pause': DeliveryStatus;
  'delivery.resume': DeliveryStatus;
  'delivery.hold': DeliveryStatus;
  'delivery.release': DeliveryStatus;

  /** Send a test notice (desktop, and mail when an address is set). */
  'notices.test': Notice;
}

export type ServiceState = 'not-installed' | 'stopped' | 'start-pending' | 'stop-pending' | 'running' | 'continue-pending' | 'pause-pending' | 'paused' | 'unknown';

export interface ServiceStatus {
  /** The service exists only on Windows; elsewhere every action is refused. */
  supported: boolean;
  state: ServiceState;
  /** The service's data folder (%ProgramData%\Gatehouse). */
  dataDir: string;
  /** The process answering: the desktop app, the CLI, or a gateway (serve or the service itself). */
  answeredBy: 'desktop' | 'cli' | 'gateway';
  /** Who administers the service (service.json), when it is installed and readable. */
  administrators: string[];
}

export interface ServicePlanResult {
  dryRun: boolean;
  /** Every step, one line each with its reason (what --dry-run prints). */
  steps: string[];
  /** The wrapper's XML (install only). */
  wrapperXml?: string;
  /** What was done (empty for a dry run). */
  done: string[];
  /** Things the admin should know (a password to enter again, a file left behind). */
  notes: string[];
}

/** name -> [arguments as sent, result]. */
export type Commands = { [C in CommandName]: [ArgsOf<C>, ResultOf<C>] };

export type AuditEntryView = Omit<AuditEntry, 'before' | 'after'> & { before: ConfigView | null; after: ConfigView };

export type ResultOf<C extends CommandName> = Results[C];

/** Server-pushed events. */
export interface Events {
  receivelog: ReceiveLogEntry;
  senderlog: SenderLogEntry;
  status: GatewayStatus;
  config: ConfigView;
  /** The accounts list after any change of the config (the window applies it as is). */
  accounts: AccountView[];
  queue: { total: number; deferred: number; hold: number };
  /** Mail held for approval, after any change (held, decided, expired). */
  approvals: HeldItem[];
  /** Delayed mail, after any change. */
  delayed: HeldItem[];
  /** Frozen senders, after any change (a new freeze is the admin's alert). */
  frozen: FrozenSender[];
  /** The XOAUTH2 login changed: a sign-in started, finished or failed, a token refresh failed or worked again. */
  oauth: OAuthStatus;
  /** Delivery paused or resumed, a domain held or released. */
  delivery: DeliveryStatus;
  /** Something needs the admin (notices.ts): the desktop shell shows it, the window lists it. */
  notice: Notice;
}
export type EventName = keyof Events;

/** What crosses a transport for a command. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorData };

export interface ApiErrorData {
  message: string;
  /**
   * Machine-readable: 'validation' (with issues), 'not-found', 'bad-request', 'not-running',
   * 'conflict' (already decided: held mail approved or rejected before),
   * 'internal', 'unauthorized', ...
   */
  code: string;
  issues?: ValidationIssue[];
  /** Parameters of the code, for the window's translation (`listen-failed`: address, reason). */
  params?: Record<string, string | number>;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string = 'internal',
    readonly issues: ValidationIssue[] = [],
    readonly params: Record<string, string | number> = {},
  ) {
    super(message);
  }
  toData(): ApiErrorData {
    const d: ApiErrorData = { message: this.message, code: this.code, issues: this.issues.length ? this.issues : undefined };
    if (Object.keys(this.params).length) d.params = this.params;
    return d;
  }
  static fromData(d: ApiErrorData): ApiError {
    return new ApiError(d.message, d.code, d.issues ?? [], d.params ?? {});
  }
}

/** Anything a handler threw, as transportable data (both transports use this). */
export function errorToData(err: unknown): ApiErrorData {
  if (err instanceof ApiError) return err.toData();
  // An ApiError from another copy of this module (bundled renderer, tests): duck-typed.
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string' && 'issues' in err) {
    const e = err as { message?: unknown; code: string; issues?: unknown; params?: unknown };
    const issues = Array.isArray(e.issues) && e.issues.length ? (e.issues as ApiErrorData['issues']) : undefined;
    const out: ApiErrorData = { message: String(e.message ?? 'error'), code: e.code, issues };
    if (e.params && typeof e.params === 'object' && Object.keys(e.params).length) out.params = e.params as Record<string, string | number>;
    return out;
  }
  return { message: err instanceof Error ? err.message : String(err), code: 'internal' };
}

/** Who asked: recorded in the audit trail of every change a command makes. */
export interface CallContext {
  via: ChangeVia;
}

/** The core implements this; the dispatcher checks the arguments and calls it. */
export type CommandHandlers = { [C in CommandName]: (args: CheckedArgsOf<C>, call: CallContext) => Promise<ResultOf<C>> };

export const EVENT_NAMES: readonly EventName[] = ['receivelog', 'senderlog', 'status', 'config', 'accounts', 'queue', 'approvals', 'delayed', 'frozen', 'oauth', 'delivery', 'notice'];

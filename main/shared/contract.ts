/*
 * The one typed contract between the core and any UI. Adding a command means adding one
 * line to `Commands`; the core's handler table, the HTTP transport, the Electron IPC
 * bridge and the renderer's api module are all typed from it, so the compiler finds every
 * side. Arguments and results are plain JSON. Errors cross as data (`ApiResult`) and become
 * real `ApiError`s again on the other side. No secret ever appears here: the smarthost
 * password is write-only (`ConfigView.delivery.smarthost.hasPassword`).
 */
import type {
  Account,
  AccountView,
  AuditEntry,
  Decision,
  GatehouseConfig,
  HostPort,
  QueueItem,
  QueueState,
  ReceiveLogEntry,
  Route,
  RuleName,
  SenderLogEntry,
  SmarthostConfig,
} from './types.js';

/** Config as the UI sees it: the smarthost password replaced by a flag. */
export type SmarthostView = Omit<SmarthostConfig, 'password'> & { hasPassword: boolean };
export type ConfigView = Omit<GatehouseConfig, 'delivery' | 'auth'> & {
  delivery: Omit<GatehouseConfig['delivery'], 'smarthost'> & { smarthost: SmarthostView | null };
  /** SMTP AUTH users without their password hashes (managed with `gatehouse auth`). */
  auth: { enabled: boolean; users: { username: string; addresses: string[] }[] };
};
/** Smarthost as the UI sends it: password omitted = keep the stored one. */
export type SmarthostInput = Omit<SmarthostConfig, 'password'> & { password?: string };

export type ConfigKey =
  | 'listener'
  | 'hostname'
  | 'trustedNetworks'
  | 'internalDomains'
  | 'routes'
  | 'limits'
  | 'replies'
  | 'log'
  | 'admin'
  | 'delivery'
  | 'tls'
  | 'performance';

export interface GatewayStatus {
  running: boolean;
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
  dataDir: string;
  logDir: string;
  today: TrafficCounts;
  queue: { total: number; deferred: number; hold: number };
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

export interface SetupInput {
  /** The office mail server (back end): becomes a trusted network and the inbound route. */
  officeServer: HostPort;
  domains: string[];
  outbound: { mode: 'direct' } | { mode: 'smarthost'; smarthost: SmarthostInput };
  /** SMTP listener for the gateway. */
  listener?: HostPort;
}

export interface ValidationIssue {
  path: string;
  message: string;
  line?: number;
}

export interface QueueDetail {
  item: QueueItem;
  headers: string;
  failed: { rcpt: string; code?: number; reply: string }[];
}

/** name -> [arguments, result]. */
export interface Commands {
  'status': [void, GatewayStatus];
  'gateway.start': [void, GatewayStatus];
  'gateway.stop': [void, GatewayStatus];
  'stats.traffic': [void, TrafficStats];

  'setup.needed': [void, boolean];
  'setup.complete': [SetupInput, ConfigView];

  'config.get': [void, ConfigView];
  'config.set': [{ key: ConfigKey; value: unknown }, ConfigView];
  'config.setSmarthost': [SmarthostInput | null, ConfigView];

  'accounts.list': [{ query?: string } | void, AccountView[]];
  'accounts.setBlock': [{ pattern: string; block: boolean }, AccountView[]];
  'accounts.setAllow': [{ pattern: string; allow: string[] }, AccountView[]];
  'accounts.save': [{ original?: string; account: Account }, AccountView[]];
  'accounts.remove': [{ pattern: string }, AccountView[]];
  'accounts.import': [{ csv: string; mode: 'merge' | 'replace' }, { imported: number }];
  'accounts.export': [void, { csv: string }];

  'routes.set': [{ routes: Route[] }, ConfigView];
  'routes.import': [{ text: string; mode: 'merge' | 'replace' }, { imported: number; routes: Route[] }];
  'routes.export': [void, { text: string }];
  'routes.health': [void, RouteHealth[]];

  'log.tail': [{ kind: LogKind; n: number; day?: string }, (ReceiveLogEntry | SenderLogEntry)[]];
  'log.days': [{ kind: LogKind }, string[]];
  'log.page': [{ kind: LogKind; day: string; before?: number; limit: number; filter?: LogFilter }, LogPage<ReceiveLogEntry | SenderLogEntry>];

  'queue.list': [{ state?: QueueState; text?: string } | void, QueueItem[]];
  'queue.show': [{ id: string }, QueueDetail];
  'queue.retry': [{ id?: string }, void];
  'queue.hold': [{ id: string }, void];
  'queue.release': [{ id: string }, void];
  'queue.delete': [{ id: string }, void];
  'queue.bounce': [{ id: string }, void];

  'check': [{ sender: string; recipient: string; clientIp: string }, { sender: Decision; recipient: Decision }];

  /** SMTP AUTH users: the password goes in once and is stored only as a scrypt hash. */
  'auth.setEnabled': [{ enabled: boolean }, ConfigView];
  'auth.setUser': [{ username: string; password?: string; addresses: string[] }, ConfigView];
  'auth.removeUser': [{ username: string }, ConfigView];

  'history.list': [void, AuditEntryView[]];
  'history.restore': [{ n: number }, ConfigView];
}

export type AuditEntryView = Omit<AuditEntry, 'before' | 'after'> & { before: ConfigView | null; after: ConfigView };

export type CommandName = keyof Commands;
export type ArgsOf<C extends CommandName> = Commands[C][0];
export type ResultOf<C extends CommandName> = Commands[C][1];

/** Server-pushed events. */
export interface Events {
  receivelog: ReceiveLogEntry;
  senderlog: SenderLogEntry;
  status: GatewayStatus;
  config: ConfigView;
  queue: { total: number; deferred: number; hold: number };
}
export type EventName = keyof Events;

/** What crosses a transport for a command. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorData };

export interface ApiErrorData {
  message: string;
  /** Machine-readable: 'validation', 'not-found', 'bad-request', 'internal', 'unauthorized'. */
  code: string;
  issues?: ValidationIssue[];
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string = 'internal',
    readonly issues: ValidationIssue[] = [],
  ) {
    super(message);
  }
  toData(): ApiErrorData {
    return { message: this.message, code: this.code, issues: this.issues.length ? this.issues : undefined };
  }
  static fromData(d: ApiErrorData): ApiError {
    return new ApiError(d.message, d.code, d.issues ?? []);
  }
}

/** Anything a handler threw, as transportable data (both transports use this). */
export function errorToData(err: unknown): ApiErrorData {
  if (err instanceof ApiError) return err.toData();
  // An ApiError from another copy of this module (bundled renderer, tests): duck-typed.
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string' && 'issues' in err) {
    const e = err as { message?: unknown; code: string; issues?: unknown };
    const issues = Array.isArray(e.issues) && e.issues.length ? (e.issues as ApiErrorData['issues']) : undefined;
    return { message: String(e.message ?? 'error'), code: e.code, issues };
  }
  return { message: err instanceof Error ? err.message : String(err), code: 'internal' };
}

/** The core implements this; transports only route to it. */
export type CommandHandlers = { [C in CommandName]: (args: ArgsOf<C>) => Promise<ResultOf<C>> };

/** Every command name; a Record so the compiler insists the list is complete. */
const COMMANDS: Record<CommandName, true> = {
  'status': true, 'gateway.start': true, 'gateway.stop': true, 'stats.traffic': true,
  'setup.needed': true, 'setup.complete': true,
  'config.get': true, 'config.set': true, 'config.setSmarthost': true,
  'accounts.list': true, 'accounts.setBlock': true, 'accounts.setAllow': true, 'accounts.save': true,
  'accounts.remove': true, 'accounts.import': true, 'accounts.export': true,
  'routes.set': true, 'routes.import': true, 'routes.export': true, 'routes.health': true,
  'log.tail': true, 'log.days': true, 'log.page': true,
  'queue.list': true, 'queue.show': true, 'queue.retry': true, 'queue.hold': true, 'queue.release': true,
  'queue.delete': true, 'queue.bounce': true,
  'check': true,
  'auth.setEnabled': true, 'auth.setUser': true, 'auth.removeUser': true,
  'history.list': true, 'history.restore': true,
};
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

export const EVENT_NAMES: readonly EventName[] = ['receivelog', 'senderlog', 'status', 'config', 'queue'];

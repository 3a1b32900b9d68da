/*
 * The one Gatehouse settings schema: every default and every rule in one place, shared by the
 * core (the store validates every config it saves or reads with it) and the window (its forms
 * check a section, or a single field, with the same rules before sending). The compiler checks
 * it against GatehouseConfig: a key missing here, or unknown there, fails to build.
 * configSchemas(env) builds it for a platform (the listener opens the LAN on Windows and stays
 * on the loopback elsewhere) and a default greeting name (the core passes the machine's);
 * it returns the whole config's schema and one schema per section (`listener`, `routes`, ...),
 * which `config.set` and the forms use. Missing fields take their defaults at every depth;
 * unknown keys, bad values and broken cross-field rules are issues with their field paths
 * (`routes[1].hosts[0].port`). Nothing here throws on bad input.
 */
import * as v from 'valibot';

import { problem } from './issues.js';
import { EXTERNAL_MODES, normalizeAccount } from './outbound.js';
import { cidrProblem } from './ip.js';
import { DEFAULT_REPLIES } from './replies.js';
import {
  allowEntryProblem,
  bindHostProblem,
  dnsServerProblem,
  domainProblem,
  greetingNameProblem,
  hostProblem,
  ipProblem,
  loopbackHostProblem,
  noticeAddressProblem,
  patternProblem,
  pemCertificateProblem,
  publicUrlProblem,
  replyProblem,
  routeDestinationProblem,
  selectorProblem,
  senderConditionProblem,
  usernameProblem,
} from './rules.js';
import { bool, int, list, oneOf, strict, text, whole, type Blame, type Schema } from './schema-kit.js';
import type {
  Account,
  ApprovalPageConfig,
  AuthConfig,
  AuthUser,
  DeliveryConfig,
  GatehouseConfig,
  HostPort,
  Limits,
  OutboundConfig,
  NotificationConfig,
  PerformanceConfig,
  ReplyTexts,
  Route,
  SenderLimits,
  SmarthostConfig,
  TlsConfig,
} from './types.js';
import type { DeliverabilitySettings, DkimKey, DkimSettings, MtaStsSettings, OAuthSettings, SenderRoute } from './deliverability.js';

export const MiB = 1024 * 1024;
const DAY = 86400;

/** What the defaults depend on. */
export interface ConfigEnv {
  platform: string;
  /** The greeting name when none is set (the core uses the machine's name). */
  hostname: string;
}

/** For checks that do not depend on where they run (the window's forms, command arguments). */
export const PORTABLE_ENV: ConfigEnv = { platform: 'linux', hostname: 'localhost' };

/** A field with a default; a function default is made afresh each time (no shared arrays). */
function opt<T>(schema: Schema<T>, dflt: T | (() => T)): Schema<T> {
  const make = typeof dflt === 'function' ? (dflt as () => T) : () => structuredClone(dflt);
  return v.optional(schema, make) as unknown as Schema<T>;
}

/** Every field of the type, each with its schema: the compiler holds schema and type together. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a field with a default takes undefined too
type Entries<T> = { [K in keyof T]-?: v.GenericSchema<any, T[K]> };
const obj = <T>(entries: Entries<T>): Schema<T> => strict(entries as v.ObjectEntries) as unknown as Schema<T>;

// ---- field schemas, shared with command arguments and forms ----

export const port = int(1, 65535);
/** Listening ports may be 0 ("any free port"): tests start real servers that way. */
export const listenPort = int(0, 65535);
export const domain = text(domainProblem, 253);
export const host = text(hostProblem, 253);
export const pattern = text(patternProblem, 254);
export const allowEntry = text(allowEntryProblem, 254);
export const cidr = text(cidrProblem, 50);
export const username = text(usernameProblem, 64);

export const hostPort: Schema<HostPort> = obj<HostPort>({ host, port: opt(port, 25) });

/** `required`: TLS with a verified certificate or no delivery; absent = opportunistic. */
export const routeTls = oneOf(['opportunistic', 'required'] as const);
const hostList = list(hostPort, { nonEmpty: true, max: 20, unique: { key: (h) => `${h.host.toLowerCase()}:${h.port}`, code: 'duplicate_host' } });

const route: Schema<Route> = obj<Route>({ domain, hosts: hostList, tls: v.optional(routeTls) });

export const routeList = list(route, { unique: { key: (r) => r.domain, field: 'domain', code: 'duplicate_route' } });

export const senderRouteKey = (r: Pick<SenderRoute, 'destination' | 'sender'>): string => `${r.destination.toLowerCase()}|${(r.sender ?? '').toLowerCase()}`;

/** A route with a sender condition as stored (its password sealed). */
const senderRoute: Schema<SenderRoute> = v.pipe(
  obj<SenderRoute>({
    destination: text(routeDestinationProblem, 253),
    sender: v.optional(text(senderConditionProblem, 320)),
    hosts: hostList,
    auth: v.optional(oneOf(['none', 'password', 'xoauth2'] as const)),
    tls: v.optional(routeTls),
    user: v.optional(text(null, 256)),
    password: v.optional(text(null, 2000)),
  }),
  whole<SenderRoute>((r) => {
    const out: Blame[] = [];
    // A route imported with auth=password has no login yet (Gateway.dat cannot carry one): its mail waits until one is set.
    if (r.password && !r.user) out.push({ at: ['user'], problem: problem('user_for_password') });
    // One domain, any sender, no login: that is a plain route (Gateway.dat writes it as one).
    if (r.destination !== '*' && !r.sender && (!r.auth || r.auth === 'none')) out.push({ at: ['sender'], problem: problem('sender_route_plain', { domain: r.destination }) });
    return out;
  }),
) as Schema<SenderRoute>;

export const senderRouteList = list(senderRoute, { max: 1000, unique: { key: senderRouteKey, field: 'destination', code: 'duplicate_sender_route' } });

export const allowList = list(allowEntry, { unique: { key: (s) => s.toLowerCase() } });

/** One address (no pattern): approvers, Bcc targets, the admin's notice address. */
export const exactAddress = text((s) => (s.includes('*') ? problem('exact_address') : patternProblem(s)), 254);
const addressList = list(exactAddress, { max: 50, unique: { key: (s) => s.toLowerCase() } });

/**
 * An account. `mode` and `blockExternal` are made to agree (main/shared/outbound.ts: a file
 * without `mode` keeps its meaning; the stricter of the two wins), and approval needs approvers.
 */
export const account: Schema<Account> = v.pipe(
  obj<Account>({
    pattern,
    blockExternal: opt(bool, false),
    allow: opt(allowList, [] as string[]),
    note: opt(text(null, 1000), ''),
    mode: v.optional(oneOf(EXTERNAL_MODES)),
    delayMinutes: v.optional(int(1, 7 * 24 * 60)),
    approvers: v.optional(addressList),
    standIn: v.optional(v.union([v.literal(''), exactAddress])),
    expireHours: v.optional(int(1, 30 * 24)),
    bcc: v.optional(addressList),
  }),
  whole<Account>((a) =>
    a.mode === 'approval' && !a.blockExternal && (a.approvers ?? []).length === 0 && !a.standIn
      ? [{ at: ['approvers'], problem: problem('approver_needed') }]
      : [],
  ),
  v.transform(normalizeAccount),
) as unknown as Schema<Account>;

const senderLimits = obj<SenderLimits>({
  enabled: opt(bool, false),
  messagesPerHour: opt(int(0, 1_000_000), 200),
  externalRecipientsPerHour: opt(int(0, 1_000_000), 500),
  freeze: opt(oneOf(['temporary', 'permanent'] as const), 'temporary'),
  exempt: opt(list(pattern, { max: 10_000, unique: { key: (s) => s.toLowerCase() } }), [] as string[]),
});

export const outbound = obj<OutboundConfig>({
  bccConvertOver: opt(int(0, 100_000), 0),
  senderLimits: opt(senderLimits, {} as SenderLimits),
  adminAddress: opt(v.union([v.literal(''), exactAddress]) as Schema<string>, ''),
});

/** Addresses that get notices must be internal (never an external address, never a loop). */
function noticeAddressRule(c: GatehouseConfig): Blame[] {
  const internal = new Set(c.internalDomains);
  const domains = c.internalDomains.join(', ') || 'none yet';
  const outside = (a: string) => !internal.has(a.slice(a.lastIndexOf('@') + 1).toLowerCase());
  const out: Blame[] = [];
  c.accounts.forEach((a, i) => {
    (a.approvers ?? []).forEach((x, j) => {
      if (outside(x)) out.push({ at: ['accounts', i, 'approvers', j], problem: problem('internal_address', { domains }) });
    });
    if (a.standIn && outside(a.standIn)) out.push({ at: ['accounts', i, 'standIn'], problem: problem('internal_address', { domains }) });
  });
  if (c.outbound.adminAddress && outside(c.outbound.adminAddress)) {
    out.push({ at: ['outbound', 'adminAddress'], problem: problem('internal_address', { domains }) });
  }
  return out;
}

const replies = obj<ReplyTexts>(
  Object.fromEntries(
    (Object.keys(DEFAULT_REPLIES) as (keyof ReplyTexts)[]).map((k) => [k, opt(text(replyProblem, 400), DEFAULT_REPLIES[k])]),
  ) as Entries<ReplyTexts>,
);

/** The smarthost as stored; `port` left out follows the security (465 for implicit TLS). */
export const smarthost: Schema<SmarthostConfig> = v.pipe(
  v.pipe(
    v.unknown(),
    v.transform((raw) => {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
      const r = raw as Record<string, unknown>;
      return r.port === undefined && r.security === 'tls' ? { ...r, port: 465 } : raw;
    }),
  ),
  obj<SmarthostConfig>({
    host,
    port: opt(port, 587),
    security: opt(oneOf(['starttls', 'tls', 'none'] as const), 'starttls'),
    user: opt(text(null, 256), ''),
    password: opt(text(null, 1000), ''),
    allowInvalidCert: opt(bool, false),
    auth: v.optional(oneOf(['password', 'xoauth2'] as const)),
  }),
  whole<SmarthostConfig>((s) => (s.password !== '' && s.user === '' ? [{ at: ['user'], problem: problem('user_for_password') }] : [])),
) as Schema<SmarthostConfig>;

/** OAuth endpoints: https, or http on this machine (a provider stand-in in tests). */
function endpointProblem(s: string): ReturnType<typeof problem> | null {
  try {
    const u = new URL(s);
    if (u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))) return null;
  } catch {
    // not a URL at all
  }
  return problem('oauth_endpoint');
}
const endpoint = text(endpointProblem, 2000);
const nonEmpty = (max: number) => text((s) => (s.trim() ? null : problem('empty')), max);

/** The XOAUTH2 login's app registration (its secret sealed; the refresh token is kept apart). */
const oauthFields = {
  provider: oneOf(['microsoft', 'google', 'custom'] as const),
  clientId: nonEmpty(256),
  clientSecret: v.optional(text(null, 2000)),
  tenant: v.optional(text(null, 256)),
  user: text((s) => (s.includes('@') ? senderConditionProblem(s) : problem('address', { detail: 'missing @domain' })), 320),
  tokenUrl: v.optional(endpoint),
  authorizeUrl: v.optional(endpoint),
  deviceCodeUrl: v.optional(endpoint),
  scope: v.optional(text(null, 1000)),
};
const customNeedsEndpoints = <T extends Pick<OAuthSettings, 'provider' | 'tokenUrl' | 'authorizeUrl'>>() =>
  whole<T>((o) =>
    o.provider === 'custom'
      ? (['tokenUrl', 'authorizeUrl'] as const).filter((k) => !o[k]).map((k) => ({ at: [k], problem: problem('required') }))
      : [],
  );
export const oauthSettings = v.pipe(obj<OAuthSettings>(oauthFields), customNeedsEndpoints<OAuthSettings>()) as Schema<OAuthSettings>;
/** As a form sends it: the client secret left out keeps the stored one. */
export const oauthInput = v.pipe(strict(oauthFields), customNeedsEndpoints<v.InferOutput<ReturnType<typeof strict<typeof oauthFields>>>>());

const dkimKey = obj<DkimKey>({
  domain,
  selector: text(selectorProblem, 63),
  algorithm: oneOf(['rsa', 'ed25519'] as const),
  privateKey: nonEmpty(20_000),
  publicKey: text((s) => (/^[A-Za-z0-9+/]+={0,2}$/.test(s) ? null : problem('invalid')), 2000),
  createdAt: text(null, 40),
});
const dkim = obj<DkimSettings>({
  keys: opt(list(dkimKey, { max: 200, unique: { key: (k) => `${k.domain}|${k.selector.toLowerCase()}`, field: 'selector', code: 'duplicate' } }), [] as DkimKey[]),
});

const deliverability = obj<DeliverabilitySettings>({
  publicIp: opt(text((s) => (s === '' ? null : ipProblem(s)), 100), ''),
  port25Target: opt(v.nullable(hostPort) as Schema<HostPort | null>, null),
});

const limits = obj<Limits>({
  maxMessageSize: opt(int(1024, 2048 * MiB), 25 * MiB),
  maxRecipients: opt(int(1, 100_000), 100),
  maxClients: opt(int(1, 100_000), 100),
  maxConnectionsPerIp: opt(int(1, 100_000), 20),
  idleTimeoutMs: opt(int(1000, 3_600_000), 60_000),
  dataTimeoutMs: opt(int(1000, 86_400_000), 600_000),
});

const deliveryFields: Entries<DeliveryConfig> = {
  smarthost: opt(v.nullable(smarthost) as Schema<SmarthostConfig | null>, null),
  transportOverrides: opt(routeList, [] as Route[]),
  retrySchedule: opt(list(int(1, 7 * DAY), { nonEmpty: true, max: 100 }), [300, 600, 1200, 1800, 3600]),
  maxLifetimeSeconds: opt(int(60, 30 * DAY), 5 * DAY),
  delayWarningSeconds: opt(int(0, 30 * DAY), 4 * 3600),
  maxConnectionsPerHop: opt(int(1, 1000), 5),
  maxConnectionsTotal: opt(int(1, 10_000), 20),
  connectTimeoutMs: opt(int(1000, 600_000), 15_000),
  verifyRecipients: opt(bool, false),
  verifyPositiveTtlSeconds: opt(int(0, 30 * DAY), 3600),
  verifyNegativeTtlSeconds: opt(int(0, 30 * DAY), 300),
  senderRoutes: opt(senderRouteList, [] as SenderRoute[]),
  dnsServers: opt(list(text(dnsServerProblem, 100), { max: 10, unique: { key: (s) => s.toLowerCase() } }), [] as string[]),
  tlsCa: opt(list(text(pemCertificateProblem, 200_000), { max: 50 }), [] as string[]),
  mtaSts: opt(obj<MtaStsSettings>({ enabled: opt(bool, true) }), {} as MtaStsSettings),
  oauth: opt(v.nullable(oauthSettings) as Schema<OAuthSettings | null>, null),
};

const delayRule = <T extends Pick<DeliveryConfig, 'delayWarningSeconds' | 'maxLifetimeSeconds'>>() => whole<T>((d) =>
  d.delayWarningSeconds !== 0 && d.delayWarningSeconds >= d.maxLifetimeSeconds
    ? [{ at: ['delayWarningSeconds'], problem: problem('delay_warning', { field: 'delivery.maxLifetimeSeconds', value: d.maxLifetimeSeconds }) }]
    : [],
);

const delivery = v.pipe(obj<DeliveryConfig>(deliveryFields), delayRule<DeliveryConfig>()) as Schema<DeliveryConfig>;

/**
 * Delivery as `config.set` takes it: the parts that hold secrets have their own commands (the
 * smarthost and its password, the routes with sender conditions and their passwords, the
 * XOAUTH2 login), so a form that never saw them cannot overwrite them.
 */
export type DeliverySettable = Omit<DeliveryConfig, 'smarthost' | 'senderRoutes' | 'oauth'>;
const { smarthost: _smarthost, senderRoutes: _senderRoutes, oauth: _oauth, ...deliveryRest } = deliveryFields;
export const deliveryWithoutSmarthost = v.pipe(obj<DeliverySettable>(deliveryRest), delayRule<DeliverySettable>()) as Schema<DeliverySettable>;

/**
 * The smarthost as a form or the CLI sends it: a password left out keeps the stored one;
 * other fields left out take the stored schema's defaults when saved (port 465 for 'tls').
 */
const smarthostFields = strict({
  host,
  port: v.optional(port),
  security: v.optional(oneOf(['starttls', 'tls', 'none'] as const)),
  user: v.optional(text(null, 256)),
  password: v.optional(text(null, 256)),
  allowInvalidCert: v.optional(bool),
  auth: v.optional(oneOf(['password', 'xoauth2'] as const)),
});
export const smarthostInput = v.pipe(
  smarthostFields,
  whole<v.InferOutput<typeof smarthostFields>>((s) => (s.password && !s.user ? [{ at: ['user'], problem: problem('user_for_password') }] : [])),
);

const tls = v.pipe(
  obj<TlsConfig>({
    mode: opt(oneOf(['auto', 'files', 'off'] as const), 'auto'),
    certFile: opt(text(null, 1000), ''),
    keyFile: opt(text(null, 1000), ''),
  }),
  whole<TlsConfig>((t) => {
    const out: Blame[] = [];
    if (t.mode === 'files' && !t.certFile) out.push({ at: ['certFile'], problem: problem('tls_file_needed') });
    if (t.mode === 'files' && !t.keyFile) out.push({ at: ['keyFile'], problem: problem('tls_file_needed') });
    return out;
  }),
) as Schema<TlsConfig>;

const authUser = obj<AuthUser>({
  username,
  passwordHash: text((s) => (s.startsWith('scrypt$') ? null : problem('password_hash')), 400),
  addresses: opt(list(text(patternProblem, 320), { max: 1000 }), [] as string[]),
});

const auth = obj<AuthConfig>({
  enabled: opt(bool, false),
  users: opt(list(authUser, { unique: { key: (u) => u.username.toLowerCase(), field: 'username', code: 'duplicate_user' } }), [] as AuthUser[]),
});

/** Both bind the same TCP port when the hosts overlap ('0.0.0.0' overlaps every IPv4 host). */
function sameSocket(a: HostPort, b: HostPort): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  const wild = (h: string) => h === '0.0.0.0' || h === '::';
  return a.host === b.host || wild(a.host) || wild(b.host);
}

/** The approval page (when on) cannot share a socket with the SMTP listener or the admin host. */
function approvalPageClash(c: GatehouseConfig): Blame[] {
  if (!c.approvalPage.enabled) return [];
  const at = ['approvalPage', 'listen', 'port'];
  if (sameSocket(c.approvalPage.listen, c.listener)) return [{ at, problem: problem('port_clash_with', { field: 'listener.port', port: c.listener.port }) }];
  if (sameSocket(c.approvalPage.listen, c.admin)) return [{ at, problem: problem('port_clash_with', { field: 'admin.port', port: c.admin.port }) }];
  return [];
}

const toggle = <T extends object>(fields: Entries<T>) => obj<{ enabled: boolean } & T>({ enabled: opt(bool, true), ...fields } as Entries<{ enabled: boolean } & T>);

const notifications = obj<NotificationConfig>({
  desktop: opt(bool, true),
  mailTo: opt(text(noticeAddressProblem, 320), ''),
  routeDown: opt(toggle<{ failures: number }>({ failures: opt(int(1, 1000), 3) }), {} as NotificationConfig['routeDown']),
  queueSize: opt(toggle<{ messages: number }>({ messages: opt(int(1, 1_000_000), 50) }), {} as NotificationConfig['queueSize']),
  nearExpiry: opt(toggle<{ hours: number }>({ hours: opt(int(1, 720), 12) }), {} as NotificationConfig['nearExpiry']),
  approvals: opt(toggle<{ waiting: number }>({ waiting: opt(int(1, 100_000), 1) }), {} as NotificationConfig['approvals']),
  senderFrozen: opt(toggle<Record<never, never>>({}), {} as NotificationConfig['senderFrozen']),
});

function build(env: ConfigEnv) {
  const win = env.platform === 'win32';
  // The office needs the LAN on the Windows PC it is installed on; everywhere else (demo, CI,
  // a developer's laptop) the loopback and an unprivileged port are the safe start.
  const listener = obj<HostPort>({
    host: opt(text(bindHostProblem, 253), win ? '0.0.0.0' : '127.0.0.1'),
    port: opt(listenPort, win ? 25 : 2525),
  });
  const sections = {
    listener,
    hostname: text(greetingNameProblem, 253),
    // Loopback only: never an open relay, yet a local test client can relay.
    trustedNetworks: list(cidr, { unique: { key: (s) => s.toLowerCase() } }),
    internalDomains: list(domain, { unique: { key: (s) => s } }),
    routes: routeList,
    accounts: list(account, { unique: { key: (a) => a.pattern.toLowerCase(), field: 'pattern', code: 'duplicate_account' } }),
    limits,
    replies,
    delivery,
    log: obj<{ retentionDays: number }>({ retentionDays: opt(int(1, 3650), 30) }),
    tls,
    auth,
    admin: obj<HostPort>({ host: opt(text(loopbackHostProblem, 253), '127.0.0.1'), port: opt(listenPort, 8025) }),
    performance: obj<PerformanceConfig>({ listenerProcesses: opt(int(1, 8), 1) }),
    outbound,
    dkim,
    deliverability,
    // The LAN approval page: off until the admin turns it on; on the LAN where the listener is.
    approvalPage: obj<ApprovalPageConfig>({
      enabled: opt(bool, false),
      listen: opt(
        obj<HostPort>({ host: opt(text(bindHostProblem, 253), win ? '0.0.0.0' : '127.0.0.1'), port: opt(listenPort, 8443) }),
        {} as HostPort,
      ),
      publicUrl: opt(text(publicUrlProblem, 300), ''),
    }),
    notifications,
  } satisfies Entries<GatehouseConfig>;
  const config = v.pipe(
    obj<GatehouseConfig>({
      listener: opt(listener, {} as HostPort),
      hostname: opt(sections.hostname, env.hostname),
      trustedNetworks: opt(sections.trustedNetworks, ['127.0.0.0/8', '::1/128']),
      internalDomains: opt(sections.internalDomains, [] as string[]),
      routes: opt(sections.routes, [] as Route[]),
      accounts: opt(sections.accounts, [] as Account[]),
      limits: opt(limits, {} as Limits),
      replies: opt(replies, {} as ReplyTexts),
      delivery: opt(delivery, {} as DeliveryConfig),
      log: opt(sections.log, {} as { retentionDays: number }),
      tls: opt(tls, {} as TlsConfig),
      auth: opt(auth, {} as AuthConfig),
      admin: opt(sections.admin, {} as HostPort),
      performance: opt(sections.performance, {} as PerformanceConfig),
      outbound: opt(outbound, {} as OutboundConfig),
      dkim: opt(dkim, {} as DkimSettings),
      deliverability: opt(deliverability, {} as DeliverabilitySettings),
      approvalPage: opt(sections.approvalPage, {} as ApprovalPageConfig),
      notifications: opt(notifications, {} as NotificationConfig),
    }),
    whole<GatehouseConfig>((c) => {
      const out: Blame[] = [];
      if (sameSocket(c.listener, c.admin)) out.push({ at: ['admin', 'port'], problem: problem('port_clash', { port: c.listener.port }) });
      out.push(...approvalPageClash(c));
      out.push(...noticeAddressRule(c));
      // Mail to an operated domain goes by the routing table; a sender condition there would never apply.
      const internal = new Set(c.internalDomains);
      c.delivery.senderRoutes.forEach((r, i) => {
        if (internal.has(r.destination)) out.push({ at: ['delivery', 'senderRoutes', i, 'destination'], problem: problem('sender_route_internal', { domain: r.destination }) });
      });
      return out;
    }),
  ) as Schema<GatehouseConfig>;
  return { config, sections };
}

export type ConfigSchemas = ReturnType<typeof build>;

const cache = new Map<string, ConfigSchemas>();

export function configSchemas(env: ConfigEnv = PORTABLE_ENV): ConfigSchemas {
  const key = `${env.platform}\u0000${env.hostname}`;
  let s = cache.get(key);
  if (!s) cache.set(key, (s = build(env)));
  return s;
}

/*
 * The one Gatehouse settings schema: every default and every rule in one place, hand-written
 * with a few typed combinators so the compiler checks the schema against GatehouseConfig (a key
 * missing here or unknown there fails to build). defaultConfig() builds the defaults from it;
 * validateConfig() walks an unknown value (parsed JSON, a UI draft), fills missing fields with
 * defaults at every depth and returns either the complete config or every problem found, each
 * with its field path (`routes[1].hosts[0].port: must be an integer 1-65535`). Unknown keys are
 * problems too: a misspelt setting that silently does nothing is worse than an error.
 * Nothing here throws on bad input; ConfigError is for callers that want to throw the list.
 */
import { hostname as osHostname } from 'node:os';

import type {
  Account,
  AuthConfig,
  AuthUser,
  DeliveryConfig,
  GatehouseConfig,
  HostPort,
  Limits,
  PerformanceConfig,
  ReplyTexts,
  Route,
  SmarthostConfig,
  TlsConfig,
} from '../../shared/types.js';
import { validateCidr } from '../policy/networks.js';
import { DEFAULT_REPLIES } from '../policy/defaults.js';
import {
  checkAccountPattern,
  checkAllowEntry,
  checkBindHost,
  checkDomain,
  checkGreetingName,
  checkHost,
  checkLoopbackHost,
} from './validate-helpers.js';

export interface ConfigIssue {
  /** Field path: `listener.port`, `routes[1].hosts[0].port`; '' for the whole document. */
  path: string;
  message: string;
}

export type ValidateResult =
  | { ok: true; config: GatehouseConfig }
  | { ok: false; errors: ConfigIssue[] };

/** `path: message` lines, the form CLI and UI show. */
export function formatIssues(errors: readonly ConfigIssue[]): string {
  return errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('\n');
}

/** Invalid settings (or an unreadable settings file): `.errors` lists every field at fault. */
export class ConfigError extends Error {
  readonly errors: ConfigIssue[];
  readonly file: string | undefined;
  constructor(errors: ConfigIssue[], opts: { file?: string; summary?: string } = {}) {
    const head = opts.summary ?? (opts.file ? `Invalid settings in ${opts.file}` : 'Invalid settings');
    super(`${head}:\n  ${formatIssues(errors).replace(/\n/g, '\n  ')}`);
    this.name = 'ConfigError';
    this.errors = errors;
    this.file = opts.file;
  }
}

export const MiB = 1024 * 1024;
const DAY = 86400;

// ---------------------------------------------------------------------------------------------
// Combinators. A Spec checks a present value and knows its default (none = required).

interface Ctx {
  platform: NodeJS.Platform;
  errors: ConfigIssue[];
}

interface Spec<T> {
  check(v: unknown, path: string, ctx: Ctx): T;
  /** Value for a missing field; absent = the field is required. */
  dflt?: (ctx: Ctx) => T;
}

type Shape<T> = { [K in keyof T]-?: Spec<T[K]> };

// Failed checks return this placeholder; the result is discarded once any error exists.
const BAD = undefined as never;

function fail(ctx: Ctx, path: string, message: string): never {
  ctx.errors.push({ path, message });
  return BAD;
}

const at = (path: string, key: string): string => (path ? `${path}.${key}` : key);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function def<T>(spec: Spec<T>, d: T | ((ctx: Ctx) => T)): Spec<T> {
  const make = typeof d === 'function' ? (d as (ctx: Ctx) => T) : () => structuredClone(d);
  return { check: spec.check, dflt: make };
}

function int(min: number, max: number): Spec<number> {
  return {
    check(v, path, ctx) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        return fail(ctx, path, `must be an integer ${min}-${max}`);
      }
      return v;
    },
  };
}

const bool: Spec<boolean> = {
  check(v, path, ctx) {
    return typeof v === 'boolean' ? v : fail(ctx, path, 'must be true or false');
  },
};

/** A string, optionally checked by a `(s) => message | null` rule. */
function str(rule?: (s: string) => string | null, maxLength = 1000): Spec<string> {
  return {
    check(v, path, ctx) {
      if (typeof v !== 'string') return fail(ctx, path, 'must be a string');
      if (v.length > maxLength) return fail(ctx, path, `must be at most ${maxLength} characters`);
      const e = rule?.(v) ?? null;
      return e === null ? v : fail(ctx, path, e);
    },
  };
}

function oneOf<T extends string>(values: readonly T[]): Spec<T> {
  return {
    check(v, path, ctx) {
      return values.includes(v as T)
        ? (v as T)
        : fail(ctx, path, `must be one of ${values.map((x) => `'${x}'`).join(', ')}`);
    },
  };
}

function nullable<T>(spec: Spec<T>): Spec<T | null> {
  return {
    check: (v, path, ctx) => (v === null ? null : spec.check(v, path, ctx)),
  };
}

interface ArrayOpts<T> {
  nonEmpty?: boolean;
  max?: number;
  /** Items with equal keys are duplicates; `field` names the sub-field in the error path. */
  unique?: { key: (item: T) => string; field?: string; hint?: string };
}

function arr<T>(item: Spec<T>, opts: ArrayOpts<T> = {}): Spec<T[]> {
  return {
    check(v, path, ctx) {
      if (!Array.isArray(v)) return fail(ctx, path, 'must be a list');
      if (opts.nonEmpty && v.length === 0) return fail(ctx, path, 'must not be empty');
      if (opts.max !== undefined && v.length > opts.max) {
        return fail(ctx, path, `must have at most ${opts.max} entries`);
      }
      const before = ctx.errors.length;
      const out = v.map((x, i) => item.check(x, `${path}[${i}]`, ctx));
      // Duplicate checks need well-formed items; with errors above they would only add noise.
      if (opts.unique && ctx.errors.length === before) {
        const { key, field, hint } = opts.unique;
        const seen = new Map<string, number>();
        out.forEach((x, i) => {
          const k = key(x);
          const first = seen.get(k);
          if (first === undefined) {
            seen.set(k, i);
            return;
          }
          const p = field ? at(`${path}[${i}]`, field) : `${path}[${i}]`;
          const q = field ? at(`${path}[${first}]`, field) : `${path}[${first}]`;
          fail(ctx, p, `duplicate of ${q}${hint ? `; ${hint}` : ''}`);
        });
      }
      return out;
    },
  };
}

/** Levenshtein distance, small strings only: for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function unknownKeyMessage(key: string, known: string[]): string {
  const lower = key.toLowerCase();
  const near = known
    .map((k) => ({ k, d: k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase()) }))
    .filter((x) => x.d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  if (near) return `unknown setting (did you mean '${near.k}'?)`;
  return known.length <= 8 ? `unknown setting (expected ${known.join(', ')})` : 'unknown setting';
}

/**
 * An object of known keys. Missing keys take their default (or are reported as required);
 * unknown keys are reported. `finish` runs cross-field rules on an error-free result; `raw` is
 * the input as given, so a rule can tell "left out" from "set".
 */
function obj<T extends object>(
  shape: Shape<T>,
  finish?: (value: T, raw: Record<string, unknown>, path: string, ctx: Ctx) => void,
): Spec<T> {
  const keys = Object.keys(shape) as (keyof T & string)[];
  const specs = shape as Record<string, Spec<unknown>>;
  const spec: Spec<T> = {
    check(v, path, ctx) {
      if (!isRecord(v)) return fail(ctx, path, 'must be an object ({ ... })');
      const before = ctx.errors.length;
      for (const k of Object.keys(v)) {
        if (!Object.hasOwn(shape, k)) fail(ctx, at(path, k), unknownKeyMessage(k, keys));
      }
      const out: Record<string, unknown> = {};
      for (const k of keys) {
        const s = specs[k]!;
        const p = at(path, k);
        const x = v[k];
        if (x === undefined) out[k] = s.dflt ? s.dflt(ctx) : fail(ctx, p, 'is required');
        else out[k] = s.check(x, p, ctx);
      }
      if (finish && ctx.errors.length === before) finish(out as T, v, path, ctx);
      return out as T;
    },
  };
  // An object whose every field has a default has a default itself: all of them.
  if (keys.every((k) => specs[k]!.dflt)) {
    spec.dflt = (ctx) => {
      const out: Record<string, unknown> = {};
      for (const k of keys) out[k] = specs[k]!.dflt!(ctx);
      return out as T;
    };
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Field rules.

const port = int(1, 65535);
/** Listening ports may be 0 ("any free port"): tests start real servers that way. */
const listenPort = int(0, 65535);

const domain = str(checkDomain, 253);

const hostPort: Spec<HostPort> = obj<HostPort>({
  host: str(checkHost, 253),
  port: def(port, 25),
});

const route: Spec<Route> = obj<Route>({
  domain,
  hosts: arr(hostPort, {
    nonEmpty: true,
    max: 20,
    unique: { key: (h) => `${h.host.toLowerCase()}:${h.port}`, hint: 'list each server once' },
  }),
});

function routeList(): Spec<Route[]> {
  return arr(route, {
    unique: { key: (r) => r.domain, field: 'domain', hint: 'put all servers of one domain in one route' },
  });
}

const account: Spec<Account> = obj<Account>({
  pattern: str(checkAccountPattern, 254),
  blockExternal: def(bool, false),
  allow: def(
    arr(str(checkAllowEntry, 254), { unique: { key: (s) => s.toLowerCase() } }),
    [] as string[],
  ),
  note: def(str(undefined, 1000), ''),
});

const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN_PLACEHOLDERS = new Set(['account', 'recipient', 'sender']);

/** SMTP reply text: one printable-ASCII line, only the placeholders the policy substitutes. */
function checkReply(s: string): string | null {
  if (s.trim() === '') return 'must not be empty';
  if (!/^[\x20-\x7e]*$/.test(s)) {
    return 'must be printable ASCII on one line (SMTP replies cannot carry Japanese; the UI and logs do)';
  }
  for (const m of s.matchAll(PLACEHOLDER)) {
    if (!KNOWN_PLACEHOLDERS.has(m[1]!)) {
      return `unknown placeholder {${m[1]}} (use {account}, {recipient} or {sender})`;
    }
  }
  return null;
}

const replies = obj<ReplyTexts>(
  Object.fromEntries(
    (Object.keys(DEFAULT_REPLIES) as (keyof ReplyTexts)[]).map((k) => [
      k,
      def(str(checkReply, 400), DEFAULT_REPLIES[k]),
    ]),
  ) as Shape<ReplyTexts>,
);

const smarthost = obj<SmarthostConfig>(
  {
    host: str(checkHost, 253),
    port: def(port, 587),
    security: def(oneOf(['starttls', 'tls', 'none'] as const), 'starttls'),
    user: def(str(undefined, 256), ''),
    password: def(str(undefined, 256), ''),
    allowInvalidCert: def(bool, false),
  },
  (v, raw, path, ctx) => {
    // Implicit TLS lives on 465; a left-out port should follow the chosen security.
    if (raw['port'] === undefined && v.security === 'tls') v.port = 465;
    if (v.password !== '' && v.user === '') fail(ctx, at(path, 'user'), 'is required when a password is set');
  },
);

const limits = obj<Limits>({
  maxMessageSize: def(int(1024, 2048 * MiB), 25 * MiB),
  maxRecipients: def(int(1, 100_000), 100),
  maxClients: def(int(1, 100_000), 100),
  maxConnectionsPerIp: def(int(1, 100_000), 20),
  idleTimeoutMs: def(int(1000, 3_600_000), 60_000),
  dataTimeoutMs: def(int(1000, 86_400_000), 600_000),
});

const delivery = obj<DeliveryConfig>(
  {
    smarthost: def(nullable(smarthost), null),
    transportOverrides: def(routeList(), [] as Route[]),
    retrySchedule: def(arr(int(1, 7 * DAY), { nonEmpty: true, max: 100 }), [300, 600, 1200, 1800, 3600]),
    maxLifetimeSeconds: def(int(60, 30 * DAY), 5 * DAY),
    delayWarningSeconds: def(int(0, 30 * DAY), 4 * 3600),
    maxConnectionsPerHop: def(int(1, 1000), 5),
    maxConnectionsTotal: def(int(1, 10_000), 20),
    connectTimeoutMs: def(int(1000, 600_000), 15_000),
    verifyRecipients: def(bool, false),
    verifyPositiveTtlSeconds: def(int(0, 30 * DAY), 3600),
    verifyNegativeTtlSeconds: def(int(0, 30 * DAY), 300),
  },
  (v, _raw, path, ctx) => {
    if (v.delayWarningSeconds !== 0 && v.delayWarningSeconds >= v.maxLifetimeSeconds) {
      fail(
        ctx,
        at(path, 'delayWarningSeconds'),
        `must be less than ${at(path, 'maxLifetimeSeconds')} (${v.maxLifetimeSeconds}), or 0 to send no delay warning`,
      );
    }
  },
);

const tls = obj<TlsConfig>({
  mode: def(oneOf(['auto', 'files', 'off'] as const), 'auto'),
  certFile: def(str(undefined, 1000), ''),
  keyFile: def(str(undefined, 1000), ''),
}, (v, _raw, path, ctx) => {
  if (v.mode === 'files') {
    if (!v.certFile) fail(ctx, at(path, 'certFile'), "is required when mode is 'files'");
    if (!v.keyFile) fail(ctx, at(path, 'keyFile'), "is required when mode is 'files'");
  }
});

const authUser = obj<AuthUser>({
  username: str((s) => (/^[\x21-\x7e]{1,64}$/.test(s) ? null : 'must be 1-64 printable ASCII characters without spaces'), 64),
  passwordHash: str((s) => (s.startsWith('scrypt$') ? null : "must be a scrypt hash (set it with 'gatehouse auth add')"), 400),
  addresses: def(arr(str(checkAccountPattern, 320), { max: 1000 }), [] as string[]),
});

const auth = obj<AuthConfig>({
  enabled: def(bool, false),
  users: def(
    arr(authUser, { unique: { key: (u) => u.username.toLowerCase(), field: 'username', hint: 'change its password instead' } }),
    [] as AuthUser[],
  ),
});

/** os.hostname() made into a greeting name: Windows gives e.g. 'DESKTOP-AB12_X'. */
function defaultHostname(): string {
  const h = osHostname()
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return h && checkGreetingName(h) === null ? h : 'localhost';
}

const win = (ctx: Ctx): boolean => ctx.platform === 'win32';

/** Both bind the same TCP port when the hosts overlap ('0.0.0.0' overlaps every IPv4 host). */
function sameSocket(a: HostPort, b: HostPort): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  const wild = (h: string) => h === '0.0.0.0' || h === '::';
  return a.host === b.host || wild(a.host) || wild(b.host);
}

const SCHEMA = obj<GatehouseConfig>(
  {
    // The office needs the LAN on the Windows PC it is installed on; everywhere else (demo, CI,
    // a developer's laptop) the loopback and an unprivileged port are the safe start.
    listener: obj<HostPort>({
      host: def(str(checkBindHost), (ctx) => (win(ctx) ? '0.0.0.0' : '127.0.0.1')),
      port: def(listenPort, (ctx) => (win(ctx) ? 25 : 2525)),
    }),
    hostname: def(str(checkGreetingName, 253), () => defaultHostname()),
    // Loopback only: never an open relay, yet a local test client can relay.
    trustedNetworks: def(arr(str(validateCidr, 50), { unique: { key: (s) => s.toLowerCase() } }), [
      '127.0.0.0/8',
      '::1/128',
    ]),
    internalDomains: def(arr(domain, { unique: { key: (s) => s } }), [] as string[]),
    routes: def(routeList(), [] as Route[]),
    accounts: def(
      arr(account, {
        unique: { key: (a) => a.pattern.toLowerCase(), field: 'pattern', hint: 'edit the existing account' },
      }),
      [] as Account[],
    ),
    limits,
    replies,
    delivery,
    log: obj<{ retentionDays: number }>({ retentionDays: def(int(1, 3650), 30) }),
    tls,
    auth,
    admin: obj<HostPort>({
      host: def(str(checkLoopbackHost), '127.0.0.1'),
      port: def(listenPort, 8025),
    }),
    performance: obj<PerformanceConfig>({
      listenerProcesses: def(int(1, 8), 1),
    }),
  },
  (v, _raw, _path, ctx) => {
    if (sameSocket(v.listener, v.admin)) {
      fail(ctx, 'admin.port', `must differ from listener.port (${v.listener.port}): both would listen on it`);
    }
  },
);

// ---------------------------------------------------------------------------------------------

/** Every setting at its default. Platform decides the listener (see SCHEMA). */
export function defaultConfig(platform: NodeJS.Platform = process.platform): GatehouseConfig {
  return SCHEMA.dflt!({ platform, errors: [] });
}

/**
 * Check `input` and complete it with defaults. On success `config` is a fresh object that
 * shares nothing with `input`; on failure `errors` lists every problem in document order.
 */
export function validateConfig(input: unknown, platform: NodeJS.Platform = process.platform): ValidateResult {
  const ctx: Ctx = { platform, errors: [] };
  const config = SCHEMA.check(input, '', ctx);
  if (ctx.errors.length > 0) return { ok: false, errors: ctx.errors };
  return { ok: true, config };
}

/** A working demo on this machine: loopback only, an office server stand-in on 2526. */
export function demoConfig(): GatehouseConfig {
  const cfg = defaultConfig();
  cfg.listener = { host: '127.0.0.1', port: 2525 };
  cfg.internalDomains = ['test.jp'];
  // 127.0.0.1:2526 is the office server stand-in (the back end that holds the mailboxes).
  cfg.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: 2526 }] }];
  cfg.trustedNetworks = ['127.0.0.0/8', '::1/128'];
  cfg.accounts = [{ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: 'part-timer (demo)' }];
  return cfg;
}

/** Recursively freeze: snapshots handed out by the store must not be mutated in place. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Structural equality of two configs as JSON (key order follows the schema after validation). */
export function sameConfig(a: GatehouseConfig, b: GatehouseConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

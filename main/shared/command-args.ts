/*
 * One runtime schema per command: what its arguments must be. The core's dispatcher checks
 * every call against it once, whichever way it came (window over IPC or HTTP, CLI, a script),
 * and the window checks a form with the same schema before it sends. The contract's argument
 * types are inferred from here (contract.ts), so a command's schema and its type cannot
 * drift apart. `validateArgs(command, raw)` returns the checked arguments (defaults filled)
 * or the issues, with paths as the window's forms name their fields (`listener.port` for a
 * `config.set` of the listener, `delivery.smarthost.user` for `config.setSmarthost`).
 * Adding a command: one entry here, one result type in contract.ts, one function in
 * main/core/commands/. Nothing here throws on bad input.
 */
import * as v from 'valibot';

import {
  PORTABLE_ENV,
  account,
  allowList,
  cidr,
  configSchemas,
  exactAddress,
  deliveryWithoutSmarthost,
  hostPort,
  oauthInput,
  pattern,
  routeList,
  senderRouteList,
  smarthostInput,
  username,
  type ConfigEnv,
} from './config-schema.js';
import { problem, type ValidationIssue } from './issues.js';
import { EXTERNAL_MODES } from './outbound.js';
import type { RuleName } from './types.js';
import { domainProblem, ipProblem, passwordProblem, patternProblem, selectorProblem } from './rules.js';
import { bool, int, list, nothing, oneOf, rule, strict, text, toIssues, type Schema } from './schema-kit.js';

/** The arguments object, or nothing at all (= every field left out). */
function maybe<T>(schema: Schema<T>): Schema<T | undefined> {
  return v.optional(v.nullable(schema), undefined) as unknown as Schema<T | undefined>;
}

/** A domain as typed: spaces around it and upper case are forgiven (DNS ignores case). */
const typedDomain: Schema<string> = v.pipe(
  text(null, 253),
  v.transform((s: string) => s.trim().toLowerCase()),
  rule(domainProblem),
);

const mode = oneOf(['merge', 'replace'] as const);
const logKind = oneOf(['receive', 'send'] as const);
const day = text((s) => (/^\d{4}-\d{2}-\d{2}$/.test(s) ? null : problem('invalid')), 10);
const queueState = oneOf(['queued', 'active', 'deferred', 'hold'] as const);
const queueId = text((s) => (s.trim() ? null : problem('empty')), 200);
const RULES = [
  'address-syntax', 'inbound', 'no-route', 'recipient-unknown', 'relay-denied', 'block-external', 'block-external-header-from',
  'relay', 'sender-ok', 'sender-login-mismatch', 'too-many-recipients', 'message-too-big', 'bad-line-endings', 'too-many-clients',
  'too-many-connections-from-ip', 'storage-error', 'delay', 'hold-approval', 'approved', 'rejected-by-approver', 'approval-expired',
  'delay-cancelled', 'delay-sent-now', 'bcc-added', 'bcc-convert', 'sender-frozen',
] as const satisfies readonly RuleName[];

/** The config sections `config.set` may replace (accounts and SMTP AUTH have commands of their own). */
export const CONFIG_KEYS = [
  'listener', 'hostname', 'trustedNetworks', 'internalDomains', 'routes', 'limits', 'replies', 'log', 'admin', 'delivery', 'tls', 'performance', 'outbound', 'approvalPage',
  'deliverability', 'notifications',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

function configSet(env: ConfigEnv) {
  const { sections } = configSchemas(env);
  const entry = <K extends ConfigKey, S extends Schema>(key: K, value: S) => strict({ key: v.literal(key), value });
  return v.variant(
    'key',
    [
      entry('listener', sections.listener),
      entry('hostname', sections.hostname),
      entry('trustedNetworks', sections.trustedNetworks),
      entry('internalDomains', sections.internalDomains),
      entry('routes', sections.routes),
      entry('limits', sections.limits),
      entry('replies', sections.replies),
      entry('log', sections.log),
      entry('admin', sections.admin),
      entry('delivery', deliveryWithoutSmarthost),
      entry('tls', sections.tls),
      entry('performance', sections.performance),
      entry('outbound', sections.outbound),
      entry('deliverability', sections.deliverability),
      entry('approvalPage', sections.approvalPage),
      entry('notifications', sections.notifications),
    ],
  );
}

function build(env: ConfigEnv) {
  const { sections } = configSchemas(env);
  return {
    'status': nothing,
    'gateway.start': nothing,
    'gateway.stop': nothing,
    'stats.traffic': nothing,

    'setup.needed': nothing,
    'setup.complete': strict({
      officeServer: hostPort,
      domains: list(typedDomain, { nonEmpty: true, max: 100 }),
      outbound: v.variant('mode', [strict({ mode: v.literal('direct') }), strict({ mode: v.literal('smarthost'), smarthost: smarthostInput })]),
      listener: v.optional(sections.listener),
    }),

    'config.get': nothing,
    'config.set': configSet(env),
    'config.setSmarthost': v.nullable(smarthostInput),

    'accounts.list': nothing,
    'accounts.setBlock': strict({ pattern, block: bool, note: v.optional(text(null, 1000)) }),
    'accounts.setAllow': strict({ pattern, allow: allowList }),
    'accounts.save': strict({ original: v.optional(text(null, 254)), account }),
    'accounts.remove': strict({ pattern: text(null, 254) }),
    'accounts.import': strict({ csv: text(null, 10 * 1024 * 1024), mode }),
    'accounts.export': nothing,
    'accounts.setMode': strict({
      pattern,
      mode: oneOf(EXTERNAL_MODES),
      delayMinutes: v.optional(int(1, 7 * 24 * 60)),
      approvers: v.optional(list(exactAddress, { max: 50, unique: { key: (s) => s.toLowerCase() } })),
      standIn: v.optional(v.union([v.literal(''), exactAddress])),
      expireHours: v.optional(int(1, 30 * 24)),
    }),
    'accounts.setBcc': strict({ pattern, bcc: list(exactAddress, { max: 50, unique: { key: (s) => s.toLowerCase() } }) }),
    'accounts.frozen': nothing,
    'accounts.unfreeze': strict({ address: text(null, 320) }),

    'approvals.list': nothing,
    'approvals.approve': strict({ id: queueId, as: v.optional(exactAddress) }),
    'approvals.reject': strict({ id: queueId, reason: v.optional(text(null, 1000), ''), as: v.optional(exactAddress) }),

    // senderRoutes left out: kept as they are; a route's password left out: the stored one stays.
    'routes.set': strict({ routes: routeList, senderRoutes: v.optional(senderRouteList) }),
    'routes.import': strict({ text: text(null, 10 * 1024 * 1024), mode }),
    'routes.export': nothing,
    'routes.health': nothing,
    // Where mail from this sender to this recipient goes next (the delivery's own choice).
    'routes.which': strict({ sender: text(null, 320), recipient: text((s) => (s.trim() ? null : problem('required')), 320) }),

    'dkim.generate': strict({ domain: typedDomain, selector: text(selectorProblem, 63), algorithm: v.optional(oneOf(['rsa', 'ed25519'] as const), 'rsa') }),
    'dkim.show': strict({ domain: typedDomain }),
    'dkim.remove': strict({ domain: typedDomain, selector: text(selectorProblem, 63) }),
    'doctor.run': nothing,

    // The XOAUTH2 login: the app's ids (a client secret left out keeps the stored one), the
    // consent in the system browser or with a device code, its state.
    'oauth.set': v.nullable(oauthInput),
    'oauth.start': strict({ flow: oneOf(['browser', 'device'] as const) }),
    'oauth.cancel': nothing,
    'oauth.status': nothing,

    'domains.add': strict({ domain: typedDomain }),
    'domains.remove': strict({ domain: typedDomain }),
    'trusted.add': strict({ cidr }),
    'trusted.remove': strict({ cidr: text(null, 50) }),

    'log.tail': strict({ kind: logKind, n: int(1, 5000), day: v.optional(day) }),
    'log.days': strict({ kind: logKind }),
    'log.page': strict({
      kind: logKind,
      day,
      before: v.optional(int(0, Number.MAX_SAFE_INTEGER)),
      limit: int(1, 5000),
      filter: v.optional(
        strict({
          text: v.optional(text(null, 1000)),
          decision: v.optional(oneOf(['accept', 'reject'] as const)),
          rule: v.optional(oneOf(RULES)),
        }),
      ),
    }),

    'queue.list': maybe(
      strict({
        state: v.optional(queueState),
        text: v.optional(text(null, 1000)),
        sender: v.optional(text(null, 1000)),
        recipient: v.optional(text(null, 1000)),
      }),
    ),
    'queue.show': strict({ id: queueId }),
    'queue.retry': maybe(strict({ id: v.optional(queueId) })),
    'queue.hold': strict({ id: queueId }),
    'queue.release': strict({ id: queueId }),
    'queue.delete': strict({ id: queueId }),
    'queue.bounce': strict({ id: queueId }),
    'queue.delayed': nothing,
    'queue.sendNow': strict({ id: queueId }),
    'queue.cancel': strict({ id: queueId }),

    // The sender may be '' (the null sender); the policy itself judges the addresses' syntax.
    'check': strict({ sender: text(null, 320), recipient: text((s) => (s.trim() ? null : problem('required')), 320), clientIp: text(ipProblem, 100) }),

    'auth.setEnabled': strict({ enabled: bool }),
    'auth.setUser': strict({
      username,
      password: v.optional(text(passwordProblem, 1000)),
      addresses: list(text(patternProblem, 320), { nonEmpty: true, max: 1000 }),
    }),
    'auth.removeUser': strict({ username: text(null, 64) }),

    'history.list': nothing,
    'history.restore': strict({ n: int(1, Number.MAX_SAFE_INTEGER) }),
    'history.actions': nothing,

    // The Windows service (run where the command arrives: the desktop app or the CLI).
    'service.status': nothing,
    'service.install': maybe(
      strict({
        dryRun: v.optional(bool, false),
        /** The desktop data folder to move in (default: this user's, when it holds data). */
        from: v.optional(text(null, 1000)),
        /** Who administers the service (default: the user running the command). */
        admin: v.optional(strict({ name: text(null, 256), sid: v.nullable(text((x) => (/^S-1-[\d-]+$/.test(x) ? null : problem('invalid')), 200)) })),
        /** An upgrade of a stopped service keeps it stopped. */
        noStart: v.optional(bool, false),
        fromInstaller: v.optional(bool, false),
      }),
    ),
    'service.uninstall': maybe(
      strict({
        dryRun: v.optional(bool, false),
        /** Leave the data in the service folder instead of moving it back. */
        keepData: v.optional(bool, false),
        /** The desktop data folder to move back to (default: this user's). */
        to: v.optional(text(null, 1000)),
        admin: v.optional(strict({ name: text(null, 256), sid: v.nullable(text(null, 200)) })),
      }),
    ),
    'service.start': maybe(strict({ dryRun: v.optional(bool, false) })),
    'service.stop': maybe(strict({ dryRun: v.optional(bool, false) })),
    'service.firewall': strict({ port: int(1, 65535), dryRun: v.optional(bool, false) }),

    // A queue id, or `<session>.<txn>` for a message that was never queued (refused).
    'messages.timeline': strict({ ref: text((s) => (/^[A-Za-z0-9._@+-]{1,200}$/.test(s) ? null : problem('invalid')), 200), day: v.optional(day) }),
    'messages.search': strict({
      text: text((s) => (s.trim().length >= 2 ? null : problem('too_short', { min: 2 })), 200),
      days: v.optional(int(1, 3650)),
      limit: v.optional(int(1, 1000), 100),
    }),

    'delivery.status': nothing,
    'delivery.pause': nothing,
    'delivery.resume': nothing,
    'delivery.hold': strict({ domain: typedDomain }),
    'delivery.release': strict({ domain: typedDomain }),

    'notices.test': nothing,
  } satisfies Record<string, Schema<unknown>>;
}

export type CommandArgSchemas = ReturnType<typeof build>;

const cache = new Map<string, CommandArgSchemas>();

/** The argument schemas for a platform (the listener's defaults differ on Windows). */
export function commandArgs(env: ConfigEnv = PORTABLE_ENV): CommandArgSchemas {
  const key = `${env.platform}\u0000${env.hostname}`;
  let s = cache.get(key);
  if (!s) cache.set(key, (s = build(env)));
  return s;
}

export type CommandName = keyof CommandArgSchemas;
/** What a caller sends (fields with defaults may be left out). */
export type ArgsOf<C extends CommandName> = v.InferInput<CommandArgSchemas[C]>;
/** What a command's function receives: checked, defaults filled in. */
export type CheckedArgsOf<C extends CommandName> = v.InferOutput<CommandArgSchemas[C]>;

/** Where a command's issues point, for the forms: `value.port` of config.set is `listener.port`. */
function issuePath(command: CommandName, raw: unknown, path: string): string {
  if (command === 'oauth.set') return path ? `delivery.oauth${path.startsWith('[') ? '' : '.'}${path}` : 'delivery.oauth';
  if (command === 'config.setSmarthost') return path ? `delivery.smarthost${path.startsWith('[') ? '' : '.'}${path}` : 'delivery.smarthost';
  if (command === 'config.set' && (path === 'value' || path.startsWith('value.') || path.startsWith('value['))) {
    const key = (raw as { key?: unknown } | null)?.key;
    if (typeof key === 'string') return key + path.slice('value'.length);
  }
  return path;
}

export type ArgsCheck<C extends CommandName> = { ok: true; args: CheckedArgsOf<C> } | { ok: false; issues: ValidationIssue[] };

export function validateArgs<C extends CommandName>(command: C, raw: unknown, env: ConfigEnv = PORTABLE_ENV): ArgsCheck<C> {
  const schema = commandArgs(env)[command] as unknown as Schema<CheckedArgsOf<C>>;
  const r = v.safeParse(schema, raw);
  if (r.success) return { ok: true, args: r.output };
  return { ok: false, issues: toIssues(r.issues).map((i) => ({ ...i, path: issuePath(command, raw, i.path) })) };
}

export const COMMAND_NAMES = Object.keys(commandArgs()) as CommandName[];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(commandArgs(), name);
}

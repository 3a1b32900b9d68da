/*
 * The settings schema as the core uses it: the shared schema (main/shared/config-schema.ts,
 * where every default and rule lives) bound to this machine (its platform and its name for
 * the greeting). defaultConfig() builds the defaults; validateConfig() checks an unknown value
 * (parsed JSON, a draft) and returns either the complete config, defaults filled in at every
 * depth, or every problem found with its field path, machine code and English message.
 * Nothing here throws on bad input; ConfigError is for callers that want to throw the list.
 */
import { hostname as osHostname } from 'node:os';

import { configSchemas, MiB, type ConfigEnv } from '../../shared/config-schema.js';
import { formatIssues, type ValidationIssue } from '../../shared/issues.js';
import { greetingNameProblem } from '../../shared/rules.js';
import { check } from '../../shared/schema-kit.js';
import type { GatehouseConfig } from '../../shared/types.js';

export { MiB, formatIssues };

/** A problem with the settings: field path, code, parameters, English message. */
export type ConfigIssue = ValidationIssue;

export type ValidateResult = { ok: true; config: GatehouseConfig } | { ok: false; errors: ConfigIssue[] };

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

/** os.hostname() made into a greeting name: Windows gives e.g. 'DESKTOP-AB12_X'. */
function defaultHostname(): string {
  const h = osHostname()
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return h && greetingNameProblem(h) === null ? h : 'localhost';
}

/** The schema's environment on this machine (for a platform other than this one in tests). */
export function configEnv(platform: NodeJS.Platform = process.platform): ConfigEnv {
  return { platform, hostname: defaultHostname() };
}

/**
 * Check `input` and complete it with defaults. On success `config` is a fresh object that
 * shares nothing with `input`; on failure `errors` lists every problem in document order.
 */
export function validateConfig(input: unknown, platform: NodeJS.Platform = process.platform): ValidateResult {
  const r = check(configSchemas(configEnv(platform)).config, input);
  return r.ok ? { ok: true, config: r.value } : { ok: false, errors: r.issues };
}

/** Every setting at its default. Platform decides the listener (see the shared schema). */
export function defaultConfig(platform: NodeJS.Platform = process.platform): GatehouseConfig {
  const r = validateConfig({}, platform);
  if (!r.ok) throw new Error(`the default settings do not pass their own schema: ${formatIssues(r.errors)}`);
  return r.config;
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

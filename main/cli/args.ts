/*
 * The `gatehouse` CLI's command line, read by Node's util.parseArgs: positionals plus
 * `--flag value`, `--flag=value`, boolean flags and short aliases, in any order. Unknown
 * flags, a value given to a boolean flag or a missing value are a UsageError (exit code 2)
 * naming the flag, never silently ignored. parseHostPort reads `host:port`.
 */
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  readonly exitCode = 2;
}

export interface ParsedArgs {
  positionals: string[];
  /** `--approver` repeats: its value is a list. */
  flags: Record<string, string | boolean | string[]>;
}

/** Every flag of every command: one table, so `--help` and the parser cannot disagree on a name. */
const OPTIONS = {
  addresses: { type: 'string' },
  data: { type: 'string' },
  listen: { type: 'string' },
  admin: { type: 'string' },
  client: { type: 'string' },
  note: { type: 'string' },
  state: { type: 'string' },
  sender: { type: 'string' },
  recipient: { type: 'string' },
  lines: { type: 'string', short: 'n' },
  day: { type: 'string' },
  days: { type: 'string' },
  search: { type: 'string' },
  out: { type: 'string' },
  minutes: { type: 'string' },
  approver: { type: 'string', multiple: true },
  'stand-in': { type: 'string' },
  'expire-hours': { type: 'string' },
  reason: { type: 'string' },
  as: { type: 'string' },
  clear: { type: 'boolean' },
  selector: { type: 'string' },
  algorithm: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  remove: { type: 'boolean' },
  replace: { type: 'boolean' },
  senderlog: { type: 'boolean' },
  'no-admin': { type: 'boolean' },
  // serve --service, and gatehouse service ...
  service: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  from: { type: 'string' },
  to: { type: 'string' },
  'keep-data': { type: 'boolean' },
  'admin-user': { type: 'string' },
  'admin-sid': { type: 'string' },
  'no-start': { type: 'boolean' },
  'from-installer': { type: 'boolean' },
  port: { type: 'string' },
} as const;

/** util.parseArgs' errors say what is wrong at length; the CLI says it in its own few words. */
function usage(err: Error & { code?: string }): UsageError {
  const flag = /'(-{1,2}[\w-]+)/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${flag}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = flag.replace(/^-+/, '');
      const long = Object.entries(OPTIONS).find(([k, o]) => k === name || ('short' in o && o.short === name))?.[0] ?? name;
      const o = OPTIONS[long as keyof typeof OPTIONS];
      return new UsageError(o && o.type === 'boolean' ? `--${long} takes no value` : `--${long} needs a value`);
    }
    default:
      return new UsageError(err.message);
  }
}

export function parseCommandLine(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(err as Error & { code?: string });
  }
  const flags: ParsedArgs['flags'] = {};
  for (const [k, v] of Object.entries(parsed.values)) if (v !== undefined) flags[k] = v as string | boolean | string[];
  return { positionals: parsed.positionals, flags };
}

/** `host:port`, `[v6]:port` or `:port` -> parts; UsageError when malformed. */
export function parseHostPort(s: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 0 || port > 65535) throw new UsageError(`${what}: expected host:port, got "${s}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

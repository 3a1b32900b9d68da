/*
 * A small argv parser for the `gatehouse` CLI: positionals plus `--flag value`,
 * `--flag=value`, boolean flags and short aliases. Unknown flags are a UsageError
 * (exit code 2), never silently ignored.
 */
export class UsageError extends Error {
  readonly exitCode = 2;
}

export interface FlagSpec {
  /** Flags that take a value (`--data DIR`). */
  values?: string[];
  /** Boolean flags (`--follow`). */
  booleans?: string[];
  /** Short aliases: `{ f: 'follow', n: 'lines' }`. */
  aliases?: Record<string, string>;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

export function parseArgs(argv: string[], spec: FlagSpec): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const booleans = new Set(spec.booleans ?? []);
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | null = null;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      const alias = spec.aliases?.[arg.slice(1)];
      if (!alias) throw new UsageError(`unknown option ${arg}`);
      name = alias;
    }
    if (name === null) {
      positionals.push(arg);
      continue;
    }
    if (booleans.has(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else if (values.has(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      flags[name] = v;
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positionals, flags };
}

/** `host:port`, `[v6]:port` or `:port` -> parts; UsageError when malformed. */
export function parseHostPort(s: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 0 || port > 65535) throw new UsageError(`${what}: expected host:port, got "${s}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/*
 * CLI commands that read or change the config: check, accounts, routes, domains, trusted,
 * config show, history, restore. They open the config store in the data folder directly;
 * a running `gatehouse serve` picks the change up through its file watch (no restart).
 * Invalid input -> UsageError (exit 2) naming what is wrong; nothing is half-applied.
 */
import fs from 'node:fs/promises';
import {
  ConfigError,
  ConfigStore,
  SeenAccounts,
  accountsToCsv,
  listAccounts,
  parseAccountsCsv,
  parseGatewayDat,
  routesToGatewayDat,
  setAllow,
  setBlock,
  upsertAccount,
} from '../core/config/index.js';
import { check, checkDomainSyntax, compilePolicy, validateCidr } from '../core/policy/index.js';
import { toConfigView } from '../core/api.js';
import { hashPassword } from '../core/smtp/auth.js';
import type { Decision, GatehouseConfig } from '../shared/types.js';
import { UsageError, type ParsedArgs } from './args.js';
import { print, printJson, table } from './output.js';

async function openStore(dataDir: string): Promise<ConfigStore> {
  return ConfigStore.open(dataDir);
}

/** Applies a change through the store; a ConfigError becomes a UsageError naming the fields. */
async function change(dataDir: string, what: string, mutate: (d: GatehouseConfig) => void): Promise<GatehouseConfig> {
  const store = await openStore(dataDir);
  try {
    return await store.update('cli', what, mutate);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  } finally {
    await store.close();
  }
}

function arg(a: ParsedArgs, i: number, name: string): string {
  const v = a.positionals[i];
  if (v === undefined || v === '') throw new UsageError(`missing <${name}>`);
  return v;
}

function describe(d: Decision): string {
  const verdict = d.action === 'accept' ? 'ACCEPT' : 'REJECT';
  return `${verdict}  rule=${d.rule}${d.account ? `  account=${d.account}` : ''}\n  reply: ${d.code} ${d.message}\n  why:   ${d.reason.en}\n  理由:  ${d.reason.ja}`;
}

export async function cmdCheck(dataDir: string, a: ParsedArgs): Promise<number> {
  const rawSender = arg({ ...a, positionals: a.positionals.map((p) => (p === '' ? '<>' : p)) }, 0, 'sender');
  const sender = rawSender === '<>' ? '' : rawSender;
  const recipient = arg(a, 1, 'recipient');
  const client = typeof a.flags.client === 'string' ? a.flags.client : '127.0.0.1';
  if (validateCidr(client) !== null || client.includes('/')) throw new UsageError(`--client: "${client}" is not an IP address`);
  const store = await openStore(dataDir);
  const cfg = store.get();
  await store.close();
  const result = check(compilePolicy(cfg), sender, recipient, client);
  const final = result.sender.action === 'reject' ? result.sender : result.recipient;
  if (a.flags.json) printJson({ ...result, decision: final.action, rule: final.rule });
  else {
    print(`check: client ${client}, MAIL FROM:<${sender}>, RCPT TO:<${recipient}>`);
    print(`MAIL FROM  ${describe(result.sender)}`);
    if (result.sender.action === 'accept') print(`RCPT TO    ${describe(result.recipient)}`);
  }
  return final.action === 'accept' ? 0 : 1;
}

export async function cmdAccounts(dataDir: string, a: ParsedArgs): Promise<number> {
  const sub = arg(a, 0, 'list|block|unblock|allow|import|export');
  switch (sub) {
    case 'list': {
      const store = await openStore(dataDir);
      const seen = await SeenAccounts.open(dataDir);
      let rows = listAccounts(store.get(), seen);
      await seen.close();
      await store.close();
      const q = typeof a.flags.search === 'string' ? a.flags.search.toLowerCase() : '';
      if (q) rows = rows.filter((r) => r.pattern.toLowerCase().includes(q) || r.note.toLowerCase().includes(q));
      if (a.flags.json) return printJson(rows), 0;
      table(
        ['account', 'block', 'allow', 'messages', 'last seen', 'note'],
        rows.map((r) => [r.pattern + (r.configured ? '' : ' (seen)'), r.blockExternal ? 'BLOCK' : '-', r.allow.join(';'), String(r.messages), r.lastSeen ?? '', r.note]),
      );
      return 0;
    }
    case 'block':
    case 'unblock': {
      const pattern = arg(a, 1, 'address|pattern');
      const note = typeof a.flags.note === 'string' ? a.flags.note : undefined;
      await change(dataDir, `${sub} ${pattern}`, (d) => {
        setBlock(d, pattern, sub === 'block');
        if (note !== undefined) {
          const acc = d.accounts.find((x) => x.pattern.toLowerCase() === pattern.toLowerCase());
          if (acc) acc.note = note;
        }
      });
      print(`${pattern}: external sending ${sub === 'block' ? 'BLOCKED' : 'allowed'} (applies to the next RCPT)`);
      return 0;
    }
    case 'allow': {
      const pattern = arg(a, 1, 'address|pattern');
      const entries = a.positionals.slice(2);
      if (entries.length === 0) throw new UsageError('allow needs at least one domain or address');
      const store = await openStore(dataDir);
      const current = store.get().accounts.find((x) => x.pattern.toLowerCase() === pattern.toLowerCase())?.allow ?? [];
      await store.close();
      const lower = entries.map((e) => e.toLowerCase());
      const next = a.flags.remove ? current.filter((x) => !lower.includes(x.toLowerCase())) : [...current, ...entries.filter((e) => !current.map((c) => c.toLowerCase()).includes(e.toLowerCase()))];
      await change(dataDir, `allow-list of ${pattern}`, (d) => setAllow(d, pattern, next));
      print(`${pattern}: may still reach ${next.length ? next.join(', ') : '(nothing external)'}`);
      return 0;
    }
    case 'import': {
      const file = arg(a, 1, 'file.csv');
      const text = await readInput(file);
      const parsed = parseAccountsCsv(text);
      if (!parsed.ok) throw new UsageError(`${file}: nothing imported:\n${parsed.errors.map((e) => `  line ${e.line}: ${e.message}`).join('\n')}`);
      await change(dataDir, `import ${parsed.accounts.length} accounts from ${file}${a.flags.replace ? ' (replace)' : ''}`, (d) => {
        if (a.flags.replace) d.accounts = [];
        for (const acc of parsed.accounts) upsertAccount(d, acc);
      });
      print(`imported ${parsed.accounts.length} account(s) from ${file}`);
      return 0;
    }
    case 'export': {
      const store = await openStore(dataDir);
      const csv = accountsToCsv(store.get().accounts);
      await store.close();
      await writeOutput(a.positionals[1], csv);
      return 0;
    }
    default:
      throw new UsageError(`unknown accounts command "${sub}"`);
  }
}

async function readInput(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

async function writeOutput(file: string | undefined, text: string): Promise<void> {
  if (!file || file === '-') {
    process.stdout.write(text);
    return;
  }
  await fs.writeFile(file, text);
  print(`wrote ${file}`);
}

export async function cmdRoutes(dataDir: string, a: ParsedArgs): Promise<number> {
  const sub = arg(a, 0, 'list|import|export|status');
  switch (sub) {
    case 'list': {
      const store = await openStore(dataDir);
      const routes = store.get().routes;
      await store.close();
      if (a.flags.json) return printJson(routes), 0;
      if (routes.length === 0) print('(no routes: mail for internal domains cannot be delivered)');
      table(['domain', 'hosts (failover order)'], routes.map((r) => [r.domain, r.hosts.map((h) => `${h.host}:${h.port}`).join(' -> ')]));
      return 0;
    }
    case 'import': {
      const file = arg(a, 1, 'Gateway.dat');
      const parsed = parseGatewayDat(await readInput(file));
      if (!parsed.ok) throw new UsageError(`${file}: nothing imported:\n${parsed.errors.map((e) => `  line ${e.line}: ${e.message}`).join('\n')}`);
      await change(dataDir, `import ${file}${a.flags.replace ? ' (replace)' : ''}`, (d) => {
        if (a.flags.replace) d.routes = parsed.routes;
        else {
          const incoming = new Set(parsed.routes.map((r) => r.domain));
          d.routes = [...d.routes.filter((r) => !incoming.has(r.domain)), ...parsed.routes];
        }
      });
      print(`imported ${parsed.routes.length} route(s) from ${file}`);
      return 0;
    }
    case 'export': {
      const store = await openStore(dataDir);
      const text = routesToGatewayDat(store.get().routes);
      await store.close();
      await writeOutput(a.positionals[1], text);
      return 0;
    }
    default:
      throw new UsageError(`unknown routes command "${sub}"`);
  }
}

export async function cmdList(dataDir: string, a: ParsedArgs, key: 'internalDomains' | 'trustedNetworks'): Promise<number> {
  const noun = key === 'internalDomains' ? 'domain' : 'CIDR';
  const sub = arg(a, 0, 'list|add|remove');
  if (sub === 'list') {
    const store = await openStore(dataDir);
    const items = store.get()[key];
    await store.close();
    if (a.flags.json) printJson(items);
    else for (const x of items) print(x);
    return 0;
  }
  if (sub !== 'add' && sub !== 'remove') throw new UsageError(`unknown command "${sub}" (list, add, remove)`);
  const value = arg(a, 1, noun).trim();
  const normalized = key === 'internalDomains' ? value.toLowerCase() : value;
  if (sub === 'add') {
    const problem = key === 'internalDomains' ? checkDomainSyntax(normalized, { smtputf8: false }) : validateCidr(normalized);
    if (problem) throw new UsageError(`${noun} "${value}": ${problem}`);
  }
  await change(dataDir, `${sub} ${noun} ${normalized}`, (d) => {
    const list = d[key];
    const i = list.findIndex((x) => x.toLowerCase() === normalized.toLowerCase());
    if (sub === 'add') {
      if (i >= 0) throw new UsageError(`${normalized} is already listed`);
      list.push(normalized);
    } else {
      if (i < 0) throw new UsageError(`${normalized} is not listed`);
      list.splice(i, 1);
    }
  });
  print(`${sub === 'add' ? 'added' : 'removed'} ${normalized}`);
  if (key === 'internalDomains' && sub === 'add') print(`note: add a route for ${normalized} (gatehouse routes import) so its mail reaches the office server`);
  return 0;
}

export async function cmdConfig(dataDir: string, a: ParsedArgs): Promise<number> {
  const sub = arg(a, 0, 'show');
  if (sub !== 'show') throw new UsageError(`unknown config command "${sub}"`);
  const store = await openStore(dataDir);
  const view = toConfigView(store.get());
  const problem = store.startupProblem;
  await store.close();
  if (problem) process.stderr.write(`warning: ${problem}\n`);
  printJson(view);
  return 0;
}

export async function cmdHistory(dataDir: string, a: ParsedArgs): Promise<number> {
  const store = await openStore(dataDir);
  const entries = await store.history();
  await store.close();
  if (a.flags.json) return printJson(entries.map((e) => ({ n: e.n, at: e.at, via: e.via, what: e.what }))), 0;
  table(['n', 'when', 'via', 'what'], entries.map((e) => [String(e.n), e.at, e.via, e.what]));
  return 0;
}

export async function cmdRestore(dataDir: string, a: ParsedArgs): Promise<number> {
  const n = Number(arg(a, 0, 'n'));
  if (!Number.isInteger(n) || n < 1) throw new UsageError('restore needs a change number from gatehouse history');
  const store = await openStore(dataDir);
  try {
    await store.restore(n, 'cli');
  } catch (err) {
    throw new UsageError((err as Error).message);
  } finally {
    await store.close();
  }
  print(`restored the config as it was after change ${n}`);
  return 0;
}

/** Reads the password from stdin (a pipe, or typed at a prompt), first line only. */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(0x0a)) break;
  }
  const pw = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (pw.length < 8) throw new UsageError('the password must have at least 8 characters');
  return pw;
}

export async function cmdAuth(dataDir: string, a: ParsedArgs): Promise<number> {
  const sub = arg(a, 0, 'list|add|remove|enable|disable');
  switch (sub) {
    case 'list': {
      const store = await openStore(dataDir);
      const auth = store.get().auth;
      await store.close();
      if (a.flags.json) return printJson({ enabled: auth.enabled, users: auth.users.map((u) => ({ username: u.username, addresses: u.addresses })) }), 0;
      print(`SMTP AUTH: ${auth.enabled ? 'enabled (offered after STARTTLS)' : 'disabled'}`);
      table(['user', 'may send as'], auth.users.map((u) => [u.username, u.addresses.join(', ')]));
      return 0;
    }
    case 'enable':
    case 'disable':
      await change(dataDir, `${sub} SMTP AUTH`, (d) => void (d.auth.enabled = sub === 'enable'));
      print(`SMTP AUTH ${sub}d`);
      return 0;
    case 'add': {
      const username = arg(a, 1, 'user');
      const addresses = typeof a.flags.addresses === 'string' ? a.flags.addresses.split(',').map((x) => x.trim()).filter(Boolean) : [];
      if (addresses.length === 0) throw new UsageError('add needs --addresses a@test.jp[,b@test.jp]: the senders this login may use');
      const passwordHash = await hashPassword(await readPassword());
      await change(dataDir, `set SMTP AUTH user ${username}`, (d) => {
        const existing = d.auth.users.find((u) => u.username.toLowerCase() === username.toLowerCase());
        if (existing) Object.assign(existing, { passwordHash, addresses });
        else d.auth.users.push({ username, passwordHash, addresses });
      });
      print(`user ${username} may send as ${addresses.join(', ')} (password stored as a scrypt hash)`);
      return 0;
    }
    case 'remove': {
      const username = arg(a, 1, 'user');
      await change(dataDir, `remove SMTP AUTH user ${username}`, (d) => {
        const i = d.auth.users.findIndex((u) => u.username.toLowerCase() === username.toLowerCase());
        if (i < 0) throw new UsageError(`no user ${username}`);
        d.auth.users.splice(i, 1);
      });
      print(`removed ${username}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown auth command "${sub}"`);
  }
}

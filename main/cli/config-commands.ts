/*
 * CLI commands that read or change the config: check (with the route an accepted pair
 * takes), accounts, routes (with routes that have sender conditions), domains, trusted,
 * config show, history, restore, auth. Each is a thin verb over the command layer: it reads
 * its arguments, makes one (or two) calls through the client (client.ts: the running gateway
 * when there is one, so it stays the only writer; else this process, through the very same
 * command functions) and prints the answer. Bad input is refused by the command's schema
 * (an ApiError 'validation', exit 2, naming the field); nothing is half-applied.
 */
import fs from 'node:fs/promises';

import { accountMatches } from '../shared/account-filter.js';
import { addressKey } from '../shared/address.js';
import { decodeText } from '../shared/csv.js';
import { ApiError } from '../shared/contract.js';
import type { Decision } from '../shared/types.js';
import { UsageError, type ParsedArgs } from './args.js';
import type { Client } from './client.js';
import { outputPath } from './out-path.js';
import { print, printJson, table } from './output.js';
import { cmdAccountsOutbound } from './outbound-commands.js';
import { describeRoute } from './deliverability-commands.js';

function arg(a: ParsedArgs, i: number, name: string): string {
  const v = a.positionals[i];
  if (v === undefined || v === '') throw new UsageError(`missing <${name}>`);
  return v;
}

function describe(d: Decision): string {
  const verdict = d.action === 'accept' ? 'ACCEPT' : 'REJECT';
  return `${verdict}  rule=${d.rule}${d.account ? `  account=${d.account}` : ''}\n  reply: ${d.code} ${d.message}\n  why:   ${d.reason.en}\n  理由:  ${d.reason.ja}`;
}

export async function cmdCheck(c: Client, a: ParsedArgs): Promise<number> {
  const rawSender = arg({ ...a, positionals: a.positionals.map((p) => (p === '' ? '<>' : p)) }, 0, 'sender');
  const sender = rawSender === '<>' ? '' : rawSender;
  const recipient = arg(a, 1, 'recipient');
  const client = typeof a.flags.client === 'string' ? a.flags.client : '127.0.0.1';
  const result = await c.call('check', { sender, recipient, clientIp: client });
  const final = result.sender.action === 'reject' ? result.sender : result.recipient;
  const held = final.rule === 'delay' || final.rule === 'hold-approval';
  // Accepted mail goes somewhere: the next hop the delivery would choose for this pair.
  const route = final.action === 'accept' ? await c.call('routes.which', { sender, recipient }) : null;
  if (a.flags.json) printJson({ ...result, decision: final.action, rule: final.rule, ...(route ? { route } : {}) });
  else {
    print(`check: client ${client}, MAIL FROM:<${sender}>, RCPT TO:<${recipient}>`);
    print(`MAIL FROM  ${describe(result.sender)}`);
    if (result.sender.action === 'accept') print(`RCPT TO    ${describe(result.recipient)}`);
    if (held) print(final.rule === 'delay' ? 'outcome:   accepted; the external copy is delayed' : 'outcome:   accepted; the external copy is held for approval');
    if (route) print(`route      ${describeRoute(route)}`);
  }
  return final.action === 'accept' ? 0 : 1;
}

/** A file an admin made (Excel, Notepad): UTF-8 with or without BOM, or Shift_JIS. */
async function readInput(file: string): Promise<string> {
  try {
    return decodeText(await fs.readFile(file));
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Where an export goes: stdout for none or `-`, else a file whose name Windows accepts (exit 2). */
function outputFile(a: ParsedArgs, i: number, what: string): string | null {
  const file = a.positionals[i];
  if (file === undefined || file === '' || file === '-') return null;
  return outputPath(file, what);
}

/** The export to `file` (or stdout); a file that cannot be written is exit 2 with the reason. */
async function writeOutput(file: string | null, text: string): Promise<void> {
  if (file === null) {
    process.stdout.write(text);
    return;
  }
  try {
    await fs.writeFile(file, text);
  } catch (err) {
    throw new UsageError(`cannot write ${file}: ${(err as Error).message}`);
  }
  print(`wrote ${file}`);
}

export async function cmdAccounts(c: Client, a: ParsedArgs): Promise<number> {
  const sub = arg(a, 0, 'list|block|unblock|allow|mode|bcc|frozen|unfreeze|import|export');
  const outbound = await cmdAccountsOutbound(c, a, sub);
  if (outbound !== null) return outbound;
  switch (sub) {
    case 'list': {
      const q = typeof a.flags.search === 'string' ? a.flags.search : '';
      const rows = (await c.call('accounts.list')).filter((r) => accountMatches(r, q));
      if (a.flags.json) return printJson(rows), 0;
      const mode = (r: (typeof rows)[number]) =>
        r.blockExternal || r.mode === 'block' ? 'BLOCK' : r.mode === 'delay' ? `delay ${r.delayMinutes ?? 5}m` : r.mode === 'approval' ? `approval (${(r.approvers ?? []).join(',')})` : '-';
      table(
        ['account', 'mode', 'allow', 'bcc', 'messages', 'last seen', 'note'],
        rows.map((r) => [r.pattern + (r.configured ? '' : ' (seen)'), mode(r), r.allow.join(';'), (r.bcc ?? []).join(';'), String(r.messages), r.lastSeen ?? '', r.note]),
      );
      return 0;
    }
    case 'block':
    case 'unblock': {
      const pattern = arg(a, 1, 'address|pattern');
      const note = typeof a.flags.note === 'string' ? a.flags.note : undefined;
      await c.call('accounts.setBlock', { pattern, block: sub === 'block', ...(note !== undefined ? { note } : {}) });
      print(`${pattern}: external sending ${sub === 'block' ? 'BLOCKED' : 'allowed'} (applies to the next RCPT)`);
      return 0;
    }
    case 'allow': {
      const pattern = arg(a, 1, 'address|pattern');
      const entries = a.positionals.slice(2);
      if (entries.length === 0) throw new UsageError('allow needs at least one domain or address');
      const row = (await c.call('accounts.list')).find((r) => addressKey(r.pattern) === addressKey(pattern));
      const current = row?.allow ?? [];
      const lower = entries.map((e) => e.toLowerCase());
      const next = a.flags.remove
        ? current.filter((x) => !lower.includes(x.toLowerCase()))
        : [...current, ...entries.filter((e) => !current.some((x) => x.toLowerCase() === e.toLowerCase()))];
      await c.call('accounts.setAllow', { pattern, allow: next });
      print(`${pattern}: may still reach ${next.length ? next.join(', ') : '(nothing external)'}`);
      return 0;
    }
    case 'import': {
      const file = arg(a, 1, 'file.csv');
      const r = await c.call('accounts.import', { csv: await readInput(file), mode: a.flags.replace ? 'replace' : 'merge' });
      print(`imported ${r.imported} account(s) from ${file}`);
      return 0;
    }
    case 'export': {
      const file = outputFile(a, 1, 'accounts export');
      await writeOutput(file, (await c.call('accounts.export')).csv);
      return 0;
    }
    default:
      throw new UsageError(`unknown accounts command "${sub}"`);
  }
}

export async function cmdRoutes(c: Client, a: ParsedArgs): Promise<number> {
  const sub = arg(a, 0, 'list|import|export|status');
  switch (sub) {
    case 'list': {
      const sender = typeof a.flags.sender === 'string' ? a.flags.sender : undefined;
      const recipient = typeof a.flags.recipient === 'string' ? a.flags.recipient : undefined;
      if (sender !== undefined || recipient !== undefined) {
        // Which route one sender/recipient pair takes.
        if (sender === undefined || recipient === undefined) throw new UsageError('give both --sender and --recipient to see which route a pair takes');
        const route = await c.call('routes.which', { sender, recipient });
        if (a.flags.json) return printJson(route), 0;
        print(`${sender || '<>'} -> ${recipient}: ${describeRoute(route)}`);
        return 0;
      }
      const cfg = await c.call('config.get');
      const { routes } = cfg;
      const senderRoutes = cfg.delivery.senderRoutes;
      // The JSON stays the routing table as it always was; routes with sender conditions are in `config show`.
      if (a.flags.json) return printJson(routes), 0;
      const hosts = (hs: readonly { host: string; port: number }[]) => hs.map((h) => `${h.host}:${h.port}`).join(' -> ');
      if (routes.length === 0) print('(no routes: mail for internal domains cannot be delivered)');
      else table(['domain', 'hosts (failover order)', 'tls'], routes.map((r) => [r.domain, hosts(r.hosts), r.tls ?? 'opportunistic']));
      if (senderRoutes.length > 0) {
        print('');
        print('Routes with sender conditions (external mail; the most specific wins):');
        table(
          ['destination', 'sender', 'hosts (failover order)', 'login', 'tls'],
          senderRoutes.map((r) => [
            r.destination,
            r.sender ?? '(any)',
            hosts(r.hosts),
            r.auth === 'password' ? `password${r.user ? ` as ${r.user}` : ' (NOT SET: mail waits)'}` : (r.auth ?? 'none'),
            r.tls ?? 'opportunistic',
          ]),
        );
      }
      return 0;
    }
    case 'import': {
      const file = arg(a, 1, 'Gateway.dat');
      const r = await c.call('routes.import', { text: await readInput(file), mode: a.flags.replace ? 'replace' : 'merge' });
      print(`imported ${r.imported} route(s) from ${file}`);
      return 0;
    }
    case 'export': {
      const file = outputFile(a, 1, 'routes export');
      await writeOutput(file, (await c.call('routes.export')).text);
      return 0;
    }
    case 'status': {
      const health = await c.call('routes.health');
      if (a.flags.json) return printJson(health), 0;
      table(['next hop', 'via', 'state', 'last success', 'last failure', 'failures', 'last error'], health.map((h) => [h.hop, h.via, h.state, h.lastSuccess ?? '', h.lastFailure ?? '', String(h.consecutiveFailures), h.lastError ?? '']));
      return 0;
    }
    default:
      throw new UsageError(`unknown routes command "${sub}"`);
  }
}

export async function cmdList(c: Client, a: ParsedArgs, key: 'internalDomains' | 'trustedNetworks'): Promise<number> {
  const noun = key === 'internalDomains' ? 'domain' : 'CIDR';
  const sub = arg(a, 0, 'list|add|remove');
  if (sub === 'list') {
    const items = (await c.call('config.get'))[key];
    if (a.flags.json) printJson(items);
    else for (const x of items) print(x);
    return 0;
  }
  if (sub !== 'add' && sub !== 'remove') throw new UsageError(`unknown command "${sub}" (list, add, remove)`);
  const value = arg(a, 1, noun).trim();
  try {
    if (key === 'internalDomains') await c.call(sub === 'add' ? 'domains.add' : 'domains.remove', { domain: value });
    else await c.call(sub === 'add' ? 'trusted.add' : 'trusted.remove', { cidr: value });
  } catch (err) {
    // Name the value the problem is about: `CIDR "10.0.0.0/33": prefix length 33 is over 32`.
    if (err instanceof ApiError && err.code === 'validation') throw new UsageError(`${noun} "${value}": ${err.issues.map((i) => i.message).join('; ')}`);
    throw err;
  }
  const shown = key === 'internalDomains' ? value.toLowerCase() : value;
  print(`${sub === 'add' ? 'added' : 'removed'} ${shown}`);
  if (key === 'internalDomains' && sub === 'add') print(`note: add a route for ${shown} (gatehouse routes import) so its mail reaches the office server`);
  return 0;
}

export async function cmdConfig(c: Client, a: ParsedArgs): Promise<number> {
  const sub = arg(a, 0, 'show');
  if (sub !== 'show') throw new UsageError(`unknown config command "${sub}"`);
  const view = await c.call('config.get');
  const problem = await c.startupProblem();
  if (problem) process.stderr.write(`warning: ${problem}\n`);
  printJson(view);
  return 0;
}

export async function cmdHistory(c: Client, a: ParsedArgs): Promise<number> {
  const entries = (await c.call('history.list')).reverse();
  const actions = (await c.call('history.actions')).reverse();
  // Config changes (restorable, numbered) and actions (decisions, freezes: not restorable,
  // marked '-') in one list by time.
  const rows = [
    ...entries.map((e) => ({ kind: 'change' as const, n: e.n as number | null, at: e.at, via: e.via as string, what: e.what })),
    ...actions.map((x) => ({
      kind: 'action' as const,
      n: null,
      at: x.at,
      via: x.by.address ? `${x.by.via} ${x.by.address}` : x.by.via,
      what: `${x.action} ${x.subject}${x.sender ? ` from ${x.sender}` : ''}${x.recipients?.length ? ` to ${x.recipients.join(', ')}` : ''}${x.reason ? ` (${x.reason})` : ''}`,
    })),
  ].sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
  // JSON: config changes as before ({n, at, via, what}), actions with n null and kind 'action'.
  if (a.flags.json) return printJson(rows), 0;
  table(['n', 'when', 'via', 'what'], rows.map((r) => [r.n === null ? '-' : String(r.n), r.at, r.via, r.what]));
  return 0;
}

export async function cmdRestore(c: Client, a: ParsedArgs): Promise<number> {
  const n = Number(arg(a, 0, 'n'));
  if (!Number.isInteger(n) || n < 1) throw new UsageError('restore needs a change number from gatehouse history');
  await c.call('history.restore', { n });
  print(`restored the config as it was after change ${n}`);
  return 0;
}

/** Reads the password from stdin (a pipe, or typed at a prompt), first line only. */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(0x0a)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

export async function cmdAuth(c: Client, a: ParsedArgs): Promise<number> {
  const sub = arg(a, 0, 'list|add|remove|enable|disable');
  switch (sub) {
    case 'list': {
      const auth = (await c.call('config.get')).auth;
      if (a.flags.json) return printJson(auth), 0;
      print(`SMTP AUTH: ${auth.enabled ? 'enabled (offered after STARTTLS)' : 'disabled'}`);
      table(['user', 'may send as'], auth.users.map((u) => [u.username, u.addresses.join(', ')]));
      return 0;
    }
    case 'enable':
    case 'disable':
      await c.call('auth.setEnabled', { enabled: sub === 'enable' });
      print(`SMTP AUTH ${sub}d`);
      return 0;
    case 'add': {
      const username = arg(a, 1, 'user');
      const addresses = typeof a.flags.addresses === 'string' ? a.flags.addresses.split(',').map((x) => x.trim()).filter(Boolean) : [];
      if (addresses.length === 0) throw new UsageError('add needs --addresses a@test.jp[,b@test.jp]: the senders this login may use');
      await c.call('auth.setUser', { username, password: await readPassword(), addresses });
      print(`user ${username} may send as ${addresses.join(', ')} (password stored as a scrypt hash)`);
      return 0;
    }
    case 'remove': {
      const username = arg(a, 1, 'user');
      await c.call('auth.removeUser', { username });
      print(`removed ${username}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown auth command "${sub}"`);
  }
}

/*
 * The core side of the contract (main/shared/contract.ts): one handler per command, over a
 * Gateway. Transports (HTTP/SSE in headless, IPC in Electron) only route to this table.
 * Handlers validate their arguments, never return secrets (the smarthost password becomes
 * `hasPassword`), and throw ApiError with a code ('validation' carries field issues) that
 * the transport turns into data and the UI back into an error.
 */
import {
  ApiError,
  type AuditEntryView,
  type CommandHandlers,
  type ConfigKey,
  type ConfigView,
  type LogFilter,
  type SetupInput,
  type SmarthostInput,
} from '../shared/contract.js';
import type { Account, AuditEntry, ChangeVia, GatehouseConfig, ReceiveLogEntry, SenderLogEntry } from '../shared/types.js';
import {
  ConfigError,
  accountsToCsv,
  listAccounts,
  parseAccountsCsv,
  parseGatewayDat,
  removeAccount,
  routesToGatewayDat,
  setAllow,
  setBlock,
  upsertAccount,
} from './config/index.js';
import { check } from './policy/index.js';
import { matchesFilter } from '../shared/log-filter.js';
import { hashPassword } from './smtp/auth.js';
import type { Gateway } from './gateway.js';
import { toConfigView } from './config-view.js';

export { toConfigView };

const CONFIG_KEYS: readonly ConfigKey[] = ['listener', 'hostname', 'trustedNetworks', 'internalDomains', 'routes', 'limits', 'replies', 'log', 'admin', 'delivery', 'tls', 'performance'];


function auditView(e: AuditEntry): AuditEntryView {
  return { ...e, before: e.before ? toConfigView(e.before) : null, after: toConfigView(e.after) };
}

/** Runs a config change; turns a ConfigError into ApiError('validation') with field issues. */
async function change(gw: Gateway, via: ChangeVia, what: string, mutate: (draft: GatehouseConfig) => void): Promise<GatehouseConfig> {
  try {
    return await gw.store.update(via, what, mutate);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new ApiError(err.message, 'validation', err.errors.map((e) => ({ path: e.path, message: e.message })));
    }
    throw err;
  }
}

function need(cond: unknown, message: string): asserts cond {
  if (!cond) throw new ApiError(message, 'bad-request');
}

function mergeSmarthost(current: GatehouseConfig['delivery']['smarthost'], input: SmarthostInput | null): GatehouseConfig['delivery']['smarthost'] {
  if (input === null) return null;
  // An omitted password keeps the stored one: the UI never sees it, so it cannot resend it.
  const password = input.password ?? current?.password ?? '';
  return { ...input, password };
}


export function createHandlers(gw: Gateway): CommandHandlers {
  const accounts = (query?: string) => {
    const all = listAccounts(gw.store.get(), gw.seen);
    if (!query) return all;
    const q = query.toLowerCase();
    return all.filter((a) => a.pattern.toLowerCase().includes(q) || a.note.toLowerCase().includes(q));
  };
  const log = (kind: 'receive' | 'send') => (kind === 'send' ? gw.senderlog : gw.receivelog);

  return {
    'status': async () => gw.status(),
    'gateway.start': async () => {
      try {
        return await gw.start();
      } catch (err) {
        throw new ApiError((err as Error).message, 'listen-failed');
      }
    },
    'gateway.stop': async () => gw.stop(),
    'stats.traffic': async () => gw.traffic.snapshot(),

    // First run: nobody has changed the config yet (only the default/demo entry exists).
    'setup.needed': async () => (await gw.store.history()).every((e) => e.via === 'default'),
    'setup.complete': async (input: SetupInput) => {
      need(input && input.officeServer && Array.isArray(input.domains), 'setup needs officeServer and domains');
      need(input.domains.length > 0, 'at least one office domain is needed');
      const cfg = await change(gw, 'setup', 'first-run setup', (d) => {
        const office = input.officeServer;
        const isV6 = office.host.includes(':');
        const cidr = `${office.host}/${isV6 ? 128 : 32}`;
        if (!d.trustedNetworks.includes(cidr)) d.trustedNetworks.push(cidr);
        d.internalDomains = input.domains.map((x) => x.trim().toLowerCase()).filter(Boolean);
        d.routes = d.internalDomains.map((domain) => ({ domain, hosts: [{ host: office.host, port: office.port }] }));
        d.delivery.smarthost = input.outbound.mode === 'smarthost' ? mergeSmarthost(d.delivery.smarthost, input.outbound.smarthost) : null;
        if (input.listener) d.listener = input.listener;
      });
      if (!gw.status().running) await gw.start().catch(() => undefined);
      return toConfigView(cfg);
    },

    'config.get': async () => toConfigView(gw.store.get()),
    'config.set': async ({ key, value }) => {
      need(CONFIG_KEYS.includes(key), `unknown config key "${key}"`);
      const cfg = await change(gw, 'ui', `set ${key}`, (d) => {
        if (key === 'delivery') {
          // The smarthost (and its password) is changed only through config.setSmarthost.
          const v = value as GatehouseConfig['delivery'];
          (d as GatehouseConfig).delivery = { ...v, smarthost: d.delivery.smarthost };
        } else {
          (d as unknown as Record<string, unknown>)[key] = value;
        }
      });
      return toConfigView(cfg);
    },
    'config.setSmarthost': async (input) => {
      const cfg = await change(gw, 'ui', input ? `set smarthost ${input.host}:${input.port}` : 'remove smarthost', (d) => {
        d.delivery.smarthost = mergeSmarthost(d.delivery.smarthost, input);
      });
      return toConfigView(cfg);
    },

    'accounts.list': async (args) => accounts(args ? args.query : undefined),
    'accounts.setBlock': async ({ pattern, block }) => {
      need(typeof pattern === 'string' && pattern, 'pattern is required');
      await change(gw, 'ui', `${block ? 'block' : 'unblock'} ${pattern}`, (d) => setBlock(d, pattern, Boolean(block)));
      return accounts();
    },
    'accounts.setAllow': async ({ pattern, allow }) => {
      need(Array.isArray(allow), 'allow must be a list');
      await change(gw, 'ui', `allow-list of ${pattern}`, (d) => setAllow(d, pattern, allow));
      return accounts();
    },
    'accounts.save': async ({ original, account }) => {
      need(account && typeof account.pattern === 'string', 'account.pattern is required');
      await change(gw, 'ui', original && original !== account.pattern ? `rename account ${original} -> ${account.pattern}` : `save account ${account.pattern}`, (d) =>
        upsertAccount(d, account as Account, original),
      );
      return accounts();
    },
    'accounts.remove': async ({ pattern }) => {
      await change(gw, 'ui', `remove account ${pattern}`, (d) => removeAccount(d, pattern));
      return accounts();
    },
    'accounts.import': async ({ csv, mode }) => {
      const parsed = parseAccountsCsv(String(csv ?? ''));
      if (!parsed.ok) {
        throw new ApiError(`CSV has ${parsed.errors.length} bad line(s); nothing imported`, 'validation', parsed.errors.map((e) => ({ path: `line ${e.line}`, line: e.line, message: e.message })));
      }
      await change(gw, 'ui', `import ${parsed.accounts.length} accounts (${mode})`, (d) => {
        if (mode === 'replace') d.accounts = [];
        for (const a of parsed.accounts) upsertAccount(d, a);
      });
      return { imported: parsed.accounts.length };
    },
    'accounts.export': async () => ({ csv: accountsToCsv(gw.store.get().accounts) }),

    'routes.set': async ({ routes }) => {
      need(Array.isArray(routes), 'routes must be a list');
      return toConfigView(await change(gw, 'ui', 'edit routes', (d) => void (d.routes = routes)));
    },
    'routes.import': async ({ text, mode }) => {
      const parsed = parseGatewayDat(String(text ?? ''));
      if (!parsed.ok) {
        throw new ApiError(`Gateway.dat has ${parsed.errors.length} bad line(s); nothing imported`, 'validation', parsed.errors.map((e) => ({ path: `line ${e.line}`, line: e.line, message: e.message })));
      }
      const cfg = await change(gw, 'ui', `import Gateway.dat (${parsed.routes.length} domains, ${mode})`, (d) => {
        if (mode === 'replace') d.routes = parsed.routes;
        else {
          const incoming = new Map(parsed.routes.map((r) => [r.domain, r]));
          d.routes = [...d.routes.filter((r) => !incoming.has(r.domain)), ...parsed.routes];
        }
      });
      return { imported: parsed.routes.length, routes: cfg.routes };
    },
    'routes.export': async () => ({ text: routesToGatewayDat(gw.store.get().routes) }),
    'routes.health': async () => gw.delivery.routeHealth(),

    'log.tail': async ({ kind, n, day }) => log(kind).tail(Math.max(1, Math.min(Number(n) || 200, 5000)), day),
    'log.days': async ({ kind }) => log(kind).days(),
    'log.page': async ({ kind, day, before, limit, filter }) => {
      const f = filter;
      const page = await log(kind).readRange(day, {
        before,
        limit: Math.max(1, Math.min(Number(limit) || 500, 5000)),
        filter: f ? (e: ReceiveLogEntry | SenderLogEntry) => matchesFilter(e, f) : undefined,
      });
      return page;
    },

    'queue.list': async (args) => {
      const items = await gw.delivery.list(args && args.state ? { state: args.state } : undefined);
      const text = args && args.text ? args.text.toLowerCase() : '';
      return text ? items.filter((i) => JSON.stringify(i).toLowerCase().includes(text)) : items;
    },
    'queue.show': async ({ id }) => {
      try {
        return await gw.delivery.show(id);
      } catch (err) {
        throw new ApiError((err as Error).message, 'not-found');
      }
    },
    'queue.retry': async (args) => void (await gw.delivery.retryNow(args?.id)),
    'queue.hold': async ({ id }) => void (await gw.delivery.hold(id)),
    'queue.release': async ({ id }) => void (await gw.delivery.release(id)),
    'queue.delete': async ({ id }) => void (await gw.delivery.remove(id)),
    'queue.bounce': async ({ id }) => void (await gw.delivery.bounceNow(id)),

    'check': async ({ sender, recipient, clientIp }) => {
      need(typeof sender === 'string' && typeof recipient === 'string' && typeof clientIp === 'string', 'sender, recipient and clientIp are required');
      return check(gw.policy(), sender.trim(), recipient.trim(), clientIp.trim());
    },

    'auth.setEnabled': async ({ enabled }) =>
      toConfigView(await change(gw, 'ui', `${enabled ? 'enable' : 'disable'} SMTP AUTH`, (d) => void (d.auth.enabled = Boolean(enabled)))),
    'auth.setUser': async ({ username, password, addresses }) => {
      need(typeof username === 'string' && username.trim(), 'username is required');
      need(Array.isArray(addresses), 'addresses must be a list');
      const existing = gw.store.get().auth.users.find((u) => u.username.toLowerCase() === username.trim().toLowerCase());
      if (!existing && !password) throw new ApiError('a new user needs a password', 'validation', [{ path: 'password', message: 'required for a new user' }]);
      if (password !== undefined && password.length < 8) throw new ApiError('the password must have at least 8 characters', 'validation', [{ path: 'password', message: 'at least 8 characters' }]);
      const passwordHash = password ? await hashPassword(password) : existing!.passwordHash;
      return toConfigView(
        await change(gw, 'ui', `set SMTP AUTH user ${username.trim()}`, (d) => {
          const u = d.auth.users.find((x) => x.username.toLowerCase() === username.trim().toLowerCase());
          if (u) Object.assign(u, { passwordHash, addresses });
          else d.auth.users.push({ username: username.trim(), passwordHash, addresses });
        }),
      );
    },
    'auth.removeUser': async ({ username }) =>
      toConfigView(
        await change(gw, 'ui', `remove SMTP AUTH user ${username}`, (d) => {
          d.auth.users = d.auth.users.filter((u) => u.username.toLowerCase() !== String(username).toLowerCase());
        }),
      ),

    'history.list': async () => (await gw.store.history()).map(auditView).reverse(),
    'history.restore': async ({ n }) => {
      try {
        return toConfigView(await gw.store.restore(Number(n), 'restore'));
      } catch (err) {
        if (err instanceof ConfigError) throw new ApiError(err.message, 'validation', err.errors);
        throw new ApiError((err as Error).message, 'not-found');
      }
    },
  };
}

/*
 * What a command function works on, and the two helpers nearly every one uses. CommandPorts
 * is the store, the discovered accounts, the compiled policy, the queue, DNS, the XOAUTH2
 * login, and the running gateway when there is one: `gatewayPorts(gw)` inside a gateway
 * (desktop app, `serve`), or the CLI's own when no gateway runs on the data folder (runtime
 * null, the queue read from the spool). `change()` runs one audited config change and turns a refusal into an ApiError
 * 'validation' with every issue; `runtime()` gives the gateway or rejects with 'not-running'.
 */
import { ApiError, type CallContext, type QueueDetail } from '../../shared/contract.js';
import { problem } from '../../shared/issues.js';
import type { AuditWhat } from '../../shared/audit.js';
import type { AccountView, GatehouseConfig, QueueItem } from '../../shared/types.js';
import { ConfigError, listAccounts, type ConfigStore, type SeenSource } from '../config/index.js';
import type { QueueFilter } from '../delivery/index.js';
import type { Gateway } from '../gateway.js';
import type { ServiceHost } from '../service/host.js';
import type { CompiledPolicy } from '../policy/index.js';
import type { DnsLookup } from '../dns/resolver.js';
import type { OAuthLogin } from '../oauth/login.js';

/** The queue's reading and its actions (the delivery runner, or the spool alone). */
export interface QueueSource {
  list(filter?: QueueFilter): Promise<QueueItem[]>;
  show(id: string): Promise<QueueDetail>;
  retryNow(id?: string): Promise<void>;
  hold(id: string): Promise<void>;
  release(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  bounceNow(id: string): Promise<void>;
}

export interface CommandPorts {
  store: ConfigStore;
  seen: SeenSource;
  policy(): CompiledPolicy;
  queue: QueueSource;
  /** DNS as the settings say (`delivery.dnsServers`, else the system's): DKIM and the deliverability check. */
  dns: DnsLookup;
  /** The XOAUTH2 login (its sign-ins need the running gateway: they wait for the provider). */
  oauth: OAuthLogin;
  /** The running gateway; null for the CLI when none runs on the data folder. */
  gateway: Gateway | null;
  /** The machine this process runs on, for the Windows service commands (default: a gateway's view). */
  service?: ServiceHost;
}

export function gatewayPorts(gw: Gateway): CommandPorts {
  return { store: gw.store, seen: gw.seen, policy: () => gw.policy(), queue: gw.delivery, dns: gw.dns, oauth: gw.oauth, gateway: gw };
}

/** One config change, audited with who asked; a refused change is an ApiError('validation'). */
export async function change(p: CommandPorts, call: CallContext, what: string | AuditWhat, mutate: (draft: GatehouseConfig) => void): Promise<GatehouseConfig> {
  try {
    return await p.store.update(call.via, what, mutate);
  } catch (err) {
    if (err instanceof ConfigError) throw new ApiError(err.message, 'validation', err.errors);
    throw err;
  }
}

/** A refusal found by the command itself (not the schema): one issue, code 'validation'. */
export function refuse(path: string, p: ReturnType<typeof problem>): ApiError {
  return new ApiError(path ? `${path}: ${p.message}` : p.message, 'validation', [{ path, ...p }]);
}

export function runtime(p: CommandPorts): Gateway {
  if (!p.gateway) throw new ApiError(problem('not_running').message, 'not-running');
  return p.gateway;
}

export function accountsOf(p: CommandPorts): AccountView[] {
  return listAccounts(p.store.get(), p.seen);
}

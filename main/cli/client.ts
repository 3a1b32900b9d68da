/*
 * How a `gatehouse` command reaches the command layer, so that a data folder has one writer.
 * `connect(dataDir)` looks for a running gateway (`gatehouse serve` or the desktop app): its
 * <data>/admin.json names the admin URL and the pid; when that pid is alive and the API there
 * answers for this very data folder, every command goes to it over HTTP (audited via 'cli'),
 * and the gateway is the only writer. Otherwise (no admin.json, a dead pid, nobody answering)
 * nothing else writes, and the CLI opens the settings store itself and runs the same command
 * functions in-process through the same dispatcher (commands that need a running gateway
 * answer 'not-running'). `call()` resolves to the command's result or rejects with the
 * ApiError the command gave; `close()` releases what a local client opened.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';

import { ApiError, type ApiResult, type ArgsOf, type CommandName, type GatewayStatus, type ResultOf } from '../shared/contract.js';
import { ConfigStore, SeenAccounts } from '../core/config/index.js';
import { createCommands, createDispatcher } from '../core/commands/index.js';
import { SpoolQueue } from '../core/delivery/spool-queue.js';
import { dataPaths } from '../core/paths.js';
import { compilePolicy, type CompiledPolicy } from '../core/policy/index.js';
import { liveResolver } from '../core/dns/resolver.js';
import { OAuthLogin } from '../core/oauth/login.js';
import { ADMIN_FILE, type AdminInfo } from '../headless/admin-host.js';

export interface Client {
  call<C extends CommandName>(command: C, ...args: undefined extends ArgsOf<C> ? [args?: ArgsOf<C>] : [args: ArgsOf<C>]): Promise<ResultOf<C>>;
  /** 'gateway': a running gateway does the work; 'local': this process opened the data folder. */
  readonly mode: 'gateway' | 'local';
  /** What went wrong with config.json at start (the last good copy is in use), if anything. */
  startupProblem(): Promise<string | null>;
  close(): Promise<void>;
}

type Send = (command: CommandName, args: unknown) => Promise<ApiResult<unknown>>;

function clientOver(send: Send, mode: Client['mode'], problem: () => Promise<string | null>, close: () => Promise<void>): Client {
  return {
    mode,
    startupProblem: problem,
    close,
    async call(command: CommandName, args?: unknown) {
      const r = await send(command, args);
      if (!r.ok) throw ApiError.fromData(r.error);
      return r.value as never;
    },
  } as Client;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running gateway's admin API for this data folder, or null when there is none. */
async function gatewayFor(dataDir: string): Promise<{ send: Send; status: GatewayStatus } | null> {
  let info: AdminInfo;
  try {
    info = JSON.parse(await fsp.readFile(path.join(dataDir, ADMIN_FILE), 'utf8')) as AdminInfo;
    if (typeof info.url !== 'string' || !Number.isInteger(info.pid)) return null;
  } catch {
    return null;
  }
  if (!alive(info.pid)) return null; // left behind by a gateway that was killed
  const url = new URL(info.url);
  const token = new URLSearchParams(url.hash.slice(1)).get('token') ?? '';
  const send: Send = async (command, args) => {
    const res = await fetch(`${url.origin}/api/${command}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ args, via: 'cli' }),
    });
    return (await res.json()) as ApiResult<unknown>;
  };
  let first: ApiResult<unknown>;
  try {
    first = await send('status', undefined);
  } catch {
    return null; // nobody answers there: the pid now belongs to another program
  }
  if (!first.ok) return null;
  const status = first.value as GatewayStatus;
  if (path.resolve(status.dataDir) !== path.resolve(dataDir)) return null;
  return { send, status };
}

/** No gateway runs: this process is the writer, through the same commands and dispatcher. */
async function local(dataDir: string): Promise<Client> {
  const store = await ConfigStore.open(dataDir, { onNotice: (note) => process.stderr.write(`gatehouse: ${note}\n`) });
  let seen: SeenAccounts | null = null;
  let compiled: { cfg: unknown; policy: CompiledPolicy } | null = null;
  const seenSource = {
    all: () => (seen ? seen.all() : {}),
  };
  const handlers = createCommands({
    store,
    seen: seenSource,
    policy: () => {
      const cfg = store.get();
      if (!compiled || compiled.cfg !== cfg) compiled = { cfg, policy: compilePolicy(cfg) };
      return compiled.policy;
    },
    queue: new SpoolQueue(dataPaths(dataDir).spool),
    dns: liveResolver(() => store.get().delivery.dnsServers),
    oauth: new OAuthLogin({ dataDir, config: () => store.get() }),
    gateway: null,
  });
  const dispatch = createDispatcher(handlers);
  const send: Send = async (command, args) => {
    if (command.startsWith('accounts.') && !seen) seen = await SeenAccounts.open(dataDir);
    return dispatch(command, args, { via: 'cli' });
  };
  return clientOver(
    send,
    'local',
    async () => store.startupProblem,
    async () => {
      await seen?.close();
      await store.close();
    },
  );
}

export async function connect(dataDir: string): Promise<Client> {
  const gw = await gatewayFor(dataDir);
  if (gw) return clientOver(gw.send, 'gateway', async () => gw.status.configProblem, async () => undefined);
  return local(dataDir);
}

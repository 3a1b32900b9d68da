/*
 * CLI commands about the running gateway: serve (the headless host), queue, log tail.
 * `serve` writes <data>/admin.json (admin URL, pid) so other CLI calls reach it (client.ts);
 * queue commands go through the command layer like every other, so the running delivery
 * runner stays the only writer of the spool: list and show work without a gateway (from the
 * spool), the actions need it. `log tail` reads the log files and works without it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gateway } from '../core/gateway.js';
import { demoConfig, ConfigError } from '../core/config/index.js';
import { dataPaths } from '../core/paths.js';
import { formatReceiveLine, formatSenderLine, JsonlLog, localDay } from '../core/log/index.js';
import { startAdminHost, type AdminHost } from '../headless/admin-host.js';
import { servicePrincipals } from '../core/service/plan.js';
import { adminReaders, readServiceFile } from '../core/service/service-file.js';
import type { QueueState, ReceiveLogEntry, SenderLogEntry } from '../shared/types.js';
import type { QueueDetail } from '../shared/contract.js';
import type { Client } from './client.js';
import { UsageError, parseHostPort, type ParsedArgs } from './args.js';
import { print, printJson, stdoutGone, table } from './output.js';
import { cmdQueueDelayed } from './outbound-commands.js';

function rendererDir(): string {
  // dist/main/cli -> dist/renderer (built by `npm run build:ui`).
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'renderer');
}

export async function cmdServe(dataDir: string, a: ParsedArgs): Promise<number> {
  const listen = typeof a.flags.listen === 'string' ? parseHostPort(a.flags.listen, '--listen') : undefined;
  const adminFlag = typeof a.flags.admin === 'string' ? parseHostPort(a.flags.admin, '--admin') : undefined;
  // As the Windows service runs it: the defaults (not the demo), the service's folder ACL,
  // DPAPI for the machine, admin.json shared with the users in service.json.
  const asService = Boolean(a.flags.service);
  const win = process.platform === 'win32';
  let gw: Gateway;
  try {
    gw = await Gateway.open({
      dataDir,
      createWith: asService ? undefined : demoConfig(),
      listen,
      role: asService ? 'service' : 'serve',
      dpapi: win ? (asService ? 'LocalMachine' : 'CurrentUser') : undefined,
      folderPrincipals: asService ? servicePrincipals() : undefined,
      report: (m) => process.stderr.write(`gatehouse: ${m}\n`),
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const status = gw.status();
  print(`Gatehouse data folder: ${status.dataDir}`);
  print(`  config:  ${path.join(status.dataDir, 'config.json')}`);
  print(`  logs:    ${status.logDir}`);
  print(`  spool:   ${gw.paths.spool}`);
  if (status.configProblem) print(`WARNING: ${status.configProblem}`);
  try {
    const st = await gw.start();
    const procs = st.listenerProcesses > 1 ? ` (${st.listenerProcesses} processes, pids ${[process.pid, ...gw.pool.info().map((p) => p.pid)].join(' ')})` : '';
    print(`SMTP listening on ${st.listen?.host}:${st.listen?.port}${procs}`);
  } catch (err) {
    print(`SMTP listener NOT started: ${(err as Error).message} (start it from the admin UI after fixing the listener)`);
  }

  let admin: AdminHost | null = null;
  if (!a.flags['no-admin']) {
    const readers = asService ? adminReaders(await readServiceFile(dataDir)) : [];
    admin = await startAdminHost({
      gateway: gw,
      where: adminFlag ?? gw.store.get().admin,
      staticDir: rendererDir(),
      readers,
      onProblem: (m) => process.stderr.write(`gatehouse: ${m}\n`),
    });
    print(`Admin UI: ${admin.url}`);
  }
  print('Press Ctrl+C to stop.');
  // A big queue is verified after the listener is up (the spool's background recovery).
  void gw.recovered.then((r) => {
    if (r.count > 0 && !r.stopped) print(`Queue recovered: ${r.count} message${r.count === 1 ? '' : 's'} verified and scheduled in ${r.seconds.toFixed(1)} s`);
  });

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      print(`${signal}: stopping (in-flight deliveries finish or return to the queue)...`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await admin?.close();
  await gw.close();
  print('stopped');
  return 0;
}

export async function cmdQueue(c: Client, a: ParsedArgs): Promise<number> {
  const sub = a.positionals[0];
  if (!sub) throw new UsageError('missing <list|show|retry|hold|release|delete|bounce|delayed|send-now|cancel>');
  const delayed = await cmdQueueDelayed(c, a, sub);
  if (delayed !== null) return delayed;
  const id = () => {
    const v = a.positionals[1];
    if (!v) throw new UsageError(`queue ${sub} needs a queue id`);
    return v;
  };
  const f = a.flags;
  switch (sub) {
    case 'list': {
      const items = await c.call('queue.list', {
        ...(typeof f.state === 'string' ? { state: f.state as QueueState } : {}),
        ...(typeof f.sender === 'string' ? { sender: f.sender } : {}),
        ...(typeof f.recipient === 'string' ? { recipient: f.recipient } : {}),
      });
      if (f.json) return printJson(items), 0;
      if (items.length === 0) print('queue is empty');
      else table(['id', 'received', 'state', 'size', 'sender', 'pending recipients', 'last error'], items.map((i) => [i.id, i.receivedAt, i.state, String(i.size), i.sender || '<>', i.pending.join(' '), i.lastError ?? '']));
      return 0;
    }
    case 'show': {
      // The runner and the spool view both answer with the envelope and state as stored too.
      const shown = (await c.call('queue.show', { id: id() })) as QueueDetail & { header?: unknown; state?: unknown };
      printJson({ header: shown.header, state: shown.state, headers: shown.headers });
      return 0;
    }
    case 'retry':
      await c.call('queue.retry', a.positionals[1] ? { id: a.positionals[1] } : {});
      print(a.positionals[1] ? `retrying ${a.positionals[1]} now` : 'retrying all deferred messages now');
      return 0;
    case 'hold':
      await c.call('queue.hold', { id: id() });
      print(`held ${a.positionals[1]}`);
      return 0;
    case 'release':
      await c.call('queue.release', { id: id() });
      print(`released ${a.positionals[1]}`);
      return 0;
    case 'delete':
      await c.call('queue.delete', { id: id() });
      print(`deleted ${a.positionals[1]} (no bounce)`);
      return 0;
    case 'bounce':
      await c.call('queue.bounce', { id: id() });
      print(`bounced ${a.positionals[1]} to its sender`);
      return 0;
    default:
      throw new UsageError(`unknown queue command "${sub}"`);
  }
}

export async function cmdLog(dataDir: string, a: ParsedArgs): Promise<number> {
  const sub = a.positionals[0];
  if (sub !== 'tail') throw new UsageError('usage: gatehouse log tail [-n N] [-f] [--senderlog]');
  const n = a.flags.lines === undefined ? 20 : Number(a.flags.lines);
  if (!Number.isInteger(n) || n < 0) throw new UsageError('-n needs a whole number');
  const day = typeof a.flags.day === 'string' ? a.flags.day : undefined;
  if (day && !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new UsageError('--day needs YYYY-MM-DD');
  const sender = Boolean(a.flags.senderlog);
  const name = sender ? 'senderlog' : 'receivelog';
  const log = new JsonlLog<ReceiveLogEntry | SenderLogEntry>({ dir: dataPaths(dataDir).logs, name, retentionDays: 36500 });
  const show = (e: ReceiveLogEntry | SenderLogEntry) =>
    print(a.flags.json ? JSON.stringify(e) : sender ? formatSenderLine(e as SenderLogEntry) : formatReceiveLine(e as ReceiveLogEntry));
  if (n > 0) for (const e of await log.tail(n, day)) show(e);
  if (!a.flags.follow) return 0;
  await followFiles((d) => log.fileFor(d), show);
  return 0;
}

/** Follows today's file by polling its size (another process writes it); switches at midnight. */
async function followFiles(fileFor: (day: string) => string, show: (e: ReceiveLogEntry | SenderLogEntry) => void): Promise<void> {
  let day = localDay(new Date());
  let file = fileFor(day);
  let pos = fs.existsSync(file) ? fs.statSync(file).size : 0;
  let partial = '';
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  // Until Ctrl+C, or until the reader goes away (`log tail -f | head`).
  while (!stop && !stdoutGone()) {
    const today = localDay(new Date());
    if (today !== day) {
      day = today;
      file = fileFor(day);
      pos = 0;
      partial = '';
    }
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      size = 0;
    }
    if (size > pos) {
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.alloc(size - pos);
      fs.readSync(fd, buf, 0, buf.length, pos);
      fs.closeSync(fd);
      pos = size;
      const text = partial + buf.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        try {
          show(JSON.parse(line) as ReceiveLogEntry | SenderLogEntry);
        } catch {
          /* a torn line: skip */
        }
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

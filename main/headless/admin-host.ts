/*
 * The admin HTTP host as both `gatehouse serve` and the desktop app run it: the contract's
 * commands and events over HTTP/SSE on loopback (token made at first run), plus
 * <data>/admin.json (URL with token, pid, mode 0600) so every `gatehouse` command that reads
 * or changes the config or the queue reaches the running gateway instead of writing itself.
 * `close()` stops it and removes admin.json. Rejects when the port cannot be bound (the caller
 * decides whether that is fatal). The Windows service shares admin.json (read only) with the
 * users who administer it (`readers`).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Gateway } from '../core/gateway.js';
import { createCommands, gatewayPorts } from '../core/commands/index.js';
import type { CommandHandlers } from '../shared/contract.js';
import type { HostPort } from '../shared/types.js';
import { startAdminServer } from './http-server.js';
import { loadOrCreateToken } from './token.js';
import { writePrivateFile } from '../core/private-files.js';
import { runIcacls, type RunIcacls } from '../core/data-folder-access.js';

export const ADMIN_FILE = 'admin.json';

export interface AdminInfo {
  url: string;
  pid: number;
}

export interface AdminHost {
  /** The admin URL with its token (`http://127.0.0.1:8025/#token=...`). */
  url: string;
  close(): Promise<void>;
}

export async function startAdminHost(opts: {
  gateway: Gateway;
  where: HostPort;
  staticDir: string;
  /** Wraps the handlers (the desktop shell watches start/stop to update its tray). */
  handlers?: CommandHandlers;
  /**
   * Windows: principals (icacls names or *SIDs) who may read admin.json besides the folder's
   * own: the users who administer the Windows service (service.json), so their tray can reach
   * it without a UAC prompt. The token file itself stays the folder's alone.
   */
  readers?: readonly string[];
  /** Told when admin.json could not be shared with `readers`. */
  onProblem?: (message: string) => void;
  platform?: NodeJS.Platform;
  runIcacls?: RunIcacls;
}): Promise<AdminHost> {
  const { gateway: gw } = opts;
  const dataDir = gw.paths.root;
  const token = await loadOrCreateToken(dataDir);
  const server = await startAdminServer({
    handlers: opts.handlers ?? createCommands(gatewayPorts(gw)),
    subscribe: (event, cb) => gw.on(event, cb),
    host: opts.where.host,
    port: opts.where.port,
    token,
    staticDir: opts.staticDir,
  });
  const url = `${server.url}/#token=${token}`;
  const file = path.join(dataDir, ADMIN_FILE);
  // The URL carries the token: 0600 also when a stale admin.json (a crash) had another mode.
  await writePrivateFile(file, JSON.stringify({ url, pid: process.pid } satisfies AdminInfo));
  if ((opts.platform ?? process.platform) === 'win32' && opts.readers?.length) {
    await (opts.runIcacls ?? runIcacls)([file, '/grant', ...opts.readers.map((r) => `${r}:(R)`)]).catch((err: Error) =>
      opts.onProblem?.(`admin.json could not be shared with ${opts.readers!.join(', ')}: ${err.message}`),
    );
  }
  return {
    url,
    close: async () => {
      await server.close();
      await fsp.rm(file, { force: true });
    },
  };
}

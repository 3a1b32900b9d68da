/*
 * The LAN approval page as the gateway runs it: on while `approvalPage.enabled`, on the
 * address and port of `approvalPage.listen`, over HTTPS with the STARTTLS certificate when
 * `tls` has one (plain HTTP when STARTTLS is off: the Settings card warns), following config
 * changes without a restart of anything else. While it serves, the held queue's notices carry
 * its links (one single-use token per approver, and one for the sender of delayed mail); when
 * it stops, they go back to the CLI's and the window's instructions.
 *
 * `apply()` brings it in line with the config (idempotent, one at a time); a failure to start
 * (the port is taken, the certificate files cannot be read) is kept in `status().error` and
 * logged, never thrown: the gateway runs on without the page. Runs in every host of the
 * gateway (the desktop app, `gatehouse serve`, the Windows service).
 */
import os from 'node:os';

import type { ApprovalPageStatus } from '../../shared/contract.js';
import type { GatehouseConfig } from '../../shared/types.js';
import type { HeldQueue } from '../outbound/held-queue.js';
import { loadTlsMaterial } from '../smtp/tls.js';
import { startPageServer, type PageServer } from './server.js';

export interface ApprovalPageDeps {
  dataDir: string;
  config(): GatehouseConfig;
  held: Pick<HeldQueue, 'setLinks' | 'verifyToken' | 'consumeToken'>;
  /** A line for the receivelog: `note` when it started or stopped, `error` when it failed. */
  log(line: { note?: string; error?: string }): void;
  /** Its status changed (the window's Settings card shows it). */
  changed(): void;
  /** Tests: where the LAN addresses come from. */
  interfaces?: () => ReturnType<typeof os.networkInterfaces>;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The first IPv4 address of this PC on a LAN (not loopback, not link-local), else null. */
export function lanAddress(interfaces: ReturnType<typeof os.networkInterfaces>): string | null {
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
    }
  }
  return null;
}

/** The page's address as the approvers' PCs reach it: the public URL, or made from where it listens. */
export function baseUrl(cfg: GatehouseConfig, port: number, https: boolean, interfaces: () => ReturnType<typeof os.networkInterfaces>): string {
  const pub = cfg.approvalPage.publicUrl.trim().replace(/\/+$/, '');
  if (pub) return pub;
  const listen = cfg.approvalPage.listen.host;
  const host = WILDCARDS.has(listen) ? (lanAddress(interfaces()) ?? cfg.hostname) : listen === 'localhost' ? '127.0.0.1' : listen;
  const shown = host.includes(':') ? `[${host}]` : host;
  const scheme = https ? 'https' : 'http';
  const defaultPort = https ? 443 : 80;
  return `${scheme}://${shown}${port === defaultPort ? '' : `:${port}`}`;
}

export class ApprovalPage {
  private server: PageServer | null = null;
  private url: string | null = null;
  private error: string | null = null;
  private errorCode: ApprovalPageStatus['errorCode'] = null;
  /** The settings the page runs with (or failed with): a change of these restarts it. */
  private key = '';
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: ApprovalPageDeps) {}

  status(): ApprovalPageStatus {
    return { running: this.server !== null, url: this.url, https: this.server?.https ?? false, error: this.error, errorCode: this.errorCode };
  }

  /** Starts, stops or moves the page to match the config. Never rejects. */
  apply(): Promise<void> {
    const run = this.chain.then(() => this.applyNow());
    this.chain = run.catch(() => undefined);
    return run.catch(() => undefined);
  }

  private async applyNow(): Promise<void> {
    if (this.closed) return;
    const cfg = this.deps.config();
    const page = cfg.approvalPage;
    const key = page.enabled ? JSON.stringify([page, cfg.tls, cfg.hostname]) : '';
    if (key === this.key) return;
    this.key = key;
    await this.stopNow();
    if (!page.enabled) {
      this.error = null;
      this.errorCode = null;
      this.deps.changed();
      return;
    }
    let stage: 'tls' | 'listen' = 'tls';
    try {
      const tls = await loadTlsMaterial(this.deps.dataDir, cfg.tls, cfg.hostname);
      stage = 'listen';
      const server = await startPageServer({
        host: page.listen.host,
        port: page.listen.port,
        tls: tls ? { key: tls.key, cert: tls.cert } : null,
        handlers: {
          verify: (token) => this.deps.held.verifyToken(token),
          consume: (token, action, reason) => this.deps.held.consumeToken(token, action, reason),
        },
        onError: (error) => this.deps.log({ error }),
      });
      const url = baseUrl(cfg, server.port, server.https, this.deps.interfaces ?? os.networkInterfaces);
      this.server = server;
      this.url = url;
      this.error = null;
      this.errorCode = null;
      this.deps.held.setLinks({ approver: (t) => `${url}/h/${t}`, sender: (t) => `${url}/h/${t}` });
      this.deps.log({ note: `approval page on ${url} (listening on ${page.listen.host}:${server.port}${server.https ? ', HTTPS' : ', plain HTTP: STARTTLS is off'})` });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.error = `cannot start the approval page on ${page.listen.host}:${page.listen.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`;
      this.errorCode = e.code === 'EADDRINUSE' ? 'port-in-use' : stage === 'tls' ? 'tls' : 'failed';
      this.deps.log({ error: this.error });
    }
    this.deps.changed();
  }

  private async stopNow(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.url = null;
    this.deps.held.setLinks(null);
    if (server) {
      await server.close();
      this.deps.log({ note: 'approval page stopped' });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain.catch(() => undefined);
    await this.stopNow();
  }
}

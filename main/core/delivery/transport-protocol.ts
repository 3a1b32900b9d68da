/*
 * Messages between the delivery runner's side (transport-thread.ts) and the worker thread that
 * holds the outbound SMTP sessions (transport-worker.ts), over a worker_threads port. Settings
 * travel as plain data: an XOAUTH2 login is named by its source's id, and the worker asks for
 * each token (the sources, with their refresh tokens, stay in the runner's thread).
 */
import type { ConnectSettings, PoolStats, SendOutcome } from './transport-pool.js';

/** ConnectSettings without functions: `xoauth2` names the token source. */
export type WireSettings = Omit<ConnectSettings, 'auth'> & {
  auth?: { user: string; pass: string } | { user: string; xoauth2: { id: string } };
};

/** Given to the worker at start (workerData). */
export interface WorkerOptions {
  idleMs?: number;
  socketTimeoutMs?: number;
  maxMessagesPerConnection?: number;
}

/** Runner -> worker. */
export type ToWorker =
  | {
      t: 'send';
      sid: number;
      settings: WireSettings;
      envelope: { from: string; to: string[] };
      raw: Uint8Array;
      /** The caps as the config says now (read per send: a config change applies to the next grant). */
      caps: { perHop: number; total: number };
    }
  | { t: 'token'; rid: number; token?: string; error?: string }
  | { t: 'close'; force: boolean };

/** Worker -> runner. */
export type FromWorker =
  | { t: 'sent'; sid: number; outcome: SendOutcome; stats: PoolStats }
  | { t: 'stats'; stats: PoolStats }
  | { t: 'token'; rid: number; source: string; force: boolean };

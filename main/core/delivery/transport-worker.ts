/*
 * The worker thread that runs outbound SMTP (transport-thread.ts starts it): one TransportPool
 * with its sessions, caps and idle timers, exactly as in-process, so that nodemailer's command
 * and stream work runs on a core of its own while the runner's
 * thread receives mail, writes the spool and settles results. Every send is answered once
 * with its outcome and the pool's counts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WireSettings, WorkerOptions } from './transport-protocol.js';
import { TransportPool, type ConnectSettings } from './transport-pool.js';
import type { XOAuth2Source } from './types.js';

const port = parentPort;
if (!port) throw new Error('transport-worker.js runs as a worker thread (transport-thread.ts starts it)');

const opts = (workerData ?? {}) as WorkerOptions;
let caps = { perHop: 1, total: 1 };
const pool = new TransportPool({
  caps: () => caps,
  idleMs: opts.idleMs,
  socketTimeoutMs: opts.socketTimeoutMs,
  maxMessagesPerConnection: opts.maxMessagesPerConnection,
  // The runner's side ends an idle thread: it learns here that no session is left.
  onEmpty: () => statsSoon(),
});

let nextRid = 1;
const tokenWaits = new Map<number, { resolve(t: string): void; reject(e: Error): void }>();

function post(msg: FromWorker): void {
  port!.postMessage(msg);
}

/** Sessions opened for a long send show in the counts before it ends, a few times a second at most (not a message per send). */
let statsTimer: NodeJS.Timeout | null = null;
function statsSoon(): void {
  if (statsTimer) return;
  statsTimer = setTimeout(() => {
    statsTimer = null;
    post({ t: 'stats', stats: pool.stats() });
  }, 200);
  statsTimer.unref();
}

/** A token source that asks the runner's thread (where the login and its refresh token live). */
function remoteSource(id: string): XOAuth2Source {
  return {
    id,
    token(force?: boolean) {
      return new Promise<string>((resolve, reject) => {
        const rid = nextRid++;
        tokenWaits.set(rid, { resolve, reject });
        post({ t: 'token', rid, source: id, force: force === true });
      });
    },
  };
}

function settingsOf(w: WireSettings): ConnectSettings {
  const { auth, ...rest } = w;
  if (!auth) return rest;
  return { ...rest, auth: 'xoauth2' in auth ? { user: auth.user, xoauth2: remoteSource(auth.xoauth2.id) } : auth };
}

port.on('message', (msg: ToWorker) => {
  switch (msg.t) {
    case 'send': {
      caps = msg.caps;
      const raw = Buffer.from(msg.raw.buffer, msg.raw.byteOffset, msg.raw.byteLength);
      void pool.send(settingsOf(msg.settings), msg.envelope, raw).then((outcome) => post({ t: 'sent', sid: msg.sid, outcome, stats: pool.stats() }));
      statsSoon();
      break;
    }
    case 'token': {
      const w = tokenWaits.get(msg.rid);
      tokenWaits.delete(msg.rid);
      if (!w) break;
      if (msg.token !== undefined) w.resolve(msg.token);
      else w.reject(new Error(msg.error ?? 'no token'));
      break;
    }
    case 'close':
      pool.close(msg.force);
      post({ t: 'stats', stats: pool.stats() });
      break;
    default:
      break;
  }
});

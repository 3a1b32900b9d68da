/*
 * Outbound controls (誤送信防止), the main process's side: the held queue (delay, approval),
 * per-sender limits with the durable list of frozen senders, and the action log. The gateway
 * opens one Outbound on its data folder, gives the receiver its hooks (receiverHooks), and
 * the commands act through it. What the receiver decides per message is in accept.ts.
 * Rejections are ApiErrors ('not-found', 'conflict', 'validation'); I/O errors propagate.
 */
import path from 'node:path';

import { ApiError } from '../../shared/contract.js';
import { problem } from '../../shared/issues.js';
import type { Actor, FrozenSender, HoldKind } from '../../shared/outbound.js';
import type { GatehouseConfig, ReceiveLogEntry, SenderLogEntry } from '../../shared/types.js';
import { isInternalDomain, type CompiledPolicy } from '../policy/index.js';
import type { SpoolEnvelope, SpoolHeader } from '../spool/index.js';
import { ActionLog } from './action-log.js';
import { HeldQueue, type LinkMaker } from './held-queue.js';
import { composeNotice, frozenNotice, noticeRecipients } from './notices.js';
import { FrozenStore, SenderLimiter } from './sender-limits.js';

export { ActionLog } from './action-log.js';
export { HeldQueue, holdMeta, marker, type HoldMeta, type LinkMaker, type TokenAction, type TokenRefusal } from './held-queue.js';
export { FrozenStore, SenderLimiter } from './sender-limits.js';

export interface OutboundDeps {
  dataDir: string;
  spoolDir: string;
  fsync?: boolean;
  main: { write(env: SpoolEnvelope, body: Buffer): Promise<SpoolHeader> };
  enqueue(h: SpoolHeader): void;
  config(): GatehouseConfig;
  policy(): CompiledPolicy;
  logReceive(e: ReceiveLogEntry): void;
  logSend(e: SenderLogEntry): void;
  /** A list changed: held mail of a kind, or the frozen senders. */
  changed(what: HoldKind | 'frozen'): void;
  links?: LinkMaker;
  now?(): Date;
}

/** Where the held queue lives: a spool of its own inside the spool folder. */
export function heldDir(spoolDir: string): string {
  return path.join(spoolDir, 'held');
}

export class Outbound {
  readonly held: HeldQueue;
  readonly actions: ActionLog;
  readonly frozen: FrozenStore;
  readonly limiter = new SenderLimiter();

  constructor(private readonly deps: OutboundDeps) {
    this.actions = new ActionLog(deps.dataDir);
    this.frozen = new FrozenStore(deps.dataDir);
    this.held = new HeldQueue({
      dir: heldDir(deps.spoolDir),
      fsync: deps.fsync,
      main: deps.main,
      enqueue: (h) => deps.enqueue(h),
      config: () => deps.config(),
      policy: () => deps.policy(),
      logReceive: (e) => deps.logReceive(e),
      logSend: (e) => deps.logSend(e),
      actions: this.actions,
      changed: (kind) => deps.changed(kind),
      links: deps.links,
      now: deps.now,
    });
  }

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** Loads the frozen list and recovers the held queue; returns notes for the receivelog. */
  async open(mainRecovered: readonly SpoolHeader[] | (() => Promise<ReadonlySet<string>>)): Promise<string[]> {
    const notes: string[] = [];
    await this.frozen.load((t) => notes.push(t));
    notes.push(...(await this.held.open(mainRecovered)));
    return notes;
  }

  /**
   * Counts one message of a sender from a trusted client; past a limit the sender is frozen
   * (durably, logged, the admin told) and the freeze is returned: the message is refused.
   */
  async count(sender: string, external: number): Promise<FrozenSender | null> {
    const limits = this.deps.config().outbound.senderLimits;
    if (!limits.enabled || sender === '' || this.limiter.exempt(limits, sender)) return null;
    const already = this.frozen.get(sender);
    if (already) return already;
    const over = this.limiter.count(limits, sender, external, this.now().getTime());
    if (!over) return null;
    const f: FrozenSender = { address: sender.toLowerCase(), since: this.now().toISOString(), ...over };
    if (await this.frozen.freeze(f)) {
      await this.actions.append({ action: 'frozen', by: { via: 'smtp' }, subject: f.address, reason: `${over.limit} ${over.count} > ${over.max} per hour` });
      this.deps.changed('frozen');
      await this.tellAdmin(f).catch((err: Error) =>
        this.deps.logReceive({ ts: this.now().toISOString(), event: 'error', session: '', clientIp: '', tls: false, error: `frozen notice: ${err.message}` }),
      );
    }
    return f;
  }

  private async tellAdmin(f: FrozenSender): Promise<void> {
    const cfg = this.deps.config();
    const to = noticeRecipients([cfg.outbound.adminAddress].filter(Boolean), (d) => isInternalDomain(this.deps.policy(), d));
    if (to.length === 0) return;
    const code = cfg.outbound.senderLimits.freeze === 'permanent' ? 550 : 451;
    const body = await composeNotice(frozenNotice(to, { ...f, code }), cfg.hostname, this.now());
    const h = await this.deps.main.write({ sender: '', recipients: to, clientIp: '127.0.0.1', session: `frozen:${f.address}`, trusted: true }, body);
    this.deps.enqueue(h);
  }

  isFrozen(sender: string): FrozenSender | undefined {
    return sender === '' ? undefined : this.frozen.get(sender);
  }

  async unfreeze(address: string, by: Actor): Promise<FrozenSender[]> {
    const found = await this.frozen.unfreeze(address.trim());
    if (!found) {
      const p = problem('not_frozen', { address });
      throw new ApiError(p.message, 'not-found', [{ path: 'address', ...p }]);
    }
    this.limiter.reset(found.address);
    await this.actions.append({ action: 'unfrozen', by, subject: found.address });
    this.deps.changed('frozen');
    return this.frozen.all();
  }

  async close(): Promise<void> {
    await this.held.close();
  }
}

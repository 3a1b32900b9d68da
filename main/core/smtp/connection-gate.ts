/*
 * Who may open an SMTP session: the maxClients and maxConnectionsPerIp limits.
 *
 * The counts live in one table in the main process (ConnectionCounts). Its own listener asks
 * it directly (LocalGate); a listener process (listener-process.ts) asks the main process for
 * each session and reports its end over IPC. One table, one decider: the limits hold exactly
 * whichever process a client lands on.
 *
 * Trusted clients (an address in trustedNetworks) are exempt from the per-IP limit, as
 * Postfix exempts $mynetworks (smtpd_client_event_limit_exceptions): the office server opens
 * as many parallel deliveries as it likes, bounded only by maxClients, which holds for
 * everyone. Their sessions are still counted per address, so the table stays exact when a
 * network stops being trusted while its sessions are open.
 */
import type { Limits, RuleName } from '../../shared/types.js';

export type LimitRule = Extract<RuleName, 'too-many-clients' | 'too-many-connections-from-ip'>;

/** The receiver's view: admit (now or later) and release a session. */
export interface ConnectionGate {
  /** `trusted`: the client is in trustedNetworks (no per-IP limit). */
  admit(ip: string, trusted: boolean): LimitRule | null | Promise<LimitRule | null>;
  release(ip: string): void;
}

/** Open sessions per client address, and in total. */
export class ConnectionCounts {
  private readonly perIp = new Map<string, number>();
  private count = 0;

  total(): number {
    return this.count;
  }

  from(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  /** The limit a new session from `ip` would break (null: it fits). Trusted: no per-IP limit. */
  check(ip: string, limits: Pick<Limits, 'maxClients' | 'maxConnectionsPerIp'>, trusted: boolean): LimitRule | null {
    if (limits.maxClients > 0 && this.count >= limits.maxClients) return 'too-many-clients';
    if (!trusted && limits.maxConnectionsPerIp > 0 && this.from(ip) >= limits.maxConnectionsPerIp) return 'too-many-connections-from-ip';
    return null;
  }

  add(ip: string, n = 1): void {
    this.perIp.set(ip, this.from(ip) + n);
    this.count += n;
  }

  remove(ip: string, n = 1): void {
    const left = this.from(ip) - n;
    if (left <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, left);
    this.count = Math.max(0, this.count - n);
  }

  /** Every address with its count (to undo a dead process's sessions). */
  entries(): [string, number][] {
    return [...this.perIp];
  }
}

/** The main process's own listener: decides against the shared table. */
export class LocalGate implements ConnectionGate {
  constructor(
    private readonly counts: ConnectionCounts,
    private readonly limits: () => Limits,
  ) {}

  admit(ip: string, trusted: boolean): LimitRule | null {
    const rule = this.counts.check(ip, this.limits(), trusted);
    if (rule === null) this.counts.add(ip);
    return rule;
  }

  release(ip: string): void {
    this.counts.remove(ip);
  }
}

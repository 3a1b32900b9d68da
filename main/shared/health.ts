/*
 * The gateway's health at a glance, one level for the dashboard, the window's header and the
 * tray icon: 'ok' (green), 'warn' (amber: something needs a look, mail still flows) or
 * 'error' (red: mail is not flowing somewhere). `healthOf(input)` says which and why, each
 * reason a code with parameters (the window translates `health.<code>`). Pure; never throws.
 *
 *   error  the listener is stopped or failed; every server of a route (or the smarthost) is
 *          failing; the queue holds 4x its notice threshold
 *   warn   a server is failing (its failures in a row reached the threshold); the queue
 *          reached the threshold; delivery is paused; a domain is held; the config in force
 *          is the last good copy
 */
import type { RouteHealth } from './contract.js';

export type HealthLevel = 'ok' | 'warn' | 'error';

export const HEALTH_CODES = ['stopped', 'listener-error', 'route-down', 'hop-failing', 'queue-large', 'queue-growing', 'paused', 'domain-held', 'config-problem'] as const;
export type HealthCode = (typeof HEALTH_CODES)[number];

export interface HealthReason {
  level: Exclude<HealthLevel, 'ok'>;
  code: HealthCode;
  params: Record<string, string | number>;
}

export interface Health {
  level: HealthLevel;
  reasons: HealthReason[];
}

export interface HealthInput {
  running: boolean;
  error: string | null;
  configProblem: string | null;
  paused: boolean;
  heldDomains: readonly string[];
  queueTotal: number;
  routes: readonly RouteHealth[];
  /** Configured hops per route domain ('*smarthost' for the smarthost). */
  groups: readonly { name: string; hops: readonly string[] }[];
  /** Failures in a row before a hop counts as down. */
  failures: number;
  /** Messages in the queue that need a look. */
  queueThreshold: number;
}

export function healthOf(h: HealthInput): Health {
  const reasons: HealthReason[] = [];
  if (h.error) reasons.push({ level: 'error', code: 'listener-error', params: { detail: h.error } });
  else if (!h.running) reasons.push({ level: 'error', code: 'stopped', params: {} });
  const down = (r: RouteHealth) => r.state === 'failing' && r.consecutiveFailures >= h.failures;
  const byHop = new Map(h.routes.map((r) => [r.hop, r]));
  const inDownGroup = new Set<string>();
  for (const g of h.groups) {
    const hops = g.hops.map((x) => byHop.get(x)).filter((r): r is RouteHealth => r !== undefined);
    if (hops.length > 0 && hops.length === g.hops.length && hops.every(down)) {
      reasons.push({ level: 'error', code: 'route-down', params: { name: g.name, failures: Math.min(...hops.map((r) => r.consecutiveFailures)) } });
      for (const r of hops) inDownGroup.add(r.hop);
    }
  }
  for (const r of h.routes) {
    if (down(r) && !inDownGroup.has(r.hop)) reasons.push({ level: 'warn', code: 'hop-failing', params: { hop: r.hop, failures: r.consecutiveFailures } });
  }
  if (h.queueTotal >= h.queueThreshold * 4) reasons.push({ level: 'error', code: 'queue-large', params: { n: h.queueTotal } });
  else if (h.queueTotal >= h.queueThreshold) reasons.push({ level: 'warn', code: 'queue-growing', params: { n: h.queueTotal } });
  if (h.paused) reasons.push({ level: 'warn', code: 'paused', params: {} });
  for (const d of h.heldDomains) reasons.push({ level: 'warn', code: 'domain-held', params: { domain: d } });
  if (h.configProblem) reasons.push({ level: 'warn', code: 'config-problem', params: { detail: h.configProblem } });
  const level: HealthLevel = reasons.some((r) => r.level === 'error') ? 'error' : reasons.length ? 'warn' : 'ok';
  return { level, reasons };
}

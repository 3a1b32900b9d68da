/*
 * Which configured next hops serve what, for health and notices: one group per route domain
 * (its servers in failover order), per transport override, and the smarthost. `hopGroups(cfg)`
 * lists them; `hopName(cfg, hop, via)` names what a hop serves (`test.jp`, or the smarthost's
 * host:port, or the hop itself for an MX host). Pure; never throws.
 */
import type { GatehouseConfig } from '../../shared/types.js';
import { hostPort } from '../delivery/next-hop.js';

export function hopGroups(cfg: GatehouseConfig): { name: string; hops: string[] }[] {
  const out: { name: string; hops: string[] }[] = [];
  for (const r of cfg.routes) out.push({ name: r.domain, hops: r.hosts.map((h) => hostPort(h.host, h.port)) });
  for (const r of cfg.delivery.transportOverrides) out.push({ name: r.domain, hops: r.hosts.map((h) => hostPort(h.host, h.port)) });
  const sh = cfg.delivery.smarthost;
  if (sh) out.push({ name: hostPort(sh.host, sh.port), hops: [hostPort(sh.host, sh.port)] });
  return out;
}

export function hopName(cfg: GatehouseConfig, hop: string, via: string): string {
  if (via === 'smarthost') return hop;
  const names = hopGroups(cfg)
    .filter((g) => g.hops.includes(hop))
    .map((g) => g.name);
  return names.length ? names.join(', ') : hop;
}

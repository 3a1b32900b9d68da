/*
 * Routes with sender conditions (E-Post's extended Gateway.dat): selectSenderRoute() picks,
 * for one envelope sender and one external recipient domain, the route that applies, or null.
 * A route matches when its destination is the recipient's domain or `*` (every external
 * domain), and its sender condition is absent, the exact envelope sender, or the sender's
 * domain. The most specific wins, destination first (as Postfix's transport table overrides
 * its sender-dependent relay): exact domain before `*`; then exact address before domain
 * before no condition. Lines with the same destination and sender form one route: their
 * hosts concatenate in table order (Gateway.dat's failover). The null sender (bounces)
 * matches only routes without a sender condition. Pure; never throws.
 */
import type { SenderRoute } from '../../shared/deliverability.js';
import type { HostPort } from '../../shared/types.js';
import { lowerAscii } from '../../shared/address.js';

export interface SelectedRoute {
  /** Destination and sender of the winning route, as written (lowercased). */
  destination: string;
  sender?: string;
  hosts: HostPort[];
  auth?: SenderRoute['auth'];
  tls?: SenderRoute['tls'];
  /** Stable key for grouping recipients that take this route. */
  key: string;
}

function norm(s: string): string {
  return lowerAscii(s.trim()).replace(/\.$/, '');
}

/** 2 = exact address, 1 = domain, 0 = no condition, -1 = no match. */
function senderScore(cond: string | undefined, sender: string): number {
  if (cond === undefined || cond === '') return 0;
  if (sender === '') return -1;
  const c = norm(cond);
  const s = norm(sender);
  if (c.includes('@')) return c === s ? 2 : -1;
  const at = s.lastIndexOf('@');
  return at >= 0 && s.slice(at + 1) === c ? 1 : -1;
}

export function selectSenderRoute(routes: readonly SenderRoute[], sender: string, recipientDomain: string): SelectedRoute | null {
  const domain = norm(recipientDomain);
  let best: { score: number; key: string } | null = null;
  for (const r of routes) {
    const dest = norm(r.destination);
    const destScore = dest === '*' ? 0 : dest === domain ? 1 : -1;
    if (destScore < 0) continue;
    const s = senderScore(r.sender, sender);
    if (s < 0) continue;
    const score = destScore * 10 + s;
    const key = `${dest}|${r.sender ? norm(r.sender) : ''}`;
    if (!best || score > best.score) best = { score, key };
  }
  if (!best) return null;
  const same = routes.filter((r) => `${norm(r.destination)}|${r.sender ? norm(r.sender) : ''}` === best!.key);
  const first = same[0];
  const out: SelectedRoute = { destination: norm(first.destination), hosts: same.flatMap((r) => r.hosts), key: best.key };
  if (first.sender) out.sender = norm(first.sender);
  const auth = same.find((r) => r.auth)?.auth;
  const tls = same.find((r) => r.tls)?.tls;
  if (auth) out.auth = auth;
  if (tls) out.tls = tls;
  return out;
}

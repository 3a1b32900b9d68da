/*
 * Routes (Gateway.dat semantics) and routes with sender conditions (E-Post's extended
 * Gateway.dat): replace them (`routes.set`; a route's password left out keeps the stored one
 * for the same destination and sender), import a Gateway.dat, classic or extended (merge: a
 * domain in the file replaces that domain's route and a destination|sender in the file that
 * route, others stay; replace: the file is the new table; stored logins of routes the file
 * names again are kept, since the file cannot carry them), export it, the health of each next
 * hop (needs the running gateway), and `routes.which`: the next hop the delivery itself would
 * choose for one sender and recipient. An import is all-or-nothing: a bad file rejects with
 * ApiError 'validation', one issue per problem naming its line.
 */
import { auditWhat } from '../../shared/audit.js';
import { ApiError, type CommandHandlers, type RouteChoice } from '../../shared/contract.js';
import { senderRouteKey } from '../../shared/config-schema.js';
import type { SenderRoute } from '../../shared/deliverability.js';
import { problem } from '../../shared/issues.js';
import type { GatehouseConfig } from '../../shared/types.js';
import { at, parseGatewayDat, routesToGatewayDat } from '../config/gateway-dat.js';
import { senderRouteView, toConfigView } from '../config-view.js';
import { destinationFor } from '../delivery/next-hop.js';
import { change, runtime, type CommandPorts } from './context.js';

type Names = 'routes.set' | 'routes.import' | 'routes.export' | 'routes.health' | 'routes.which';

/**
 * New routes with the stored login of the same destination|sender where the new ones carry
 * none: the user, and the password while the user stays the same. Routes that do not log in
 * with a password keep neither.
 */
export function keepLogins(next: readonly SenderRoute[], stored: readonly SenderRoute[]): SenderRoute[] {
  const byKey = new Map(stored.map((r) => [senderRouteKey(r), r]));
  return next.map((r) => {
    const out: SenderRoute = { ...r };
    if (r.auth !== 'password') {
      delete out.user;
      delete out.password;
      return out;
    }
    const old = byKey.get(senderRouteKey(r));
    if (out.user === undefined && old?.user) out.user = old.user;
    if (out.password === undefined && old?.password && out.user === old.user) out.password = old.password;
    return out;
  });
}

/** The next hop for one sender and recipient, as delivery's destinationFor() picks it. */
export function routeChoice(cfg: GatehouseConfig, sender: string, recipient: string): RouteChoice {
  const d = destinationFor(recipient, cfg, { sender, senderRoutes: cfg.delivery.senderRoutes });
  const internal = cfg.internalDomains.includes(d.domain);
  if (d.invalid) return { via: 'invalid', domain: d.domain, internal, hosts: [], tls: 'opportunistic', auth: 'none' };
  if (d.noRoute) return { via: 'no-route', domain: d.domain, internal, hosts: [], tls: 'opportunistic', auth: 'none' };
  if (d.via === 'smarthost' && d.smarthost) {
    const s = d.smarthost;
    const auth = s.auth === 'xoauth2' ? 'xoauth2' : s.user ? 'password' : 'none';
    return { via: 'smarthost', domain: d.domain, internal, hosts: [{ host: s.host, port: s.port }], tls: s.security === 'none' ? 'opportunistic' : 'required', auth };
  }
  if (d.via === 'mx') return { via: 'mx', domain: d.domain, internal, hosts: [], tls: cfg.delivery.mtaSts.enabled ? 'mta-sts' : 'opportunistic', auth: 'none' };
  if (d.via === 'sender-route' && d.senderRoute) {
    const r = d.senderRoute;
    const out: RouteChoice = { via: 'sender-route', domain: d.domain, internal, hosts: r.hosts, senderRoute: { destination: r.destination }, tls: r.tls ?? 'opportunistic', auth: r.auth ?? 'none' };
    if (r.sender) out.senderRoute!.sender = r.sender;
    return out;
  }
  const table = d.via === 'override' ? cfg.delivery.transportOverrides : cfg.routes;
  const tls = table.find((r) => r.domain === d.domain && r.tls)?.tls ?? 'opportunistic';
  return { via: d.via === 'override' ? 'override' : 'route', domain: d.domain, internal, hosts: d.hosts ?? [], tls, auth: 'none' };
}

export function routeCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'routes.set': async ({ routes, senderRoutes }, call) =>
      toConfigView(
        await change(p, call, auditWhat(senderRoutes ? 'routes-edit-senders' : 'routes-edit'), (d) => {
          d.routes = routes;
          if (senderRoutes) d.delivery.senderRoutes = keepLogins(senderRoutes, d.delivery.senderRoutes);
        }),
      ),
    'routes.import': async ({ text, mode }, call) => {
      const parsed = parseGatewayDat(text);
      if (!parsed.ok) throw new ApiError(`Gateway.dat has ${parsed.errors.length} problem(s); nothing imported`, 'validation', parsed.errors);
      // A sender condition on mail to an operated domain would never apply: say so by line.
      const internal = new Set(p.store.get().internalDomains);
      const inward = parsed.lines.filter((l) => internal.has(l.destination) && (l.sender !== undefined || (l.auth && l.auth !== 'none')));
      if (inward.length > 0) {
        const errors = inward.map((l) => at(l.line, problem('sender_route_internal', { domain: l.destination })));
        throw new ApiError(`Gateway.dat has ${errors.length} problem(s); nothing imported`, 'validation', errors);
      }
      const { routes, senderRoutes } = parsed;
      const what = senderRoutes.length > 0 ? auditWhat('routes-import-senders', { n: routes.length, s: senderRoutes.length, mode }) : auditWhat('routes-import', { n: routes.length, mode });
      const cfg = await change(p, call, what, (d) => {
        const stored = d.delivery.senderRoutes;
        if (mode === 'replace') {
          d.routes = routes;
          d.delivery.senderRoutes = keepLogins(senderRoutes, stored);
        } else {
          const domains = new Set(routes.map((r) => r.domain));
          d.routes = [...d.routes.filter((r) => !domains.has(r.domain)), ...routes];
          const keys = new Set(senderRoutes.map(senderRouteKey));
          d.delivery.senderRoutes = [...stored.filter((r) => !keys.has(senderRouteKey(r))), ...keepLogins(senderRoutes, stored)];
        }
      });
      return { imported: routes.length + senderRoutes.length, routes: cfg.routes, senderRoutes: cfg.delivery.senderRoutes.map(senderRouteView) };
    },
    'routes.export': async () => {
      const cfg = p.store.get();
      return { text: routesToGatewayDat(cfg.routes, cfg.delivery.senderRoutes) };
    },
    'routes.health': async () => runtime(p).delivery.routeHealth(),
    'routes.which': async ({ sender, recipient }) => {
      const s = sender.trim();
      return routeChoice(p.store.get(), s === '<>' ? '' : s, recipient.trim());
    },
  };
}

/*
 * The deliverability engines' options (OutboundOptions) made from the settings in force, for
 * the delivery runner to read per attempt: the routes with sender conditions, the logins
 * (XOAUTH2 from the OAuth login for the smarthost with auth 'xoauth2' and for routes with auth
 * xoauth2; a route's own user and password for auth 'password'), `tls: required` of routes and
 * transport overrides, MTA-STS for direct delivery (when on; one policy cache, rebuilt when
 * the DNS servers or the trust anchors change), the extra trust anchors, and the DKIM keys
 * opened. Built once per settings snapshot (the store hands out a new object on every
 * change), so sealed secrets are opened once, not per message. A secret that cannot be opened
 * (its seal is not available here) leaves that key or login out and is reported once per
 * snapshot through `report`; the mail then waits (a login) or goes unsigned (a key).
 */
import type { DkimKey, SenderRoute } from '../../shared/deliverability.js';
import type { GatehouseConfig } from '../../shared/types.js';
import { senderRouteKey } from '../../shared/config-schema.js';
import { openSecret } from '../config/secrets.js';
import type { DnsLookup } from '../dns/resolver.js';
import type { OAuthLogin } from '../oauth/login.js';
import { MtaStsCache } from '../tls/mta-sts.js';
import type { CredentialTarget, Via } from './next-hop.js';
import type { OutboundOptions } from './outbound.js';
import type { HopAuth } from './types.js';

export interface OutboundSettingsDeps {
  config(): GatehouseConfig;
  resolver: DnsLookup;
  oauth: OAuthLogin | null;
  /** A secret that cannot be opened (once per settings snapshot). */
  report?(message: string): void;
}

export function outboundFromConfig(deps: OutboundSettingsDeps): () => OutboundOptions {
  let built: { cfg: GatehouseConfig; options: OutboundOptions } | null = null;
  let sts: { key: string; cache: MtaStsCache } | null = null;

  const mtaSts = (cfg: GatehouseConfig): OutboundOptions['mtaSts'] => {
    if (!cfg.delivery.mtaSts.enabled) return undefined;
    const key = JSON.stringify([cfg.delivery.dnsServers, cfg.delivery.tlsCa]);
    if (!sts || sts.key !== key) sts = { key, cache: new MtaStsCache({ resolver: deps.resolver, ca: cfg.delivery.tlsCa }) };
    const cache = sts.cache;
    return (domain) => cache.lookup(domain);
  };

  const build = (cfg: GatehouseConfig): OutboundOptions => {
    const problems: string[] = [];
    const open = (sealed: string, what: string): string | null => {
      try {
        return openSecret(sealed);
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
        return null;
      }
    };
    const dkimKeys: DkimKey[] = [];
    for (const k of cfg.dkim.keys) {
      const privateKey = open(k.privateKey, `DKIM key ${k.selector}._domainkey.${k.domain} (mail from ${k.domain} goes unsigned)`);
      if (privateKey) dkimKeys.push({ ...k, privateKey });
    }
    const routeLogins = new Map<string, HopAuth>();
    for (const r of cfg.delivery.senderRoutes) {
      if (r.auth !== 'password' || !r.user || !r.password) continue;
      const pass = open(r.password, `password of the route ${r.destination}${r.sender ? `|${r.sender}` : ''}`);
      if (pass !== null) routeLogins.set(senderRouteKey(r), { user: r.user, pass });
    }
    const xoauth2 = (): HopAuth | undefined => (deps.oauth ? { user: deps.oauth.user(), xoauth2: deps.oauth.source } : undefined);
    const tlsOf = (table: GatehouseConfig['routes'], domain: string) => table.find((r) => r.domain === domain && r.tls)?.tls;
    for (const p of problems) deps.report?.(p);
    return {
      senderRoutes: cfg.delivery.senderRoutes,
      credentials(target: CredentialTarget): HopAuth | undefined {
        if (target.via === 'smarthost') return cfg.delivery.smarthost?.auth === 'xoauth2' ? xoauth2() : undefined;
        const r = target.route;
        if (r.auth === 'xoauth2') return xoauth2();
        if (r.auth === 'password') return routeLogins.get(senderRouteKey({ destination: r.destination, sender: r.sender } as SenderRoute));
        return undefined;
      },
      routeTls: (domain: string, via: Via) => (via === 'override' ? tlsOf(cfg.delivery.transportOverrides, domain) : via === 'route' ? tlsOf(cfg.routes, domain) : undefined),
      mtaSts: mtaSts(cfg),
      tlsCa: cfg.delivery.tlsCa,
      dkimKeys,
    };
  };

  return () => {
    const cfg = deps.config();
    if (!built || built.cfg !== cfg) built = { cfg, options: build(cfg) };
    return built.options;
  };
}

/*
 * DKIM keys and the deliverability check. `dkim.generate` makes a key (RSA 2048 or Ed25519)
 * for a domain and selector, stores it (the private key sealed) and answers with the TXT
 * record to publish; mail from that domain is signed from the next message on. `dkim.show`
 * lists a domain's keys with their records and asks DNS whether each is published and
 * matches; `dkim.remove` drops one. `doctor.run` runs every check (SPF, reverse DNS, DKIM,
 * DMARC, MTA-STS, outbound port 25, the smarthost login) against the DNS the settings name and
 * answers with each result's code, params and the record to publish. None needs a running
 * gateway. An existing selector or a missing key is refused ('validation', with the field).
 */
import { auditWhat } from '../../shared/audit.js';
import net from 'node:net';
import type { CommandHandlers, DkimKeyCheck } from '../../shared/contract.js';
import type { DkimKey } from '../../shared/deliverability.js';
import { problem } from '../../shared/issues.js';
import type { GatehouseConfig } from '../../shared/types.js';
import { openSecret } from '../config/secrets.js';
import { dkimKeyView, toConfigView } from '../config-view.js';
import { checkPublishedKey } from '../dkim/check.js';
import { generateDkimKey } from '../dkim/keys.js';
import type { ConnectSettings } from '../delivery/transport-pool.js';
import { runDoctor } from '../doctor/checks.js';
import type { OAuthLogin } from '../oauth/login.js';
import { change, refuse, type CommandPorts } from './context.js';

type Names = 'dkim.generate' | 'dkim.show' | 'dkim.remove' | 'doctor.run';

const sameKey = (k: DkimKey, domain: string, selector: string) => k.domain === domain && k.selector.toLowerCase() === selector.toLowerCase();

/** How delivery logs in to the smarthost, for the login check (null: direct delivery). */
export function smarthostSettings(cfg: GatehouseConfig, oauth: OAuthLogin): ConnectSettings | null {
  const sh = cfg.delivery.smarthost;
  if (!sh) return null;
  const named = net.isIP(sh.host) === 0;
  const s: ConnectSettings = {
    host: sh.host,
    port: sh.port,
    security: sh.security,
    rejectUnauthorized: !sh.allowInvalidCert,
    ca: cfg.delivery.tlsCa,
    name: cfg.hostname,
    connectTimeoutMs: cfg.delivery.connectTimeoutMs,
  };
  if (named) s.servername = sh.host;
  if (sh.auth === 'xoauth2') s.auth = { user: oauth.user(), xoauth2: oauth.source };
  else if (sh.user) s.auth = { user: sh.user, pass: openSecret(sh.password) };
  return s;
}

export function deliverabilityCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'dkim.generate': async ({ domain, selector, algorithm }, call) => {
      if (p.store.get().dkim.keys.some((k) => sameKey(k, domain, selector))) throw refuse('selector', problem('dkim_key_exists', { domain, selector }));
      const g = generateDkimKey(algorithm);
      const key: DkimKey = { domain, selector, algorithm, privateKey: g.privateKey, publicKey: g.publicKey, createdAt: new Date().toISOString() };
      await change(p, call, auditWhat('dkim-generate', { selector, domain, algorithm }), (d) => {
        if (d.dkim.keys.some((k) => sameKey(k, domain, selector))) throw refuse('selector', problem('dkim_key_exists', { domain, selector }));
        d.dkim.keys.push(key);
      });
      return dkimKeyView(key);
    },
    'dkim.show': async ({ domain }) => {
      const keys: DkimKeyCheck[] = [];
      for (const k of p.store.get().dkim.keys.filter((x) => x.domain === domain)) {
        let published: DkimKeyCheck['published'];
        const c = await checkPublishedKey(k.domain, k.selector, k, p.dns);
        published = { status: c.status };
        if (c.detail) published.detail = c.detail;
        if (c.found) published.found = c.found;
        keys.push({ ...dkimKeyView(k), published });
      }
      return { domain, keys };
    },
    'dkim.remove': async ({ domain, selector }, call) =>
      toConfigView(
        await change(p, call, auditWhat('dkim-remove', { selector, domain }), (d) => {
          const i = d.dkim.keys.findIndex((k) => sameKey(k, domain, selector));
          if (i < 0) throw refuse('selector', problem('dkim_key_missing', { domain, selector }));
          d.dkim.keys.splice(i, 1);
        }),
      ),
    'doctor.run': async () => {
      const cfg = p.store.get();
      const results = await runDoctor({
        domains: cfg.internalDomains,
        hostname: cfg.hostname,
        publicIp: cfg.deliverability.publicIp || undefined,
        smarthost: smarthostSettings(cfg, p.oauth),
        dkimKeys: cfg.dkim.keys,
        resolver: p.dns,
        port25Target: cfg.deliverability.port25Target ?? undefined,
        mtaSts: { ca: cfg.delivery.tlsCa },
        timeoutMs: 8000,
      });
      return { ranAt: new Date().toISOString(), dns: cfg.delivery.dnsServers.join(' '), results };
    },
  };
}

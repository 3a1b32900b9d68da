/*
 * The config as a UI may see it (contract ConfigView): every secret becomes a flag saying it
 * is set (the smarthost password `hasPassword`, a route's password `hasPassword`, the OAuth
 * client secret `hasClientSecret`), DKIM keys lose their private part and carry the record
 * that publishes them (built from the stored public part, so nothing sealed is opened), SMTP
 * AUTH users lose their password hashes. Pure; never fails.
 */
import type { ConfigView, DkimKeyView, OAuthView, SenderRouteView } from '../shared/contract.js';
import type { DkimKey, OAuthSettings, SenderRoute } from '../shared/deliverability.js';
import { dkimRecordOf } from '../shared/dkim-record.js';
import type { GatehouseConfig } from '../shared/types.js';

export function senderRouteView(r: SenderRoute): SenderRouteView {
  const { password, ...rest } = r;
  return { ...rest, hasPassword: !!password };
}

export function dkimKeyView(k: DkimKey): DkimKeyView {
  const { privateKey: _private, ...rest } = k;
  return { ...rest, record: dkimRecordOf(k.domain, k.selector, k.algorithm, k.publicKey) };
}

function oauthView(o: OAuthSettings | null): OAuthView | null {
  if (!o) return null;
  const { clientSecret, ...rest } = o;
  return { ...rest, hasClientSecret: !!clientSecret };
}

export function toConfigView(cfg: GatehouseConfig): ConfigView {
  const { smarthost, senderRoutes, oauth, ...delivery } = cfg.delivery;
  let sh: ConfigView['delivery']['smarthost'] = null;
  if (smarthost) {
    const { password, ...rest } = smarthost;
    sh = { ...rest, hasPassword: password.length > 0 };
  }
  const auth = { enabled: cfg.auth.enabled, users: cfg.auth.users.map((u) => ({ username: u.username, addresses: [...u.addresses] })) };
  return {
    ...cfg,
    delivery: { ...delivery, smarthost: sh, senderRoutes: senderRoutes.map(senderRouteView), oauth: oauthView(oauth) },
    auth,
    dkim: { keys: cfg.dkim.keys.map(dkimKeyView) },
  };
}

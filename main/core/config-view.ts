/*
 * The config as a UI may see it (contract ConfigView): the smarthost password becomes
 * `hasPassword`, SMTP AUTH users lose their password hashes. Pure; never fails.
 */
import type { ConfigView } from '../shared/contract.js';
import type { GatehouseConfig } from '../shared/types.js';

export function toConfigView(cfg: GatehouseConfig): ConfigView {
  const { smarthost, ...delivery } = cfg.delivery;
  let sh: ConfigView['delivery']['smarthost'] = null;
  if (smarthost) {
    const { password, ...rest } = smarthost;
    sh = { ...rest, hasPassword: password.length > 0 };
  }
  const auth = { enabled: cfg.auth.enabled, users: cfg.auth.users.map((u) => ({ username: u.username, addresses: [...u.addresses] })) };
  return { ...cfg, delivery: { ...delivery, smarthost: sh }, auth };
}

/*
 * Every secret the settings hold, in one list, so sealing at rest, the views and a re-seal
 * (a data folder moving to another seal) cannot miss one: the smarthost password, the
 * password of each route with a sender condition, the XOAUTH2 app's client secret and each
 * DKIM private key. mapSecrets(cfg, fn) replaces each one (that is set) by fn(value, where)
 * in place on a draft (a data move uses it to seal them again for the new place); sealSecrets(cfg, dataDir) seals those still in clear text (a hand
 * edit, a new value) with secrets.ts. The OAuth refresh token is not in the settings (see
 * oauth/token-store.ts). sealSecrets throws when no seal is available.
 */
import type { GatehouseConfig } from '../../shared/types.js';
import { isSealed, sealSecret, useFileKey } from './secrets.js';

/** Where a secret sits, for messages: `delivery.smarthost.password`, `dkim.keys[0].privateKey`. */
export type SecretPath = string;

export function mapSecrets(cfg: GatehouseConfig, fn: (value: string, where: SecretPath) => string): void {
  // Defensive about shape: a data move re-seals files as they are on disk (hand edits, older versions).
  const sh = cfg.delivery?.smarthost;
  if (sh && sh.password) sh.password = fn(sh.password, 'delivery.smarthost.password');
  (cfg.delivery?.senderRoutes ?? []).forEach((r, i) => {
    if (r.password) r.password = fn(r.password, `delivery.senderRoutes[${i}].password`);
  });
  const o = cfg.delivery?.oauth;
  if (o && o.clientSecret) o.clientSecret = fn(o.clientSecret, 'delivery.oauth.clientSecret');
  (cfg.dkim?.keys ?? []).forEach((k, i) => {
    if (k.privateKey) k.privateKey = fn(k.privateKey, `dkim.keys[${i}].privateKey`);
  });
}

/** Seals, in place, every secret still in clear text. */
export function sealSecrets(cfg: GatehouseConfig, dataDir: string): void {
  mapSecrets(cfg, (value) => {
    if (isSealed(value)) return value;
    useFileKey(dataDir);
    return sealSecret(value);
  });
}

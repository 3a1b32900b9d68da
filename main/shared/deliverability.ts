/*
 * Plain-JSON shapes of the deliverability engines (DKIM, outbound TLS and MTA-STS, sender
 * routes and E-Post's extended Gateway.dat, XOAUTH2 smarthosts, the deliverability check).
 * The core's engines take these as parameters; the config schema, the contract and the UI
 * wire them. Nothing here imports Node; nothing here runs or fails.
 */
import type { HostPort } from './types.js';

// ---- DKIM ----

export type DkimAlgorithm = 'rsa' | 'ed25519';

/** One signing key: mail whose From: domain is `domain` is signed with it. */
export interface DkimKey {
  domain: string;
  /** The `s=` tag and the DNS label `<selector>._domainkey.<domain>`. */
  selector: string;
  algorithm: DkimAlgorithm;
  /** PKCS#8 PEM. Sealed at rest like the smarthost password; opened only to sign. */
  privateKey: string;
  /** The `p=` value (public, so the record to publish is shown without opening the private key). */
  publicKey: string;
  createdAt: string;
}

export interface DkimSettings {
  /**
   * Relayed external mail whose From: domain has a key is signed with that domain's first key
   * (a second one for the same domain waits: key rotation). Signing starts with the key: a
   * signature receivers cannot check yet counts as no signature (RFC 6376 6.1), never worse.
   */
  keys: DkimKey[];
}

/** The TXT record that publishes a key, in the forms an admin needs. */
export interface DkimRecord {
  /** `s1._domainkey.test.jp` */
  name: string;
  /** `v=DKIM1; k=rsa; p=...` (one string, as DNS consoles take it). */
  value: string;
  /** The zone-file line, the value split into quoted strings of at most 255 octets. */
  zoneLine: string;
}

// ---- outbound TLS, MTA-STS ----

/** Per route / smarthost: `required` = no delivery without TLS and a verified certificate. */
export type RouteTls = 'opportunistic' | 'required';

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsSettings {
  /** Fetch and apply MTA-STS policies for direct-MX delivery. */
  enabled: boolean;
}

/** What the TLS policy said about one hop (senderlog `tlsPolicy`). */
export interface TlsPolicyOutcome {
  /** Where the requirement came from. */
  source: 'mta-sts' | 'route';
  /** mta-sts: the policy's mode; route: 'required'. */
  mode: MtaStsMode | 'required';
  /** The policy id (MTA-STS TXT `id=`). */
  id?: string;
  /** The hop met the policy (MX name listed, TLS with a verified certificate). */
  ok: boolean;
  /** Why it did not (only when ok is false). */
  reason?: string;
}

// ---- routes with sender conditions ----

/** SMTP AUTH a route's hosts need. */
export type RouteAuth = 'none' | 'password' | 'xoauth2';

export interface SenderRoute {
  /** Destination domain, or `*` = every external domain. */
  destination: string;
  /** Envelope sender condition: an exact address (`a@test.jp`) or a domain (`test.jp`); absent = any sender. */
  sender?: string;
  /** In failover order. */
  hosts: HostPort[];
  auth?: RouteAuth;
  tls?: RouteTls;
  /** The login for `auth: password`. */
  user?: string;
  /** Sealed at rest; never sent to a UI (views carry `hasPassword`). */
  password?: string;
}

/** One line of E-Post's extended Gateway.dat as read (options' spelling kept for export). */
export interface GatewayDatLine {
  /** 1-based line number in the file read. */
  line: number;
  /** A domain (lowercased) or `*`. */
  destination: string;
  /** Envelope sender condition after `|`: an address or a domain (lowercased). */
  sender?: string;
  host: string;
  port: number;
  auth?: RouteAuth;
  tls?: RouteTls;
  /** The option fields after the port as written (`XOAUTH2`, `auth=xoauth2`, `tls=required`). */
  options?: string[];
}

// ---- XOAUTH2 ----

export type OAuthProvider = 'microsoft' | 'google' | 'custom';

export interface OAuthSettings {
  provider: OAuthProvider;
  /** The app's (client) id the admin registered. */
  clientId: string;
  /** Sealed at rest; absent for public clients (device code, PKCE). */
  clientSecret?: string;
  /** Microsoft: the tenant id or domain; `organizations` when absent. */
  tenant?: string;
  /** The mailbox the smarthost login is for (XOAUTH2 `user=`). */
  user: string;
  /**
   * Not in config.json: the refresh token lives sealed in its own file (<data>/oauth-token.json),
   * because providers rotate it on every refresh and the audit trail should not record that.
   */
  /** Overrides for `custom` (and tests): endpoints and scope. */
  tokenUrl?: string;
  authorizeUrl?: string;
  deviceCodeUrl?: string;
  scope?: string;
}

// ---- the deliverability check (`gatehouse doctor`) ----

/** What the check needs to know that the settings do not say otherwise. */
export interface DeliverabilitySettings {
  /** The gateway's address on the internet (SPF, reverse DNS for direct delivery); '' = unknown. */
  publicIp: string;
  /** Where the port-25 check connects (a receiving mail server outside); null = not tried. */
  port25Target: HostPort | null;
}

export type CheckStatus = 'ok' | 'warn' | 'fail';

export type CheckName = 'spf' | 'fcrdns' | 'dkim' | 'dmarc' | 'mta-sts' | 'port25' | 'smarthost-login';

/** A record the admin should publish (or change). */
export interface RecordToPublish {
  name: string;
  type: 'TXT' | 'A' | 'AAAA' | 'PTR' | 'MX';
  value: string;
  /** Zone-file form, TXT values split into 255-octet strings. */
  zoneLine: string;
}

export interface CheckResult {
  check: CheckName;
  /** The internal domain checked (absent for port25 / smarthost-login / fcrdns). */
  domain?: string;
  status: CheckStatus;
  /** Message code: main/shared/deliverability-messages.ts has its Japanese and English text. */
  code: string;
  params: Record<string, string>;
  record?: RecordToPublish;
}

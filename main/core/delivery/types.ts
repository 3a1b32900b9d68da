/*
 * The delivery runner's view of its collaborators: the part of the spool it uses and the
 * DNS it asks. Types only; nothing here runs or fails. The real Spool (core/spool) fits
 * SpoolLike as is; tests may hand in an in-memory one.
 */
import type { SpoolEnvelope, SpoolHeader, SpoolState } from '../spool/index.js';

export type { SpoolEnvelope, SpoolHeader, SpoolState };

/**
 * What delivery keeps of a header while the message is queued: no body checksum, since the
 * spool checks the file's own at every read (64 bytes of hex per message, 100,000 queued).
 */
export type QueuedHeader = Omit<SpoolHeader, 'sha256'>;

/** What delivery needs from the spool (core/spool's Spool implements it). */
export interface SpoolLike {
  write(env: SpoolEnvelope, body: Buffer): Promise<SpoolHeader>;
  readHeader(id: string): Promise<SpoolHeader>;
  readBody(id: string): Promise<Buffer>;
  getState(id: string): Promise<SpoolState>;
  setState(id: string, s: SpoolState): Promise<void>;
  remove(id: string): Promise<void>;
  quarantine(id: string, reason: string): Promise<void>;
  list(): Promise<SpoolHeader[]>;
}

/** DNS as delivery uses it. Errors carry node's `code` (ENODATA, ENOTFOUND, ESERVFAIL, ...). */
export interface MxResolver {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
  /** A and AAAA addresses of a name. */
  resolveHost(name: string): Promise<string[]>;
}

/** Where an XOAUTH2 login gets its access tokens (core/oauth's XOAuth2TokenClient fits). */
export interface XOAuth2Source {
  /** Identifies the login (provider, app, mailbox), not the token: sessions are reused per id. */
  readonly id: string;
  /** A valid access token; `force` = the server refused the last one, get a new one. Rejects when none can be had. */
  token(force?: boolean): Promise<string>;
}

/** SMTP AUTH for one hop: a password, or XOAUTH2 with tokens from a source. */
export type HopAuth = { user: string; pass: string } | { user: string; xoauth2: XOAuth2Source };

/** What the TLS handshake of a session gave. */
export interface TlsInfo {
  /** `TLSv1.3`, ... */
  version: string;
  /** Chain and host name verified (against the default CAs plus any given). */
  verified: boolean;
  /** Why not verified (node's code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID). */
  verifyError?: string;
}

/*
 * The delivery runner's view of its collaborators: the part of the spool it uses and the
 * DNS it asks. Types only; nothing here runs or fails. The real Spool (core/spool) fits
 * SpoolLike as is; tests may hand in an in-memory one.
 */
import type { SpoolEnvelope, SpoolHeader, SpoolState } from '../spool/index.js';

export type { SpoolEnvelope, SpoolHeader, SpoolState };

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

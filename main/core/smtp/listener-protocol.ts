/*
 * Messages between the main process and a listener process (listener-process.ts), over
 * Node's IPC channel. The listening socket itself travels with `listen`.
 */
import type { GatehouseConfig, ReceiveLogEntry } from '../../shared/types.js';
import type { SpoolHeader } from '../spool/index.js';
import type { LimitRule } from './connection-gate.js';
import type { FrozenSender } from '../../shared/outbound.js';

export interface ListenerInit {
  cfg: GatehouseConfig;
  spoolDir: string;
  fsync: boolean;
  /** PEM text (Buffers do not survive the JSON channel). */
  tls: { key: string; cert: string } | null;
  /** The held queue's spool (core/outbound), and who is frozen when the process starts. */
  heldDir?: string;
  frozen?: FrozenSender[];
}

/** Main process -> listener process. */
export type ToListener =
  | { t: 'init'; init: ListenerInit }
  | { t: 'listen' } // sent with the listening net.Server as its handle, after 'prepared'
  | { t: 'config'; cfg: GatehouseConfig }
  | { t: 'admitted'; rid: number; rule: LimitRule | null }
  | { t: 'verified'; rid: number; answer: 'ok' | 'unknown' | 'tempfail' }
  | { t: 'frozen'; list: FrozenSender[] }
  | { t: 'counted'; rid: number; frozen: FrozenSender | null }
  | { t: 'stop' };

/** Listener process -> main process. */
export type FromListener =
  | { t: 'prepared' }
  | { t: 'ready' }
  | { t: 'log'; entries: ReceiveLogEntry[] }
  | { t: 'queued'; header: SpoolHeader }
  | { t: 'ask'; rid: number; ip: string; trusted: boolean }
  | { t: 'closed'; ip: string }
  | { t: 'verify'; rid: number; recipient: string }
  | { t: 'held'; header: SpoolHeader }
  | { t: 'count'; rid: number; sender: string; external: number }
  | { t: 'failed'; error: string }
  | { t: 'stopped' };

/*
 * Public face of the spool: the durable on-disk queue (see spool.ts). Re-exports only.
 */
export { Spool, type SpoolOptions } from './spool.js';
export type { SpoolEnvelope, SpoolHeader, SpoolState, OpenResult, RecoveredMessage, RecoveryNote, RecoveryResult } from './types.js';
export { SpoolError, SpoolCorruptError, MAGIC } from './format.js';
export { isValidId } from './ids.js';

/*
 * The receivelog / senderlog module: JsonlLog (daily JSONL files with batching, tail,
 * follow, backward paging and retention) and the one-line formatters for people.
 * Re-exports only; see jsonl-log.ts and format.ts for behaviour and failure modes.
 */
export { JsonlLog, LogError, isDay, localDay } from './jsonl-log.js';
export type { JsonlLogOptions, JsonlLogStatus } from './jsonl-log.js';
export type { LogPage } from '../../shared/contract.js';
export { formatReceiveLine, formatSenderLine, formatTime } from './format.js';

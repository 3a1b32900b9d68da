/*
 * CSV export of the log lines on screen (the filtered view): one header row in the current
 * language (its time column names the time zone) and one row per line in local time, in file
 * order, through the one CSV writer the core uses too
 * (main/shared/csv.ts: UTF-8 BOM, CRLF, for Excel and Notepad), with formulas guarded (a
 * crafted address must not run in Excel). Pure; returns the CSV text.
 */
import { toCsv } from '../../../main/shared/csv.js';
import type { ReceiveLogEntry, SenderLogEntry } from '../../../main/shared/types.js';
import { isReceive, type AnyLogEntry } from './logfilter.js';

/** `time` formats an ISO time for the file (the window passes local time). */
export function receiveCsv(lines: readonly AnyLogEntry[], header: string[], time: (ts: string) => string = (ts) => ts): string {
  const rows = lines.filter(isReceive).map((e: ReceiveLogEntry) => [
    time(e.ts),
    e.event,
    e.session,
    e.clientIp,
    e.trusted === undefined ? '' : e.trusted ? 'yes' : 'no',
    e.sender ?? '',
    e.recipient ?? e.recipients?.join(' ') ?? '',
    e.headerFrom ?? '',
    e.decision ?? '',
    e.rule ?? '',
    e.account ?? '',
    e.code ?? '',
    e.reply ?? e.error ?? (e.note ? `${e.note}${e.by ? ` (${e.by})` : ''}` : ''),
    e.queueId ?? '',
    e.size ?? '',
  ]);
  return toCsv(header, rows, { guardFormulas: true });
}

export function senderCsv(lines: readonly AnyLogEntry[], header: string[], time: (ts: string) => string = (ts) => ts): string {
  const rows = lines
    .filter((e): e is SenderLogEntry => !isReceive(e))
    .map((e) => [time(e.ts), e.queueId, e.attempt, e.sender, e.recipients.join(' '), e.hop, e.via, e.tls ? 'yes' : 'no', e.outcome, e.code ?? '', e.reply ?? '', e.durationMs, e.nextAttemptAt ? time(e.nextAttemptAt) : '']);
  return toCsv(header, rows, { guardFormulas: true });
}
export const RECEIVE_CSV_KEYS = [
  'log.col.time',
  'log.col.event',
  'log.col.session',
  'log.col.client',
  'log.col.trusted',
  'log.col.sender',
  'log.col.recipient',
  'log.col.headerFrom',
  'log.col.decision',
  'log.col.rule',
  'log.col.account',
  'log.col.code',
  'log.col.reply',
  'log.col.queueId',
  'log.col.size',
] as const;

export const SENDER_CSV_KEYS = [
  'log.col.time',
  'log.col.queueId',
  'log.col.attempt',
  'log.col.sender',
  'log.col.recipients',
  'log.col.hop',
  'log.col.via',
  'log.col.tls',
  'log.col.outcome',
  'log.col.code',
  'log.col.reply',
  'log.col.duration',
  'log.col.nextAttempt',
] as const;

/*
 * CSV export of the messages on screen (the live log's message view or a search's results):
 * one header row in the current language, whose time column names the time zone, and one
 * row per message with its local time, through the one CSV writer (main/shared/csv.ts: UTF-8
 * BOM, CRLF, formulas guarded). Pure; the labels and the time format come from the caller.
 */
import { toCsv } from '../../../main/shared/csv.js';
import type { MessageSummary } from '../../../main/shared/messages.js';

export interface MessageCsvLabels {
  header: string[];
  outcome(m: MessageSummary): string;
  time(ts: string): string;
}

export function messagesCsv(rows: readonly MessageSummary[], l: MessageCsvLabels): string {
  return toCsv(
    l.header,
    rows.map((m) => [
      l.time(m.ts),
      m.sender,
      m.recipients.filter((r) => r.state !== 'rejected').map((r) => r.address).join(' '),
      m.recipients.filter((r) => r.state === 'rejected').map((r) => `${r.address}${r.rule ? ` (${r.rule})` : ''}`).join(' '),
      m.subject ?? '',
      l.outcome(m),
      m.queueId ?? '',
      m.messageId ?? '',
      m.clientIp ?? '',
    ]),
    { guardFormulas: true },
  );
}

export const MESSAGE_CSV_KEYS = ['msg.col.sender', 'msg.col.recipients', 'msg.col.refused', 'msg.col.subject', 'msg.col.outcome', 'log.col.queueId', 'msg.col.messageId', 'log.col.client'] as const;

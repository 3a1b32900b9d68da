/*
 * The receivelog and senderlog as the running gateway writes them: the last lines of a day,
 * the days on file, and one page of a day read backwards with a filter (the same filter the
 * window applies to live lines). Needs the running gateway (ApiError 'not-running').
 */
import type { CommandHandlers } from '../../shared/contract.js';
import { matchesFilter, type AnyLogEntry } from '../../shared/log-filter.js';
import { runtime, type CommandPorts } from './context.js';

type Names = 'log.tail' | 'log.days' | 'log.page';

export function logCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  const log = (kind: 'receive' | 'send') => {
    const gw = runtime(p);
    return kind === 'send' ? gw.senderlog : gw.receivelog;
  };
  return {
    'log.tail': async ({ kind, n, day }) => log(kind).tail(n, day),
    'log.days': async ({ kind }) => log(kind).days(),
    'log.page': async ({ kind, day, before, limit, filter }) =>
      log(kind).readRange(day, { before, limit, filter: filter ? (e: AnyLogEntry) => matchesFilter(e, filter) : undefined }),
  };
}

/*
 * The delivery queue: list it (by state, envelope sender or recipient, or any text), show one
 * message (envelope, per-recipient state, headers), retry now, hold, release, delete without
 * a bounce, bounce now. Listing and showing work from the spool alone; the actions need the
 * running gateway's delivery (ApiError 'not-running' without one). An unknown id rejects with
 * 'not-found'.
 */
import { ApiError, type CommandHandlers } from '../../shared/contract.js';
import type { CommandPorts } from './context.js';

type Names = 'queue.list' | 'queue.show' | 'queue.retry' | 'queue.hold' | 'queue.release' | 'queue.delete' | 'queue.bounce';

/** The runner says "no message X in the queue" with a plain Error: that is a 'not-found'. */
async function found<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const message = (err as Error).message;
    throw new ApiError(message, /^no message /.test(message) ? 'not-found' : 'internal', [], /^no message (\S+)/.test(message) ? { id: /^no message (\S+)/.exec(message)![1]! } : {});
  }
}

export function queueCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'queue.list': async (args) => {
      const { text, ...filter } = args ?? {};
      const items = await p.queue.list(filter);
      const needle = text?.trim().toLowerCase();
      return needle ? items.filter((i) => JSON.stringify(i).toLowerCase().includes(needle)) : items;
    },
    'queue.show': async ({ id }) => found(() => p.queue.show(id)),
    'queue.retry': async (args) => found(() => p.queue.retryNow(args?.id)),
    'queue.hold': async ({ id }) => found(() => p.queue.hold(id)),
    'queue.release': async ({ id }) => found(() => p.queue.release(id)),
    'queue.delete': async ({ id }) => found(() => p.queue.remove(id)),
    'queue.bounce': async ({ id }) => found(() => p.queue.bounceNow(id)),
  };
}

/*
 * The one way into a command, for every transport (IPC from the window, HTTP from the window
 * or the CLI, the CLI in-process): the name must be a command of the contract, the arguments
 * must pass that command's schema (checked once, here; defaults filled in), then its function
 * runs with who asked. The answer is always an ApiResult: a bad name is 'bad-request', bad
 * arguments are 'validation' with every issue, a function's ApiError keeps its code and
 * issues, anything else it throws is 'internal'. Never throws.
 */
import { errorToData, isCommandName, validateArgs, type ApiResult, type CallContext, type CommandHandlers } from '../../shared/contract.js';
import { formatIssues } from '../../shared/issues.js';
import type { ConfigEnv } from '../../shared/config-schema.js';
import { configEnv } from '../config/schema.js';

export type Dispatch = (command: unknown, args: unknown, call: CallContext) => Promise<ApiResult<unknown>>;

export function createDispatcher(handlers: CommandHandlers, env: ConfigEnv = configEnv()): Dispatch {
  return async (command, args, call) => {
    if (!isCommandName(command)) {
      const shown = typeof command === 'string' ? JSON.stringify(command.slice(0, 60)) : `(${typeof command})`;
      return { ok: false, error: { code: 'bad-request', message: `unknown command ${shown}` } };
    }
    const checked = validateArgs(command, args, env);
    if (!checked.ok) {
      return { ok: false, error: { code: 'validation', message: `${command}: invalid arguments:\n  ${formatIssues(checked.issues).replace(/\n/g, '\n  ')}`, issues: checked.issues } };
    }
    try {
      const run = handlers[command] as (a: unknown, c: CallContext) => Promise<unknown>;
      const value = await run(checked.args, call);
      return { ok: true, value: value === undefined ? null : value };
    } catch (err) {
      return { ok: false, error: errorToData(err) };
    }
  };
}

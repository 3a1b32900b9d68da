/*
 * The audit trail: every change, newest first, as ConfigViews (no secrets), and restoring the
 * settings as they were after change n (itself a new, audited change). A number the trail
 * does not hold rejects with ApiError 'not-found'.
 */
import { ApiError, type AuditEntryView, type CommandHandlers } from '../../shared/contract.js';
import type { AuditEntry } from '../../shared/types.js';
import { ConfigError } from '../config/index.js';
import { toConfigView } from '../config-view.js';
import type { CommandPorts } from './context.js';

type Names = 'history.list' | 'history.restore';

function view(e: AuditEntry): AuditEntryView {
  return { ...e, before: e.before ? toConfigView(e.before) : null, after: toConfigView(e.after) };
}

export function historyCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'history.list': async () => (await p.store.history()).map(view).reverse(),
    'history.restore': async ({ n }, call) => {
      try {
        return toConfigView(await p.store.restore(n, call.via === 'ui' || call.via === 'api' ? 'restore' : call.via));
      } catch (err) {
        if (err instanceof ConfigError) {
          const missing = err.errors.some((e) => e.code === 'no_change');
          throw new ApiError(err.message, missing ? 'not-found' : 'validation', err.errors);
        }
        throw err;
      }
    },
  };
}

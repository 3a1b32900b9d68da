/*
 * Outbound controls (誤送信防止): an account's external-sending mode and automatic Bcc (config
 * changes, audited like every other), mail held for approval (list with a preview, approve,
 * reject with a reason), delayed mail (list, send now, cancel), frozen senders (list,
 * unfreeze) and the action log. Decisions need the running gateway, which owns the held queue
 * (ApiError 'not-running' without one); frozen senders and the action log are files, so the
 * CLI reads (and, with no gateway running, unfreezes) them itself. Who acted is recorded as
 * the door ('ui', 'cli', 'api') and the approver's address when the caller gives one (`as`).
 */
import { auditWhat } from '../../shared/audit.js';
import { ApiError, type CallContext, type CommandHandlers } from '../../shared/contract.js';
import { problem } from '../../shared/issues.js';
import type { Actor } from '../../shared/outbound.js';
import { setBcc, setMode } from '../config/index.js';
import { ActionLog, FrozenStore } from '../outbound/index.js';
import { accountsOf, change, runtime, type CommandPorts } from './context.js';

type Names =
  | 'accounts.setMode'
  | 'accounts.setBcc'
  | 'accounts.frozen'
  | 'accounts.unfreeze'
  | 'approvals.list'
  | 'approvals.approve'
  | 'approvals.reject'
  | 'queue.delayed'
  | 'queue.sendNow'
  | 'queue.cancel'
  | 'history.actions';

function actor(call: CallContext, address?: string): Actor {
  const via: Actor['via'] = call.via === 'ui' ? 'ui' : call.via === 'cli' ? 'cli' : 'api';
  return address ? { via, address } : { via };
}

export function outboundCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'accounts.setMode': async ({ pattern, ...m }, call) => {
      await change(p, call, auditWhat(`mode-${m.mode}`, { pattern }), (d) => setMode(d, pattern, m));
      return accountsOf(p);
    },
    'accounts.setBcc': async ({ pattern, bcc }, call) => {
      await change(p, call, bcc.length ? auditWhat('bcc-set', { pattern, list: bcc.join(', ') }) : auditWhat('bcc-clear', { pattern }), (d) => setBcc(d, pattern, bcc));
      return accountsOf(p);
    },
    'accounts.frozen': async () => {
      if (p.gateway) return p.gateway.outbound.frozen.all();
      const store = new FrozenStore(p.store.dataDir);
      await store.load();
      return store.all();
    },
    'accounts.unfreeze': async ({ address }, call) => {
      if (p.gateway) return p.gateway.outbound.unfreeze(address, actor(call));
      // No gateway runs on the folder: this process is its only writer.
      const store = new FrozenStore(p.store.dataDir);
      await store.load();
      const found = await store.unfreeze(address.trim());
      if (!found) {
        const pr = problem('not_frozen', { address });
        throw new ApiError(pr.message, 'not-found', [{ path: 'address', ...pr }]);
      }
      await new ActionLog(p.store.dataDir).append({ action: 'unfrozen', by: actor(call), subject: found.address });
      return store.all();
    },
    'approvals.list': async () => runtime(p).outbound.held.list('approval'),
    'approvals.approve': async ({ id, as }, call) => runtime(p).outbound.held.approve(id, actor(call, as)),
    'approvals.reject': async ({ id, reason, as }, call) => runtime(p).outbound.held.reject(id, reason, actor(call, as)),
    'queue.delayed': async () => runtime(p).outbound.held.list('delay'),
    'queue.sendNow': async ({ id }, call) => runtime(p).outbound.held.sendNow(id, actor(call)),
    'queue.cancel': async ({ id }, call) => runtime(p).outbound.held.cancel(id, actor(call)),
    'history.actions': async () => (await new ActionLog(p.store.dataDir).all()).reverse(),
  };
}

/*
 * The command layer: every command of the contract, one function each, grouped by what they
 * work on (one file per group beside this one), over CommandPorts. `createCommands(ports)`
 * returns the whole table; its type insists that every command of the contract has its
 * function. Transports never call it directly: `createDispatcher` (dispatch.ts) checks the
 * arguments against the command's schema first. Where a new command goes: its schema in
 * main/shared/command-args.ts, its result in contract.ts `Results`, its function in the
 * group file here (or a new group, added below), and a CLI verb in main/cli if it has one.
 */
import type { CommandHandlers } from '../../shared/contract.js';
import { accountCommands } from './accounts.js';
import { authCommands } from './auth.js';
import { checkCommands } from './check.js';
import { deliverabilityCommands } from './deliverability.js';
import { oauthCommands } from './oauth.js';
import type { CommandPorts } from './context.js';
import { gatewayCommands } from './gateway.js';
import { historyCommands } from './history.js';
import { listCommands } from './lists.js';
import { logCommands } from './log.js';
import { outboundCommands } from './outbound.js';
import { messageCommands } from './messages.js';
import { deliveryCommands } from './delivery.js';
import { queueCommands } from './queue.js';
import { routeCommands } from './routes.js';
import { serviceCommands } from './service.js';
import { settingsCommands } from './settings.js';

export function createCommands(p: CommandPorts): CommandHandlers {
  return {
    ...gatewayCommands(p),
    ...settingsCommands(p),
    ...accountCommands(p),
    ...routeCommands(p),
    ...listCommands(p),
    ...authCommands(p),
    ...checkCommands(p),
    ...queueCommands(p),
    ...logCommands(p),
    ...historyCommands(p),
    ...serviceCommands(p),
    ...outboundCommands(p),
    ...deliverabilityCommands(p),
    ...oauthCommands(p),
    ...messageCommands(p),
    ...deliveryCommands(p),
  };
}

export { createDispatcher, type Dispatch } from './dispatch.js';
export { gatewayPorts, type CommandPorts, type QueueSource } from './context.js';

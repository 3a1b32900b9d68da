/*
 * "Who can send to what": the policy's decision at MAIL FROM and RCPT TO for one sender,
 * recipient and client address, with the rule that fires and its reason in English and
 * Japanese, exactly as the gateway would decide. Needs no running gateway (the policy is
 * compiled from the settings). '' or '<>' is the null sender.
 */
import type { CommandHandlers } from '../../shared/contract.js';
import { check } from '../policy/index.js';
import type { CommandPorts } from './context.js';

export function checkCommands(p: CommandPorts): Pick<CommandHandlers, 'check'> {
  return {
    'check': async ({ sender, recipient, clientIp }) => {
      const s = sender.trim();
      return check(p.policy(), s === '<>' ? '' : s, recipient.trim(), clientIp.trim());
    },
  };
}

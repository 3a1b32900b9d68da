/*
 * "Who can send to what": the policy's decision at MAIL FROM and RCPT TO for one sender,
 * recipient and client address, with the rule that fires and its reason in English and
 * Japanese, exactly as the gateway would decide: outbound modes included (`delay`,
 * `hold-approval`: accepted, the external copy waits), and a frozen sender (`sender-frozen`,
 * read from the running gateway or from frozen.json). Needs no running gateway (the policy is
 * compiled from the settings). '' or '<>' is the null sender.
 */
import type { CommandHandlers } from '../../shared/contract.js';
import type { FrozenSender } from '../../shared/outbound.js';
import { check, ruleDecision } from '../policy/index.js';
import { FrozenStore } from '../outbound/index.js';
import type { CommandPorts } from './context.js';

async function frozenOf(p: CommandPorts, sender: string): Promise<FrozenSender | undefined> {
  if (sender === '') return undefined;
  if (p.gateway) return p.gateway.outbound.isFrozen(sender);
  const store = new FrozenStore(p.store.dataDir);
  await store.load();
  return store.get(sender);
}

export function checkCommands(p: CommandPorts): Pick<CommandHandlers, 'check'> {
  return {
    'check': async ({ sender, recipient, clientIp }) => {
      const s = sender.trim();
      const from = s === '<>' ? '' : s;
      const result = check(p.policy(), from, recipient.trim(), clientIp.trim());
      const frozen = result.sender.action === 'accept' ? await frozenOf(p, from) : undefined;
      if (frozen) {
        const permanent = p.store.get().outbound.senderLimits.freeze === 'permanent';
        const d = ruleDecision(p.policy(), 'sender-frozen', { sender: from }, {
          en: `<${from}> is frozen since ${frozen.since} (went past its limit of ${frozen.max} per hour); unfreeze: gatehouse accounts unfreeze ${from}`,
          ja: `<${from}> は ${frozen.since} から凍結されています（1 時間の上限 ${frozen.max} を超過）。解除: gatehouse accounts unfreeze ${from}`,
        }, permanent ? { enhanced: '5.7.1' } : {});
        if (permanent) d.code = 550;
        result.sender = d;
      }
      return result;
    },
  };
}

/*
 * Accounts: the list (configured and discovered from traffic), blocking external sending,
 * allow-lists, saving or renaming one, removing one, and the CSV import and export. Every
 * change answers with the whole new list. A CSV import is all-or-nothing: a bad file rejects
 * with ApiError 'validation' and one issue per problem naming its line (`line 3`).
 */
import { auditWhat } from '../../shared/audit.js';
import { ApiError, type CommandHandlers } from '../../shared/contract.js';
import { accountsToCsv, parseAccountsCsv, removeAccount, setAllow, setBlock, upsertAccount } from '../config/index.js';
import { addressKey } from '../../shared/address.js';
import { accountsOf, change, type CommandPorts } from './context.js';

type Names = 'accounts.list' | 'accounts.setBlock' | 'accounts.setAllow' | 'accounts.save' | 'accounts.remove' | 'accounts.import' | 'accounts.export';

export function accountCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'accounts.list': async () => accountsOf(p),
    'accounts.setBlock': async ({ pattern, block, note }, call) => {
      await change(p, call, auditWhat(block ? 'block' : 'unblock', { pattern }), (d) => {
        setBlock(d, pattern, block);
        if (note !== undefined) {
          const acc = d.accounts.find((x) => addressKey(x.pattern) === addressKey(pattern));
          if (acc) acc.note = note;
        }
      });
      return accountsOf(p);
    },
    'accounts.setAllow': async ({ pattern, allow }, call) => {
      await change(p, call, auditWhat('allow-list', { pattern }), (d) => setAllow(d, pattern, allow));
      return accountsOf(p);
    },
    'accounts.save': async ({ original, account }, call) => {
      const what = original && addressKey(original) !== addressKey(account.pattern) ? auditWhat('rename-account', { from: original, to: account.pattern }) : auditWhat('save-account', { pattern: account.pattern });
      await change(p, call, what, (d) => upsertAccount(d, account, original));
      return accountsOf(p);
    },
    'accounts.remove': async ({ pattern }, call) => {
      await change(p, call, auditWhat('remove-account', { pattern }), (d) => removeAccount(d, pattern));
      return accountsOf(p);
    },
    'accounts.import': async ({ csv, mode }, call) => {
      const parsed = parseAccountsCsv(csv);
      if (!parsed.ok) throw new ApiError(`the CSV has ${parsed.errors.length} problem(s); nothing imported`, 'validation', parsed.errors);
      await change(p, call, auditWhat('import-accounts', { n: parsed.accounts.length, mode }), (d) => {
        if (mode === 'replace') d.accounts = [];
        for (const a of parsed.accounts) upsertAccount(d, a);
      });
      return { imported: parsed.accounts.length };
    },
    'accounts.export': async () => ({ csv: accountsToCsv(p.store.get().accounts) }),
  };
}

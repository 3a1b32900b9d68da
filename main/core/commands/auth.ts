/*
 * SMTP AUTH: switch it on or off, add or change a user (the password is hashed with scrypt
 * here and never stored or returned in clear; a new user needs one, an existing user keeps
 * the stored hash when none is given), remove a user. User names compare case-insensitively.
 * Refusals are ApiError 'validation' with the field at fault.
 */
import { auditWhat } from '../../shared/audit.js';
import type { CommandHandlers } from '../../shared/contract.js';
import { problem } from '../../shared/issues.js';
import { hashPassword } from '../smtp/auth.js';
import { toConfigView } from '../config-view.js';
import { change, refuse, type CommandPorts } from './context.js';

type Names = 'auth.setEnabled' | 'auth.setUser' | 'auth.removeUser';

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function authCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'auth.setEnabled': async ({ enabled }, call) =>
      toConfigView(await change(p, call, auditWhat(enabled ? 'auth-on' : 'auth-off'), (d) => void (d.auth.enabled = enabled))),
    'auth.setUser': async ({ username, password, addresses }, call) => {
      const existing = p.store.get().auth.users.find((u) => same(u.username, username));
      if (!existing && password === undefined) throw refuse('password', problem('password_needed'));
      const passwordHash = password !== undefined ? await hashPassword(password) : existing!.passwordHash;
      const cfg = await change(p, call, auditWhat('auth-user', { username }), (d) => {
        const u = d.auth.users.find((x) => same(x.username, username));
        if (u) Object.assign(u, { passwordHash, addresses });
        else d.auth.users.push({ username, passwordHash, addresses });
      });
      return toConfigView(cfg);
    },
    'auth.removeUser': async ({ username }, call) =>
      toConfigView(
        await change(p, call, auditWhat('auth-remove', { username }), (d) => {
          const i = d.auth.users.findIndex((u) => same(u.username, username));
          if (i < 0) throw refuse('username', problem('user_missing', { username }));
          d.auth.users.splice(i, 1);
        }),
      ),
  };
}

/*
 * The XOAUTH2 login (Microsoft 365, Google Workspace): register the app (`oauth.set`: the
 * provider, client id, tenant, the mailbox; a client secret left out keeps the stored one;
 * null removes the login), sign in (`oauth.start`: the browser flow, whose URL the window
 * opens in the system browser and which comes back to a loopback address, or a device code to
 * type at the provider's page), cancel a sign-in, and the state of it all (`oauth.status`).
 * Signing in needs the running gateway (it waits for the provider); the rest does not. A
 * sign-in that cannot begin is refused: 'validation' when nothing is registered or the flow
 * does not fit the provider, 'oauth-failed' with the provider's answer otherwise (its code as
 * the param `reason`: timeout, network, invalid_client...).
 */
import { auditWhat } from '../../shared/audit.js';
import { ApiError, type CommandHandlers } from '../../shared/contract.js';
import type { OAuthSettings } from '../../shared/deliverability.js';
import { problem } from '../../shared/issues.js';
import { toConfigView } from '../config-view.js';
import { OAuthError } from '../oauth/token-client.js';
import { change, refuse, runtime, type CommandPorts } from './context.js';

type Names = 'oauth.set' | 'oauth.start' | 'oauth.cancel' | 'oauth.status';

export function oauthCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'oauth.set': async (input, call) => {
      const what = input ? auditWhat('oauth-set', { user: input.user, provider: input.provider }) : auditWhat('oauth-remove');
      const cfg = await change(p, call, what, (d) => {
        if (!input) {
          d.delivery.oauth = null;
          return;
        }
        const old = d.delivery.oauth;
        const next = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== '')) as unknown as OAuthSettings;
        // The secret belongs to the app: kept only while the app stays the same.
        if (input.clientSecret === undefined && old?.clientSecret && old.provider === input.provider && old.clientId === input.clientId) next.clientSecret = old.clientSecret;
        d.delivery.oauth = next;
      });
      p.oauth.configChanged();
      return toConfigView(cfg);
    },
    'oauth.start': async ({ flow }) => {
      runtime(p);
      try {
        return await p.oauth.start(flow);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        if (err.code === 'oauth_not_configured') throw refuse('', problem('oauth_not_configured'));
        if (err.code === 'oauth_flow_unsupported') throw refuse('flow', problem('oauth_flow_unsupported', { provider: 'Google' }));
        // The provider's code (timeout, network, invalid_client...) lets the window word it.
        throw new ApiError(`sign-in could not start: ${err.message}`, 'oauth-failed', [], { reason: err.code, ...(err.httpStatus ? { status: err.httpStatus } : {}) });
      }
    },
    'oauth.cancel': async () => p.oauth.cancel(),
    'oauth.status': async () => p.oauth.status(),
  };
}

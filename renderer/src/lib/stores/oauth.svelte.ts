/*
 * The XOAUTH2 login's state (contract OAuthStatus: registered, signed in, a sign-in in
 * progress, access tokens failing) as a rune store: loaded once, then kept current by the
 * `oauth` event and reloaded after the event stream reconnects. `start(flow)` and `cancel()`
 * resolve to the new state or reject with the core's ApiError for the caller's Action.
 */
import type { ApiError, OAuthStatus } from '../../../../main/shared/contract.js';
import { asApiError, call, on, onReconnect } from '../api.js';

class OAuthStore {
  value = $state.raw<OAuthStatus | null>(null);
  loadError = $state.raw<ApiError | null>(null);
  #started = false;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    on('oauth', (s) => (this.value = s));
    onReconnect(() => void this.load());
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.value = await call('oauth.status');
      this.loadError = null;
    } catch (err) {
      this.loadError = asApiError(err);
    }
  }

  async start(flow: 'browser' | 'device'): Promise<OAuthStatus> {
    const s = await call('oauth.start', { flow });
    this.value = s;
    return s;
  }

  async cancel(): Promise<OAuthStatus> {
    const s = await call('oauth.cancel');
    this.value = s;
    return s;
  }
}

export const oauth = new OAuthStore();

/*
 * Gateway status (running, listen address, today's counts, queue totals) as a rune store:
 * loaded once, then kept current by the `status` and `queue` events and reloaded after the
 * event stream reconnects. `start()`/`stop()` go through the caller's Action so a failure
 * shows at the button. Load failures land in `loadError`; nothing throws.
 */
import type { ApiError, GatewayStatus } from '../../../../main/shared/contract.js';
import { asApiError, call, on, onReconnect } from '../api.js';

class StatusStore {
  value = $state.raw<GatewayStatus | null>(null);
  loadError = $state.raw<ApiError | null>(null);
  #started = false;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    on('status', (s) => (this.value = s));
    on('queue', (q) => {
      if (this.value) this.value = { ...this.value, queue: q };
    });
    onReconnect(() => void this.load());
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.value = await call('status');
      this.loadError = null;
    } catch (err) {
      this.loadError = asApiError(err);
    }
  }

  async start(): Promise<void> {
    this.value = await call('gateway.start');
  }

  async stop(): Promise<void> {
    this.value = await call('gateway.stop');
  }
}

export const status = new StatusStore();

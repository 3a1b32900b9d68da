/*
 * Outgoing delivery as the admin controls it (paused, held domains), loaded once and kept
 * current by the `delivery` event. Actions resolve to the new state or reject with the
 * core's ApiError for the caller's Action to show.
 */
import type { ApiError, DeliveryStatus } from '../../../../main/shared/contract.js';
import { asApiError, call, on, onReconnect } from '../api.js';

class DeliveryStore {
  value = $state.raw<DeliveryStatus | null>(null);
  loadError = $state.raw<ApiError | null>(null);
  #started = false;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    on('delivery', (d) => (this.value = d));
    onReconnect(() => void this.load());
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.value = await call('delivery.status');
      this.loadError = null;
    } catch (err) {
      this.loadError = asApiError(err);
    }
  }

  async pause(): Promise<void> {
    this.value = await call('delivery.pause');
  }
  async resume(): Promise<void> {
    this.value = await call('delivery.resume');
  }
  async hold(domain: string): Promise<void> {
    this.value = await call('delivery.hold', { domain });
  }
  async release(domain: string): Promise<void> {
    this.value = await call('delivery.release', { domain });
  }
}

export const delivery = new DeliveryStore();

/*
 * Dashboard traffic (hourly today, daily for 7 days, recent errors). `watch()` loads now and
 * then every few seconds and on gateway events, until the returned stop function is called
 * (the dashboard does this while it is shown). Errors land in `loadError`; nothing throws.
 */
import type { ApiError, TrafficStats } from '../../../../main/shared/contract.js';
import { asApiError, call, on } from '../api.js';

class TrafficStore {
  value = $state.raw<TrafficStats | null>(null);
  loadError = $state.raw<ApiError | null>(null);
  #soon: ReturnType<typeof setTimeout> | null = null;

  async load(): Promise<void> {
    try {
      this.value = await call('stats.traffic');
      this.loadError = null;
    } catch (err) {
      this.loadError = asApiError(err);
    }
  }

  watch(intervalMs = 10_000): () => void {
    void this.load();
    const timer = setInterval(() => void this.load(), intervalMs);
    const soon = () => {
      if (this.#soon) return;
      this.#soon = setTimeout(() => {
        this.#soon = null;
        void this.load();
      }, 1000);
    };
    const offs = [on('receivelog', soon), on('senderlog', soon)];
    return () => {
      clearInterval(timer);
      for (const off of offs) off();
    };
  }
}

export const traffic = new TrafficStore();

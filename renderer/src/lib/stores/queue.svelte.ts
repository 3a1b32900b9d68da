/*
 * The delivery queue list with its state/text filter. Reloads (debounced) on `queue`
 * events while watched. Actions (retry, hold, release, delete, bounce) reject with the
 * core's ApiError for the row's Action to show, then reload the list.
 */
import type { ApiError } from '../../../../main/shared/contract.js';
import type { QueueItem, QueueState } from '../../../../main/shared/types.js';
import { asApiError, call, on } from '../api.js';

class QueueStore {
  items = $state.raw<QueueItem[]>([]);
  loaded = $state(false);
  loadError = $state.raw<ApiError | null>(null);
  state = $state<QueueState | ''>('');
  text = $state('');
  #soon: ReturnType<typeof setTimeout> | null = null;

  async load(): Promise<void> {
    try {
      const args: { state?: QueueState; text?: string } = {};
      if (this.state) args.state = this.state;
      if (this.text.trim()) args.text = this.text.trim();
      this.items = await call('queue.list', args);
      this.loadError = null;
    } catch (err) {
      this.loadError = asApiError(err);
    } finally {
      this.loaded = true;
    }
  }

  watch(): () => void {
    void this.load();
    const off = on('queue', () => {
      if (this.#soon) return;
      this.#soon = setTimeout(() => {
        this.#soon = null;
        void this.load();
      }, 300);
    });
    return off;
  }

  async act(action: 'retry' | 'hold' | 'release' | 'delete' | 'bounce', id: string): Promise<void> {
    await call(`queue.${action}`, { id });
    await this.load();
  }

  async retryAll(): Promise<void> {
    await call('queue.retry', {});
    await this.load();
  }
}

export const queue = new QueueStore();

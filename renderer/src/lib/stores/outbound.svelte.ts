/*
 * 誤送信防止 as the window sees it: mail held for approval, delayed mail, frozen senders.
 * Loaded once (and again after the event stream was interrupted); after that the core's
 * `approvals`, `delayed` and `frozen` events carry each new list and replace the store's, so
 * nothing is fetched again. A decision (approve, reject, send now, cancel, unfreeze) rejects
 * with the core's ApiError for the caller's Action to show; when it worked, or the core says
 * it was decided already, the item leaves the list at once (the event that follows says the
 * same). Load errors land in `loadError`.
 */
import type { ApiError, FrozenSender, HeldItem } from '../../../../main/shared/contract.js';
import { asApiError, call, on, onReconnect } from '../api.js';

class OutboundStore {
  approvals = $state.raw<HeldItem[]>([]);
  delayed = $state.raw<HeldItem[]>([]);
  frozen = $state.raw<FrozenSender[]>([]);
  loaded = $state(false);
  loadError = $state.raw<ApiError | null>(null);
  #started = false;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    on('approvals', (list) => (this.approvals = list));
    on('delayed', (list) => (this.delayed = list));
    on('frozen', (list) => (this.frozen = list));
    onReconnect(() => void this.load());
    void this.load();
  }

  async load(): Promise<void> {
    try {
      const [approvals, delayed, frozen] = await Promise.all([call('approvals.list'), call('queue.delayed'), call('accounts.frozen')]);
      this.approvals = approvals;
      this.delayed = delayed;
      this.frozen = frozen;
      this.loadError = null;
    } catch (err) {
      this.loadError = asApiError(err);
    } finally {
      this.loaded = true;
    }
  }

  /**
   * Runs a decision on one held message; the message leaves the list when it worked, and also
   * when the core says it was decided already or is gone ('conflict', 'not-found': decided on
   * the LAN page or by the CLI, its event still on the way). Rejects with the core's error.
   */
  async #decide(id: string, list: 'approvals' | 'delayed', run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (err) {
      const e = asApiError(err);
      if (e.code === 'conflict' || e.code === 'not-found') this[list] = this[list].filter((i) => i.id !== id);
      throw e;
    }
    this[list] = this[list].filter((i) => i.id !== id);
  }

  approve(id: string): Promise<void> {
    return this.#decide(id, 'approvals', () => call('approvals.approve', { id }));
  }

  reject(id: string, reason: string): Promise<void> {
    return this.#decide(id, 'approvals', () => call('approvals.reject', { id, reason }));
  }

  sendNow(id: string): Promise<void> {
    return this.#decide(id, 'delayed', () => call('queue.sendNow', { id }));
  }

  cancel(id: string): Promise<void> {
    return this.#decide(id, 'delayed', () => call('queue.cancel', { id }));
  }

  async unfreeze(address: string): Promise<void> {
    this.frozen = await call('accounts.unfreeze', { address });
  }
}

export const outbound = new OutboundStore();

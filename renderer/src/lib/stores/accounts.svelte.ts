/*
 * Accounts: configured ones and those discovered from traffic (AccountView.configured
 * false). Every mutating command returns the full new list, which replaces the store's;
 * after any change, wherever it was made (another window, the CLI, a restore, a hand edit),
 * the core sends the new list as an `accounts` event, which replaces it too: nothing is
 * fetched again. Mutations reject with the core's ApiError for the caller's Action to show;
 * `load` (first show, after the event stream was interrupted) keeps its error in loadError.
 */
import type { ApiError } from '../../../../main/shared/contract.js';
import type { Account, AccountView } from '../../../../main/shared/types.js';
import { asApiError, call, on, onReconnect } from '../api.js';

class AccountsStore {
  list = $state.raw<AccountView[]>([]);
  loaded = $state(false);
  loadError = $state.raw<ApiError | null>(null);
  #started = false;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    on('accounts', (list) => (this.list = list));
    onReconnect(() => void this.load());
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.list = await call('accounts.list');
      this.loadError = null;
    } catch (err) {
      this.loadError = asApiError(err);
    } finally {
      this.loaded = true;
    }
  }

  async setBlock(pattern: string, block: boolean): Promise<void> {
    this.list = await call('accounts.setBlock', { pattern, block });
  }

  async setAllow(pattern: string, allow: string[]): Promise<void> {
    this.list = await call('accounts.setAllow', { pattern, allow });
  }

  async save(account: Account, original?: string): Promise<void> {
    this.list = await call('accounts.save', { account, original });
  }

  async remove(pattern: string): Promise<void> {
    this.list = await call('accounts.remove', { pattern });
  }

  async importCsv(csv: string, mode: 'merge' | 'replace'): Promise<number> {
    // The new list arrives as an `accounts` event.
    return (await call('accounts.import', { csv, mode })).imported;
  }

  async exportCsv(): Promise<string> {
    return (await call('accounts.export')).csv;
  }
}

export const accounts = new AccountsStore();

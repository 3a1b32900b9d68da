/*
 * Accounts: configured ones and those discovered from traffic (AccountView.configured
 * false). Every mutating command returns the full new list, which replaces the store's;
 * a `config` event (another window, the CLI, a restore) reloads it. Mutations reject with
 * the core's ApiError for the caller's Action to show; `load` keeps its error in loadError.
 */
import type { ApiError } from '../../../../main/shared/contract.js';
import type { Account, AccountView } from '../../../../main/shared/types.js';
import { asApiError, call, on, onReconnect } from '../api.js';

class AccountsStore {
  list = $state.raw<AccountView[]>([]);
  loaded = $state(false);
  loadError = $state.raw<ApiError | null>(null);
  #started = false;
  #reloadTimer: ReturnType<typeof setTimeout> | null = null;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    on('config', () => this.reloadSoon());
    onReconnect(() => void this.load());
    void this.load();
  }

  private reloadSoon(): void {
    if (this.#reloadTimer) return;
    this.#reloadTimer = setTimeout(() => {
      this.#reloadTimer = null;
      void this.load();
    }, 200);
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
    const r = await call('accounts.import', { csv, mode });
    await this.load();
    return r.imported;
  }

  async exportCsv(): Promise<string> {
    return (await call('accounts.export')).csv;
  }
}

export const accounts = new AccountsStore();

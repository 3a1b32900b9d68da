/*
 * The gateway's settings as the UI sees them (ConfigView: no password, only `hasPassword`),
 * kept current by the `config` event. `set(key, value)` and `setSmarthost()` resolve to the
 * new view or reject with the core's ApiError (field issues included) for the form to show.
 */
import type { ApiError, ArgsOf, ConfigKey, ConfigView, SmarthostInput } from '../../../../main/shared/contract.js';
import { asApiError, call, on, onReconnect } from '../api.js';

class ConfigStore {
  value = $state.raw<ConfigView | null>(null);
  loadError = $state.raw<ApiError | null>(null);
  #started = false;

  init(): void {
    if (this.#started) return;
    this.#started = true;
    on('config', (c) => (this.value = c));
    onReconnect(() => void this.load());
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.value = await call('config.get');
      this.loadError = null;
    } catch (err) {
      this.loadError = asApiError(err);
    }
  }

  async set<K extends ConfigKey>(key: K, value: Extract<ArgsOf<'config.set'>, { key: K }>['value']): Promise<ConfigView> {
    const v = await call('config.set', { key, value } as ArgsOf<'config.set'>);
    this.value = v;
    return v;
  }

  async setSmarthost(input: SmarthostInput | null): Promise<ConfigView> {
    const v = await call('config.setSmarthost', input);
    this.value = v;
    return v;
  }

  /** After a command that changed the config and returned it (routes, restore, setup). */
  replace(v: ConfigView): void {
    this.value = v;
  }
}

export const config = new ConfigStore();

/*
 * The message timeline shown over any screen: `timeline.open(ref, day?)` loads one message
 * (`messages.timeline`: a queue id, or `<session>.<txn>` for a refused message) and the
 * dialog in App.svelte shows it; the live log, the queue, the dashboard and search all open
 * it the same way. A newer open wins over a slower older load. Errors land in `error`.
 */
import type { ApiError, MessageTimeline } from '../../../../main/shared/contract.js';
import { asApiError, call } from '../api.js';

class TimelineStore {
  ref = $state<string | null>(null);
  day = $state<string | undefined>(undefined);
  value = $state.raw<MessageTimeline | null>(null);
  error = $state.raw<ApiError | null>(null);
  loading = $state(false);
  #gen = 0;

  async open(ref: string, day?: string): Promise<void> {
    const gen = ++this.#gen;
    this.ref = ref;
    this.day = day;
    this.value = null;
    this.error = null;
    this.loading = true;
    try {
      const v = await call('messages.timeline', day ? { ref, day } : { ref });
      if (gen === this.#gen) this.value = v;
    } catch (err) {
      if (gen === this.#gen) this.error = asApiError(err);
    } finally {
      if (gen === this.#gen) this.loading = false;
    }
  }

  close(): void {
    this.#gen++;
    this.ref = null;
    this.value = null;
    this.error = null;
    this.loading = false;
  }
}

export const timeline = new TimelineStore();

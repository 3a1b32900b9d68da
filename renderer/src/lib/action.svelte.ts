/*
 * One user action's state, shown where the admin acted: `busy` while it runs, `error` (an
 * ApiError with field issues) when it failed, `done` (a short translated message) for a
 * few seconds after it worked. `run(fn, doneText)` resolves to fn's value, or undefined when
 * it failed; it never rejects, so a click handler cannot fail silently or unhandled.
 */
import type { ApiError } from '../../../main/shared/contract.js';
import { asApiError } from './api.js';

export class Action {
  busy = $state(false);
  error = $state<ApiError | null>(null);
  done = $state<string | null>(null);
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly doneMs = 6000) {}

  async run<T>(fn: () => Promise<T>, doneText?: string | ((value: T) => string)): Promise<T | undefined> {
    this.busy = true;
    this.error = null;
    this.done = null;
    if (this.#timer) clearTimeout(this.#timer);
    try {
      const v = await fn();
      if (doneText) {
        this.done = typeof doneText === 'function' ? doneText(v) : doneText;
        this.#timer = setTimeout(() => (this.done = null), this.doneMs);
      }
      return v;
    } catch (err) {
      this.error = asApiError(err);
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  clear(): void {
    this.error = null;
    this.done = null;
  }

  /** Issue messages for a field: exact path, a path under it, or a matching suffix. */
  issues(match: string | ((path: string) => boolean)): string[] {
    const list = this.error?.issues ?? [];
    const test = typeof match === 'function' ? match : (p: string) => p === match || p.startsWith(match + '.') || p.startsWith(match + '[');
    return list.filter((i) => test(i.path)).map((i) => i.message);
  }
}

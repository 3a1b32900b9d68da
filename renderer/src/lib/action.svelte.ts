/*
 * One user action's state, shown where the admin acted: `busy` while it runs, `error` (an
 * ApiError with field issues) when it failed, `done` (a short translated message) for a
 * few seconds after it worked. `run(fn, doneText)` resolves to fn's value, or undefined when
 * it failed; it never rejects, so a click handler cannot fail silently or unhandled.
 */
import type { ApiError, ValidationIssue } from '../../../main/shared/contract.js';
import { asApiError } from './api.js';
import { issuesAt } from './form-checks.js';

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

  /** The core's issues for a field: exact path, a path under it, or a matching test. */
  issues(match: string | ((path: string) => boolean)): ValidationIssue[] {
    return issuesAt(this.error?.issues ?? [], match);
  }
}

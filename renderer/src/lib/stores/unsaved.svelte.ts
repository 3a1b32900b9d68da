/*
 * Unsaved edits across the window: every form with a "Save" registers whether it holds
 * changes (`track(dirty)` from a component's $effect), so leaving the tab (App.svelte) or
 * closing the window (beforeunload) can ask first. `any` is true while at least one form is
 * dirty; `discardAll()` tells the forms to drop their edits (they reload from the config).
 */
let next = 0;

class Unsaved {
  #forms = $state<Record<number, boolean>>({});
  /** Bumped by discardAll(): forms watching it reset their edits. */
  discarded = $state(0);

  get any(): boolean {
    return Object.values(this.#forms).some(Boolean);
  }

  /** Registers a form; returns [set(dirty), unregister]. */
  register(): [(dirty: boolean) => void, () => void] {
    const id = next++;
    return [
      (dirty) => {
        if (this.#forms[id] !== dirty) this.#forms[id] = dirty;
      },
      () => {
        delete this.#forms[id];
      },
    ];
  }

  discardAll(): void {
    this.#forms = {};
    this.discarded++;
  }
}

export const unsaved = new Unsaved();

if (typeof window !== 'undefined') {
  window.addEventListener('beforeunload', (e) => {
    if (unsaved.any) e.preventDefault();
  });
}

/*
 * Which main tab is open, as a rune store, so a screen can send the admin to another one (the
 * dashboard's "sign in again" goes to the deliverability tab). App.svelte owns the tab list
 * and keeps the choice for the browser tab's session. Nothing here fails.
 */
class NavStore {
  tab = $state('dashboard');
}

export const nav = new NavStore();

/*
 * The accounts search, one definition for the window's search box and `gatehouse accounts
 * list --search`: a case-insensitive substring of the pattern, the note or an allow-list
 * entry. An empty query matches everything. Pure.
 */
import type { Account } from './types.js';

export function accountMatches(a: Account, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return a.pattern.toLowerCase().includes(q) || a.note.toLowerCase().includes(q) || a.allow.some((x) => x.toLowerCase().includes(q));
}

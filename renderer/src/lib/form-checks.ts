/*
 * Forms check what they will send with the command's own schema (main/shared/command-args.ts),
 * the very check the core makes when it arrives, so a field shows the core's issue, in the
 * admin's language, before anything is sent. `precheck(command, args)` lists the issues with
 * the paths the core would give (`listener.port`, `routes[0].hosts[1].host`); `issuesAt` picks
 * a field's; `numberOf` turns a typed number into one (or leaves the text, which the schema
 * then names); `splitList` cuts a text box into entries. Pure; never throws.
 */
import { validateArgs, type CommandName, type ValidationIssue } from '../../../main/shared/contract.js';

export function precheck(command: CommandName, args: unknown): ValidationIssue[] {
  const r = validateArgs(command, args);
  return r.ok ? [] : r.issues;
}

/** A field's issues: exact path, a path under it, or whatever the test accepts. */
export function issuesAt(issues: readonly ValidationIssue[], match: string | ((path: string) => boolean)): ValidationIssue[] {
  const test = typeof match === 'function' ? match : (p: string) => p === match || p.startsWith(match + '.') || p.startsWith(match + '[');
  return issues.filter((i) => test(i.path));
}

/** `'25'` -> 25; anything that is not a whole number stays text for the schema to refuse. */
export function numberOf(s: string): number | string {
  const t = s.trim();
  return /^\d{1,15}$/.test(t) ? Number(t) : t;
}

/** Splits a textarea into trimmed, non-empty entries (new lines, commas, spaces and 、 separate). */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,、]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

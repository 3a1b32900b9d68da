/*
 * The few building blocks every Gatehouse schema is made of, over valibot (chosen for the
 * renderer's bundle: about 2.3 kB gzipped for these schemas, against 7.8 kB for zod/mini and
 * 25 kB for zod; as fast as zod in Node and, unlike zod's fast path, without `new Function`,
 * which the window's CSP forbids; see ARCHITECTURE.md, "Commands and the config path").
 * Each block reports its problems as the contract's issue codes (issues.ts), never as
 * valibot's wording:
 *  - strict(entries): an object whose unknown keys are problems, every one of them, with a
 *    "did you mean" when a known key is close; missing optional keys take their defaults
 *    (valibot runs a default through its schema, so defaults fill in at every depth);
 *  - int(min, max), text(rule, max), bool, oneOf(values), list(item, opts): the leaves;
 *  - rule(check) for a field rule, whole(check) for a rule across fields (it runs only when
 *    the object itself is free of problems, and may blame any field below it);
 *  - check(schema, input): the value with defaults, or every issue with its field path;
 *    toIssues() turns valibot's issues into the contract's.
 * Nothing here throws on bad input.
 */
import * as v from 'valibot';

import { formatPath, problem, type IssueCode, type IssueParams, type Problem, type ValidationIssue } from './issues.js';

/** A schema whose input and output have the same type (defaults only fill in what is left out). */
export type Schema<T = unknown> = v.GenericSchema<T, T>;

/*
 * A Problem travels inside a valibot issue as its message, marked so that it cannot be taken
 * for valibot's own text; toIssues() reads it back. The mark never leaves this module.
 */
const MARK = '\u0000gatehouse:';
const encode = (p: Problem): string => MARK + JSON.stringify(p);

function decode(message: string): Problem | null {
  if (!message.startsWith(MARK)) return null;
  return JSON.parse(message.slice(MARK.length)) as Problem;
}

/** Levenshtein distance, small strings only: for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function unknownKeyProblem(key: string, known: readonly string[]): Problem {
  const lower = key.toLowerCase();
  const near = known
    .map((k) => ({ k, d: k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase()) }))
    .filter((x) => x.d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  if (near) return problem('unknown_key_near', { key, suggest: near.k });
  return known.length <= 8 ? problem('unknown_key_list', { key, expected: known.join(', ') }) : problem('unknown_key', { key });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

type Dataset = { value: unknown; typed?: boolean; issues?: v.BaseIssue<unknown>[] };
type RunConfig = v.Config<v.BaseIssue<unknown>>;

/**
 * An object of known keys. Every unknown key is reported (valibot's strictObject stops at the
 * first), ahead of the problems of the known ones, as a hand-written config reads top-down.
 */
export function strict<const E extends v.ObjectEntries>(entries: E): v.ObjectSchema<E, undefined> {
  const base = v.object(entries, encode(problem('object')));
  const known = Object.keys(entries);
  const schema = {
    ...base,
    '~run'(dataset: Dataset, config: RunConfig) {
      const input = dataset.value;
      if (Array.isArray(input)) {
        // valibot's object takes a list for an object; a settings file must not.
        v._addIssue(schema as never, 'type', dataset as never, config);
        return dataset;
      }
      const extra = isRecord(input) ? Object.keys(input).filter((k) => !Object.hasOwn(entries, k)) : [];
      const out = base['~run'](dataset as never, config) as Dataset;
      if (extra.length === 0) return out;
      const fieldIssues = out.issues ?? [];
      out.issues = [];
      for (const key of extra) {
        v._addIssue(schema as never, 'key', out as never, config, {
          input: key,
          expected: 'never',
          message: encode(unknownKeyProblem(key, known)),
          path: [{ type: 'object', origin: 'key', input: input as Record<string, unknown>, key, value: (input as Record<string, unknown>)[key] }],
        });
      }
      out.issues.push(...fieldIssues);
      out.typed = false;
      return out;
    },
  };
  return schema as unknown as v.ObjectSchema<E, undefined>;
}

/** No value: nothing, or null (what JSON makes of nothing); always checks to undefined. */
export const nothing: Schema<undefined> = v.pipe(
  v.custom<undefined | null>((x) => x === undefined || x === null, encode(problem('no_args'))),
  v.transform(() => undefined),
) as unknown as Schema<undefined>;

/** An integer within [min, max] (numbers in JSON only: '25' is not a port). */
export function int(min: number, max: number): Schema<number> {
  const p = encode(problem('int_range', { min, max }));
  return v.custom<number>((x) => typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max, p);
}

export const bool: Schema<boolean> = v.boolean(encode(problem('bool')));

/** A string of at most `max` characters, checked by `rule` (null = fine). */
export function text(check?: ((s: string) => Problem | null) | null, max = 1000): Schema<string> {
  const long = encode(problem('too_long', { max }));
  const s = v.pipe(v.string(encode(problem('string'))), v.maxLength(max, long));
  return check ? v.pipe(s, rule(check)) : s;
}

export function oneOf<const T extends readonly string[]>(values: T): v.PicklistSchema<T, string> {
  return v.picklist(values, encode(problem('one_of', { values: values.map((x) => `'${x}'`).join(', ') })));
}

/** A rule for one value, once its type and the checks before it passed (one problem per value). */
export function rule<T>(check: (value: T) => Problem | null): v.GenericValidation<T, T> {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.issues) return;
    const p = check(dataset.value);
    if (p) addIssue({ message: encode(p) });
  });
}

export interface Blame {
  /** Path below the checked value: `['user']`, `['admin', 'port']`. */
  at: (string | number)[];
  problem: Problem;
}

/** A rule across the fields of a value; it runs only once the value itself has no problem. */
export function whole<T>(check: (value: T) => Blame[]): v.GenericValidation<T, T> {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.issues) return;
    for (const b of check(dataset.value)) {
      let input: unknown = dataset.value;
      const path: v.IssuePathItem[] = [];
      for (const key of b.at) {
        const value = (input as Record<string | number, unknown>)?.[key];
        path.push(
          typeof key === 'number'
            ? { type: 'array', origin: 'value', input: input as unknown[], key, value }
            : { type: 'object', origin: 'value', input: input as Record<string, unknown>, key, value },
        );
        input = value;
      }
      addIssue({ message: encode(b.problem), path: path.length ? (path as [v.IssuePathItem, ...v.IssuePathItem[]]) : undefined });
    }
  });
}

export interface ListOptions<T> {
  nonEmpty?: boolean;
  max?: number;
  /** Items with equal keys are duplicates; `field` names the sub-field in the blamed path. */
  unique?: { key: (item: T) => string; field?: string; code?: IssueCode };
}

/** A list; duplicates are checked only once every item is well-formed (else they only add noise). */
export function list<T>(item: Schema<T>, opts: ListOptions<T> = {}): Schema<T[]> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- valibot's pipe items, typed by v.pipe below
  const items: v.GenericPipeItem<any, any, any>[] = [];
  if (opts.nonEmpty) items.push(v.minLength(1, encode(problem('empty'))));
  if (opts.max !== undefined) items.push(v.maxLength(opts.max, encode(problem('too_many', { max: opts.max }))));
  const { unique } = opts;
  if (unique) {
    items.push(
      whole<T[]>((arr) => {
        const blames: Blame[] = [];
        const seen = new Map<string, number>();
        arr.forEach((x, i) => {
          const k = unique.key(x);
          const first = seen.get(k);
          if (first === undefined) return void seen.set(k, i);
          const of = formatPath(unique.field ? [first, unique.field] : [first]);
          blames.push({ at: unique.field ? [i, unique.field] : [i], problem: problem(unique.code ?? 'duplicate', { of }) });
        });
        return blames;
      }),
    );
  }
  return v.pipe(v.array(item, encode(problem('list'))), ...(items as [])) as Schema<T[]>;
}

/** The issues of a failed check, with paths relative to the checked value. */
export function toIssues(issues: readonly v.BaseIssue<unknown>[], prefix = ''): ValidationIssue[] {
  return issues.map((issue) => {
    const parts = (issue.path ?? []).map((p) => p.key as string | number);
    const rel = formatPath(parts);
    const path = prefix && rel ? (rel.startsWith('[') ? prefix + rel : `${prefix}.${rel}`) : prefix || rel;
    const last = issue.path?.at(-1);
    // A key that is missing (valibot reports it with the object's message); else ours, or
    // valibot's own for a union that matched nothing.
    const missing = last?.origin === 'key' && issue.input === undefined;
    let p = missing ? problem('required') : (decode(issue.message) ?? problem('invalid'));
    const of = p.params?.of;
    if (typeof of === 'string' && of.startsWith('[')) {
      // A duplicate names its twin relative to the list (`[0].domain`): make it absolute.
      const depth = formatPath(parts).length ? of.split(/(?=\[)|\./).length : 0;
      const list = formatPath(parts.slice(0, parts.length - depth));
      const prefixed = prefix && list ? (list.startsWith('[') ? prefix + list : `${prefix}.${list}`) : prefix || list;
      p = problem(p.code, { ...p.params, of: prefixed + of });
    }
    return { path, ...p };
  });
}

/** Checks (and completes) a value: the output, or every issue with its path. */
export function check<T>(schema: Schema<T>, input: unknown): { ok: true; value: T } | { ok: false; issues: ValidationIssue[] } {
  const r = v.safeParse(schema, input);
  return r.success ? { ok: true, value: r.output } : { ok: false, issues: toIssues(r.issues) };
}

export type { IssueParams };

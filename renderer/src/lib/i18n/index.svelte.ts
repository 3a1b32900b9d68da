/*
 * The UI language: Japanese or English, chosen from localStorage, else navigator.language,
 * switchable at run time (`setLocale`, persisted). `t(key, params)` looks a string up in the
 * current dictionary and fills `{name}` placeholders; keys are typed (MessageKey), so a typo
 * or a key missing from ja.ts is a compile error. Dates, times, numbers and sizes go through
 * Intl in the current locale; validation issues are translated by their code (issueText).
 * Nothing here throws: a bad date prints as given.
 */
import { en, type MessageKey } from './en.js';
import { ja } from './ja.js';
import { ISSUE_JA } from './issues-ja.js';
import { ISSUE_EN, fillTemplate, type IssueCode, type Problem } from '../../../../main/shared/issues.js';
import type { RuleName } from '../../../../main/shared/types.js';
import { whyText, type Explained } from '../../../../main/shared/explain.js';

export type Locale = 'ja' | 'en';
export type { MessageKey };

const DICTS: Record<Locale, Record<MessageKey, string>> = { ja, en };
const STORAGE_KEY = 'gatehouse.locale';

function initialLocale(): Locale {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'ja' || stored === 'en') return stored;
  } catch {
    // storage blocked: fall through to the browser language
  }
  const langs = typeof navigator !== 'undefined' ? [...(navigator.languages ?? []), navigator.language] : [];
  return langs.some((l) => l && l.toLowerCase().startsWith('ja')) ? 'ja' : 'en';
}

export const i18n = $state<{ locale: Locale }>({ locale: initialLocale() });

if (typeof document !== 'undefined') document.documentElement.lang = i18n.locale;

export function setLocale(locale: Locale): void {
  i18n.locale = locale;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // not persisted; still switched for this session
  }
  document.documentElement.lang = locale;
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const text = DICTS[i18n.locale][key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/**
 * A validation issue in the current language, from its code and parameters (the English
 * templates are the core's own). A code this window does not know (a newer core) falls back
 * to a general sentence in Japanese, and to the core's message in English.
 */
export function issueText(p: Pick<Problem, 'code' | 'params' | 'message'>): string {
  const dict: Record<IssueCode, string> = i18n.locale === 'ja' ? ISSUE_JA : ISSUE_EN;
  const template = Object.hasOwn(dict, p.code) ? dict[p.code] : null;
  const text = template ? fillTemplate(template, p.params) : i18n.locale === 'ja' ? ISSUE_JA.invalid : p.message;
  // The core's English is written to follow a field name (`port: must be ...`); on its own
  // under a field it starts a sentence.
  return i18n.locale === 'en' ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** Rule descriptions are dictionary keys too: `rule.<name>`. */
export function ruleText(rule: RuleName): string {
  return t(`rule.${rule}` as MessageKey);
}

/* ---- Intl formatting in the current locale (formatters cached per locale) ---- */

const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function dtf(kind: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const k = `${i18n.locale}|d|${kind}`;
  let f = cache.get(k) as Intl.DateTimeFormat | undefined;
  if (!f) cache.set(k, (f = new Intl.DateTimeFormat(i18n.locale === 'ja' ? 'ja-JP' : 'en-GB', opts)));
  return f;
}

function nf(kind: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const k = `${i18n.locale}|n|${kind}`;
  let f = cache.get(k) as Intl.NumberFormat | undefined;
  if (!f) cache.set(k, (f = new Intl.NumberFormat(i18n.locale === 'ja' ? 'ja-JP' : 'en-US', opts)));
  return f;
}

function toDate(v: string | number | Date): Date | null {
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtNumber(n: number): string {
  return nf('int', { maximumFractionDigits: 0 }).format(n);
}

export function fmtDateTime(v: string | number | Date | undefined | null): string {
  if (v === undefined || v === null || v === '') return '';
  const d = toDate(v);
  return d ? dtf('dt', { dateStyle: 'medium', timeStyle: 'medium' }).format(d) : String(v);
}

/** Log timestamps: time with seconds (and milliseconds). */
export function fmtTime(v: string | undefined): string {
  if (!v) return '';
  const d = toDate(v);
  return d ? dtf('t', { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false }).format(d) : v;
}

export function fmtHour(v: string): string {
  const d = toDate(v);
  return d ? dtf('h', { hour: 'numeric', hour12: false }).format(d) : v;
}

/** A day key `YYYY-MM-DD` or ISO day start, shown as a short local date with weekday. */
export function fmtDay(v: string): string {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00`) : toDate(v);
  return d ? dtf('day', { month: 'short', day: 'numeric', weekday: 'short' }).format(d) : v;
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${nf(i === 0 ? 'b' : 'kb', { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
}

/** Local day key (YYYY-MM-DD) of a date, as the log files are named. */
export function localDay(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/* ---- labels for names the core uses (rules, log events, log fields, reasons) ---- */

/** True when the current dictionary has this key (names added later fall back to the raw name). */
export function hasKey(key: string): key is MessageKey {
  return Object.hasOwn(DICTS[i18n.locale], key);
}

/** A short label for a rule name (`block-external` -> 外部への送信を禁止); the raw name when none is known. */
export function ruleLabel(rule: string): string {
  const k = `ruleName.${rule}`;
  return hasKey(k) ? t(k) : rule;
}

/** The rule's description in plain words, or '' for a rule this window does not know. */
export function ruleDescription(rule: string): string {
  const k = `rule.${rule}`;
  return hasKey(k) ? t(k) : '';
}

/** A receivelog event (`rcpt` -> 宛先の判定); the raw name when unknown. */
export function eventLabel(event: string): string {
  const k = `event.${event}`;
  return hasKey(k) ? t(k) : event;
}

/** How a next hop was chosen (`smarthost` -> 中継サーバ); the raw name when unknown. */
export function viaLabel(via: string): string {
  const k = `hopVia.${via}`;
  return hasKey(k) ? t(k) : via;
}

/** A log field name (`clientIp` -> クライアント); the raw name when unknown. */
export function fieldLabel(field: string): string {
  const k = `logField.${field}`;
  return hasKey(k) ? t(k) : field;
}

/** Plain words for an explained problem (main/shared/explain.ts), in the current language. */
export function whyLabel(e: Explained | undefined): string {
  return e ? whyText(e, i18n.locale) : '';
}

/** What an audit entry changed, in the current language; null when the entry has no code (older ones). */
export function auditLabel(e: { whatCode?: string; whatParams?: Record<string, string | number> }): string | null {
  if (!e.whatCode) return null;
  const k = `audit.${e.whatCode}`;
  if (!hasKey(k)) return null;
  const params = { ...(e.whatParams ?? {}) };
  // A section name inside the text gets its label too (`set limits` -> 「制限」を変更).
  if (typeof params.key === 'string' && hasKey(`section.${params.key}`)) params.key = t(`section.${params.key}` as MessageKey);
  if (typeof params.mode === 'string' && hasKey(`import.${params.mode}`)) params.mode = t(`import.${params.mode}` as MessageKey);
  return t(k, params);
}

/**
 * A setting's path as an admin reads it: `limits.maxRecipients` -> 制限 › 1 通あたりの宛先数;
 * parts this window has no label for stay as written (`routes[1].hosts[0].port` keeps the
 * indexes).
 */
export function fieldPath(path: string): string {
  const parts = path.split('.');
  const out = parts.map((p, i) => {
    const name = p.replace(/\[\d+\]$/, '');
    const idx = p.slice(name.length);
    const k = i === 0 ? `section.${name}` : `setting.${parts[0]!.replace(/\[\d+\]$/, '')}.${name}`;
    return (hasKey(k) ? t(k) : name) + idx;
  });
  return out.join(' › ');
}

/** The local time zone, as the CSV header names it: `Asia/Tokyo, UTC+09:00`. */
export function zoneName(d = new Date()): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
  const mm = String(Math.abs(off) % 60).padStart(2, '0');
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `${zone ? `${zone}, ` : ''}UTC${sign}${hh}:${mm}`;
}

/** `YYYY-MM-DD HH:MM:SS` in local time (CSV: Excel reads it as a date and time). */
export function fmtLocalStamp(v: string | undefined): string {
  if (!v) return '';
  const d = toDate(v);
  if (!d) return v;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

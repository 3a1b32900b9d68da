/*
 * The LAN approval page's HTML, made on the server: one message's summary with its two
 * buttons (approve / reject with a reason for an approver; send now / cancel for the sender of
 * delayed mail), the result after a decision, and the refusals (a link not valid, expired,
 * used, a message already decided, too many bad links, a failure inside: its details go to
 * the log, never to the page). No script at all; the only style is
 * one inline sheet allowed by its hash in the CSP (`PAGE_CSP`), forms post to the same origin.
 * Every text that comes from a message (subject, names, the first lines) is escaped. There is
 * nothing to navigate to: the language switch reloads the same link. Pure; nothing throws.
 */
import { createHash } from 'node:crypto';

import type { HeldItem } from '../../shared/outbound.js';
import { pageText, type PageLang, type PageTextKey } from './texts.js';

const CSS = `
:root{color-scheme:light;--text:#1d2330;--muted:#5a6272;--line:#d9dee7;--accent:#1f5fbf;--danger:#b3261e;--bg:#f4f6f9}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.6 system-ui,"Segoe UI","Yu Gothic UI","Meiryo","Noto Sans CJK JP",sans-serif}
main{max-width:760px;margin:0 auto;padding:16px}
header{display:flex;justify-content:space-between;align-items:center;gap:12px;margin-bottom:8px}
.brand{font-weight:700;color:var(--muted)}
.lang a,.lang strong{margin-left:8px}
.lang a{color:var(--accent)}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:14px}
h1{font-size:1.3em;margin:0 0 6px}
h2{font-size:1.05em;margin:0 0 8px}
.lead{margin:0 0 12px}
dl{display:grid;grid-template-columns:minmax(7em,max-content) 1fr;gap:4px 14px;margin:0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
ul{margin:0;padding-left:1.2em}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f8fa;border:1px solid var(--line);border-radius:6px;padding:10px;margin:0;font:14px/1.55 ui-monospace,"BIZ UDGothic","MS Gothic","Noto Sans Mono CJK JP",monospace;max-height:22em;overflow:auto}
form{margin:0}
.actions{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.actions>form{flex:1 1 260px}
label{display:block;font-weight:600;margin-bottom:4px}
textarea{width:100%;min-height:4.5em;font:inherit;padding:6px 8px;border:1px solid #b9c0cc;border-radius:6px}
button{font:inherit;font-weight:600;padding:8px 18px;border-radius:6px;border:1px solid #9aa3b2;background:#fff;color:var(--text);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{background:var(--danger);border-color:var(--danger);color:#fff;margin-top:8px}
button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #f2b233;outline-offset:2px}
.note,.who{color:var(--muted);font-size:.92em;margin:8px 0 0}
.problem{color:var(--danger);font-weight:600;margin:0 0 8px}
.result{font-size:1.1em;font-weight:600}
.refused h1{color:var(--danger)}
footer{color:var(--muted);font-size:.85em;text-align:center;margin-top:8px}
@media (max-width:520px){dl{grid-template-columns:1fr}dt{margin-top:6px}}
`;

/** The Content-Security-Policy of every page: no script, this one sheet, forms to ourselves. */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS, 'utf8').digest('base64')}'`,
  "img-src 'none'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fmtDate(iso: string, lang: PageLang): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

function fmtSize(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The switch between the two languages: the same address with `?lang=`. */
function langSwitch(lang: PageLang, self: string | null): string {
  const item = (l: PageLang, label: string) => (l === lang || !self ? `<strong lang="${l}">${label}</strong>` : `<a href="${esc(`${self}?lang=${l}`)}" lang="${l}" hreflang="${l}">${label}</a>`);
  return `<nav class="lang" aria-label="Language / 言語">${item('ja', '日本語')}${item('en', 'English')}</nav>`;
}

function page(lang: PageLang, title: string, body: string, self: string | null, cls = ''): string {
  return [
    '<!doctype html>',
    `<html lang="${lang}"><head><meta charset="utf-8">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex, nofollow">',
    `<title>${esc(title)} — Gatehouse</title><style>${CSS}</style></head>`,
    `<body><main${cls ? ` class="${cls}"` : ''}>`,
    `<header><span class="brand">Gatehouse</span>${langSwitch(lang, self)}</header>`,
    body,
    `<footer>${esc(pageText(lang, 'footer'))}</footer>`,
    '</main></body></html>',
  ].join('\n');
}

function summary(item: HeldItem, lang: PageLang): string {
  const t = (k: PageTextKey, p?: Record<string, string>) => esc(pageText(lang, k, p));
  const p = item.preview;
  const rows: [string, string][] = [
    [t('subject'), `<strong>${p.subject ? esc(p.subject) : t('noSubject')}</strong>`],
    [t('sender'), esc(item.sender)],
  ];
  if (p.from && p.from.toLowerCase() !== item.sender.toLowerCase()) rows.push([t('from'), esc(p.from)]);
  rows.push([t('waiting'), `<ul>${item.recipients.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`]);
  const toCc = [...p.to, ...p.cc];
  if (toCc.length) rows.push([t('toCc'), esc(toCc.join(', '))]);
  rows.push([t('attachments'), p.attachments.length ? `<ul>${p.attachments.map((a) => `<li>${esc(a.name)} (${fmtSize(a.size)})</li>`).join('')}</ul>` : t('none')]);
  rows.push([t('received'), esc(fmtDate(item.receivedAt, lang))]);
  if (item.kind === 'approval') {
    rows.push([t('deadline'), `${esc(fmtDate(item.until, lang))}${t('deadlineNote')}`]);
    const who = [...item.approvers, ...(item.standIn ? [`${item.standIn}${pageText(lang, 'standIn')}`] : [])];
    rows.push([t('approvers'), esc(who.join(lang === 'ja' ? '、' : ', '))]);
  } else {
    rows.push([t('sendAt'), esc(fmtDate(item.until, lang))]);
  }
  const dl = `<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
  const text = p.text ? `<pre>${esc(p.text)}${p.more ? `\n${t('more')}` : ''}</pre>` : `<p class="note">${t('noText')}</p>`;
  return `${dl}</section><section class="card" aria-labelledby="text-h"><h2 id="text-h">${t('text')}</h2>${text}`;
}

export interface MessageView {
  lang: PageLang;
  item: HeldItem;
  token: string;
  /** Who the link was made for, and until when it works. */
  address: string;
  expiresAt: string;
  /** This page's own path (`/h/<token>`), for the language switch. */
  self: string;
  /** The reason typed before (shown again with a problem). */
  reason?: string;
  problem?: PageTextKey;
}

/** The summary and the buttons for one held message. */
export function messagePage(v: MessageView): string {
  const { lang, item } = v;
  const t = (k: PageTextKey, p?: Record<string, string>) => esc(pageText(lang, k, p));
  const hidden = `<input type="hidden" name="token" value="${esc(v.token)}"><input type="hidden" name="lang" value="${lang}">`;
  const approval = item.kind === 'approval';
  const title = approval ? pageText(lang, 'approvalTitle') : pageText(lang, 'delayTitle');
  const lead = approval ? t('approvalLead', { sender: item.sender }) : t('delayLead', { until: fmtDate(item.until, lang) });
  const actions = approval
    ? [
        `<form method="post" action="/h">${hidden}<button type="submit" name="action" value="approve" class="primary">${t('approve')}</button></form>`,
        `<form method="post" action="/h">${hidden}${v.problem ? `<p class="problem" role="alert">${t(v.problem)}</p>` : ''}<label for="reason">${t('rejectLabel')}</label>` +
          `<textarea id="reason" name="reason" maxlength="1000" required placeholder="${t('rejectPlaceholder')}">${esc(v.reason ?? '')}</textarea>` +
          `<button type="submit" name="action" value="reject" class="danger">${t('reject')}</button></form>`,
      ]
    : [
        `<form method="post" action="/h">${hidden}<button type="submit" name="action" value="send-now" class="primary">${t('sendNow')}</button></form>`,
        `<form method="post" action="/h">${hidden}<button type="submit" name="action" value="cancel">${t('cancel')}</button><p class="note">${t('cancelNote')}</p></form>`,
      ];
  const body = [
    `<section class="card" aria-labelledby="title-h"><h1 id="title-h">${esc(title)}</h1><p class="lead">${lead}</p>`,
    summary(item, lang),
    '</section>',
    `<section class="card"><div class="actions">${actions.join('')}</div>`,
    `<p class="who">${t('forWhom', { address: v.address, expires: fmtDate(v.expiresAt, lang) })}</p></section>`,
  ].join('\n');
  return page(lang, title, body, v.self);
}

export type Done = 'approve' | 'reject' | 'send-now' | 'cancel';
const DONE_TEXT: Record<Done, PageTextKey> = { approve: 'doneApproved', reject: 'doneRejected', 'send-now': 'doneSentNow', cancel: 'doneCancelled' };

/** After a decision: what happened, and nothing else to do. */
export function donePage(lang: PageLang, done: Done): string {
  const t = (k: PageTextKey) => esc(pageText(lang, k));
  return page(lang, pageText(lang, 'doneTitle'), `<section class="card"><h1>${t('doneTitle')}</h1><p class="result" role="status" data-result="${done}">${t(DONE_TEXT[done])}</p><p class="note">${t('whatNext')}</p></section>`, null);
}

/** A refusal: the link is not valid, expired, used, the message decided, too many tries, or not found. */
export function refusalPage(lang: PageLang, reason: PageTextKey, params: Record<string, string> = {}, title: PageTextKey = 'refusedTitle', self: string | null = null): string {
  const t = (k: PageTextKey, p?: Record<string, string>) => esc(pageText(lang, k, p));
  return page(lang, pageText(lang, title), `<section class="card"><h1>${t(title)}</h1><p role="alert" data-reason="${esc(reason)}">${t(reason, params)}</p></section>`, self, 'refused');
}

/*
 * "No English sentence on a Japanese screen", as a check a test can run on any page: the
 * visible text nodes (open dialogs included, tooltips and typed values not) with two or more
 * English words in a row, minus a short allow-list. Returns each offender with where it is.
 *
 * What is not a sentence, and why it is allowed:
 *   - text inside an element marked lang="en": the log's and the SMTP server's own words shown
 *     as data (replies are ASCII by protocol), next to their Japanese explanation;
 *   - monospace cells (class mono, <code>): addresses, host names, queue ids, paths;
 *   - product and protocol names that have no Japanese: the ALLOWED phrases below.
 * A word is a whitespace-separated token of ASCII letters only (with an apostrophe, and
 * punctuation around it): "Gateway.dat", "a@b.jp", "m3kx9z3a-0004-7f3k" or "2.0.0" are no
 * words, so ids, addresses and codes never make a sentence; two words in a row do.
 */
import type { Page } from 'playwright-core';

/** Names admins read as they are (each is one of the product's or a protocol's own names). */
export const ALLOWED = ['SMTP AUTH', 'Gatehouse SMTP', 'Message ID', 'Google Workspace', 'Microsoft Entra', 'Exchange Online'];

export async function englishSentences(page: Page): Promise<string[]> {
  return page.evaluate((allowed: string[]) => {
    const out: string[] = [];
    const visible = (el: Element | null): boolean => {
      for (let e = el; e; e = e.parentElement) {
        if (e.tagName === 'DIALOG' && !(e as HTMLDialogElement).open) return false;
        const cs = getComputedStyle(e);
        if (cs.display === 'none' || cs.visibility === 'hidden') return false;
      }
      return true;
    };
    const exempt = (el: Element | null): boolean => {
      for (let e = el; e; e = e.parentElement) {
        if (e.getAttribute('lang') === 'en') return true;
        if (e.tagName === 'CODE' || e.tagName === 'SCRIPT' || e.tagName === 'STYLE' || e.tagName === 'TEXTAREA' || e.classList.contains('mono')) return true;
      }
      return false;
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const word = /^[(「“"']?[A-Za-z]+(?:['’][A-Za-z]+)?[)」”"',.;:!?…]*$/;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      const text = n.textContent ?? '';
      if (!text.trim() || !visible(el) || exempt(el)) continue;
      let rest = text;
      for (const a of allowed) rest = rest.split(a).join(' ');
      let run: string[] = [];
      for (const tok of [...rest.split(/\s+/), '']) {
        if (tok && word.test(tok)) {
          run.push(tok);
          continue;
        }
        if (run.length >= 2) out.push(`${run.join(' ')}  [in <${el?.tagName.toLowerCase()} class="${el?.className}">: ${text.trim().slice(0, 80)}]`);
        run = [];
      }
    }
    // Options of the open select menus are text too, and so are button labels: both walked above.
    return out;
  }, ALLOWED);
}

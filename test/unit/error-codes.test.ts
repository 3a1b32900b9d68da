/*
 * Every error code that can reach the window has a sentence in both languages: the codes are
 * read from the sources themselves (each `new ApiError(..., 'code')` and `sendError(res, n,
 * 'code')` in main/, each `{ ok: false, error: { code: '...' } }` a transport makes, in main/
 * and in the renderer's api module), so a new code without words fails here, not on a
 * Japanese screen as "an unexpected problem". The params the window needs are checked where
 * each code is made (test/outbound/approval.test.ts: conflict; test/e2e/admin-day.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { CONFLICT_TEXT, ERROR_TEXT, LISTEN_REASON, OAUTH_REASON } from '../../renderer/src/lib/error-codes.js';
import { en } from '../../renderer/src/lib/i18n/en.js';
import { ja } from '../../renderer/src/lib/i18n/ja.js';
import type { ActionKind } from '../../main/shared/outbound.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(c?ts)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The codes the sources make, with where. */
function codesSent(): Map<string, string> {
  const found = new Map<string, string>();
  const files = [...sources(path.join(ROOT, 'main')), path.join(ROOT, 'renderer', 'src', 'lib', 'api.ts')];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const where = path.relative(ROOT, file);
    // new ApiError(<message>, 'code' ...): the first quoted code after a comma at the start of
    // an argument (the message is a template, a string or problem(...).message).
    for (const m of text.matchAll(/new ApiError\(/g)) {
      const tail = text.slice(m.index, m.index + 700);
      const code = /,\s*'([a-z][a-z-]*)'\s*[,)]/.exec(tail)?.[1];
      if (code) found.set(code, where);
    }
    for (const m of text.matchAll(/sendError\(res, \d+, '([a-z][a-z-]*)'/g)) found.set(m[1]!, where);
    for (const m of text.matchAll(/ok: false,\s*error: \{\s*code: '([a-z][a-z-]*)'/g)) found.set(m[1]!, where);
  }
  return found;
}

describe('error codes', () => {
  it('every code the core and the transports send has its sentence, in Japanese and English', () => {
    const sent = codesSent();
    // The reader found the codes it must (a broken reader must not pass by finding nothing).
    for (const c of ['conflict', 'oauth-failed', 'listen-failed', 'not-found', 'validation', 'unauthorized', 'network', 'forbidden']) expect([...sent.keys()]).toContain(c);
    const missing = [...sent].filter(([code]) => !ERROR_TEXT[code]).map(([code, where]) => `${code} (${where})`);
    expect(missing).toEqual([]);
    for (const key of [...Object.values(ERROR_TEXT), ...Object.values(CONFLICT_TEXT), ...Object.values(OAUTH_REASON), ...Object.values(LISTEN_REASON)]) {
      expect(ja[key], key).toBeTruthy();
      expect(en[key], key).toBeTruthy();
      expect(ja[key], key).not.toBe(en[key]);
    }
  });

  it('a conflict names every decision a held message can have had', () => {
    const decisions: ActionKind[] = ['approved', 'rejected', 'expired', 'cancelled', 'sent-now'];
    for (const d of decisions) expect(CONFLICT_TEXT[d], d).toBeTruthy();
    // Who and when are in each sentence (the expired one has no "who": the deadline decided).
    for (const d of decisions) {
      for (const dict of [ja, en]) {
        const text = dict[CONFLICT_TEXT[d]!];
        expect(text).toContain('{at}');
        if (d !== 'expired') expect(text).toContain('{who}');
      }
    }
  });
});

/*
 * A notice: the gateway telling the admin that something needs them, while the window may
 * be closed (a desktop notification, optionally a mail). The kinds and their parameters are
 * the contract; each side words them itself (the window and the desktop shell in Japanese or
 * English, the mail in both). `NOTICE_KINDS` lists them; 'approvals-waiting' and
 * 'sender-frozen' come from outbound control (the approval queue and per-sender limits),
 * which reports them through the notifier's `report()`. Types and pure helpers only.
 */

export const NOTICE_KINDS = ['route-down', 'route-up', 'queue-size', 'near-expiry', 'approvals-waiting', 'sender-frozen', 'test'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export interface Notice {
  /** Unique per notice (for de-duplication in a window). */
  id: string;
  ts: string;
  kind: NoticeKind;
  level: 'ok' | 'warn' | 'error';
  params: Record<string, string | number>;
  /** A message the notice is about (its timeline), when there is one. */
  ref?: string;
}

const EN: Record<NoticeKind, { title: string; body: string }> = {
  'route-down': { title: 'Mail to {name} is not going out', body: '{hop} failed {failures} times in a row: {why}. Mail waits in the queue and is retried.' },
  'route-up': { title: 'Mail to {name} is going out again', body: '{hop} accepted mail again.' },
  'queue-size': { title: '{n} messages wait in the queue', body: 'The queue passed {threshold} messages. Open the queue to see why they wait.' },
  'near-expiry': { title: 'A message will be given up soon', body: 'The message from {sender} to {recipients} has waited since {since} and is given up in {hours} hours.' },
  'approvals-waiting': { title: '{n} messages wait for approval', body: 'Messages wait for an approver before they are sent.' },
  'sender-frozen': { title: '{sender} may not send for now', body: 'Sending from {sender} was stopped by an outbound limit: {reason}.' },
  'test': { title: 'Gatehouse test notice', body: 'Notices reach you here.' },
};

const JA: Record<NoticeKind, { title: string; body: string }> = {
  'route-down': { title: '{name} 宛てのメールが送れていません', body: '{hop} への送信が {failures} 回続けて失敗しました（{why}）。メールはキューで再送を待っています。' },
  'route-up': { title: '{name} 宛てのメールの送信が再開しました', body: '{hop} がメールを受け付けるようになりました。' },
  'queue-size': { title: 'キューに {n} 通のメールがたまっています', body: 'キューのメールが {threshold} 通を超えました。キュー画面で理由を確認してください。' },
  'near-expiry': { title: 'まもなく配送をあきらめるメールがあります', body: '{sender} から {recipients} へのメールは {since} から配送を待っており、あと {hours} 時間で送信者にエラーメールを返します。' },
  'approvals-waiting': { title: '承認待ちのメールが {n} 通あります', body: '上長の承認を待っているメールがあります。' },
  'sender-frozen': { title: '{sender} の送信を止めました', body: '送信の制限により {sender} からの送信を一時的に止めました（{reason}）。' },
  'test': { title: 'Gatehouse のテスト通知', body: '通知はここに表示されます。' },
};

function fill(s: string, params: Record<string, string | number>): string {
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/** A notice's title and body in one language (the desktop shell and the mail use these). */
export function noticeText(n: Pick<Notice, 'kind' | 'params'>, lang: 'ja' | 'en'): { title: string; body: string } {
  const t = (lang === 'ja' ? JA : EN)[n.kind];
  // The reason travels in both languages (`why`, `whyEn`): the notifier words it once.
  const params = lang === 'en' && n.params.whyEn !== undefined ? { ...n.params, why: n.params.whyEn } : n.params;
  return { title: fill(t.title, params), body: fill(t.body, params) };
}

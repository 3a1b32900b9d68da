/*
 * The LAN approval page's words, Japanese and English (the page is served by the core, so its
 * dictionary lives here, beside it; the admin window's are in renderer/src/lib/i18n). Which
 * language a request gets: `?lang=` (the switch on the page) or the form's hidden `lang`, else
 * the browser's Accept-Language (the higher-weighted of ja and en; Japanese when it names
 * neither: the office is Japanese). Pure; nothing throws.
 */

export type PageLang = 'ja' | 'en';

/** The language of a request: an explicit choice, else Accept-Language, else Japanese. */
export function pickLang(explicit: string | null | undefined, acceptLanguage: string | undefined): PageLang {
  if (explicit === 'ja' || explicit === 'en') return explicit;
  let best: { lang: PageLang; q: number; at: number } | null = null;
  (acceptLanguage ?? '').split(',').forEach((part, at) => {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const lang = tag === 'ja' || tag.startsWith('ja-') ? 'ja' : tag === 'en' || tag.startsWith('en-') ? 'en' : null;
    if (!lang) return;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) return;
    if (!best || q > best.q) best = { lang, q, at };
  });
  return (best as { lang: PageLang } | null)?.lang ?? 'ja';
}

export const PAGE_TEXT = {
  ja: {
    htmlLang: 'ja',
    approvalTitle: '上長承認の依頼',
    approvalLead: '{sender} さんの外部宛てメールが承認を待っています。承認すると外部の宛先に送信します。社内宛てはすでに配送済みです。',
    delayTitle: '一時保留（送信ディレイ）中のメール',
    delayLead: '外部宛てのメールは {until} に送信されます。それまでに取り消すか、今すぐ送信できます。社内宛てはすでに配送済みです。',
    subject: '件名',
    noSubject: '（件名なし）',
    sender: '送信者',
    from: 'ヘッダーの From',
    waiting: '外部の宛先（保留中）',
    toCc: 'To / Cc',
    attachments: '添付ファイル',
    none: 'なし',
    received: '受付',
    deadline: '期限',
    deadlineNote: '（過ぎると自動で差し戻します）',
    sendAt: '送信予定',
    approvers: '承認者',
    standIn: '（代理承認者）',
    text: '本文（冒頭）',
    more: '…（続きは省略）',
    noText: '（本文なし）',
    approve: '承認して送信',
    rejectLabel: '差し戻しの理由（送信者にエラーメールで伝わります）',
    rejectPlaceholder: '例: 宛先を確認してください',
    reject: '差し戻す',
    reasonNeeded: '差し戻すときは理由を入力してください。',
    sendNow: '今すぐ送信',
    cancel: '送信取り消し',
    cancelNote: '取り消すと外部の宛先には送信されません。',
    forWhom: 'このリンクは {address} さん用で、一度だけ使えます（{expires} まで）。',
    doneApproved: '承認しました。外部の宛先に送信します。',
    doneRejected: '差し戻しました。送信者に理由をお知らせします。',
    doneSentNow: '今すぐ送信しました。',
    doneCancelled: '送信を取り消しました。外部の宛先には送信されません。',
    doneTitle: '完了しました',
    refusedTitle: 'このリンクは使えません',
    unknown: 'このリンクは無効です。すでに使われたか、期限が切れたか、正しくありません。',
    expired: 'このリンクの期限が切れています。',
    used: 'このリンクはすでに使われました。リンクは一度だけ使えます。',
    decided: 'このメールはすでに処理されています（承認・差し戻し・取り消し・送信のいずれか）。',
    wrongAction: 'この操作はこのリンクではできません。',
    limitedTitle: 'しばらくお待ちください',
    limited: '無効なリンクが続けて開かれました。{seconds} 秒ほど待ってからもう一度お試しください。',
    notFound: 'このページは通知メールのリンクからだけ開けます。',
    failed: '少し待ってからもう一度このリンクを開くか、管理者に連絡してください（詳しい内容はゲートウェイのログにあります）。',
    failedTitle: '処理できませんでした',
    whatNext: 'このページは閉じてかまいません。',
    footer: 'Gatehouse 誤送信防止',
  },
  en: {
    htmlLang: 'en',
    approvalTitle: 'Approval requested',
    approvalLead: 'A message from {sender} to external recipients waits for your approval. Approving sends it to them. Colleagues already have it.',
    delayTitle: 'Delayed mail',
    delayLead: 'The message to external recipients goes out at {until}. Until then you can cancel it or send it now. Colleagues already have it.',
    subject: 'Subject',
    noSubject: '(no subject)',
    sender: 'Sender',
    from: 'Header From',
    waiting: 'External recipients (waiting)',
    toCc: 'To / Cc',
    attachments: 'Attachments',
    none: 'none',
    received: 'Received',
    deadline: 'Deadline',
    deadlineNote: ' (then it is rejected by itself)',
    sendAt: 'Goes out at',
    approvers: 'Approvers',
    standIn: ' (stand-in)',
    text: 'Text (first lines)',
    more: '… (the rest is not shown)',
    noText: '(no text)',
    approve: 'Approve and send',
    rejectLabel: 'Reason for rejecting (the sender gets it in a bounce)',
    rejectPlaceholder: 'e.g. Please check the recipients',
    reject: 'Reject',
    reasonNeeded: 'Please give a reason to reject.',
    sendNow: 'Send now',
    cancel: 'Cancel sending',
    cancelNote: 'Cancelled mail is not sent to its external recipients.',
    forWhom: 'This link is for {address} and works once (until {expires}).',
    doneApproved: 'Approved: the message is sent to its external recipients.',
    doneRejected: 'Rejected: the sender is told the reason.',
    doneSentNow: 'Sent now.',
    doneCancelled: 'Cancelled: nothing goes to the external recipients.',
    doneTitle: 'Done',
    refusedTitle: 'This link cannot be used',
    unknown: 'This link is not valid: it was used already, has expired, or is wrong.',
    expired: 'This link has expired.',
    used: 'This link was used already. Each link works once.',
    decided: 'This message was already dealt with (approved, rejected, cancelled or sent).',
    wrongAction: 'This link cannot do that.',
    limitedTitle: 'Please wait',
    limited: 'Too many links that are not valid were opened. Please wait about {seconds} seconds and try again.',
    notFound: 'This page opens only from the link in a notice mail.',
    failed: 'Open the link again in a moment, or tell the administrator (the gateway’s log has the details).',
    failedTitle: 'This could not be done',
    whatNext: 'You can close this page.',
    footer: 'Gatehouse outbound controls',
  },
} as const;

export type PageTextKey = keyof (typeof PAGE_TEXT)['en'];
// Both languages have every text (the compiler checks it here).
PAGE_TEXT satisfies Record<PageLang, Record<PageTextKey, string>>;

/** One text in one language with `{name}` filled in (the caller escapes for HTML). */
export function pageText(lang: PageLang, key: PageTextKey, params: Record<string, string> = {}): string {
  return PAGE_TEXT[lang][key].replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? params[k]! : m));
}

/*
 * Plain words for what went wrong, as a code with parameters (the window translates
 * `why.<code>` into Japanese or English; the raw text stays beside it for a tooltip):
 * `explainProblem(code, text)` reads an SMTP reply code and its text, or a socket error
 * (`connect ECONNREFUSED 192.168.0.104:25`), and answers what an office admin needs to know:
 * the other server refused the connection, did not answer in time, the name does not resolve,
 * the mailbox does not exist, the message was judged spam... Pure; never throws; unknown text
 * is 'temporary' or 'permanent' by its code, else 'other'.
 */

export const WHY_CODES = [
  'refused',
  'timeout',
  'unreachable',
  'dns',
  'tls',
  'auth',
  'lost',
  'unknown-user',
  'mailbox-full',
  'too-big',
  'policy',
  'temporary',
  'permanent',
  'other',
] as const;
export type WhyCode = (typeof WHY_CODES)[number];

export interface Explained {
  code: WhyCode;
  params: Record<string, string | number>;
}

const HOST_RE = /\b((?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:]+\]|[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::(\d{1,5}))?/i;

function hostOf(text: string): string {
  const m = HOST_RE.exec(text.replace(/\b\d\.\d{1,3}\.\d{1,3}\b/g, ''));
  return m ? (m[2] ? `${m[1]}:${m[2]}` : m[1]!) : '';
}

/** `code`: the SMTP reply code when there was one; `text`: the reply or the error text. */
export function explainProblem(code: number | undefined, text: string | undefined): Explained {
  const t = text ?? '';
  const host = hostOf(t);
  const params: Record<string, string | number> = host ? { host } : {};
  const is = (re: RegExp) => re.test(t);
  if (is(/ECONNREFUSED|connection refused/i)) return { code: 'refused', params };
  if (is(/ETIMEDOUT|ESOCKETTIMEDOUT|timed? ?out|timeout/i)) return { code: 'timeout', params };
  if (is(/EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|no route to host|network is unreachable/i)) return { code: 'unreachable', params };
  if (is(/ENOTFOUND|ENODATA|ESERVFAIL|EAI_AGAIN|queryA|no MX|getaddrinfo|DNS/i)) return { code: 'dns', params };
  if (is(/certificate|CERT_|TLS|SSL|self[- ]signed|handshake/i)) return { code: 'tls', params };
  if (is(/ECONNRESET|EPIPE|socket hang up|connection (closed|lost|reset)|unexpected close/i)) return { code: 'lost', params };
  if (code === 535 || code === 534 || is(/EAUTH|authentication (failed|credentials)|\b5\.7\.8\b/i)) return { code: 'auth', params };
  if (is(/\b[45]\.1\.[0-6]\b|user unknown|no such user|mailbox unavailable|does not exist|unknown recipient/i)) return { code: 'unknown-user', params };
  if (is(/\b[45]\.2\.2\b|mailbox full|quota/i)) return { code: 'mailbox-full', params };
  if (is(/\b5\.3\.4\b|\b[45]\.2\.3\b|too (big|large)|size limit/i)) return { code: 'too-big', params };
  if (is(/\b[45]\.7\.\d+\b|spam|policy|blocked|blacklist|denied|rejected for policy/i)) return { code: 'policy', params };
  if (code !== undefined && code >= 400 && code < 500) return { code: 'temporary', params: { ...params, code } };
  if (code !== undefined && code >= 500) return { code: 'permanent', params: { ...params, code } };
  if (/^4\d\d\b/.test(t)) return { code: 'temporary', params: { ...params, code: Number(t.slice(0, 3)) } };
  if (/^5\d\d\b/.test(t)) return { code: 'permanent', params: { ...params, code: Number(t.slice(0, 3)) } };
  return { code: 'other', params };
}

const WHY_EN: Record<WhyCode, string> = {
  'refused': 'the server refused the connection (is it running, and is the port right?)',
  'timeout': 'the server did not answer in time',
  'unreachable': 'the server cannot be reached on the network',
  'dns': 'the server name could not be found (DNS)',
  'tls': 'the encrypted connection (TLS) failed',
  'auth': 'the login to the server was refused',
  'lost': 'the connection was cut off',
  'unknown-user': 'the recipient’s address does not exist',
  'mailbox-full': 'the recipient’s mailbox is full',
  'too-big': 'the message is too large for the receiving server',
  'policy': 'the receiving server refused it by its policy (e.g. judged as spam)',
  'temporary': 'the receiving server asked to try again later ({code})',
  'permanent': 'the receiving server refused it ({code})',
  'other': 'an unexpected problem',
};

const WHY_JA: Record<WhyCode, string> = {
  'refused': '相手のサーバが接続を受け付けませんでした（サーバが動いているか、ポート番号が正しいか確認してください）',
  'timeout': '相手のサーバから時間内に応答がありませんでした',
  'unreachable': '相手のサーバにネットワークで届きません',
  'dns': 'サーバの名前が見つかりませんでした（DNS）',
  'tls': '暗号化した接続（TLS）を確立できませんでした',
  'auth': '相手のサーバへのログインが拒否されました',
  'lost': '通信の途中で接続が切れました',
  'unknown-user': '宛先のメールアドレスが存在しません',
  'mailbox-full': '宛先のメールボックスがいっぱいです',
  'too-big': 'メールが大きすぎて相手のサーバが受け取れません',
  'policy': '相手のサーバの方針で受け取りを拒否されました（迷惑メールと判定された場合など）',
  'temporary': '相手のサーバから、時間をおいて再送するよう応答がありました（{code}）',
  'permanent': '相手のサーバが受け取りを拒否しました（{code}）',
  'other': '予期しない問題が起きました',
};

/** Plain words for an explained problem, in Japanese or English. */
export function whyText(e: Explained, lang: 'ja' | 'en'): string {
  const t = (lang === 'ja' ? WHY_JA : WHY_EN)[e.code] ?? (lang === 'ja' ? WHY_JA.other : WHY_EN.other);
  return t.replace(/\{(\w+)\}/g, (m, k: string) => (k in e.params ? String(e.params[k]) : m)).replace(/（\{code\}）|\s\(\{code\}\)/g, '');
}

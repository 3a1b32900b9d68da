/*
 * What each deliverability check result means, in Japanese and English, for an office admin
 * who is not a mail expert. The core's checks (core/doctor) return a code and params; the
 * window page and `gatehouse doctor` render them with renderCheckMessage(). `{name}` in a text
 * is replaced by the param of that name. Plain data; nothing here runs or fails (an unknown
 * code renders as the code itself, so a missing entry shows up rather than hides).
 */
import type { CheckName } from './deliverability.js';

export interface CheckText {
  ja: string;
  en: string;
}

/** Titles of the checks (window headings, doctor's section names). */
export const CHECK_TITLES: Record<CheckName, CheckText> = {
  spf: { ja: 'SPF（送信を許可するサーバの宣言）', en: 'SPF (which servers may send your mail)' },
  fcrdns: { ja: '逆引き（PTR）と正引きの一致', en: 'Reverse DNS (PTR) matches the gateway name' },
  dkim: { ja: 'DKIM 署名の公開鍵', en: 'DKIM signing key in DNS' },
  dmarc: { ja: 'DMARC の宣言', en: 'DMARC record' },
  'mta-sts': { ja: 'MTA-STS（受信時の暗号化の宣言）', en: 'MTA-STS (encryption policy for mail you receive)' },
  port25: { ja: '外部への 25 番ポート', en: 'Outbound port 25' },
  'smarthost-login': { ja: '送信に使う中継サーバ（スマートホスト）へのログイン', en: 'Login to the smarthost' },
};

export const CHECK_MESSAGES: Record<string, CheckText> = {
  // SPF
  'spf.ok': {
    ja: '{domain} の SPF は、このゲートウェイからの送信（{via}）を許可しています。',
    en: "{domain}'s SPF allows mail sent through this gateway ({via}).",
  },
  'spf.missing': {
    ja: '{domain} に SPF レコードがありません。受信側（Gmail など）はこのドメインのメールを迷惑メール扱いしたり、受け取りを拒否したりします。DNS に下のレコードを追加してください。',
    en: '{domain} has no SPF record. Receivers such as Gmail may treat its mail as spam or refuse it. Add the record below to your DNS.',
  },
  'spf.not-covered': {
    ja: '{domain} の SPF に、このゲートウェイからの送信（{via}）が含まれていません（判定: {result}）。受信側で拒否されるおそれがあります。SPF を下のように直してください。',
    en: "{domain}'s SPF does not include mail sent through this gateway ({via}) (result: {result}). Receivers may refuse it. Change the SPF record as shown below.",
  },
  'spf.softfail': {
    ja: '{domain} の SPF は、このゲートウェイからの送信（{via}）を「疑わしい」と判定します（{result}）。届かないことがあります。SPF を下のように直してください。',
    en: "{domain}'s SPF marks mail sent through this gateway ({via}) as doubtful ({result}). Some of it may not arrive. Change the SPF record as shown below.",
  },
  'spf.invalid': {
    ja: '{domain} の SPF レコードに誤りがあり、受信側は判定できません（{detail}）。SPF レコードを 1 つにまとめ、書き方を直してください。',
    en: "{domain}'s SPF record is broken, so receivers cannot use it ({detail}). Keep exactly one SPF record and fix its syntax.",
  },
  'spf.dns-error': {
    ja: '{domain} の SPF を DNS で確認できませんでした（{detail}）。しばらくしてからもう一度確認してください。',
    en: "Could not look up {domain}'s SPF in DNS ({detail}). Check again later.",
  },
  'spf.no-public-ip': {
    ja: 'このゲートウェイのインターネット側の IP アドレスが設定されていないため、{domain} の SPF を確認できません。アドレスを設定してから確認してください。',
    en: "The gateway's public IP address is not set, so {domain}'s SPF cannot be checked. Enter the address, then check again.",
  },
  // forward-confirmed reverse DNS
  'fcrdns.ok': {
    ja: 'ゲートウェイ名 {hostname} と IP アドレス {ip} の正引き・逆引きが一致しています。',
    en: 'The gateway name {hostname} and the IP address {ip} point to each other (forward and reverse DNS match).',
  },
  'fcrdns.no-address': {
    ja: 'ゲートウェイ名 {hostname} が DNS で IP アドレスに解決できません。下の A レコードを追加してください。',
    en: 'The gateway name {hostname} does not resolve to an IP address. Add the A record below.',
  },
  'fcrdns.address-mismatch': {
    ja: 'ゲートウェイ名 {hostname} の IP アドレス（{addresses}）に、インターネット側の IP アドレス {ip} が含まれていません。A レコードを直してください。',
    en: "The gateway name {hostname} resolves to {addresses}, which does not include the public IP address {ip}. Fix the A record.",
  },
  'fcrdns.no-ptr': {
    ja: 'IP アドレス {ip} に逆引き（PTR）が設定されていません。多くの受信サーバは逆引きのないサーバからのメールを拒否します。下の PTR の設定をプロバイダに依頼してください。',
    en: 'The IP address {ip} has no reverse DNS (PTR). Many receivers refuse mail from servers without one. Ask your internet provider to set the PTR below.',
  },
  'fcrdns.ptr-mismatch': {
    ja: 'IP アドレス {ip} の逆引きは {ptr} で、ゲートウェイ名 {hostname} と一致しません。ゲートウェイ名を合わせるか、PTR の変更をプロバイダに依頼してください。',
    en: 'The reverse DNS of {ip} is {ptr}, not the gateway name {hostname}. Use that name for the gateway, or ask your internet provider to change the PTR.',
  },
  'fcrdns.dns-error': {
    ja: 'ゲートウェイ名 {hostname} の正引き・逆引きを確認できませんでした（{detail}）。しばらくしてからもう一度確認してください。',
    en: 'Could not check forward and reverse DNS for {hostname} ({detail}). Check again later.',
  },
  // DKIM
  'dkim.ok': {
    ja: '{domain} の DKIM 公開鍵（セレクタ {selector}）は DNS に正しく公開されています。外部へのメールには署名が付きます。',
    en: "{domain}'s DKIM public key (selector {selector}) is published correctly. Mail to the outside is signed.",
  },
  'dkim.no-key': {
    ja: '{domain} の DKIM 鍵がまだありません。画面の「DKIM 署名の鍵」（またはコマンド gatehouse dkim generate {domain} --selector s1）で鍵を作成し、表示される TXT レコードを DNS に追加してください。',
    en: 'There is no DKIM key for {domain} yet. Make one under “DKIM signing keys” in the window (or gatehouse dkim generate {domain} --selector s1) and add the TXT record it shows to your DNS.',
  },
  'dkim.missing': {
    ja: '{domain} の DKIM 公開鍵（{name}）が DNS にありません。署名しても受信側で確かめられません。下の TXT レコードを追加してください。',
    en: "{domain}'s DKIM public key ({name}) is not in DNS, so receivers cannot check the signature. Add the TXT record below.",
  },
  'dkim.mismatch': {
    ja: 'DNS の {name} に公開されている鍵は、Gatehouse の署名鍵と一致しません（{detail}）。署名は受信側で失敗します。TXT レコードを下の値に置き換えてください。',
    en: "The key published at {name} is not Gatehouse's signing key ({detail}). Signatures will fail at receivers. Replace the TXT record with the value below.",
  },
  'dkim.revoked': {
    ja: 'DNS の {name} の鍵は無効化されています（p= が空）。下の TXT レコードに置き換えてください。',
    en: 'The key at {name} is revoked (p= is empty). Replace the TXT record with the one below.',
  },
  'dkim.invalid': {
    ja: 'DNS の {name} の DKIM レコードに誤りがあります（{detail}）。下の TXT レコードに置き換えてください。',
    en: 'The DKIM record at {name} is broken ({detail}). Replace it with the TXT record below.',
  },
  'dkim.dns-error': {
    ja: '{domain} の DKIM 公開鍵を DNS で確認できませんでした（{detail}）。しばらくしてからもう一度確認してください。',
    en: "Could not look up {domain}'s DKIM key in DNS ({detail}). Check again later.",
  },
  // DMARC
  'dmarc.ok': {
    ja: '{domain} には DMARC の宣言があります（ポリシー {policy}）。',
    en: '{domain} has a DMARC record (policy {policy}).',
  },
  'dmarc.missing': {
    ja: '{domain} に DMARC の宣言がありません。Gmail などは大量に送る送信者に DMARC を求めています。まずは様子見の設定（p=none）で下のレコードを追加してください。',
    en: '{domain} has no DMARC record. Gmail and others require one from bulk senders. Start with the monitoring-only record below (p=none).',
  },
  'dmarc.multiple': {
    ja: '{domain} に DMARC レコードが複数あり、受信側は無視します。1 つにまとめてください。',
    en: '{domain} has more than one DMARC record, so receivers ignore them. Keep exactly one.',
  },
  'dmarc.invalid': {
    ja: '{domain} の DMARC レコードに誤りがあります（{detail}）。下のように直してください。',
    en: "{domain}'s DMARC record is broken ({detail}). Fix it as shown below.",
  },
  'dmarc.dns-error': {
    ja: '{domain} の DMARC を DNS で確認できませんでした（{detail}）。しばらくしてからもう一度確認してください。',
    en: "Could not look up {domain}'s DMARC record ({detail}). Check again later.",
  },
  // MTA-STS
  'mta-sts.ok': {
    ja: '{domain} は MTA-STS を公開しています（モード {mode}）。このドメインあてのメールは暗号化して届けられます。',
    en: '{domain} publishes MTA-STS (mode {mode}). Mail to this domain is delivered encrypted.',
  },
  'mta-sts.none': {
    ja: '{domain} は MTA-STS を公開していません。必須ではありませんが、公開するとこのドメインあてのメールが暗号化なしで届けられることを防げます。',
    en: '{domain} does not publish MTA-STS. It is optional; publishing it keeps mail to this domain from being delivered unencrypted.',
  },
  'mta-sts.broken': {
    ja: '{domain} の MTA-STS の宣言（DNS）はありますが、ポリシーを取得できません（{detail}）。このままでは送信側の判断が不安定になります。ポリシーのファイルを直すか、DNS の宣言を削除してください。',
    en: "{domain} announces MTA-STS in DNS but its policy cannot be fetched ({detail}). Fix the policy file, or remove the DNS record.",
  },
  'mta-sts.mx-not-listed': {
    ja: '{domain} の MTA-STS ポリシー（enforce）に、このドメインの受信サーバ {mx} が含まれていません。送信側はこのドメインあてのメールを届けられません。ポリシーの mx 行を直してください。',
    en: "{domain}'s MTA-STS policy (enforce) does not list its mail server {mx}. Senders will not deliver to this domain. Fix the policy's mx lines.",
  },
  // port 25
  'port25.ok': {
    ja: '外部の 25 番ポート（{target}）に接続できました。インターネットへ直接送信できます。',
    en: 'Connected to port 25 outside ({target}). Direct delivery to the internet works.',
  },
  'port25.blocked': {
    ja: '外部の 25 番ポート（{target}）に接続できません（{detail}）。プロバイダが 25 番ポートをふさいでいる（OP25B）可能性があります。送信に使う中継サーバ（スマートホスト）を設定してください。',
    en: "Cannot connect to port 25 outside ({target}) ({detail}). Your internet provider probably blocks port 25 (OP25B). Set up a smarthost to send through.",
  },
  'port25.refused': {
    ja: '外部の 25 番ポート（{target}）への接続が拒否されました。接続先が受け付けていないか、途中で遮断されています。別の接続先で確認してください。',
    en: 'The connection to port 25 ({target}) was refused: that server does not accept it, or something on the way blocks it. Check against another server.',
  },
  'port25.not-tried': {
    ja: '外部の 25 番ポートに届くかは確かめていません。インターネットへ直接送信するには 25 番ポートが必要です（プロバイダがふさいでいること（OP25B）がよくあります）。確かめる接続先（相手の受信サーバ）を設定してから、もう一度確認してください。',
    en: 'Whether port 25 outside can be reached was not tried. Direct delivery needs it, and internet providers often block it (OP25B). Set a server to try (a receiving mail server outside), then check again.',
  },
  // smarthost login
  'smarthost-login.ok': {
    ja: '送信に使う中継サーバ（スマートホスト）{target} にログインできました（{method}）。',
    en: 'Logged in to the smarthost {target} ({method}).',
  },
  'smarthost-login.not-configured': {
    ja: '送信に使う中継サーバ（スマートホスト）は設定されていません。インターネットへ直接送信します。',
    en: 'No smarthost is set: mail goes straight to the internet.',
  },
  'smarthost-login.auth-failed': {
    ja: '送信に使う中継サーバ（スマートホスト）{target} にログインできません（{detail}）。ユーザー名とパスワード、または OAuth の同意を確認してください。',
    en: 'Cannot log in to the smarthost {target} ({detail}). Check the user name and password, or the OAuth consent.',
  },
  'smarthost-login.tls-failed': {
    ja: '送信に使う中継サーバ（スマートホスト）{target} と暗号化（TLS）で接続できません（{detail}）。ポートと暗号化の設定を確認してください。',
    en: 'Cannot make an encrypted (TLS) connection to the smarthost {target} ({detail}). Check the port and the encryption setting.',
  },
  'smarthost-login.connect-failed': {
    ja: '送信に使う中継サーバ（スマートホスト）{target} に接続できません（{detail}）。ホスト名とポートを確認してください。',
    en: 'Cannot connect to the smarthost {target} ({detail}). Check the host name and port.',
  },
};

/** The text for a result in the admin's language, params filled in. */
export function renderCheckMessage(code: string, params: Record<string, string>, lang: 'ja' | 'en'): string {
  const t = CHECK_MESSAGES[code];
  if (!t) return code;
  return t[lang].replace(/\{(\w+)\}/g, (m, k: string) => params[k] ?? m);
}

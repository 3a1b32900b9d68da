/*
 * What a held message says, for a person: previewOf() reads the message with postal-mime (a
 * maintained MIME parser; it decodes encoded words and ISO-2022-JP, Shift_JIS and UTF-8 bodies
 * through the platform's TextDecoder) and returns the decoded subject, From, To and Cc, each
 * attachment's name, size and type, and the first lines of the text (the HTML part, tags
 * removed, when there is no text part). A message postal-mime cannot read still gets a preview
 * (what could be read, the text empty); previewOf never rejects.
 */
import PostalMime, { type Address } from 'postal-mime';

import { PREVIEW_LINES, type HeldPreview } from '../../shared/outbound.js';

const MAX_TEXT = 4000;

function addressText(a: Address): string[] {
  if (a.group) return a.group.flatMap(addressText);
  if (!a.address) return a.name ? [a.name] : [];
  return [a.name ? `${a.name} <${a.address}>` : a.address];
}

function sizeOf(content: ArrayBuffer | Uint8Array | string): number {
  if (typeof content === 'string') return Buffer.byteLength(content);
  return content.byteLength;
}

/** Crude HTML to text, enough for a preview (the real message is never changed). */
function htmlText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/p>|<\/div>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export async function previewOf(body: Buffer): Promise<HeldPreview> {
  try {
    const mail = await PostalMime.parse(body, { attachmentEncoding: 'arraybuffer', maxPartCount: 500 });
    const full = (mail.text ?? (mail.html ? htmlText(mail.html) : '')).replace(/\r\n?/g, '\n').trim();
    const lines = full.split('\n');
    let text = lines.slice(0, PREVIEW_LINES).join('\n');
    let more = lines.length > PREVIEW_LINES;
    if (text.length > MAX_TEXT) {
      text = text.slice(0, MAX_TEXT);
      more = true;
    }
    return {
      subject: mail.subject ?? '',
      from: mail.from ? addressText(mail.from).join(', ') : '',
      to: (mail.to ?? []).flatMap(addressText),
      cc: (mail.cc ?? []).flatMap(addressText),
      attachments: mail.attachments
        .filter((a) => a.disposition === 'attachment' || (a.filename && !a.contentId))
        .map((a) => ({ name: a.filename ?? '(no name)', size: sizeOf(a.content), type: a.mimeType })),
      text,
      more,
    };
  } catch {
    return { subject: '', from: '', to: [], cc: [], attachments: [], text: '', more: false };
  }
}

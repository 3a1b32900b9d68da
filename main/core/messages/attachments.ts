/*
 * The attachment names of a queued message, read with mailparser (MIME structure, RFC 2231
 * and RFC 2047 file names, any charset), so the timeline can say "見積書.pdf" of a mail that
 * is still waiting. `attachmentNames(body)` resolves to the names in order (an attachment
 * without a name is left out); a message mailparser cannot read resolves to [] rather than
 * failing the timeline.
 */
import { simpleParser } from 'mailparser';

/** Bodies larger than this are not parsed for names (a timeline must answer quickly). */
const MAX_PARSE = 50 * 1024 * 1024;

export async function attachmentNames(body: Buffer): Promise<string[]> {
  if (body.length > MAX_PARSE) return [];
  try {
    const parsed = await simpleParser(body, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    return parsed.attachments.map((a) => a.filename ?? '').filter((n) => n !== '');
  } catch {
    return [];
  }
}

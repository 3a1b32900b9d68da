/*
 * The attachment names of a queued message, read with postal-mime (MIME structure, RFC 2231
 * and RFC 2047 file names, any charset), so the timeline can say "見積書.pdf" of a mail that
 * is still waiting. `attachmentNames(body)` resolves to the names in order (an attachment
 * without a name is left out); a message that cannot be read resolves to [] rather than
 * failing the timeline.
 */
import PostalMime from 'postal-mime';

/** Bodies larger than this are not parsed for names (a timeline must answer quickly). */
const MAX_PARSE = 50 * 1024 * 1024;

export async function attachmentNames(body: Buffer): Promise<string[]> {
  if (body.length > MAX_PARSE) return [];
  try {
    const parsed = await PostalMime.parse(body);
    return parsed.attachments.map((a) => a.filename ?? '').filter((n) => n !== '');
  } catch {
    return [];
  }
}

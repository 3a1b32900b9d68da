/*
 * The preview of held mail (postal-mime): an ISO-2022-JP message, as Japanese mail clients
 * still send it, decodes to its subject and first lines; many lines are cut with a "more"
 * mark; bytes that are not a message still give a preview (empty) instead of an error.
 */
import { describe, expect, it } from 'vitest';
import { previewOf } from '../../main/core/outbound/preview.js';
import { PREVIEW_LINES } from '../../main/shared/outbound.js';

// Subject and body in ISO-2022-JP (made with Python's iso2022_jp codec).
const JIS = Buffer.from('RnJvbTogYmFpdG9AdGVzdC5qcA0KVG86IGNsaWVudEBleGFtcGxlLmNvbQ0KU3ViamVjdDogPT9JU08tMjAyMi1KUD9CP0d5UkNPQ3RBVVQxeEpFNUJkMGxWR3loQz89DQpNSU1FLVZlcnNpb246IDEuMA0KQ29udGVudC1UeXBlOiB0ZXh0L3BsYWluOyBjaGFyc2V0PUlTTy0yMDIyLUpQDQpDb250ZW50LVRyYW5zZmVyLUVuY29kaW5nOiA3Yml0DQoNChskQiQqQCRPQyRLJEokQyRGJCokaiReJDkhIxsoQg0KGyRCOCtAUT1xJHIkKkF3JGokNyReJDkhIxsoQg0K', 'base64');

describe('previewOf', () => {
  it('decodes ISO-2022-JP subject and text', async () => {
    const p = await previewOf(JIS);
    expect(p).toMatchObject({ subject: '見積書の送付', from: 'baito@test.jp', to: ['client@example.com'], attachments: [], more: false });
    expect(p.text).toBe('お世話になっております。\n見積書をお送りします。');
  });

  it('shows the first lines only, and survives garbage', async () => {
    const long = Buffer.from(`Subject: long\r\n\r\n${Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\r\n')}\r\n`);
    const p = await previewOf(long);
    expect(p.text.split('\n')).toHaveLength(PREVIEW_LINES);
    expect(p.more).toBe(true);
    const junk = await previewOf(Buffer.from([0, 1, 2, 0xff, 0xfe]));
    expect(junk.subject).toBe('');
  });
});

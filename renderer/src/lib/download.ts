/*
 * Saves text as a file through the browser's download (a Blob URL on a temporary link).
 * Returns nothing; the only failure is a browser that blocks downloads, which it reports
 * itself. The Blob URL is revoked right after the click.
 */
import { decodeText } from '../../../main/shared/csv.js';

export function downloadText(filename: string, text: string, mime = 'text/plain;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Reads a chosen file as text: UTF-8 (BOM dropped), else Shift_JIS, as the core reads files. */
export async function readTextFile(file: File): Promise<string> {
  return decodeText(await file.arrayBuffer());
}

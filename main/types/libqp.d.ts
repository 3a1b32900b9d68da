// libqp ships no types; the two functions long-lines.ts uses.
declare module 'libqp' {
  /** Quoted-printable encoding of the bytes; CR and LF stay as they are (hard line breaks). */
  export function encode(buffer: Buffer | string): string;
  /** Adds soft line breaks (`=` CRLF) so no line exceeds `lineLength` (default 76). */
  export function wrap(str: string, lineLength?: number): string;
  export function decode(str: string): Buffer;
}

/*
 * The on-disk format of one queued message (queue/<id>.msg), and the errors the spool throws.
 *
 *   GATEHOUSE-SPOOL 1\n
 *   {"id":...,"receivedAt":...,"sender":...,"recipients":[...],"size":N,"sha256":...,...}\n
 *   <exactly N body bytes, as received>
 *   \nEND <sha256 of body, hex> <sha256 of the JSON header line, hex>\n
 *
 * The trailer has a fixed length (TRAILER_LEN), so a reader can check a file's structure from
 * its first and last bytes: magic, header JSON, file size == head + size + trailer, and both
 * checksums in the trailer. A write torn anywhere fails the size or trailer check; a flipped
 * byte in the header fails the header checksum; a flipped byte in the body fails the body
 * checksum (which needs the body read, see Spool.readBody / verify). encodeMessage() returns
 * the buffers to write; decodeHead()/decodeTrailer() return the parsed parts or throw
 * SpoolCorruptError naming the id and what is wrong.
 */
import { createHash } from 'node:crypto';
import type { SpoolHeader, SpoolState } from './types.js';

export const MAGIC = 'GATEHOUSE-SPOOL 1';
const MAGIC_LINE = Buffer.from(`${MAGIC}\n`, 'latin1');
const SHA_HEX_LEN = 64;
/** `\nEND ` + 64 hex + ` ` + 64 hex + `\n` */
export const TRAILER_LEN = 1 + 4 + SHA_HEX_LEN + 1 + SHA_HEX_LEN + 1;
/** A header line longer than this is corruption, not a big recipient list (~100k rcpts). */
export const MAX_HEADER_LEN = 16 * 1024 * 1024;

const HEX_RE = /^[0-9a-f]{64}$/;

/** Any spool failure that is not a plain fs error; `code` is machine-readable. */
export class SpoolError extends Error {
  readonly code: string;
  readonly id?: string;
  constructor(code: string, message: string, opts?: { id?: string; cause?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SpoolError';
    this.code = code;
    if (opts?.id !== undefined) this.id = opts.id;
  }
}

/** A message file that fails verification: torn, truncated or bit-flipped. Never deliver it. */
export class SpoolCorruptError extends SpoolError {
  readonly reason: string;
  constructor(id: string, reason: string) {
    super('ESPOOLCORRUPT', `spool message ${id} is corrupt: ${reason}`, { id });
    this.name = 'SpoolCorruptError';
    this.reason = reason;
  }
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Key order fixed so files are easy to read with `head -2`. */
function headerJson(h: SpoolHeader): string {
  const ordered: SpoolHeader = {
    id: h.id,
    receivedAt: h.receivedAt,
    sender: h.sender,
    recipients: h.recipients,
    size: h.size,
    sha256: h.sha256,
    clientIp: h.clientIp,
    session: h.session,
    helo: h.helo,
    trusted: h.trusted,
    authUser: h.authUser,
    meta: h.meta,
    subject: h.subject,
  };
  // JSON.stringify escapes every control character, so the header is always one line.
  return JSON.stringify(ordered);
}

/** The buffers of a complete .msg file, in order; the body is not copied. */
export function encodeMessage(header: SpoolHeader, body: Buffer): Buffer[] {
  const headerLine = Buffer.from(headerJson(header), 'utf8');
  const trailer = Buffer.from(`\nEND ${header.sha256} ${sha256Hex(headerLine)}\n`, 'latin1');
  const head = Buffer.concat([MAGIC_LINE, headerLine, Buffer.from('\n', 'latin1')]);
  return [head, body, trailer];
}

export interface DecodedHead {
  header: SpoolHeader;
  /** sha256 of the header line as found on disk (compare with the trailer's). */
  headerSha: string;
  /** Offset of the first body byte. */
  bodyStart: number;
}

/**
 * Parse magic + header from the first bytes of a file. Returns null when `buf` ends before the
 * header line does and the file has more bytes (read more and call again).
 */
export function decodeHead(id: string, buf: Buffer, fileSize: number): DecodedHead | null {
  if (buf.length < MAGIC_LINE.length) {
    if (buf.length < fileSize) return null;
    throw new SpoolCorruptError(id, `file too short (${fileSize} bytes; torn or truncated write)`);
  }
  if (!buf.subarray(0, MAGIC_LINE.length).equals(MAGIC_LINE)) {
    throw new SpoolCorruptError(id, `bad magic line (not a "${MAGIC}" file)`);
  }
  const nl = buf.indexOf(0x0a, MAGIC_LINE.length);
  if (nl < 0) {
    if (buf.length < fileSize && buf.length < MAX_HEADER_LEN) return null;
    throw new SpoolCorruptError(id, 'header line not terminated (torn or truncated write)');
  }
  const headerLine = buf.subarray(MAGIC_LINE.length, nl);
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerLine.toString('utf8'));
  } catch (err) {
    throw new SpoolCorruptError(id, `header is not valid JSON (${(err as Error).message})`);
  }
  const header = checkHeader(id, parsed);
  return { header, headerSha: sha256Hex(headerLine), bodyStart: nl + 1 };
}

export function decodeTrailer(id: string, buf: Buffer): { bodySha: string; headerSha: string } {
  const text = buf.toString('latin1');
  if (buf.length !== TRAILER_LEN || !text.startsWith('\nEND ') || !text.endsWith('\n')) {
    throw new SpoolCorruptError(id, 'missing or damaged END trailer (torn or truncated write)');
  }
  const [bodySha, headerSha] = text.slice(5, -1).split(' ');
  if (!bodySha || !headerSha || !HEX_RE.test(bodySha) || !HEX_RE.test(headerSha)) {
    throw new SpoolCorruptError(id, 'damaged END trailer');
  }
  return { bodySha, headerSha };
}

/** Structural checks that need the head, the trailer and the file size, but not the body. */
export function checkStructure(
  id: string,
  head: DecodedHead,
  trailer: { bodySha: string; headerSha: string },
  fileSize: number,
): void {
  const expected = head.bodyStart + head.header.size + TRAILER_LEN;
  if (fileSize !== expected) {
    throw new SpoolCorruptError(id, `file is ${fileSize} bytes, header says ${expected} (torn or truncated write)`);
  }
  if (trailer.headerSha !== head.headerSha) {
    throw new SpoolCorruptError(id, 'header checksum mismatch');
  }
  if (trailer.bodySha !== head.header.sha256) {
    throw new SpoolCorruptError(id, 'trailer and header disagree on the body checksum');
  }
}

function isStr(v: unknown): v is string {
  return typeof v === 'string';
}

function checkHeader(id: string, v: unknown): SpoolHeader {
  const bad = (what: string): never => {
    throw new SpoolCorruptError(id, `header field ${what} is missing or invalid`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('(object)');
  const o = v as Record<string, unknown>;
  if (o.id !== id) bad(`id (file says ${JSON.stringify(o.id)})`);
  if (!isStr(o.receivedAt) || Number.isNaN(Date.parse(o.receivedAt))) bad('receivedAt');
  if (!isStr(o.sender)) bad('sender');
  if (!Array.isArray(o.recipients) || o.recipients.length === 0 || !o.recipients.every(isStr)) bad('recipients');
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) bad('size');
  if (!isStr(o.sha256) || !HEX_RE.test(o.sha256)) bad('sha256');
  if (!isStr(o.clientIp)) bad('clientIp');
  if (!isStr(o.session)) bad('session');
  if (o.helo !== undefined && !isStr(o.helo)) bad('helo');
  if (typeof o.trusted !== 'boolean') bad('trusted');
  if (o.authUser !== undefined && !isStr(o.authUser)) bad('authUser');
  if (o.meta !== undefined && (typeof o.meta !== 'object' || o.meta === null || Array.isArray(o.meta))) bad('meta');
  if (o.subject !== undefined && !isStr(o.subject)) bad('subject');
  return o as unknown as SpoolHeader;
}

/** Validate a parsed .state file; throws a plain Error saying what is wrong. */
export function checkState(v: unknown): SpoolState {
  const strArr = (a: unknown): boolean => Array.isArray(a) && a.every(isStr);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('state is not an object');
  const o = v as Record<string, unknown>;
  if (!strArr(o.pending)) throw new Error('state.pending is not a string list');
  if (!strArr(o.done)) throw new Error('state.done is not a string list');
  if (
    !Array.isArray(o.failed) ||
    !o.failed.every(
      (f: unknown) =>
        typeof f === 'object' &&
        f !== null &&
        isStr((f as Record<string, unknown>).rcpt) &&
        isStr((f as Record<string, unknown>).reply),
    )
  ) {
    throw new Error('state.failed is not a list of {rcpt, reply}');
  }
  if (typeof o.attempts !== 'number' || !Number.isFinite(o.attempts)) throw new Error('state.attempts is not a number');
  for (const k of ['nextAttemptAt', 'lastError', 'warnedAt'] as const) {
    if (o[k] !== undefined && !isStr(o[k])) throw new Error(`state.${k} is not a string`);
  }
  if (o.held !== undefined && typeof o.held !== 'boolean') throw new Error('state.held is not a boolean');
  return o as unknown as SpoolState;
}

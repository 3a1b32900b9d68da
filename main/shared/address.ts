/*
 * Address syntax, shared by the policy (core) and the forms (renderer): pure, no Node API.
 * For the policy: decides whether an envelope address is one Gatehouse will
 * hand to a relay, splits it into local part and domain, and gives the case-folded key used
 * to compare addresses. checkAddressSyntax returns null when the address is fine, or a short
 * ASCII reason when it carries a relay trick (%, !, source route, IP literal, quoted local
 * part, trailing dot, ...) or is malformed; it never throws. Case folding is ASCII-only on
 * purpose: String#toLowerCase maps e.g. U+212A KELVIN SIGN to "k", which would let a
 * non-ASCII domain compare equal to an internal one that the relay would not route the same.
 */

export interface AddressParts {
  local: string;
  /** ASCII-lowercased. */
  domain: string;
}

export interface SyntaxOptions {
  /** The client announced SMTPUTF8: non-ASCII is allowed in local part and domain. */
  smtputf8: boolean;
}

const MAX_LOCAL_OCTETS = 64;
const MAX_ADDRESS_OCTETS = 254;
const MAX_LABEL_OCTETS = 63;

/** RFC 5321 atext minus '%' and '!' (routing characters on old MTAs) and minus '"'. */
const LOCAL_ASCII_OK = /^[A-Za-z0-9#$&'*+\-/=?^_`{|}~.]*$/;
/** Letters, digits, hyphen per label (LDH). */
const LABEL_ASCII_OK = /^[A-Za-z0-9-]+$/;
/** Control characters (C0, DEL, C1) and any whitespace, including U+3000 and NBSP. */
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f\s]/u;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;
/** Full stops other than '.' that IDNA maps to a dot (smtp-server maps them; refuse leftovers). */
const DOT_LOOKALIKES = /[\u3002\uff0e\uff61]/;
/** A last label that resolvers may read as a number: decimal or hex (inet_aton forms). */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/i;

/**
 * ASCII-only lowercase (see the file comment for why not toLowerCase on everything). Most
 * addresses arrive lower case already: one charCode scan then returns the input, with no
 * regex and no new string.
 */
export function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c > 127) return lowerAsciiSlow(s);
  }
  return s;
}

function lowerAsciiSlow(s: string): string {
  if (!NON_ASCII.test(s)) return s.toLowerCase();
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** UTF-8 length in bytes without Buffer, so the renderer can run the same checks. */
export function octets(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Split at the last '@'. Without an '@' the whole string is the local part and the domain is
 * empty. The domain is ASCII-lowercased; the local part is kept as given.
 */
export function splitAddress(addr: string): AddressParts {
  const at = addr.lastIndexOf('@');
  if (at < 0) return { local: addr, domain: '' };
  return { local: addr.slice(0, at), domain: lowerAscii(addr.slice(at + 1)) };
}

/** splitAddress(addr).domain without building the parts object. */
export function domainOf(addr: string): string {
  const at = addr.lastIndexOf('@');
  return at < 0 ? '' : lowerAscii(addr.slice(at + 1));
}

/** Display form: local part as given, domain lowercased. */
export function normalizeAddress(addr: string): string {
  const { local, domain } = splitAddress(addr);
  return addr.includes('@') ? `${local}@${domain}` : local;
}

/**
 * Comparison key: the whole address lowercased (ASCII). Mail engineers expect
 * `Baito@Test.JP` to hit the `baito@test.jp` account, so local parts compare case-insensitively.
 */
export function addressKey(addr: string): string {
  return lowerAscii(addr);
}

/** Domain syntax (no trailing dot, no empty label, no IP literal or bare IP); null when fine. */
export function checkDomainSyntax(domain: string, opts: SyntaxOptions): string | null {
  if (domain === '') return 'missing domain';
  if (domain.startsWith('[') || domain.endsWith(']')) return 'IP literal domain not accepted';
  if (domain.endsWith('.')) return 'trailing dot in domain';
  if (domain.startsWith('.')) return 'domain starts with a dot';
  if (domain.includes('..')) return 'empty label in domain';
  if (!opts.smtputf8 && NON_ASCII.test(domain)) return 'non-ASCII domain without SMTPUTF8';
  if (DOT_LOOKALIKES.test(domain)) return 'full-stop lookalike in domain';
  if (CONTROL_OR_SPACE.test(domain)) return 'control character or space in domain';
  const labels = domain.split('.');
  for (const label of labels) {
    if (octets(label) > MAX_LABEL_OCTETS) return 'domain label longer than 63 octets';
    if (!NON_ASCII.test(label) && !LABEL_ASCII_OK.test(label)) return 'invalid character in domain';
    if (NON_ASCII.test(label)) {
      if (/[^\p{L}\p{M}\p{N}-]/u.test(label.replace(/[A-Za-z0-9]/g, ''))) return 'invalid character in domain';
      // Fullwidth letters, KELVIN SIGN and the like would map to other (ASCII) names under IDNA.
      if (label.normalize('NFKC').toLowerCase() !== label) return 'domain not in IDNA normal form';
    }
  }
  // Also catches dotted-quad IPv4 (1.2.3.4) and inet_aton shorthands (127.1, 0x7f000001).
  if (NUMERIC_LABEL.test(labels[labels.length - 1]!)) return 'IP address as domain not accepted';
  return null;
}

/**
 * The everyday address (`taro.yamada+x@mail.test.jp`) in one regex: a strict subset of what
 * the full checks below accept (dot-atom local part of safe characters, LDH labels, a last
 * label starting with a letter so it cannot be read as a number). Anything else takes the
 * full, slower path. Keeps a decision within the 2 us budget (bench/micro.mjs policy).
 */
const PLAIN_ADDRESS = /^[A-Za-z0-9_+-](?:[A-Za-z0-9._+-]{0,62}[A-Za-z0-9_+-])?@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z][A-Za-z0-9-]{0,62}$/;

/**
 * Envelope address syntax as Gatehouse accepts it. Returns null when fine, else a short ASCII
 * reason. The empty string (null sender) is not an address: callers handle `<>` themselves.
 */
export function checkAddressSyntax(addr: string, opts: SyntaxOptions): string | null {
  if (addr.length <= MAX_ADDRESS_OCTETS && PLAIN_ADDRESS.test(addr) && !addr.includes('..')) return null;
  return fullSyntaxCheck(addr, opts);
}

/** Every rule, one by one; exported so tests can prove the fast path above is a subset. */
export function fullSyntaxCheck(addr: string, opts: SyntaxOptions): string | null {
  if (addr === '') return 'empty address';
  if (CONTROL_OR_SPACE.test(addr)) return 'control character or space in address';
  if (!opts.smtputf8 && NON_ASCII.test(addr)) return 'non-ASCII address without SMTPUTF8';
  if (addr.startsWith('@')) return 'source route not accepted';
  if (addr.startsWith('<') || addr.endsWith('>')) return 'angle brackets in address';
  if (addr.includes('"')) return 'quoted local part not accepted';
  if (addr.includes('\\')) return 'backslash in address';
  if (octets(addr) > MAX_ADDRESS_OCTETS) return 'address longer than 254 octets';
  const at = addr.indexOf('@');
  if (at < 0) return 'missing @domain';
  if (addr.indexOf('@', at + 1) >= 0) return 'more than one @';
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (local === '') return 'missing local part';
  if (local.includes('%')) return "percent hack ('%') not accepted";
  if (local.includes('!')) return "bang path ('!') not accepted";
  if (local.includes(':')) return 'source route not accepted';
  if (octets(local) > MAX_LOCAL_OCTETS) return 'local part longer than 64 octets';
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return 'dot at start or end of local part, or two dots';
  }
  if (DOT_LOOKALIKES.test(local)) return 'full-stop lookalike in local part';
  const asciiLocal = opts.smtputf8 ? local.replace(/[^\u0000-\u007f]/g, '') : local;
  if (!LOCAL_ASCII_OK.test(asciiLocal)) return 'invalid character in local part';
  return checkDomainSyntax(domain, opts);
}

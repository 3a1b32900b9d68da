/*
 * What a validation problem is, as it crosses from the core to a CLI or a window: a field
 * path (`routes[1].hosts[0].port`), a machine code with its parameters, and the English
 * sentence. The code is the contract: the renderer translates `issue.<code>` with the same
 * parameters into Japanese or English (renderer/src/lib/i18n), the CLI prints `message`.
 * ISSUE_EN holds every code's English template; `{name}` is filled from params (a placeholder
 * with no such parameter stays as written, so a template may quote `{account}`). Adding a
 * code means one line here and one in ja.ts; the compiler insists on both.
 * Nothing here throws.
 */

export const ISSUE_EN = {
  // shapes and ranges
  required: 'is required',
  string: 'must be a string',
  bool: 'must be true or false',
  object: 'must be an object ({ ... })',
  list: 'must be a list',
  int_range: 'must be an integer {min}-{max}',
  number_range: 'must be a number {min}-{max}',
  too_long: 'must be at most {max} characters',
  too_short: 'must be at least {min} characters',
  too_many: 'must have at most {max} entries',
  empty: 'must not be empty',
  one_of: 'must be one of {values}',
  unknown_key: 'unknown setting',
  unknown_key_near: "unknown setting (did you mean '{suggest}'?)",
  unknown_key_list: 'unknown setting (expected {expected})',
  duplicate: 'duplicate of {of}',
  duplicate_route: 'duplicate of {of}; put all servers of one domain in one route',
  duplicate_host: 'duplicate of {of}; list each server once',
  duplicate_account: 'duplicate of {of}; edit the existing account',
  duplicate_user: 'duplicate of {of}; change its password instead',
  duplicate_sender_route: 'duplicate of {of}; put all servers for one destination and sender in one route',
  invalid: 'is not valid',
  no_args: 'takes no arguments',
  // names
  spaces: 'must not have leading or trailing spaces',
  domain_dot: "must not end with a dot (write '{suggest}')",
  domain_ascii: "must be ASCII: write the punycode form '{suggest}'",
  domain_idn: 'must be ASCII (punycode) and this is not a valid international domain',
  domain_case: "must be lowercase (write '{suggest}')",
  domain_long: 'is longer than 253 characters',
  domain_ip: 'must be a domain name, not an IP address',
  domain_empty_label: 'has an empty label (two dots in a row, or a leading dot)',
  domain_label: "has an invalid label '{label}' (letters, digits and inner hyphens only, at most 63)",
  domain_numeric: 'is neither a valid IP address nor a domain',
  host: 'must be an IP address or a host name: {detail}',
  host_brackets: "write the IPv6 address without brackets ('{suggest}')",
  host_zone: 'zone index (%) not allowed',
  bind_host: "must be an IP address of this machine ('0.0.0.0' = all, '127.0.0.1' = this PC only)",
  loopback_host: "must be a loopback address ('127.0.0.1', '::1' or 'localhost'): the admin interface has no login",
  ip: 'is not an IP address',
  cidr_empty: 'empty network',
  cidr_address: 'not an IP address: {value}',
  cidr_zone: 'zone index (%) not allowed in a network',
  cidr_prefix: 'bad prefix length: {value}',
  cidr_prefix_max: 'prefix length {prefix} is over {max}',
  cidr_open: '{value} would trust every address (open relay)',
  // addresses and accounts
  address: 'not a valid address: {detail}',
  pattern: 'not a valid pattern: {detail}',
  pattern_spaces: 'leading or trailing space in pattern',
  allow_spaces: 'leading or trailing space',
  pattern_star: 'use a single * for any run of characters',
  pattern_domain: "domain '{domain}' {detail}",
  allow_wildcard: 'wildcards are not supported in the allow-list',
  allow_entry: 'not a valid domain or address: {detail}',
  account_exists: "'{pattern}' is already configured",
  account_missing: "no account '{pattern}' is configured",
  approver_needed: "is required when mode is 'approval' (one or more approvers)",
  internal_address: 'must be an address in an internal domain ({domains}): notices never go outside',
  exact_address: 'must be one address, not a pattern',
  not_frozen: '{address} is not frozen',
  public_url: "must be an http:// or https:// address without a path ('https://192.168.0.103:8443'), or empty",
  // replies
  reply_ascii: 'must be printable ASCII on one line (SMTP replies cannot carry Japanese; the UI and logs do)',
  reply_placeholder: 'unknown placeholder {{name}} (use {account}, {recipient} or {sender})',
  // SMTP AUTH
  username: 'must be 1-64 printable ASCII characters without spaces',
  password_hash: "must be a scrypt hash (set it with 'gatehouse auth add')",
  password_short: 'must have at least {min} characters',
  password_needed: 'is required for a new user',
  user_missing: "no user '{username}'",
  user_exists: "user '{username}' already exists; edit it to change it",
  // cross-field rules
  user_for_password: 'is required when a password is set',
  tls_file_needed: "is required when mode is 'files'",
  delay_warning: 'must be less than {field} ({value}), or 0 to send no delay warning',
  port_clash: 'must differ from listener.port ({port}): both would listen on it',
  port_clash_with: 'must differ from {field} ({port}): both would listen on it',
  // lists
  listed: '{value} is already listed',
  not_listed: '{value} is not listed',
  // files
  json: 'not valid JSON at line {line}, column {column}',
  json_unreadable: 'not valid JSON',
  file_removed: 'the file was removed',
  no_change: 'there is no change #{n} in the audit trail',
  csv_header: 'the first line must be the header {columns}',
  csv_column: "unknown column '{name}' (expected {columns})",
  csv_column_twice: "column '{name}' appears twice",
  csv_fields: '{count} fields, but the header has {expected}',
  csv_quote: 'a quoted field is never closed (a " is missing)',
  csv_syntax: 'a " inside a field that is not quoted as a whole; quote the whole field and double the "',
  csv_bool: "{column} '{value}' must be true/false, 1/0 or yes/no",
  csv_mode: "mode '{value}' must be relay, delay, approval or block",
  csv_int: "{column} '{value}' must be an integer {min}-{max}",
  csv_value: "{column} '{value}' {detail}",
  csv_twice: "pattern '{pattern}' is already on line {line}",
  dat_fields: "expected 'domain, server IP, port' (or 'domain|sender, server, port, options'), got '{text}'",
  dat_value: "{field} '{value}' {detail}",
  dat_port: "port '{value}' must be an integer 1-65535",
  dat_twice: '{server} is already listed for {domain} on line {line}',
  dat_sender_empty: "nothing after '|' (write the envelope sender, or drop the '|')",
  dat_option: "unknown option '{value}' (known: XOAUTH2, auth=xoauth2|password|none, tls=required|opportunistic)",
  dat_option_twice: "{option} given twice ('{value}')",
  dat_option_empty: 'empty option field (a comma too many?)',
  // held mail
  held_unknown: 'no held message {id} (it may have been decided already: see gatehouse history)',
  held_decided: 'message {id} was already {action} by {by} at {at}; nothing changed',
  held_kind: 'message {id} is held for {kind}, not for {expected}',
  // deliverability
  dns_server: "must be an IP address, or ip:port ('127.0.0.1:5353', '[::1]:53')",
  dkim_selector: "must be DNS labels: letters, digits and inner hyphens (e.g. 's1', '2026a')",
  pem_certificate: "must be a certificate in PEM form ('-----BEGIN CERTIFICATE-----' ... '-----END CERTIFICATE-----')",
  sender_route_plain: 'needs a sender when the route has no login: mail to {domain} from any sender is a plain route (routing table)',
  sender_route_internal: "{domain} is an operated domain: its mail goes by the routing table; sender conditions apply to external destinations",
  dkim_key_exists: 'a key for {domain} with selector {selector} already exists; remove it first or choose another selector',
  dkim_key_missing: 'no DKIM key for {domain} with selector {selector}',
  oauth_not_configured: 'no XOAUTH2 login is set up: register the app first (client id, mailbox)',
  oauth_flow_unsupported: "{provider} does not allow the device-code sign-in for mail; use the browser sign-in",
  oauth_endpoint: "must be an https URL (http only for 127.0.0.1 or localhost)",
  // the gateway
  not_running: 'needs a running gateway (gatehouse serve or the desktop app)',
} as const;

export type IssueCode = keyof typeof ISSUE_EN;
export type IssueParams = Record<string, string | number>;

/** A problem with one value, before it knows where in a document it is. */
export interface Problem {
  code: IssueCode;
  params?: IssueParams;
  message: string;
}

/** A problem at a place: `path` is '' for the whole value, `line` for line-based files. */
export interface ValidationIssue extends Problem {
  path: string;
  line?: number;
}

/** Fills `{name}` placeholders; unknown names stay as written. */
export function fillTemplate(template: string, params: IssueParams | undefined): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

export function problem(code: IssueCode, params?: IssueParams): Problem {
  const p: Problem = { code, message: fillTemplate(ISSUE_EN[code], params) };
  if (params) p.params = params;
  return p;
}

export function issueAt(path: string, p: Problem): ValidationIssue {
  return { path, ...p };
}

/** `routes[1].hosts[0].port` from path parts. */
export function formatPath(parts: readonly (string | number)[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

/** `path: message` lines, the form the CLI prints. */
export function formatIssues(issues: readonly Pick<ValidationIssue, 'path' | 'message'>[]): string {
  return issues.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('\n');
}

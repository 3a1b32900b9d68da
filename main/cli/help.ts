/*
 * --help texts for every `gatehouse` command: the CLI's public interface in words.
 * One entry per command group; `gatehouse help <command>` and `<command> --help` print it.
 */
export const COMMON = `Common options:
  --data DIR     data folder (config, spool, logs); default: the per-user app-data
                 folder (%APPDATA%\\Gatehouse, ~/.config/Gatehouse) or $GATEHOUSE_DATA
  -h, --help     show help`;

export const HELP: Record<string, string> = {
  main: `gatehouse: SMTP gateway for small offices

Usage: gatehouse <command> [options]

Commands:
  serve                          run the gateway (SMTP + admin UI on 127.0.0.1)
  check <sender> <recipient>     who can send to what: the decision and the rule
  accounts list|block|unblock|allow|mode|bcc|frozen|unfreeze|import|export
  approvals list|approve|reject  mail held for approval (上長承認)
  routes list|import|export|status
  domains list|add|remove        internal (operated) domains
  trusted list|add|remove        trusted networks (CIDR)
  config show                    the config in force
  history                        the audit trail of config changes
  restore <n>                    restore the config as it was after change n
  auth list|add|remove|enable|disable
                                 SMTP AUTH users (offered only after STARTTLS)
  queue list|show|retry|hold|release|delete|bounce|delayed|send-now|cancel
  message show <queue-id>        one message from received to delivered or bounced
  message search <text> [--days N]
                                 messages by address, subject, queue id or Message-ID
  delivery pause|resume|status|hold <domain>|release <domain>
                                 outgoing delivery, apart from receiving
  log tail [-f]                  the receivelog (or --senderlog), readable
  export postfix [--out DIR]     the same policy as Postfix configuration
  dkim generate|show|remove      DKIM signing keys and the TXT record to publish
  doctor                         the deliverability check: SPF, reverse DNS, DKIM, DMARC,
                                 MTA-STS, port 25, the smarthost login, with the records
  call <command> [JSON]          any command of the admin API, by name (for scripts)
  service install|uninstall|start|stop|status|firewall
                                 the gateway as a Windows service (--dry-run anywhere)

Run 'gatehouse <command> --help' for a command's options.

${COMMON}
Exit codes: 0 ok, 1 failed (or: check rejected), 2 bad input.`,

  serve: `Usage: gatehouse serve [--data DIR] [--listen HOST:PORT] [--admin HOST:PORT] [--no-admin] [--service]

Runs the gateway in the foreground: the SMTP listener, delivery, the logs and the admin UI
(HTTP on 127.0.0.1, guarded by a token printed at start). When the data folder has no
config yet, a demo config is written (listener 127.0.0.1:2525, domain test.jp, trusted
127.0.0.0/8, baito@test.jp blocked from external sending).

  --listen HOST:PORT   SMTP listener for this run (not saved); port 0 picks a free port
  --admin HOST:PORT    admin UI address (loopback only; default from config, 127.0.0.1:8025)
  --no-admin           do not start the admin UI
  --service            run as the Windows service does (what its wrapper starts): a new data
                       folder gets the defaults (all interfaces, port 25 on Windows), not the
                       demo; the folder is limited to SYSTEM, Administrators and the service;
                       the smarthost password is sealed with DPAPI for the machine; admin.json
                       is shared with the users in service.json
${COMMON}`,

  service: `Usage: gatehouse service <install|uninstall|start|stop|status|firewall> [--dry-run] ...

The gateway as a Windows service: started at boot with nobody signed in, restarted after a
failure, run by the app's own Gatehouse.exe (ELECTRON_RUN_AS_NODE) as LocalService with its own
service SID, its data in %ProgramData%\\Gatehouse (SYSTEM, Administrators and the service only).
The user who installs it administers it: the tray starts and stops it without a UAC prompt and
reads its admin API. Each action asks for administrator rights (UAC) when it needs them.
--dry-run prints the service wrapper's XML and every command it would run, on any OS; without
it, the commands work on Windows only (elsewhere they exit 2).

  install     move this user's desktop data in (settings, queue, logs; the move is in the
              audit trail; the smarthost password sealed again for the machine), register
              and start the service, open the SMTP port in Windows Firewall (domain and
              private networks). Run again on an installed service (an upgrade), it writes
              the wrapper's XML again and starts it, keeping data and registration.
  uninstall   stop and remove the service and its firewall rule, and move the data back to
              this user's desktop folder (sealed again for the user)
  start, stop the service (stop waits until deliveries finish or go back to the queue)
  status      installed? running? who administers it
  firewall    move the firewall rule to --port N (after the SMTP port changed)

  --dry-run           print what would be done, change nothing (any OS)
  --from DIR          install: the desktop data folder to move in (default: this user's)
  --to DIR            uninstall: the folder to move the data back to (default: this user's)
  --keep-data         uninstall: leave the data in %ProgramData%\\Gatehouse
  --no-start          install over an existing service: leave it stopped
  --from-installer    install: the installer's own call (it is already elevated): never
                      asks for administrator rights, fails instead (exit 2); the data move
                      is recorded as the installer's
  --port N            firewall: the SMTP port
  --json              print the result as JSON
  --admin-user NAME, --admin-sid SID
                      who administers the service (default: you; used when elevating)
${COMMON}`,

  check: `Usage: gatehouse check <sender> <recipient> [--client IP] [--json]

Prints the decision for one sender/recipient pair and the rule that fires, exactly as the
gateway would decide at MAIL FROM and RCPT TO, and for an accepted pair the route its mail
takes next (routing table, route with a sender condition, smarthost or MX). Use '' or '<>'
for the null sender.

  --client IP   the connecting client's address (default 127.0.0.1)
  --json        machine-readable output
Exit code: 0 accepted, 1 rejected, 2 bad input.
${COMMON}`,

  accounts: `Usage: gatehouse accounts <list|block|unblock|allow|mode|bcc|frozen|unfreeze|import|export> ...

  list [--json] [--search TEXT]       all accounts, configured and discovered from traffic
  block <address|pattern> [--note T]  forbid external sending (外部への送信を禁止)
  unblock <address|pattern>           allow external sending again
  allow <address|pattern> <domain|address>... [--remove]
                                      external domains/addresses it may still reach
                                      (at once, whatever the mode)
  mode <address|pattern> relay|delay|approval|block [--minutes N]
       [--approver ADDR]... [--stand-in ADDR] [--expire-hours H]
                                      what happens to external recipients (誤送信防止):
                                      relay: sent at once (default); delay: held N minutes
                                      (一時保留; default 5), the sender may cancel it or send
                                      it now; approval: held until an approver (上長承認,
                                      --approver repeats; --stand-in 代理承認者) approves,
                                      rejected with a DSN after H hours (default 24);
                                      block: 550 at RCPT. Colleagues always get mail at once.
  bcc <address|pattern> ADDR... | --clear
                                      automatic Bcc of external mail (BCC自動追加), envelope
                                      only: no header changes
  frozen [--json]                     senders frozen after their hourly limit
  unfreeze <address>                  accept a frozen sender's mail again
  import <file.csv> [--replace]       CSV: pattern,blockExternal,allow,note, and optionally
                                      mode,delayMinutes,approvers,standIn,expireHours,bcc
                                      (lists ';'-separated); older four-column files import
  export [file.csv]                   write the CSV (UTF-8 with BOM) to the file or stdout
Patterns: '*' matches any run of characters: '*@part.test.jp', 'baito*@test.jp'; '*@test.jp'
sets the office-wide default, the most specific pattern wins.
Sender limits, Bcc conversion and the admin's notice address are settings:
  gatehouse call config.set '{"key":"outbound","value":{"bccConvertOver":10,
    "senderLimits":{"enabled":true,"messagesPerHour":200,"externalRecipientsPerHour":500}}}'
${COMMON}`,

  approvals: `Usage: gatehouse approvals <list|approve|reject> ...

Mail held for approval (上長承認): the external copy of mail from an account in 'approval'
mode waits until an approver decides; colleagues got it at once.

  list [--json]                       what waits: id, sender, recipients, subject, attachments
  approve <id> [--as ADDR]            send it on (exactly once, also after a restart)
  reject <id> [--reason TEXT] [--as ADDR]
                                      do not send it; the sender gets a bounce (DSN) with
                                      the reason
  --as ADDR   the approver you act for (recorded in the history with 'cli')
A message already decided, or an unknown id, is refused (exit 2) and nothing changes.
Needs 'gatehouse serve' (or the desktop app) running.
Approvers at other PCs can decide from a link in their notice mail once the LAN approval
page is on (off by default; HTTPS with the STARTTLS certificate; each link works once):
  gatehouse call config.set '{"key":"approvalPage","value":{"enabled":true,
    "listen":{"host":"0.0.0.0","port":8443},"publicUrl":"https://192.168.0.103:8443"}}'
${COMMON}`,

  routes: `Usage: gatehouse routes <list|import|export|status> ...

  list [--json]                 domain -> hosts in failover order, and the routes with
                                sender conditions (destination, sender, hosts, login, TLS);
                                --json: the routing table (the others: config show)
  list --sender S --recipient R which route mail from S to R takes ('' or '<>': null sender)
  import <Gateway.dat> [--replace]
                                E-Post form: one 'domain, IP, port' per line; several lines
                                for one domain = failover order. E-Post's extended lines too:
                                '*|sender@test.jp,host,port' (every external destination for
                                that sender; a domain after '|' = all its senders), options
                                after the port: XOAUTH2, auth=xoauth2|password|none,
                                tls=required|opportunistic. Bad lines are reported with their
                                line number and nothing is imported. A route with
                                auth=password waits for its login, set in the admin UI.
  export [file]                 write Gateway.dat (the same forms) to the file or stdout
  status                        health of each next hop (needs 'gatehouse serve' running)
${COMMON}`,

  dkim: `Usage: gatehouse dkim <generate|show|remove> <domain> ...

  generate <domain> --selector S [--algorithm rsa|ed25519] [--json]
                  make a signing key (RSA 2048 by default) and print the TXT record to
                  publish at S._domainkey.<domain>. Mail from <domain> to the outside is
                  signed from the next message on (a signature receivers cannot check yet
                  counts as none, never worse). For a new key next to an old one, use a new
                  selector; the first key of a domain signs.
  show <domain> [--json]
                  the domain's keys, their records, and whether DNS publishes them
                  (exit code 0 when every key is published and matches, else 1)
  remove <domain> --selector S
                  delete a key (mail from <domain> is no longer signed with it)
The DNS servers asked are delivery.dnsServers (config), else the system's.
${COMMON}`,

  doctor: `Usage: gatehouse doctor [--json]

Checks what receivers (Gmail, Microsoft) look at, for each operated domain: SPF covers the
gateway's public address (deliverability.publicIp) or the smarthost; DKIM keys are published
and match; DMARC is present; the domain's own MTA-STS. Then forward-confirmed reverse DNS of
the gateway's name, outbound port 25 (to deliverability.port25Target, when set) and the
smarthost login. Each result says what it means in English and Japanese and, when a DNS
record would fix it, the exact record to publish.
Exit code: 0 nothing failing (warnings allowed), 1 something failing, 2 bad input.
${COMMON}`,

  domains: `Usage: gatehouse domains <list|add|remove> [domain]

Internal (operated) domains: mail to them is routed to the office mail server.
${COMMON}`,

  trusted: `Usage: gatehouse trusted <list|add|remove> [CIDR]

Trusted networks (中継を許可するネットワーク): clients there may relay to external
domains, subject to per-account blocks. IPv4 and IPv6 CIDRs or single addresses.
${COMMON}`,

  config: `Usage: gatehouse config show [--json]

Prints the config in force (the smarthost password is never printed).
${COMMON}`,

  history: `Usage: gatehouse history [--json]

The audit trail: every config change with when, through which interface and what, and every
action (approved, rejected, expired, cancelled, sent now, frozen, unfrozen) with who; actions
show '-' as their number: they are not settings to restore.
${COMMON}`,

  restore: `Usage: gatehouse restore <n>

Restores the config as it was right after change n of 'gatehouse history'. The restore is
itself recorded as a change.
${COMMON}`,

  auth: `Usage: gatehouse auth <list|add|remove|enable|disable> ...

SMTP AUTH for clients outside the trusted networks (a branch office, a laptop). It is
offered only after STARTTLS, and a login may use only its own addresses in MAIL FROM and
From: (sender-login binding). Passwords are stored as scrypt hashes.

  list [--json]
  add <user> --addresses a@test.jp[,*@branch.test.jp]
                  the password is read from standard input (first line, 8+ characters)
  remove <user>
  enable | disable
${COMMON}`,

  queue: `Usage: gatehouse queue <list|show|retry|hold|release|delete|bounce|delayed|send-now|cancel> ...

  list [--state queued|deferred|hold|active] [--sender TEXT] [--recipient TEXT] [--json]
  show <id>            envelope, per-recipient state and headers
  retry [id]           retry now (one message, or all)
  hold <id> / release <id>
  delete <id>          remove without a bounce
  bounce <id>          bounce the pending recipients to the sender now
  delayed [--json]     delayed mail (一時保留) of accounts in 'delay' mode
  send-now <id>        delayed mail goes out now (今すぐ送信)
  cancel <id>          delayed mail is not sent to its external recipients (送信取り消し)
list and show read the spool directly; the others ask the running 'gatehouse serve'.
${COMMON}`,

  message: `Usage: gatehouse message show <queue-id> [--day YYYY-MM-DD] [--json]
       gatehouse message search <text> [--days N] [--json]

show: the message's timeline, one line per step: received (the client), each decision
(sender and recipients, with the rule that decided in plain words), queued, every delivery
attempt (server, reply, TLS), delivered, bounced or expired, and the bounce it caused.
<queue-id> is the id in '250 Ok: queued as <id>'; a refused message that was never queued
has a ref of its own (<session>.<n>, listed by 'message search'; give --day for it).

search: messages whose sender, recipient, From:, subject, queue id or Message-ID contains
<text> (any case), newest first, over the retained log days (--days N: the last N days).
Works with or without a running gateway (it reads the log files).

  --day YYYY-MM-DD   the day a refused message's session was (show)
  --days N           search only the last N days (today = 1)
  --json             the command's answer as JSON
Exit code 2 when no log names the message.
${COMMON}`,

  delivery: `Usage: gatehouse delivery <pause|resume|status|hold DOMAIN|release DOMAIN> [--json]

Controls outgoing delivery apart from receiving:
  pause            no delivery attempt starts; mail is still received and queued (attempts
                   already running finish). Kept across a restart: a gateway started on a
                   paused data folder starts paused.
  resume           delivery starts again at once (what is due goes out)
  status           paused or not, the held domains and the queue's counts
  hold DOMAIN      recipients in DOMAIN (and its subdomains) wait in the queue; the rest go on
  release DOMAIN   mail to DOMAIN goes out again
The state is the file delivery-control.json in the data folder; with no gateway running the
CLI writes it and the gateway starts that way.
${COMMON}`,

  log: `Usage: gatehouse log tail [-n N] [-f] [--senderlog] [--day YYYY-MM-DD] [--json]

Prints the last N (default 20) lines of today's receivelog (or senderlog), one readable line
each; -f keeps following new lines.
${COMMON}`,

  call: `Usage: gatehouse call <command> [JSON|-] [--json]

Runs one command of the admin API (the same commands the admin UI uses) with its arguments
as JSON, or '-' to read them from standard input, and prints the result as JSON. While
'gatehouse serve' or the desktop app runs on the data folder, the command goes to it;
otherwise it runs here. Arguments are checked as the admin UI's are.

  gatehouse call accounts.setBlock '{"pattern":"baito@test.jp","block":true}'
  gatehouse call config.set '{"key":"limits","value":{"maxRecipients":50}}'
  gatehouse call status

  --json   on a refusal, also print {"ok":false,"error":{code,message,issues}} to stdout
Exit code: 0 ok, 1 failed, 2 refused (bad arguments, not found, needs the running gateway).
${COMMON}`,

  export: `Usage: gatehouse export postfix [--out DIR]

Writes the policy in force as Postfix configuration, for an office that outgrows one PC:
main.cf lines (trusted networks, internal domains, smarthost, limits, one restriction class
per account blocked from external sending) and the lookup tables they name (routes as a
transport map, accounts as hash and regexp tables, allow-lists). With --out DIR the files go
to DIR with a README.txt saying how to install them (copy, postmap, postfix reload);
without it everything is printed. What Postfix cannot express the same way is listed.

  --out DIR   folder to write (created if missing)
${COMMON}`,
};

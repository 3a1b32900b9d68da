/*
 * The composition root: opens the config store, spool, logs and delivery runner in a data
 * folder, and starts/stops the SMTP listener. Delivery's deliverability options (sender
 * routes, logins, DKIM keys, TLS), its DNS and the XOAUTH2 login come from the settings too.
 * Events fan out once, here: each receivelog / senderlog entry goes to its JSONL file, to the
 * traffic counters and to subscribers (the UI), in that order; a config change goes out as
 * the new ConfigView and accounts list, a change of the XOAUTH2 login as its status. Config
 * changes apply live: the compiled policy is swapped for the next
 * SMTP command, limits are pushed into the running server, and a listener move restarts only
 * the listener. `open()` fails with a ConfigError if config.json is broken and no last good
 * copy exists; `start()` fails if the port cannot be bound (the error is kept in status()).
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { ConfigStore, SeenAccounts, listAccounts, onSealFallback, useDpapi, useFileKey, type DpapiScope } from './config/index.js';
import { compilePolicy, splitAddress, trustOf, type CompiledPolicy } from './policy/index.js';
import { Spool, type RecoveryNote, type SpoolHeader } from './spool/index.js';
import { JsonlLog, localDay } from './log/index.js';
import { Receiver } from './smtp/receiver.js';
import { ConnectionCounts, LocalGate } from './smtp/connection-gate.js';
import { ListenerPool } from './smtp/listener-pool.js';
import { toConfigView } from './config-view.js';
import { loadTlsMaterial } from './smtp/tls.js';
import { DeliveryRunner, RecipientVerifier, type MxResolver, type OutboundOptions } from './delivery/index.js';
import { outboundFromConfig } from './delivery/outbound-settings.js';
import { liveResolver, type DnsLookup } from './dns/resolver.js';
import { OAuthLogin } from './oauth/login.js';
import { TrafficStatsCollector } from './stats/traffic.js';
import { Outbound, heldDir } from './outbound/index.js';
import { ApprovalPage } from './approval-page/index.js';
import { DeliveryControl } from './delivery/control.js';
import { Notifier } from './notify/notifier.js';
import { noticeMail } from './notify/notice-mail.js';
import { hopGroups, hopName } from './notify/hop-groups.js';
import { healthOf, type Health } from '../shared/health.js';
import { dataDirProblem, dataPaths, type DataPaths } from './paths.js';
import { secureDataFolder } from './data-folder-access.js';
import { describeHolder, findPortHolder, freePort } from './port-holder.js';
import { checkVolume, type VolumeInfo } from './volume.js';
import type { GatehouseConfig, HostPort, ReceiveLogEntry, SenderLogEntry } from '../shared/types.js';
import type { DeliveryStatus, Events, EventName, GatewayRole, GatewayStatus, PortInUse } from '../shared/contract.js';

export interface GatewayOptions {
  dataDir: string;
  /** Config to write when the data folder has none (demo or setup defaults). */
  createWith?: GatehouseConfig;
  /** Listener for this run only (tests, `serve --listen`); not saved to config. */
  listen?: HostPort;
  /** DNS for delivery and everything else (tests inject one; default: `dnsServers`, else delivery.dnsServers, else node:dns). */
  resolver?: MxResolver;
  /** DNS servers (`ip:port`) to ask instead of `delivery.dnsServers` (tests). */
  dnsServers?: readonly string[];
  /** The deliverability engines' options instead of the ones made from the settings (tests). */
  outbound?: () => OutboundOptions;
  /** The OAuth provider's HTTP client (tests point it at a stand-in); default global fetch. */
  oauthFetch?: typeof fetch;
  /** false only for explicit benchmarks of the non-durable path. */
  spoolFsync?: boolean;
  /** Clock of the held queue's timers and the sender limits (tests move it; default the system's). */
  now?: () => Date;
  /** Problems an operator must see at once (log folder unwritable, config refused): serve prints them. */
  report?: (message: string) => void;
  /**
   * Windows: seal the smarthost password with DPAPI in this scope (the desktop app and serve:
   * CurrentUser; the service: LocalMachine). Default: the file key only (tests, other OSes).
   */
  dpapi?: DpapiScope;
  /** Which process this is (status().role; the window says when it controls the service). */
  role?: GatewayRole;
  /** Windows: who may open the data folder (default: the signed-in user, SYSTEM, Administrators). */
  folderPrincipals?: readonly string[];
  /** How the data folder's file system is checked (tests inject an answer); see volume.ts. */
  checkVolume?: (dir: string) => Promise<VolumeInfo>;
  /** Spool retry waits while another program holds a file (tests shorten them). */
  spoolHeldRetryDelaysMs?: readonly number[];
}

/** DNS from a delivery resolver alone: the record types it does not know fail like a server that does not answer. */
function onlyFrom(r: MxResolver): DnsLookup {
  const none = async (name: string): Promise<never> => {
    throw Object.assign(new Error(`no DNS for ${name} (the gateway was given a resolver for delivery only)`), { code: 'ESERVFAIL' });
  };
  const full = r as Partial<DnsLookup>;
  return {
    resolveMx: (d) => r.resolveMx(d),
    resolveHost: (n) => r.resolveHost(n),
    resolveTxt: full.resolveTxt ? (n) => full.resolveTxt!(n) : none,
    resolve4: full.resolve4 ? (n) => full.resolve4!(n) : none,
    resolve6: full.resolve6 ? (n) => full.resolve6!(n) : none,
    reverse: full.reverse ? (ip) => full.reverse!(ip) : none,
  };
}

/** Processes that accept SMTP (performance.listenerProcesses, the main one included). */
function listenerProcessCount(cfg: GatehouseConfig): number {
  return Math.max(1, cfg.performance.listenerProcesses);
}

function listenerTlsKey(cfg: GatehouseConfig): string {
  return JSON.stringify([cfg.tls, cfg.auth.enabled, cfg.hostname]);
}

export class Gateway {
  readonly paths: DataPaths;
  readonly events = new EventEmitter();
  readonly traffic = new TrafficStatsCollector();
  private receiver: Receiver | null = null;
  private compiled: { cfg: GatehouseConfig; policy: CompiledPolicy } | null = null;
  private startedAt: string | null = null;
  private lastError: string | null = null;
  private portInUse: PortInUse | null = null;
  private boundListen: HostPort | null = null;
  private transition: Promise<unknown> = Promise.resolve();
  /** TLS / AUTH settings the running listener was started with. */
  private listenerTls = '';
  /** Open SMTP sessions of every listener process (connection limits). */
  private readonly connections = new ConnectionCounts();
  /** The listener processes besides this one (performance.listenerProcesses). */
  readonly pool: ListenerPool;
  /** Listener processes the running listener was started with (main one included). */
  private processes = 1;
  /** Outbound controls: the held queue (delay, approval), sender limits, the action log. */
  readonly outbound: Outbound;
  /** The LAN approval page (approvalPage in the config): runs from open() to close(), not with the SMTP listener. */
  readonly approvalPage: ApprovalPage;
  /** Tells the admin when something needs them (notify/notifier.ts). */
  readonly notifier: Notifier;
  private notifyTimer: NodeJS.Timeout | null = null;
  private notifySoon: NodeJS.Timeout | null = null;
  private lastHealth: Health['level'] | null = null;
  /** Frozen senders already told about (a notice per new freeze). */
  private frozenNoticed = new Set<string>();
  /**
   * Settles once the spool's background recovery has handed every queued message to delivery
   * (then they are all scheduled): how many, and the seconds since the open began.
   */
  recovered: Promise<{ count: number; seconds: number; stopped: boolean }> = Promise.resolve({ count: 0, seconds: 0, stopped: false });

  private constructor(
    private readonly opts: GatewayOptions,
    readonly store: ConfigStore,
    readonly seen: SeenAccounts,
    readonly spool: Spool,
    readonly receivelog: JsonlLog<ReceiveLogEntry>,
    readonly senderlog: JsonlLog<SenderLogEntry>,
    readonly delivery: DeliveryRunner,
    readonly verifier: RecipientVerifier,
    /** DNS as the settings say (delivery.dnsServers, else the system's). */
    readonly dns: DnsLookup,
    /** The XOAUTH2 login for the smarthost and routes with auth xoauth2. */
    readonly oauth: OAuthLogin,
    readonly control: DeliveryControl,
  ) {
    this.paths = dataPaths(opts.dataDir);
    this.events.setMaxListeners(0);
    this.notifier = new Notifier({
      config: () => this.store.get(),
      routes: () => this.delivery.routeHealth(),
      hopName: (hop, via) => hopName(this.store.get(), hop, via),
      queue: () => this.delivery.list(),
      emit: (n) => this.emit('notice', n),
      mail: (n, to) => this.mailNotice(n, to),
      onError: (m) => this.logProblem(m),
    });
    this.pool = new ListenerPool({
      counts: this.connections,
      config: () => this.store.get(),
      log: (e) => this.onReceive(e),
      onQueued: (header) => {
        // Told twice (its report and a spool check after it died): deliver once.
        if (this.spool.adopt(header)) this.onQueued(header);
      },
      verifyRecipient: (rcpt) => this.verifier.verify(rcpt),
      onLost: () => this.adoptUnreported(),
      onHeld: (header) => this.outbound.held.adopt(header),
      countSender: (sender, external) => this.outbound.count(sender, external),
    });
    this.outbound = new Outbound({
      dataDir: this.paths.root,
      spoolDir: this.paths.spool,
      fsync: opts.spoolFsync ?? true,
      main: spool,
      enqueue: (h) => this.delivery.enqueue(h),
      config: () => this.store.get(),
      policy: () => this.policy(),
      logReceive: (e) => this.onReceive(e),
      logSend: (e) => this.onSend(e),
      changed: (what) => void this.emitOutbound(what),
      now: opts.now,
    });
    this.approvalPage = new ApprovalPage({
      dataDir: this.paths.root,
      config: () => this.store.get(),
      held: this.outbound.held,
      log: ({ note, error }) =>
        this.onReceive({ ts: new Date().toISOString(), event: error ? 'error' : 'service', session: '', clientIp: '', tls: false, ...(error ? { error } : { note }) }),
      changed: () => this.emitStatus(),
    });
  }

  /** The approvals / delayed / frozen event with the new list, and the status with the counts. */
  private async emitOutbound(what: 'delay' | 'approval' | 'frozen'): Promise<void> {
    this.emitStatus();
    if (what === 'frozen') {
      const list = this.outbound.frozen.all();
      this.pool.frozenChanged(list);
      this.emit('frozen', list);
      // Each newly frozen sender is a notice (desktop, and mail when set).
      const now = new Set(list.map((f) => f.address));
      for (const f of list) {
        if (!this.frozenNoticed.has(f.address)) this.notifier.report('sender-frozen', { sender: f.address, reason: `${f.count} / ${f.max} ${f.limit === 'messages' ? 'messages' : 'external recipients'} per hour` });
      }
      this.frozenNoticed = now;
    } else if (what === 'approval') {
      const list = await this.outbound.held.list('approval');
      this.emit('approvals', list);
      this.notifier.report('approvals-waiting', { n: list.length });
    } else {
      this.emit('delayed', await this.outbound.held.list('delay'));
    }
  }

  static async open(opts: GatewayOptions): Promise<Gateway> {
    // Windows would refuse (or misread) such a folder only later, file by file.
    const problem = process.platform === 'win32' ? dataDirProblem(opts.dataDir) : null;
    if (problem) throw new Error(`data folder ${opts.dataDir}: ${problem}; choose another folder (--data or GATEHOUSE_DATA)`);
    const paths = dataPaths(opts.dataDir);
    // Owner-only before anything is written into it: made so, or repaired (logged below).
    const access = await secureDataFolder(paths.root, { principals: opts.folderPrincipals });
    useFileKey(paths.root);
    if (opts.dpapi) useDpapi(opts.dpapi);
    let gw: Gateway | null = null;
    // A settings file held by another program (a virus scanner): a receivelog line, or the
    // report while the gateway is still being opened.
    const onNotice = (note: string): void => {
      if (gw) gw.onReceive({ ts: new Date().toISOString(), event: 'service', session: '', clientIp: '', tls: false, note });
      else opts.report?.(note);
    };
    const store = await ConfigStore.open(paths.root, { createWith: opts.createWith, onNotice });
    const cfg = store.get();
    const seen = await SeenAccounts.open(paths.root);
    const spool = new Spool(paths.spool, {
      fsync: opts.spoolFsync ?? true,
      heldRetryDelaysMs: opts.spoolHeldRetryDelaysMs,
      // A file held by another program (a virus scanner): one receivelog line per event.
      onNotice: (note, queueId) => gw?.onReceive({ ts: new Date().toISOString(), event: 'service', session: '', clientIp: '', tls: false, note, ...(queueId ? { queueId } : {}) }),
    });
    const receivelog = new JsonlLog<ReceiveLogEntry>({ dir: paths.logs, name: 'receivelog', retentionDays: cfg.log.retentionDays });
    const senderlog = new JsonlLog<SenderLogEntry>({ dir: paths.logs, name: 'senderlog', retentionDays: cfg.log.retentionDays });
    await receivelog.open();
    await senderlog.open();
    // Follows delivery.dnsServers: a change applies to the next lookup. A resolver given for
    // delivery (tests) answers all of it: what it cannot (TXT, PTR) fails as it does, so no
    // lookup leaves the machine behind its back.
    const dns: DnsLookup = opts.resolver
      ? onlyFrom(opts.resolver)
      : liveResolver(() => (opts.dnsServers && opts.dnsServers.length > 0 ? opts.dnsServers : store.get().delivery.dnsServers));
    const oauth = new OAuthLogin({ dataDir: paths.root, config: () => store.get(), onChange: (s) => gw?.emit('oauth', s), fetch: opts.oauthFetch });
    const control = await DeliveryControl.open(paths.root);
    const delivery = new DeliveryRunner({
      control,
      spool,
      config: () => store.get(),
      log: (e) => gw?.onSend(e),
      resolver: dns,
      outbound: opts.outbound ?? outboundFromConfig({ config: () => store.get(), resolver: dns, oauth, report: (m) => gw?.logProblem(m) }),
      onChange: () => gw?.emitQueue(),
    });
    const verifier = new RecipientVerifier({ config: () => store.get() });
    gw = new Gateway(opts, store, seen, spool, receivelog, senderlog, delivery, verifier, dns, oauth, control);
    const self = gw;
    onSealFallback((m) => self.logProblem(m));
    await gw.init();
    if (control.problem) opts.report?.(control.problem);
    for (const line of access) {
      gw.onReceive({ ts: new Date().toISOString(), event: 'service', session: '', clientIp: '', tls: false, note: `data folder access: ${line}` });
      opts.report?.(`data folder access: ${line}`);
    }
    return gw;
  }

  private async init(): Promise<void> {
    // Everything logged from here on is counted live; the seed counts only what came before.
    const seedUntil = Date.now();
    // The queue is verified in the background (Spool.openInBackground): on a queue of 100,000
    // the listener answers within a second. Delivery lists the recovered messages at once and
    // schedules them when the whole queue is verified (runner.loaded), so a kill during the
    // recovery finds none of them half delivered.
    const markers = new Set<string>();
    const startedAt = Date.now();
    const { notes, done } = await this.spool.openInBackground((batch) => {
      for (const m of batch) if (m.header.session.startsWith('held:')) markers.add(m.header.session);
      this.delivery.load(batch);
    });
    const recoveryNote = (n: RecoveryNote): void =>
      this.onReceive({ ts: new Date().toISOString(), event: 'error', session: '', clientIp: '', tls: false, error: `spool recovery: ${n.action} ${n.file}: ${n.reason}` });
    notes.forEach(recoveryNote);
    this.delivery.loaded(done);
    this.recovered = done.then((r) => {
      const seconds = (Date.now() - startedAt) / 1000;
      r.notes.forEach(recoveryNote);
      for (const error of r.errors) this.onReceive({ ts: new Date().toISOString(), event: 'error', session: '', clientIp: '', tls: false, error: `spool recovery: ${error}` });
      if (r.count > 0 || r.stopped) {
        const note = r.stopped
          ? `spool recovery: stopped by the shutdown after ${r.count} queued message${r.count === 1 ? '' : 's'}; the rest is recovered at the next start`
          : `spool recovery: ${r.count} queued message${r.count === 1 ? '' : 's'} verified in ${seconds.toFixed(1)} s`;
        this.onReceive({ ts: new Date().toISOString(), event: 'service', session: '', clientIp: '', tls: false, note });
      }
      return { count: r.count, seconds, stopped: r.stopped };
    });
    // A decision half done at a crash is finished from the markers: only a held message that
    // needs them waits for the main queue's recovery.
    for (const error of await this.outbound.open(() => done.then(() => markers))) {
      this.onReceive({ ts: new Date().toISOString(), event: 'error', session: '', clientIp: '', tls: false, error });
    }
    await this.approvalPage.apply();
    this.store.on('change', () => this.onConfigChange());
    this.store.on('error', (err: Error) => {
      this.lastError = err.message;
      this.opts.report?.(`config: ${err.message}`);
      this.onReceive({ ts: new Date().toISOString(), event: 'error', session: '', clientIp: '', tls: false, error: `config: ${err.message}` });
      this.emitStatus();
    });
    this.receivelog.onError = (err) => this.logProblem(`receivelog: ${err.message}`);
    this.senderlog.onError = (err) => this.logProblem(`senderlog: ${err.message}`);
    this.store.watch();
    void this.seedTraffic(seedUntil);
    void this.checkDataVolume();
    this.control.onChange(() => {
      this.delivery.controlChanged();
      void this.deliveryStatus().then((d) => this.emit('delivery', d));
      this.emitStatus();
    });
    // Near-expiry needs a clock; the rest is checked as delivery lines and queue changes come.
    this.notifyTimer = setInterval(() => void this.notifier.check(), 60_000);
    this.notifyTimer.unref();
  }

  /** Outgoing delivery as the admin controls it, with the queue's counts. */
  async deliveryStatus(): Promise<DeliveryStatus> {
    return { ...this.control.state(), durable: true, queue: this.queueCounts() };
  }

  /** A notice as a mail to the admin: null sender (it never bounces back), spooled like any message. */
  private async mailNotice(n: Parameters<typeof noticeMail>[0], to: string): Promise<void> {
    const cfg = this.store.get();
    const body = noticeMail(n, to, cfg.hostname, new Date());
    const header = await this.spool.write({ sender: '', recipients: [to], clientIp: '127.0.0.1', session: `notice-${n.id}`, trusted: true }, body);
    this.delivery.enqueue(header);
  }

  /** Checks the notices soon (after a burst of lines, once). */
  private noticeSoon(): void {
    if (this.notifySoon) return;
    this.notifySoon = setTimeout(() => {
      this.notifySoon = null;
      void this.notifier.check();
      // A route going down or coming back changes the health: tell the window and the tray.
      if (this.health().level !== this.lastHealth) this.emitStatus();
    }, 500);
    this.notifySoon.unref();
  }

  health(): Health {
    const cfg = this.store.get();
    const c = this.control.state();
    const q = this.delivery.stats();
    return healthOf({
      running: this.receiver !== null,
      error: this.lastError,
      configProblem: this.store.startupProblem ?? null,
      paused: c.paused,
      heldDomains: c.heldDomains.map((d) => d.domain),
      queueTotal: q.total,
      routes: this.delivery.routeHealth(),
      groups: hopGroups(cfg),
      failures: cfg.notifications.routeDown.failures,
      queueThreshold: cfg.notifications.queueSize.messages,
    });
  }

  /** Warn when the data folder's file system cannot keep the spool's promise (volume.ts). */
  private async checkDataVolume(): Promise<void> {
    const v = await (this.opts.checkVolume ?? checkVolume)(this.paths.root);
    if (!v.warning) return;
    this.logProblem(`data folder: ${v.warning}`);
    this.onReceive({ ts: new Date().toISOString(), event: 'error', session: '', clientIp: '', tls: false, error: `data folder: ${v.warning}` });
  }

  logProblem(text: string): void {
    this.traffic.addError(new Date().toISOString(), text);
    this.opts.report?.(text);
  }

  private async seedTraffic(before: number): Promise<void> {
    const today = new Date();
    for (let i = 6; i >= 0; i--) {
      const day = localDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - i));
      await this.traffic.seedFile(this.receivelog.fileFor(day), 'receive', before);
      await this.traffic.seedFile(this.senderlog.fileFor(day), 'send', before);
    }
  }

  /** The compiled policy for the current config, recompiled only when the config changed. */
  policy(): CompiledPolicy {
    const cfg = this.store.get();
    if (!this.compiled || this.compiled.cfg !== cfg) this.compiled = { cfg, policy: compilePolicy(cfg) };
    return this.compiled.policy;
  }

  on<E extends EventName>(event: E, cb: (data: Events[E]) => void): () => void {
    this.events.on(event, cb);
    return () => this.events.off(event, cb);
  }

  private emit<E extends EventName>(event: E, data: Events[E]): void {
    this.events.emit(event, data);
  }

  onReceive(e: ReceiveLogEntry): void {
    this.receivelog.append(e);
    this.traffic.addReceive(e);
    this.emit('receivelog', e);
  }

  onSend(e: SenderLogEntry): void {
    this.senderlog.append(e);
    this.traffic.addSend(e);
    this.emit('senderlog', e);
    this.noticeSoon();
  }

  private emitQueue(): void {
    this.emit('queue', this.queueCounts());
    this.noticeSoon();
  }

  private emitStatus(): void {
    const s = this.status();
    this.lastHealth = s.health.level;
    this.emit('status', s);
  }

  private heldCounts(): { approvals: number; delayed: number } {
    const c = this.outbound.held.counts();
    return { approvals: c.approval, delayed: c.delay };
  }

  private queueCounts(): GatewayStatus['queue'] {
    const s = this.delivery.stats();
    return { total: s.total, deferred: s.deferred, hold: s.hold };
  }

  private wantedListen(): HostPort {
    return this.opts.listen ?? this.store.get().listener;
  }

  status(): GatewayStatus {
    return {
      running: this.receiver !== null,
      role: this.opts.role ?? 'serve',
      listen: this.boundListen,
      listenerProcesses: this.receiver ? this.pool.size() + 1 : 0,
      configured: this.wantedListen(),
      startedAt: this.startedAt,
      error: this.lastError,
      configProblem: this.store.startupProblem ?? null,
      portInUse: this.portInUse,
      dataDir: this.paths.root,
      logDir: this.paths.logs,
      today: this.traffic.today(),
      queue: this.queueCounts(),
      outbound: { ...this.heldCounts(), frozen: this.outbound.frozen.all().length },
      approvalPage: this.approvalPage.status(),
      delivery: { paused: this.control.isPaused(), heldDomains: this.control.state().heldDomains.map((d) => d.domain) },
      health: this.health(),
    };
  }

  /** Serialises start/stop/restart so a double click cannot bind twice. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.transition.then(fn, fn);
    this.transition = next.catch(() => undefined);
    return next;
  }

  start(): Promise<GatewayStatus> {
    return this.serial(() => this.startNow());
  }

  stop(): Promise<GatewayStatus> {
    return this.serial(() => this.stopNow());
  }

  private async startNow(): Promise<GatewayStatus> {
    if (this.receiver) return this.status();
    const cfg = this.store.get();
    const tls = await loadTlsMaterial(this.paths.root, cfg.tls, cfg.hostname);
    const receiver = new Receiver({
      config: () => this.store.get(),
      policy: () => this.policy(),
      verifyRecipient: (rcpt) => this.verifier.verify(rcpt),
      spool: this.spool,
      tls: async () => tls,
      log: (e) => this.onReceive(e),
      onQueued: (header) => this.onQueued(header),
      gate: new LocalGate(this.connections, () => this.store.get().limits),
      outbound: {
        frozen: (sender) => this.outbound.isFrozen(sender),
        count: (sender, external) => this.outbound.count(sender, external),
        held: this.outbound.held.spool,
        onHeld: (header) => this.outbound.held.written(header),
      },
    });
    const want = this.wantedListen();
    try {
      const addr = await receiver.start(want.host, want.port);
      this.listenerTls = listenerTlsKey(cfg);
      this.receiver = receiver;
      this.boundListen = { host: addr.address, port: addr.port };
      this.startedAt = new Date().toISOString();
      this.lastError = null;
      this.portInUse = null;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.portInUse = null;
      if (e.code === 'EADDRINUSE' && want.port !== 0) {
        // Say who holds it (another mail server, IIS SMTP) and offer a port that is free.
        const holder = await findPortHolder(want.port);
        const suggestion = await freePort(want.host);
        this.portInUse = { host: want.host, port: want.port, pid: holder?.pid ?? null, name: holder?.name ?? null, suggestion };
        this.lastError = `cannot listen on ${want.host}:${want.port}: ${describeHolder(want.port, holder)}${suggestion ? `; port ${suggestion} is free` : ''}`;
      } else this.lastError = `cannot listen on ${want.host}:${want.port}: ${e.code ?? ''} ${e.message}`.trim();
      this.emitStatus();
      throw new Error(this.lastError);
    }
    this.processes = listenerProcessCount(cfg);
    const shared = receiver.netServer();
    if (this.processes > 1 && shared) {
      await this.pool.start(shared, this.processes - 1, {
        spoolDir: this.paths.spool,
        heldDir: heldDir(this.paths.spool),
        frozen: this.outbound.frozen.all(),
        fsync: this.opts.spoolFsync ?? true,
        tls: tls ? { key: tls.key.toString('utf8'), cert: tls.cert.toString('utf8') } : null,
      });
    }
    const also = this.pool.size() > 0 ? ` (${this.pool.size() + 1} processes)` : '';
    this.onReceive({ ts: new Date().toISOString(), event: 'service', session: '', clientIp: '', tls: false, note: `listening on ${this.boundListen.host}:${this.boundListen.port}${also}` });
    this.emitStatus();
    return this.status();
  }

  private async stopNow(): Promise<GatewayStatus> {
    const receiver = this.receiver;
    this.receiver = null;
    this.boundListen = null;
    this.startedAt = null;
    if (receiver) {
      await Promise.all([receiver.stop(), this.pool.stop()]);
      this.onReceive({ ts: new Date().toISOString(), event: 'service', session: '', clientIp: '', tls: false, note: 'listener stopped' });
    }
    this.emitStatus();
    return this.status();
  }

  private onQueued(header: SpoolHeader): void {
    // Accounts appear by themselves: internal senders seen from trusted clients.
    if (header.trusted && header.sender) {
      const p = this.policy();
      const { domain } = splitAddress(header.sender);
      if (p.internalDomains.has(domain)) this.seen.record(header.sender, new Date());
    }
    this.delivery.enqueue(header);
  }

  private onConfigChange(): void {
    const cfg = this.store.get();
    // The changed data itself, so a window applies it without asking again.
    this.emit('config', toConfigView(cfg));
    this.emit('accounts', listAccounts(cfg, this.seen));
    this.receivelog.setRetentionDays(cfg.log.retentionDays);
    this.senderlog.setRetentionDays(cfg.log.retentionDays);
    this.receiver?.applyLimits();
    this.pool.configChanged(cfg);
    this.oauth.configChanged();
    void this.approvalPage.apply();
    const bound = this.boundListen;
    const moved = bound !== null && !this.opts.listen && (cfg.listener.host !== bound.host || (cfg.listener.port !== bound.port && cfg.listener.port !== 0));
    // The certificate and the AUTH offer are fixed per listener (smtp-server options).
    const tlsChanged = this.listenerTls !== listenerTlsKey(cfg);
    const processesChanged = listenerProcessCount(cfg) !== this.processes;
    if (this.receiver && (moved || tlsChanged || processesChanged)) {
      // Restarts only the listener; queue, logs and delivery keep running.
      void this.serial(async () => {
        await this.stopNow();
        await this.startNow().catch(() => undefined);
      });
    }
    this.emitStatus();
  }

  /** Complete spool files nobody reported (a listener process died after writing them). */
  private async adoptUnreported(): Promise<void> {
    for (const header of await this.spool.unknownMessages()) {
      if (!this.spool.adopt(header)) continue;
      this.onReceive({ ts: new Date().toISOString(), event: 'service', session: header.session, clientIp: header.clientIp, tls: false, queueId: header.id, note: 'queued message taken over from a listener process that stopped' });
      this.onQueued(header);
    }
    for (const header of await this.outbound.held.spool.unknownMessages()) this.outbound.held.adopt(header);
  }

  isTrusted(ip: string): boolean {
    return trustOf(this.policy(), ip) !== null;
  }

  /** Graceful shutdown: listener first, then delivery (in-flight attempts finish or return). */
  async close(): Promise<void> {
    this.oauth.close();
    if (this.notifyTimer) clearInterval(this.notifyTimer);
    if (this.notifySoon) clearTimeout(this.notifySoon);
    this.notifyTimer = this.notifySoon = null;
    await this.stop();
    await this.approvalPage.close();
    await this.outbound.close();
    await this.delivery.stop();
    // Waits for spool operations still in flight, then releases the queue folder's fd.
    await this.spool.close();
    this.store.close();
    await this.seen.close();
    await this.receivelog.close();
    await this.senderlog.close();
  }

  logFile(kind: 'receive' | 'send', day: string): string {
    return path.join(this.paths.logs, `${kind === 'receive' ? 'receivelog' : 'senderlog'}-${day}.jsonl`);
  }
}

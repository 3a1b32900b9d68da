"""`npm run bench -- --scale [--quick]`: the loads an office meets that are not steady ones.

Run by bench.py (same network namespace with only lo, same private Postfix instance built
from `gatehouse export postfix`, same smtp-source/smtp-sink), side by side with Postfix where
Postfix can do the same work:

  drain     N messages (20,000; --quick 2,000) queued while the smarthost (an smtp-sink) is
            down, 10 clients; then the sink comes up and both are told to retry at once
            (Gatehouse: the admin API's queue.retry, what `gatehouse queue retry` sends;
            Postfix: `postqueue -f`). Time from that command until the sink has counted all N;
            peak RSS of Gatehouse over the whole item. Target: Postfix time / Gatehouse time
            >= 1.5, peak RSS <= 200 MB.
  bigqueue  `gatehouse serve` started on a spool of N messages (100,000; --quick 10,000) left by
            an earlier run (written with the gateway's own Spool, fsync off, then sync(1); the
            page cache is warm: the machine is shared, so it is not dropped). Time from spawn to
            the first 220 on a fresh connection, time until serve prints "Queue recovered"
            (every message verified and scheduled), peak RSS over the first 30 s (the smarthost
            sink is up, so delivery runs meanwhile). Targets 2 s, 30 s, 250 MB. Postfix: no
            figure (filling its queue with 100,000 messages takes longer than this whole run).
  fanout    one message to 1,000 recipients in 200 domains (--quick 200 in 40), MX records from
            a DNS server on 127.0.0.1:53 (fanout.py; /etc/resolv.conf is bind-mounted inside
            this mount namespace only), one sink per domain at 127.0.1.x:25 that waits 50 ms
            before every reply. Time from the 250 to the last recipient at the sinks, and the
            SMTP connections the sinks saw per domain. Target: Gatehouse time <= Postfix time,
            one connection per domain.
  idle      serve (admin host up, no browser connected: the window closed) and the Postfix
            instance with empty queues, measured side by side for 480 s (--quick 60 s; less
            when the items before took long, to end inside run.sh's limit) after 20 s to settle: CPU seconds (all processes, all threads), wakeups (voluntary
            context switches of every thread: a thread that sleeps and wakes counts one), RSS
            at the start and end. Targets (issue: 10 minutes, <= 1 s CPU): CPU <= 1 s per
            600 s, scaled to the window; <= 1 wakeup/s; RSS growth <= 2 MB.

The load average (1 min) is recorded before each item, and `settle` before each measured part.
Every loop is bounded in count and time; every process started here is stopped in `finally`.
"""
import datetime, json, os, shutil, signal, socket, subprocess, sys, threading, time, urllib.request

import bench as B
import fanout

HERE = B.HERE
ROOT = B.ROOT


def loadavg():
    return round(os.getloadavg()[0], 2)


def proc_threads_vcs(pid):
    n = 0
    try:
        tasks = os.listdir(f'/proc/{pid}/task')
    except OSError:
        return 0
    for t in tasks:
        try:
            with open(f'/proc/{pid}/task/{t}/status') as f:
                for line in f:
                    if line.startswith('voluntary_ctxt_switches'):
                        n += int(line.split()[1])
        except OSError:
            pass
    return n


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(B.children(p))
    return out


def api(gh, command, args=None, timeout=30):
    body = json.dumps({'args': args or {}}).encode()
    req = urllib.request.Request(f'{gh.admin_url}/api/{command}', data=body, method='POST',
                                 headers={'content-type': 'application/json', 'authorization': f'Bearer {gh.token}'})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        doc = json.loads(r.read())
    if not doc.get('ok'):
        raise RuntimeError(f'{command}: {doc}')
    return doc.get('value')


def source(port, n, conc=10, size=2048, timeout=600):
    t0 = time.monotonic()
    p = subprocess.run(['smtp-source', '-l', str(size), '-m', str(n), '-s', str(conc), '-f', 'sender@test.jp', '-t', 'someone@example.com', f'127.0.0.1:{port}'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=B.SOURCE_ENV, timeout=timeout)
    return p.returncode, round(time.monotonic() - t0, 1), p.stderr.decode(errors='replace')[-300:]


def wait_count(sink, base, n, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sink.count() - base >= n:
            return time.monotonic()
        time.sleep(0.02)
    return None


# ---- item 2: drain after an outage ---------------------------------------------------------

def drain_one(system, n, work, retry):
    """`system` is started, the sink is down. Queue n, settle, bring the sink up, retry."""
    sampler = B.Sampler(system)
    sampler.start()
    try:
        rc, inject_s, err = source(system.port, n)
        settled = B.settle()
        sink = B.Sink(B.SINK, work)
        try:
            base = sink.count()
            cpu0, busy0 = system.cpu(), B.cpu_busy_ticks()[0]
            t0 = time.monotonic()
            retry()
            t1 = wait_count(sink, base, n, timeout=420)
            got = sink.count() - base
            cpu1, busy1 = system.cpu(), B.cpu_busy_ticks()[0]
        finally:
            sink.stop()
    finally:
        sampler.stop_ev.set()
        sampler.join()
    return dict(system=system.name, n=n, ok=rc == 0 and t1 is not None, inject_rc=rc, inject_s=inject_s, inject_err=err if rc else '',
                settle_s=settled, drain_s=round(t1 - t0, 2) if t1 else None, delivered=got,
                # CPU of the system's processes (all threads) and of the whole machine (sink included) per delivered message.
                cpu_ms_per_msg=round(1000 * (cpu1 - cpu0) / max(1, got), 3),
                machine_busy_ms_per_msg=round(1000 * (busy1 - busy0) / B.HZ / max(1, got), 3),
                peak_rss_mb=round(sampler.peak_rss / 2**20, 1), peak_pss_mb=round(sampler.peak_pss / 2**20, 1))


def item_drain(a, n, out):
    res = {'load_before': loadavg()}
    gh = B.Gatehouse(a.work, out, {}, a.cpu_prof, ROOT, name='gatehouse-drain')
    gh.start()
    try:
        res['gatehouse'] = drain_one(gh, n, out, lambda: api(gh, 'queue.retry'))
    finally:
        gh.stop()
    B.log(f"drain gatehouse: {res['gatehouse']}")
    if a.have_postfix:
        res['load_before_postfix'] = loadavg()
        pf = B.Postfix(a.work, gh.data)
        pf.start()
        try:
            res['postfix'] = drain_one(pf, n, out, lambda: subprocess.run(['postqueue', '-c', pf.etc, '-f'], check=True))
        finally:
            pf.stop()
        B.log(f"drain postfix: {res['postfix']}")
    shutil.rmtree(gh.data, ignore_errors=True)
    return res


# ---- item 3: start on a huge queue ---------------------------------------------------------

def item_bigqueue(a, n, out):
    res = {'load_before': loadavg(), 'n': n}
    data = os.path.join(a.work, 'gatehouse-bigqueue')
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    with open(os.path.join(data, 'config.json'), 'w') as f:
        json.dump(B.bench_config(), f, indent=2)
    mk = B.micro(['mkspool', os.path.join(data, 'spool'), n], timeout=600)
    os.sync()
    res['mkspool_s'] = mk['seconds']
    B.log(f'bigqueue: {n} messages written in {mk["seconds"]} s')
    sink = B.Sink(B.SINK, out)
    base = sink.count()
    res['settle_s'] = B.settle()
    res['load_at_start'] = loadavg()
    logpath = os.path.join(out, 'gatehouse-bigqueue.log')
    argv = ['node'] + B.shebang_flags(os.path.join(ROOT, 'bin', 'gatehouse.js')) + [
        os.path.join(ROOT, 'bin', 'gatehouse.js'), 'serve', '--data', data, '--listen', f'127.0.0.1:{B.GW}', '--no-admin']
    with open(logpath, 'wb') as lf:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, cwd=ROOT, stdout=lf, stderr=subprocess.STDOUT)
        first = recovered = None
        peak = 0
        try:
            while time.monotonic() - t0 < 30:
                peak = max(peak, B.rss_bytes(p.pid))
                if first is None:
                    try:
                        with socket.create_connection(('127.0.0.1', B.GW), timeout=5) as s:
                            s.settimeout(5)
                            if s.recv(64).startswith(b'220'):
                                first = time.monotonic() - t0
                                s.sendall(b'QUIT\r\n')
                    except OSError:
                        time.sleep(0.01)
                        continue
                if recovered is None:
                    with open(logpath, 'rb') as rf:
                        if b'Queue recovered' in rf.read():
                            recovered = time.monotonic() - t0
                time.sleep(0.1)
            res['delivered_in_30s'] = sink.count() - base
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            sink.stop()
    with open(logpath, 'rb') as rf:
        line = [l for l in rf.read().decode(errors='replace').splitlines() if 'Queue recovered' in l]
    res.update(first_220_s=round(first, 2) if first else None, scheduled_s=round(recovered, 2) if recovered else None,
               peak_rss_mb=round(peak / 2**20, 1), serve_line=line[0] if line else None)
    shutil.rmtree(data, ignore_errors=True)
    B.log(f'bigqueue: {res}')
    return res


# ---- item 4: fan-out -----------------------------------------------------------------------

def item_fanout(a, rcpts, domains, out):
    res = {'load_before': loadavg(), 'recipients': rcpts, 'domains': domains}
    env = fanout.Environment(domains, os.path.join(a.work, 'fanout'))
    try:
        env.start()
        gh = B.Gatehouse(a.work, out, {}, a.cpu_prof, ROOT, name='gatehouse-fanout')
        cfg = B.bench_config()
        cfg['delivery'].pop('smarthost')
        # A circular to 1,000 customers needs the recipient limit raised (default 100, the
        # minimum RFC 5321 asks for); Postfix gets the same through the export
        # (smtpd_recipient_limit, its own default being 1000).
        cfg['limits']['maxRecipients'] = 1000
        with open(os.path.join(gh.data, 'config.json'), 'w') as f:
            json.dump(cfg, f, indent=2)
        gh.start()
        try:
            res['gatehouse'] = env.run_one(gh.port, rcpts, 'gatehouse', timeout=300)
        finally:
            gh.stop()
        B.log(f"fanout gatehouse: {res['gatehouse']}")
        if a.have_postfix:
            res['load_before_postfix'] = loadavg()
            pf = B.Postfix(a.work, gh.data)
            # Direct MX delivery with DNS on, the same as Gatehouse without a smarthost.
            subprocess.run(['postconf', '-c', pf.etc, '-e', 'relayhost =', 'smtp_dns_support_level = enabled', 'smtp_host_lookup = dns',
                            'inet_protocols = ipv4'], check=True)
            pf.start()
            try:
                res['postfix'] = env.run_one(pf.port, rcpts, 'postfix', timeout=300)
            finally:
                pf.stop()
            B.log(f"fanout postfix: {res['postfix']}")
        shutil.rmtree(gh.data, ignore_errors=True)
    finally:
        env.stop()
    return res


# ---- item 5: idle --------------------------------------------------------------------------

def item_idle(a, seconds, out):
    res = {'load_before': loadavg(), 'seconds': seconds}
    gh = B.Gatehouse(a.work, out, {}, a.cpu_prof, ROOT, name='gatehouse-idle')
    systems = [gh]
    pf = None
    if a.have_postfix:
        pf = B.Postfix(a.work, gh.data)
        systems.append(pf)
    try:
        for s in systems:
            s.start()
        time.sleep(20)

        def snap(s):
            pids = descendants(s.pid)
            return dict(cpu=sum(B.cpu_secs(p, with_reaped=True) for p in pids), vcs=sum(proc_threads_vcs(p) for p in pids),
                        rss=sum(B.rss_bytes(p) for p in pids), procs=len(pids))

        s0 = {s.name: snap(s) for s in systems}
        t0 = time.monotonic()
        time.sleep(seconds)
        dt = time.monotonic() - t0
        s1 = {s.name: snap(s) for s in systems}
        res['load_after'] = loadavg()
        for s in systems:
            a0, a1 = s0[s.name], s1[s.name]
            res[s.name] = dict(cpu_s=round(a1['cpu'] - a0['cpu'], 2), wakeups=a1['vcs'] - a0['vcs'],
                               wakeups_per_s=round((a1['vcs'] - a0['vcs']) / dt, 3),
                               rss_start_mb=round(a0['rss'] / 2**20, 1), rss_end_mb=round(a1['rss'] / 2**20, 1),
                               processes=a1['procs'])
    finally:
        for s in systems:
            try:
                if hasattr(s, 'pid'):
                    s.stop()
            except Exception as e:
                B.log(f'stop {s.name}: {e}')
    B.log(f'idle: {res}')
    return res


# ---- table ---------------------------------------------------------------------------------

def rows_of(r, quick):
    rows = []

    def add(item, what, gh, pf, ratio, target, met):
        rows.append(dict(item=item, what=what, gatehouse=gh, postfix=pf, ratio=ratio, target=target, met=met))

    d = r.get('drain')
    if d:
        g, p = d.get('gatehouse', {}), d.get('postfix', {})
        ratio = round(p['drain_s'] / g['drain_s'], 2) if g.get('drain_s') and p.get('drain_s') else None
        add('2 drain', f"{g.get('n')} queued while the smarthost was down: s from retry to all delivered", g.get('drain_s'), p.get('drain_s'), ratio, 'Postfix / Gatehouse >= 1.5', ratio is not None and ratio >= 1.5)
        add('2 drain', 'peak RSS while queued and draining (MB)', g.get('peak_rss_mb'), p.get('peak_pss_mb') and f"PSS {p['peak_pss_mb']}", None, '<= 200', g.get('peak_rss_mb') is not None and g['peak_rss_mb'] <= 200)
    q = r.get('bigqueue')
    if q:
        add('3 big queue', f"{q['n']} queued at start: s to the first 220", q.get('first_220_s'), None, None, '<= 2', q.get('first_220_s') is not None and q['first_220_s'] <= 2)
        add('3 big queue', 's until every message is scheduled', q.get('scheduled_s'), None, None, '<= 30', q.get('scheduled_s') is not None and q['scheduled_s'] <= 30)
        add('3 big queue', 'peak RSS over the first 30 s (MB)', q.get('peak_rss_mb'), None, None, '<= 250', q.get('peak_rss_mb') is not None and q['peak_rss_mb'] <= 250)
    f = r.get('fanout')
    if f:
        g, p = f.get('gatehouse', {}), f.get('postfix', {})
        ratio = round(p['seconds'] / g['seconds'], 2) if g.get('seconds') and p.get('seconds') else None
        add('4 fan-out', f"1 message to {f['recipients']} recipients in {f['domains']} domains, 50 ms per reply: s to the last recipient", g.get('seconds'), p.get('seconds'), ratio, 'Postfix / Gatehouse >= 1.0', ratio is not None and ratio >= 1.0 and g.get('complete'))
        add('4 fan-out', 'SMTP connections per domain (max)', g.get('max_conns_per_domain'), p.get('max_conns_per_domain'), None, '1', g.get('max_conns_per_domain') == 1)
    i = r.get('idle')
    if i:
        g, p = i.get('gatehouse-idle', {}), i.get('postfix', {})
        cap = round(i['seconds'] / 600, 2)
        add('5 idle', f"{i['seconds']} s idle, window closed: CPU s (all threads)", g.get('cpu_s'), p.get('cpu_s'), None, f'<= {cap}', g.get('cpu_s') is not None and g['cpu_s'] <= cap)
        add('5 idle', 'wakeups per s (voluntary context switches, all threads)', g.get('wakeups_per_s'), p.get('wakeups_per_s'), None, '<= 1', g.get('wakeups_per_s') is not None and g['wakeups_per_s'] <= 1)
        grow = round(g['rss_end_mb'] - g['rss_start_mb'], 1) if g else None
        add('5 idle', 'RSS start -> end (MB)', g and f"{g['rss_start_mb']} -> {g['rss_end_mb']}", p and f"{p['rss_start_mb']} -> {p['rss_end_mb']}", None, 'growth <= 2 MB', grow is not None and grow <= 2)
    return rows


def table(rows):
    lines = ['| item | figure | Gatehouse | Postfix | ratio | target | met |', '|---|---|---|---|---|---|---|']
    for x in rows:
        lines.append(f"| {x['item']} | {x['what']} | {B.fmt(x['gatehouse'], 2) if isinstance(x['gatehouse'], float) else B.fmt(x['gatehouse'])} | "
                     f"{B.fmt(x['postfix'], 2) if isinstance(x['postfix'], float) else B.fmt(x['postfix'])} | {B.fmt(x['ratio'], 2)} | {x['target']} | {'yes' if x['met'] else 'NO'} |")
    return '\n'.join(lines)


def run(a):
    quick = a.quick
    counts = dict(drain=2000 if quick else 20000, bigqueue=10000 if quick else 100000, fan=(200, 40) if quick else (1000, 200), idle=60 if quick else 480)
    items = [x for x in (a.items or 'drain,bigqueue,fanout,idle').split(',') if x]
    B.ensure_private_netns()
    # --systems gatehouse measures Gatehouse alone (no Postfix figures or ratios).
    a.have_postfix = 'postfix' in a.systems.split(',') and all(shutil.which(x) for x in ('smtp-source', 'smtp-sink', 'postfix', 'postmap', 'postqueue'))
    if not shutil.which('smtp-source') or not shutil.which('smtp-sink'):
        sys.exit('bench: smtp-source / smtp-sink not found (Debian package postfix); nothing to drive the load with')
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    out = os.path.join(a.work, 'out')
    os.makedirs(out)
    res, errors = {'load_at_start': loadavg()}, []
    for item in items:
        try:
            B.log(f'--- {item} (load average {loadavg()})')
            if item == 'drain':
                res['drain'] = item_drain(a, counts['drain'], out)
            elif item == 'bigqueue':
                res['bigqueue'] = item_bigqueue(a, counts['bigqueue'], out)
            elif item == 'fanout':
                res['fanout'] = item_fanout(a, counts['fan'][0], counts['fan'][1], out)
            elif item == 'idle':
                # Shortened when the items before took long (a loaded machine), so the run ends
                # inside run.sh's hard limit; the CPU target is scaled to the window measured.
                left = float(os.environ.get('BENCH_TIMEOUT', 900)) - (time.monotonic() - B.T_START) - 60
                res['idle'] = item_idle(a, max(60, min(counts['idle'], int(left))), out)
            else:
                errors.append(f'unknown item {item}')
        except Exception as e:
            errors.append(f'{item}: {type(e).__name__}: {e}')
            B.log(f'{item} FAILED: {e}')
    rows = rows_of(res, quick)
    tab = table(rows)
    print()
    print(tab)
    for e in errors:
        print('ERROR:', e)
    os.makedirs(a.results, exist_ok=True)
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    doc = {'when': datetime.datetime.now().isoformat(timespec='seconds'), 'quick': quick,
           'machine': {'cpus': os.cpu_count(), 'node': subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip(),
                       'postfix': subprocess.run(['postconf', '-h', '-d', 'mail_version'], capture_output=True, text=True).stdout.strip() if a.have_postfix else None},
           'counts': counts, 'results': res, 'rows': rows, 'errors': errors, 'table': tab, 'total_s': round(time.monotonic() - B.T_START)}
    path = os.path.join(a.results, f'scale-{stamp}.json')
    with open(path, 'w') as f:
        json.dump(doc, f, indent=1)
    shutil.copy(path, os.path.join(a.results, 'scale-latest.json'))
    B.log(f'results: {path} (and scale-latest.json); total {time.monotonic() - B.T_START:.0f}s')
    return 1 if errors else 0

"""The fan-out stage for `npm run bench -- --scale` (scale.py): a DNS server and slow SMTP sinks
on loopback, and one message to many recipients in many domains.

- DNS: a UDP server on 127.0.0.1:53 that knows d0.example ... d{K-1}.example: MX 10
  mx.dN.example, and mx.dN.example A 127.0.1.(N+1); AAAA and other types of those names get an
  empty answer, every other name NXDOMAIN. Hand-written (RFC 1035 wire format, three record
  types) because the bench uses the Python standard library only and dnslib is not installed
  here. /etc/resolv.conf is bind-mounted to "nameserver 127.0.0.1" inside the bench's own mount
  namespace (run.sh: unshare -n -m), so the host's file is not touched; Gatehouse (c-ares and
  getaddrinfo) and Postfix (the libc resolver) both read it.
- Sinks: one asyncio SMTP server on 0.0.0.0:25 (inside the namespace only lo exists, so that
  is every 127.x address): it waits 50 ms before every reply (greeting, EHLO, each RCPT, DATA,
  end of data, QUIT), offers no PIPELINING, and records per local address (= per domain) the
  connections and the recipients of every completed transaction.
- run_one(): sends one message with every recipient through the system under test (smtplib),
  then waits until every recipient arrived; returns the seconds from the 250 to the last one
  and the connections per domain.
Every wait is bounded; stop() stops the server threads and removes the bind mount.
"""
import asyncio, os, smtplib, socket, struct, subprocess, threading, time

DELAY = 0.05


def domain_of_ip(ip):
    parts = ip.split('.')
    if parts[:3] != ['127', '0', '1']:
        return None
    return f'd{int(parts[3]) - 1}.example'


class Dns(threading.Thread):
    def __init__(self, domains):
        super().__init__(daemon=True)
        self.domains = domains
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 53))
        self.sock.settimeout(0.5)
        self.stopped = False
        self.queries = 0

    @staticmethod
    def name(labels):
        return b''.join(bytes([len(l)]) + l.encode() for l in labels) + b'\0'

    def answer(self, q):
        ident, flags, qd = struct.unpack('>HHH', q[:6])
        i, labels = 12, []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode('ascii', 'replace').lower())
            i += 1 + q[i]
        qtype, qclass = struct.unpack('>HH', q[i + 1:i + 5])
        question = q[12:i + 5]
        n = None
        if len(labels) >= 2 and labels[-1] == 'example' and labels[-2].startswith('d') and labels[-2][1:].isdigit():
            n = int(labels[-2][1:])
            if n >= self.domains or len(labels) > 3 or (len(labels) == 3 and labels[0] != 'mx'):
                n = None
        rr = []
        if n is not None:
            if qtype == 15 and len(labels) == 2:
                rdata = struct.pack('>H', 10) + self.name(['mx', f'd{n}', 'example'])
                rr.append(b'\xc0\x0c' + struct.pack('>HHIH', 15, 1, 300, len(rdata)) + rdata)
            elif qtype == 1 and len(labels) == 3:
                rr.append(b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 300, 4) + bytes([127, 0, 1, n + 1]))
        rcode = 0 if n is not None else 3
        hdr = struct.pack('>HHHHHH', ident, 0x8400 | (flags & 0x0100) | 0x0080 | rcode, 1, len(rr), 0, 0)
        return hdr + question + b''.join(rr)

    def run(self):
        while not self.stopped:
            try:
                q, addr = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.sock.sendto(self.answer(q), addr)
                self.queries += 1
            except Exception:
                pass

    def stop(self):
        self.stopped = True
        self.join(2)
        self.sock.close()


class Sinks(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, 'lock', threading.Lock()):
            self.conns = {}
            self.rcpts = {}
            self.last = None

    async def session(self, reader, writer):
        ip = writer.get_extra_info('sockname')[0]
        dom = domain_of_ip(ip) or ip
        with self.lock:
            self.conns[dom] = self.conns.get(dom, 0) + 1

        async def reply(text):
            await asyncio.sleep(DELAY)
            writer.write(text.encode() + b'\r\n')
            await writer.drain()

        try:
            await reply('220 sink ESMTP')
            rcpts = []
            while True:
                line = await asyncio.wait_for(reader.readline(), 60)
                if not line:
                    return
                cmd = line.decode('latin1').strip()
                verb = cmd[:4].upper()
                if verb == 'EHLO':
                    await reply('250-sink\r\n250-8BITMIME\r\n250 SIZE 104857600')
                elif verb == 'HELO':
                    await reply('250 sink')
                elif verb == 'MAIL':
                    rcpts = []
                    await reply('250 2.1.0 ok')
                elif verb == 'RCPT':
                    addr = cmd[cmd.find('<') + 1:cmd.rfind('>')].lower()
                    rcpts.append(addr)
                    await reply('250 2.1.5 ok')
                elif verb == 'DATA':
                    await reply('354 go ahead')
                    while True:
                        l = await asyncio.wait_for(reader.readline(), 60)
                        if not l or l == b'.\r\n':
                            break
                    with self.lock:
                        for r in rcpts:
                            self.rcpts[r] = self.rcpts.get(r, 0) + 1
                        self.last = time.monotonic()
                    rcpts = []
                    await reply('250 2.0.0 queued')
                elif verb == 'RSET':
                    rcpts = []
                    await reply('250 2.0.0 ok')
                elif verb == 'QUIT':
                    await reply('221 2.0.0 bye')
                    return
                else:
                    await reply('250 ok' if verb == 'NOOP' else '502 5.5.2 not here')
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    def run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self.session, '0.0.0.0', 25, backlog=512))
        self.ready.set()
        self.loop.run_forever()

    def stop(self):
        def halt():
            self.server.close()
            self.loop.stop()
        self.loop.call_soon_threadsafe(halt)
        self.join(5)


class Environment:
    def __init__(self, domains, workdir):
        self.domains = domains
        self.workdir = workdir
        self.mounted = False
        self.dns = self.sinks = None

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        conf = os.path.join(self.workdir, 'resolv.conf')
        with open(conf, 'w') as f:
            f.write('nameserver 127.0.0.1\noptions timeout:1 attempts:2\n')
        # Only inside this mount namespace (run.sh: unshare -m, private propagation).
        subprocess.run(['mount', '--bind', conf, '/etc/resolv.conf'], check=True)
        self.mounted = True
        self.dns = Dns(self.domains)
        self.dns.start()
        self.sinks = Sinks()
        self.sinks.start()
        if not self.sinks.ready.wait(5):
            raise RuntimeError('fan-out sinks did not start')

    def run_one(self, port, rcpts, label, timeout=300):
        self.sinks.reset()
        addrs = [f'user{i}@d{i % self.domains}.example' for i in range(rcpts)]
        body = (f'From: sender@test.jp\r\nTo: undisclosed-recipients:;\r\nSubject: circular ({label})\r\n'
                f'Message-ID: <fanout-{label}-{time.time()}@test.jp>\r\n\r\n' + 'A circular to our customers.\r\n' * 40)
        with smtplib.SMTP('127.0.0.1', port, local_hostname='mail.test.jp', timeout=60) as c:
            c.ehlo()
            refused = c.sendmail('sender@test.jp', addrs, body)
        t0 = time.monotonic()
        want = set(addrs) - set(refused)
        end = t0 + timeout
        while time.monotonic() < end:
            with self.sinks.lock:
                have = sum(1 for a in want if a in self.sinks.rcpts)
                last = self.sinks.last
            if have >= len(want):
                break
            time.sleep(0.05)
        with self.sinks.lock:
            got = {a: n for a, n in self.sinks.rcpts.items() if a in want}
            conns = dict(self.sinks.conns)
        complete = len(got) == len(want) and len(refused) == 0
        return dict(recipients=rcpts, refused=len(refused), delivered=len(got), duplicates=sum(n - 1 for n in got.values()),
                    complete=complete, seconds=round(last - t0, 2) if complete and last else None,
                    domains_seen=len(conns), max_conns_per_domain=max(conns.values()) if conns else None,
                    total_conns=sum(conns.values()), dns_queries=self.dns.queries)

    def stop(self):
        if self.sinks:
            self.sinks.stop()
        if self.dns:
            self.dns.stop()
        if self.mounted:
            subprocess.run(['umount', '/etc/resolv.conf'])
            self.mounted = False

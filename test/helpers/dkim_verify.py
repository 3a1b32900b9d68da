# Independent DKIM verifier for tests: Debian's dkimpy (python3-dkim) with dnspython asking
# the test's DNS server. Usage: python3 dkim_verify.py HOST PORT < message
# Prints one JSON object: {"ok": bool, "signatures": n, "results": [...]}, one per signature.
import json
import sys

import dkim
import dns.resolver

host, port = sys.argv[1], int(sys.argv[2])
res = dns.resolver.Resolver(configure=False)
res.nameservers = [host]
res.port = port
res.lifetime = 5


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode('ascii')
    try:
        answer = res.resolve(name, 'TXT')
    except Exception:
        return None
    for rr in answer:
        return b''.join(rr.strings)
    return None


msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
sigs = [h for h in d.headers if h[0].lower() == b'dkim-signature']
results = []
for i in range(len(sigs)):
    v = dkim.DKIM(msg)
    try:
        ok = bool(v.verify(idx=i, dnsfunc=dnsfunc))
        err = ''
    except Exception as e:  # dkimpy raises on malformed signatures
        ok = False
        err = str(e)
    tags = dict(dkim.util.parse_tag_value(sigs[i][1])) if sigs else {}
    results.append({
        'ok': ok,
        'd': tags.get(b'd', b'').decode(),
        's': tags.get(b's', b'').decode(),
        'a': tags.get(b'a', b'').decode(),
        'c': tags.get(b'c', b'').decode(),
        'error': err,
    })
print(json.dumps({'ok': len(results) > 0 and all(r['ok'] for r in results), 'signatures': len(results), 'results': results}))

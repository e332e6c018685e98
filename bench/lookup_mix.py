"""A wrk Lua script of indicator lookups for the server benchmarks: half
hits drawn from an indicator file (domains asked as a subdomain, CIDRs as
an address inside), half misses, shuffled, with a bearer token.

    python3 bench/lookup_mix.py IOCS.txt OUT.lua TOKEN
"""
import random, sys, urllib.parse
random.seed(7)
vals = [l.strip().replace('[.]', '.') for l in open(sys.argv[1]) if l.strip() and not l.startswith('#')]
picks = random.sample(vals, min(2000, len(vals)))
qs = []
for v in picks:
    if '/' in v and v.count('.') == 3:            # CIDR -> an address inside
        net = v.split('/')[0].split('.'); net[3] = str(int(net[3]) + 1); v = '.'.join(net)
    elif any(c.isalpha() for c in v) and '.' in v and len(v) < 64 and not v.startswith('http'):
        v = 'www.' + v                               # domain -> subdomain
    qs.append(v)
for i in range(len(qs)):
    qs.append(random.choice(['miss%d.example.net' % i, '10.%d.%d.%d' % (i % 250, i % 7, i % 200),
                             '%064x' % random.getrandbits(256)]))
random.shuffle(qs)
with open(sys.argv[2], 'w') as f:
    f.write('local paths = {\n')
    for q in qs:
        f.write('  "/api/v1/indicators/lookup?value=%s",\n' % urllib.parse.quote(q, safe=''))
    f.write('}\nlocal i = 0\nwrk.headers["Authorization"] = "Bearer %s"\n' % sys.argv[3])
    f.write('request = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n')

#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the repository's fixtures and small
# slices of the shared datasets (DATASETS, default ../shared/datasets from
# the repository root; skipped when absent). Seeds stay under 8 KB so the
# fuzzer mutates structure, not bulk. Corpora are not committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
DATASETS=${DATASETS:-$root/../shared/datasets}
[ -d "$DATASETS" ] || DATASETS=/work/shared/datasets
export FUZZ_ROOT=$root FUZZ_DATASETS=$DATASETS FUZZ_CORPUS=$here/corpus
python3 - <<'PY'
import glob, gzip, hashlib, json, os
root, ds, out = os.environ["FUZZ_ROOT"], os.environ["FUZZ_DATASETS"], os.environ["FUZZ_CORPUS"]
have_ds = os.path.isdir(ds)
LIMIT = 8192
counts = {}

def seed(target, data, prefix=None, limit=LIMIT):
    if isinstance(data, str):
        data = data.encode()
    if prefix is not None:
        data = bytes([prefix]) + data
    data = data[:limit]
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)
    counts[target] = counts.get(target, 0) + 1

def rd(p, n=None):
    with open(p, "rb") as f:
        return f.read() if n is None else f.read(n)

def lines(p, n):
    op = gzip.open if p.endswith(".gz") else open
    with op(p, "rb") as f:
        return b"".join(l for _, l in zip(range(n), f))

def small_bundle(objs, n):
    return json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000",
                       "objects": objs[:n]})

# STIX bundles: the repository's, and a few objects of each type from ATT&CK.
stix = [p for p in glob.glob(f"{root}/starter/*.json") + glob.glob(f"{root}/crates/kb/tests/fixtures/v1-inputs/*.json")]
for p in stix:
    doc = json.loads(rd(p))
    for n in (3, 8, 20):
        seed("stix", small_bundle(doc.get("objects", []), n))
        seed("detect", small_bundle(doc.get("objects", []), n), 0)
    for o in doc.get("objects", []):
        if "pattern" in o:
            seed("stix_pattern", o["pattern"])
if have_ds:
    for p in glob.glob(f"{ds}/attack/*.json"):
        objs = json.loads(rd(p))["objects"]
        by = {}
        for o in objs:
            by.setdefault(o["type"], []).append(o)
        for t, os_ in by.items():
            seed("stix", small_bundle(os_, 2))
        rel = by.get("relationship", [])[:3]
        ids = {r["source_ref"] for r in rel} | {r["target_ref"] for r in rel}
        seed("stix", small_bundle([o for o in objs if o["id"] in ids] + rel, 50))
for pat in ["[ipv4-addr:value = '1.2.3.4']",
            "[domain-name:value = 'evil.com'] OR [url:value = 'http://evil.com/a']",
            "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' AND file:name = 'a.exe']",
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] FOLLOWEDBY [ipv6-addr:value ISSUBSET '2001:db8::/32'] WITHIN 300 SECONDS",
            "[email-addr:value = 'a\\'b@x.org'] REPEATS 5 TIMES",
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '10.0.0.0/8']",
            "[x509-certificate:hashes.'SHA-1' = 'aa' ] START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'"]:
    seed("stix_pattern", pat)

# MISP galaxies: the first clusters of each file.
if have_ds:
    for p in glob.glob(f"{ds}/misp-galaxy/clusters/*.json"):
        g = json.loads(rd(p))
        for n in (1, 3):
            g2 = dict(g, values=g.get("values", [])[:n])
            seed("misp_galaxy", json.dumps(g2))
            seed("detect", json.dumps(g2), 0)

# MISP events.
ev = {"Event": {"uuid": "5f0c2d1e-0000-4000-8000-000000000001", "info": "C2", "date": "2023-06-01",
      "Tag": [{"name": "tlp:amber"}, {"name": "misp-galaxy:threat-actor=\"RedHotel\""}],
      "Attribute": [{"uuid": "5f0c2d1e-0000-4000-8000-000000000002", "type": "domain", "category": "Network activity",
                     "value": "kb.dga.asia", "to_ids": True, "timestamp": "1690000000"},
                    {"type": "comment", "value": "not an indicator"},
                    {"type": "domain|ip", "value": "a.dga.asia|1.2.3.4"},
                    {"type": "ip-dst|port", "value": "1.2.3.4|443"},
                    {"type": "url", "value": "hxxp://evil[.]com/x", "Tag": [{"name": "tlp:red"}]},
                    {"type": "filename|sha256", "value": "a.exe|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}],
      "Object": [{"name": "file", "Attribute": [{"type": "sha256", "value": "AB"}, {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"}]}],
      "Galaxy": [{"type": "threat-actor", "GalaxyCluster": [{"value": "APT1", "meta": {"synonyms": ["Comment Crew"]}}]}]}}
seed("misp_event", json.dumps(ev))
seed("misp_event", json.dumps({"response": [ev, ev]}))
seed("misp_event", json.dumps([ev]))
seed("detect", json.dumps(ev), 0)

# Warninglists: small lists whole, big ones cut to a few entries.
if have_ds:
    for p in sorted(glob.glob(f"{ds}/misp-warninglists/lists/*/list.json")):
        w = json.loads(rd(p))
        w["list"] = w.get("list", [])[:6]
        seed("misp_warninglist", json.dumps(w))
    seed("detect", json.dumps(w), 0)

# Lists, CSV and report text.
texts = glob.glob(f"{root}/crates/extract/corpus/*.txt") + glob.glob(f"{root}/crates/extract/corpus/*.md") \
    + glob.glob(f"{root}/crates/kb/tests/fixtures/v1-inputs/*.txt") + glob.glob(f"{root}/examples/logs/*.txt")
if have_ds:
    texts += glob.glob(f"{ds}/insikt/*.txt")
for p in texts:
    b = rd(p)
    for i in range(0, min(len(b), 4 * 4096), 4096):
        seed("extract_text", b[i:i + 4096])
    seed("list", b[:4096])
    seed("detect", b[:4096], 2)
csvs = ["indicator,type,actor\nkb.dga.asia,domain,RedHotel\n1.2.3.4,ipv4,RedHotel\n",
        "value;kind\n\"evil[.]com\";domain\n\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\";sha256\n"]
if have_ds:
    for p in glob.glob(f"{ds}/codesign/*/*.csv"):
        csvs.append(lines(p, 6))
for c in csvs:
    seed("csv", c)
    seed("detect", c, 1)

# Signed PE files, certificates, certificate lists and YARA rules.
if have_ds:
    for p in glob.glob(f"{ds}/codesign/signed-samples/**/*.exe", recursive=True):
        b = rd(p)
        # Whole images: the certificate table sits at the end.
        if len(b) <= 64 * 1024:
            seed("authenticode", b, limit=len(b))
            seed("scan_file", b, limit=len(b))
    for p, first in [(f"{ds}/codesign/certgraveyard/cert_graveyard_database.csv", 0),
                     (f"{ds}/codesign/xingtulab/CS_Dataset.csv", 1),
                     (f"{ds}/codesign/lolcerts/leaked.csv", 2)]:
        body = lines(p, 8).split(b"\n", 1)[-1]
        seed("cert_list", bytes([first]) + body)
    seed("cert_list", b"\x03" + rd(f"{ds}/codesign/reversinglabs/blocklist.yara")[:4096])

# Sigma rules and the event logs they run on (even first byte: a rule;
# odd: a log file).
if have_ds:
    for p in sorted(glob.glob(f"{ds}/sigma/rules/windows/process_creation/*.yml"))[:40]:
        seed("sigma_evtx", rd(p), 0)
    for p in sorted(glob.glob(f"{ds}/sigma/regression_data/rules/windows/**/*.evtx", recursive=True))[:30]:
        b = rd(p)
        seed("sigma_evtx", b, 1, limit=len(b) + 1)
    for p in sorted(glob.glob(f"{ds}/sigma/regression_data/rules/windows/**/*.json", recursive=True))[:20]:
        seed("sigma_evtx", rd(p), 1)

# HTML and PDF.
for p in glob.glob(f"{root}/crates/extract/corpus/*.html"):
    b = rd(p)
    seed("html", b[:LIMIT])
    seed("detect", b[:LIMIT], 4)
seed("html", "<html><body><h2>C2</h2><p>x<a href=\"http://evil[.]com/a\">link<br>more</a></p>"
             "<table><tr><th>IOC</th></tr><tr><td>1.2.3[.]4</td></tr></table><pre>a\nb</pre></body></html>")
for p in glob.glob(f"{root}/crates/extract/tests/fixtures/*.pdf"):
    seed("pdf", rd(p))
    seed("detect", rd(p), 5)

# Logs: Zeek TSV and JSON heads, free text.
zeek_tsv, zeek_json = [f"{root}/crates/kb/tests/fixtures/v1-inputs/dns.log"], glob.glob(f"{root}/examples/logs/zeek-json/*")
if have_ds:
    zeek_tsv += sorted(glob.glob(f"{ds}/zeek/zed-sample-data/zeek-default/*.log.gz"))
    zeek_json += sorted(glob.glob(f"{ds}/zeek/zed-sample-data/zeek-json/*.json.gz"))
for p in zeek_tsv:
    b = lines(p, 16)
    seed("zeek_tsv", b)
    seed("hunt_scan", b, 0)
for p in zeek_json:
    b = lines(p, 6)
    seed("json_lines", b)
    seed("hunt_scan", b, 0)
seed("json_lines", '{"query":"kb.dga.asia","id.resp_h":"45.77.153.197","uri":"http://evil.example.com/a/b?c=1"}\n'
                   '{"source":{"ip":"10.20.1.1"},"url":{"original":"http://\u00e9vil.example.com/a"},"file":{"hash":{"md5":"d41d8cd98f00b204e9800998ecf8427e"}}}\n')
seed("hunt_scan", "ts,src,dst,host\n1,10.20.3.4,8.8.8.8,kb.dga.asia\n2,2001:db8::1,1.1.1.1,x.example\n", 2)
seed("hunt_scan", "Jun 1 sshd: from 45.77.153.197 GET http://evil.example.com/a/b?c=1 \u00e9 https://dga.asia/x bad@evil.example.com\n", 3)

# Normalisers.
for v in ["1.2.3.4", "01.2.3.4", "255.255.255.255", "256.1.1.1", "[2001:db8::1]", "fe80::1%eth0", "::ffff:1.2.3.4",
          "Kb.DGA.asia.", "m\u00fcnchen.de", "xn--mnchen-3ya.de", "http://user@Evil.COM:80/%7e/a?b#c",
          "hxxps://evil[.]com/", "D4:1D:8C:D9:8F:00", "e3b0c442-98fc", "10.0.0.0/8", "a@b.c"]:
    seed("normalize", v)

print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
PY
# The index loader's seed is a real index file, written by its own target.
bin=$here/target/x86_64-unknown-linux-gnu/release/index_load
if [ -x "$bin" ]; then
    mkdir -p "$here/corpus/index_load"
    tmp=$(mktemp)
    CAIRN_FUZZ_SAVE_INDEX=$here/corpus/index_load/real.idx "$bin" "$tmp" >/dev/null 2>&1 || true
    rm -f "$tmp"
    echo "index_load=$(ls "$here/corpus/index_load" | wc -l)"
else
    echo "index_load: build the targets first (fuzz/run.sh does), then rerun for its seed" >&2
fi

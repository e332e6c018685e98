#!/usr/bin/env python3
"""Generates a large corpus of report-like text with defanged indicators for
`bench/extract.sh`: prose paragraphs, section headings, Markdown tables and
indicator appendices, in the proportions of published threat reports.
Deterministic (fixed seed). Usage: extract_gen.py OUT_FILE MEGABYTES"""
import random
import sys

out_path, megabytes = sys.argv[1], float(sys.argv[2])
rnd = random.Random(20230808)

WORDS = ("the actor group operators used infrastructure campaign victims government sector "
         "telecommunications academic research networks servers access persistence credential "
         "lateral movement exfiltration observed between activity tooling overlap analysis "
         "indicates suggests likely consistent with previously reported tracked clusters "
         "targeting organizations across region multiple countries including espionage "
         "operations long-term sustained focus on with and of in to from for by as that this").split()
TLDS = ["com", "net", "org", "xyz", "club", "live", "asia", "top", "info", "online", "me", "us"]
HEADINGS = ["C2 IP Addresses (seen May to June 2023)", "Domains:", "Cobalt Strike Loaders",
            "Winnti", "TLS Certificate (SHA256 Fingerprints):", "Initial Access Droppers",
            "Reconnaissance infrastructure", "ShadowPad samples", "Network indicators"]


def hexs(n):
    return "%0*x" % (n, rnd.getrandbits(4 * n))


def label():
    return "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rnd.randint(3, 10)))


def domain():
    d = ".".join([label() for _ in range(rnd.randint(1, 2))] + [rnd.choice(TLDS)])
    style = rnd.random()
    if style < 0.6:
        i = d.rfind(".")
        return d[:i] + "[.]" + d[i + 1:]
    if style < 0.75:
        return d.replace(".", "(.)")
    if style < 0.85:
        return d.replace(".", "[dot]")
    return d


def ip():
    parts = [str(rnd.randint(1, 223)), str(rnd.randint(0, 255)), str(rnd.randint(0, 255)), str(rnd.randint(1, 254))]
    return ".".join(parts[:3]) + "[.]" + parts[3] if rnd.random() < 0.8 else ".".join(parts)


def url():
    scheme = rnd.choice(["hxxp", "hxxps", "hXXps", "http", "https"])
    return "%s://%s/%s/%s.%s" % (scheme, domain(), label(), label(), rnd.choice(["php", "bin", "png", "aspx"]))


def ioc():
    r = rnd.random()
    if r < 0.35:
        return domain()
    if r < 0.6:
        return ip()
    if r < 0.75:
        return url()
    if r < 0.85:
        return hexs(64)
    if r < 0.9:
        return hexs(32)
    if r < 0.95:
        return "%s[@]%s" % (label(), domain())
    return rnd.choice(["CVE-2021-%d" % rnd.randint(1000, 49999), "T1%03d.%03d" % (rnd.randint(0, 600), rnd.randint(1, 9))])


def sentence():
    n = rnd.randint(8, 22)
    words = [rnd.choice(WORDS) for _ in range(n)]
    if rnd.random() < 0.35:
        words.insert(rnd.randint(1, n - 1), ioc())
    if rnd.random() < 0.05:
        words.insert(1, "version %d.%d.%d.%d" % tuple(rnd.randint(0, 20) for _ in range(4)))
    s = " ".join(words)
    return s[0].upper() + s[1:] + "."


target = int(megabytes * 1024 * 1024)
size = 0
with open(out_path, "w", encoding="utf-8") as f:
    while size < target:
        block = []
        block.append("## " + rnd.choice(HEADINGS) if rnd.random() < 0.5 else rnd.choice(HEADINGS))
        block.append("")
        kind = rnd.random()
        if kind < 0.6:
            for _ in range(rnd.randint(2, 5)):
                block.append(" ".join(sentence() for _ in range(rnd.randint(2, 5))))
                block.append("")
        elif kind < 0.8:
            block.append("| Indicator | Type | Notes |")
            block.append("|---|---|---|")
            for _ in range(rnd.randint(3, 12)):
                block.append("| %s | %s | %s |" % (ioc(), rnd.choice(["C2", "SHA256", "Domain", "IP"]), " ".join(rnd.choice(WORDS) for _ in range(4))))
            block.append("")
        else:
            for _ in range(rnd.randint(5, 30)):
                block.append(ioc())
            block.append("")
        text = "\n".join(block) + "\n"
        f.write(text)
        size += len(text.encode("utf-8"))

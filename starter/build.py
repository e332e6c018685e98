#!/usr/bin/env python3
"""Builds Cairn's starter pack: STIX 2.1 bundles of public facts about
RedHotel, with the indicators of Insikt Group's published appendices.

Run from the repository root (needs ../shared/datasets/insikt/):
    python3 starter/build.py
The output is committed; this script documents how it was derived.
"""
import json, re, sys, uuid
from pathlib import Path

NS = uuid.UUID("6c0a1f3e-9b52-4d8e-a1c4-3f0e5c2b7d91")
ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent.parent / "shared" / "datasets" / "insikt"
CREATED = "2023-08-08T00:00:00.000Z"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"

# Roles as STIX indicator-type-ov values (the mapping of
# cairn_model::vocab::indicator_type): what an actor runs or drops is
# malicious activity; a certificate ties infrastructure to its operator.
INDICATOR_TYPE = {"c2": "malicious-activity", "exploitation": "malicious-activity",
                  "delivery": "malicious-activity", "payload": "malicious-activity",
                  "certificate": "attribution"}
# Insikt's sector names as STIX industry-sector-ov values (cairn_model::vocab::industry_sector).
SECTOR = {"Academia": "education", "Aerospace": "aerospace", "Government": "government",
          "Media": "communications", "Telecommunications": "telecommunications",
          "Research": "education"}

def sid(kind, *parts):
    return f"{kind}--{uuid.uuid5(NS, chr(31).join((kind,) + parts))}"

def refang(s):
    return s.strip().replace("[.]", ".")

def common(kind, ident, idn, **kw):
    o = {"type": kind, "spec_version": "2.1", "id": ident, "created": CREATED, "modified": CREATED,
         "created_by_ref": idn, "object_marking_refs": [TLP_CLEAR]}
    o.update(kw)
    return o

def rel(src, t, tgt, idn, **kw):
    return common("relationship", sid("relationship", src, t, tgt), idn,
                  relationship_type=t, source_ref=src, target_ref=tgt, **kw)

def pattern(kind, v):
    return {
        "domain": f"[domain-name:value = '{v}']",
        "ipv4": f"[ipv4-addr:value = '{v}']",
        "cert": f"[x509-certificate:hashes.'SHA-256' = '{v}']",
        "sha256": f"[file:hashes.'SHA-256' = '{v}']",
    }[kind]

def classify(line):
    v = refang(line.split(" - ")[0])
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", v):
        return "ipv4", v
    if re.fullmatch(r"[0-9a-fA-F]{64}", v):
        return "sha256", v.lower()
    if re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", v):
        return "domain", v.lower()
    return None, None

def section(heading):
    """Role, family and dates a heading states."""
    h = heading.lower()
    if "c2 ip" in h:
        return "c2", None, ("2023-05-01T00:00:00Z", "2023-06-30T23:59:59Z") if "may to june 2023" in h else None
    if "tls certificate" in h:
        return "certificate", None, None
    if "glassfish" in h:
        return "exploitation", None, None
    if "dropper" in h:
        return "delivery", None, None
    if h.startswith("domains") or "network indicators" in h:
        return "c2", None, None
    fam = re.sub(r"\b(loaders?|beacon)\b", "", heading, flags=re.I).strip()
    fam = re.sub(r"^fishmaster\s+", "", fam, flags=re.I).strip() or heading
    return "payload", fam, None

def build(name, report, url, published, text, actor, aliases, description, countries, sectors):
    idn = sid("identity", "Insikt Group")
    objs = [
        {"type": "identity", "spec_version": "2.1", "id": idn, "created": CREATED, "modified": CREATED,
         "name": "Insikt Group (Recorded Future)", "identity_class": "organization"},
    ]
    actor_id = sid("intrusion-set", "Insikt Group", actor)
    ext = [{"source_name": "Insikt Group", "url": url, "description": report}]
    objs.append(common("intrusion-set", actor_id, idn, name=actor, aliases=aliases, description=description,
                       first_seen="2019-01-01T00:00:00Z", labels=["espionage"],
                       resource_level="government", external_references=ext))
    rels, families, seen = [], {}, set()
    heading = None
    kinds = {"domain": 0, "ipv4": 0, "cert": 0, "sha256": 0}
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        kind, value = classify(line)
        if kind is None:
            heading = line.rstrip(":")
            continue
        role, fam, dates = section(heading or "")
        if role == "certificate":
            kind = "cert"
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        kinds[kind] += 1
        ind = sid("indicator", name, kind, value)
        extra = {}
        if dates:
            extra["valid_from"], extra["x_cairn_last_seen"] = dates
        else:
            extra["valid_from"] = published
        # indicator_types holds STIX's indicator-type-ov; the role the
        # appendix gives stays in labels (Cairn's intake reads both).
        types = [INDICATOR_TYPE[role]]
        roles = {} if role == "payload" else {"labels": [role]}
        objs.append(common("indicator", ind, idn, name=raw.strip(), pattern=pattern(kind, value),
                           pattern_type="stix", indicator_types=types, **roles,
                           description=f"{report}: {heading}", external_references=ext, **extra))
        rels.append(rel(ind, "indicates", actor_id, idn))
        if fam:
            fid = families.setdefault(fam, sid("malware", "Insikt Group", fam.lower()))
            rels.append(rel(ind, "indicates", fid, idn))
    for fam, fid in sorted(families.items()):
        objs.append(common("malware", fid, idn, name=fam, is_family=True))
        rels.append(rel(actor_id, "uses", fid, idn))
    for cc, cname in countries:
        lid = sid("location", "country", cc)
        objs.append(common("location", lid, idn, name=cname, country=cc))
        rels.append(rel(actor_id, "targets", lid, idn))
    for s in sectors:
        sid_ = sid("identity", "sector", s)
        objs.append({"type": "identity", "spec_version": "2.1", "id": sid_, "created": CREATED,
                     "modified": CREATED, "name": s, "identity_class": "class",
                     "sectors": [SECTOR[s]], "labels": [s]})
        rels.append(rel(actor_id, "targets", sid_, idn))
    objs.append(common("report", sid("report", name), idn, name=report, published=published,
                       report_types=["threat-actor", "indicator"], external_references=ext,
                       object_refs=[o["id"] for o in objs[1:]]))
    bundle = {"type": "bundle", "id": sid("bundle", name), "objects": objs + rels}
    out = ROOT / f"{name}.json"
    out.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n")
    print(out, {k: v for k, v in kinds.items()}, file=sys.stderr)

REDHOTEL_COUNTRIES = [("AF", "Afghanistan"), ("BD", "Bangladesh"), ("BA", "Bosnia and Herzegovina"),
    ("KH", "Cambodia"), ("HK", "Hong Kong"), ("IN", "India"), ("LA", "Laos"), ("MY", "Malaysia"),
    ("NP", "Nepal"), ("PK", "Pakistan"), ("PG", "Papua New Guinea"), ("PH", "Philippines"),
    ("RO", "Romania"), ("TW", "Taiwan"), ("TH", "Thailand"), ("US", "United States"), ("VN", "Vietnam")]

build("redhotel-insikt-2023", "RedHotel: A Prolific, Chinese State-Sponsored Group Operating at a Global Scale",
      "https://go.recordedfuture.com/hubfs/reports/cta-2023-0808.pdf", "2023-08-08T00:00:00Z",
      (DATA / "redhotel-2023-08-appendix.txt").read_text(encoding="utf-8-sig"),
      "RedHotel", ["RedHotel", "TAG-22", "Aquatic Panda", "Bronze University", "Charcoal Typhoon",
                   "Earth Lusca", "Red Scylla", "Red Dev 10"],
      "Chinese state-sponsored group active since at least 2019, with a dual mission of intelligence "
      "gathering and economic espionage, targeting academia, aerospace, government, media, "
      "telecommunications and research (including COVID-19 research) across 17 countries. Uses a "
      "multi-tiered infrastructure (reconnaissance and long-term access C2 tiers, mostly NameCheap "
      "domains) and a stolen code-signing certificate. Previously tracked by Insikt Group as TAG-22; "
      "overlaps with public reporting on Aquatic Panda, Bronze University, Charcoal Typhoon, Earth "
      "Lusca and Red Scylla (Red Dev 10). Likely based in Chengdu.",
      REDHOTEL_COUNTRIES,
      ["Academia", "Aerospace", "Government", "Media", "Telecommunications", "Research"])

build("tag22-insikt-2021", "Chinese State-Sponsored Activity Group TAG-22 Targets Nepal, the Philippines, "
      "and Taiwan Using Winnti and Other Tooling",
      "https://www.recordedfuture.com/chinese-group-tag-22-targets-nepal-philippines-taiwan",
      "2021-06-08T00:00:00Z",
      (DATA / "tag-22-2021-indicators.txt").read_text(encoding="utf-8-sig"),
      "TAG-22", ["TAG-22"],
      "Chinese state-sponsored activity group targeting organizations in Nepal, the Philippines and "
      "Taiwan with Winnti, ShadowPad, Cobalt Strike and other tooling, through compromised GlassFish "
      "servers and Vultr-hosted infrastructure.",
      [("NP", "Nepal"), ("PH", "Philippines"), ("TW", "Taiwan")],
      ["Government", "Telecommunications", "Academia"])

"""Real STIX 2.1 / TAXII 2.1 clients against a running `cairn serve`.

Run by .ci/interop.sh, which builds the store and starts the server.
1. stix2-validator on the export files given;
2. every TAXII collection read whole with taxii2-client (paging with
   `next`), each validated as one bundle;
3. a taxii2-client poll loop (`added_after` = the X-TAXII-Date-Added-Last
   of the previous poll) with `cairn ingest` runs in between, within the
   same second: every object must arrive exactly once.
Exit status 1 on any validator error or lost/duplicated object. Warnings
are counted by kind and printed.
"""
import argparse
import collections
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time
import uuid

from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Server, as_pages

OPTIONS = ValidationOptions(version="2.1")
ID_RE = re.compile(r"[a-z0-9-]+--[0-9a-fA-F-]{36}")
TS_RE = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z")


def kind_of(message):
    """A message with ids, timestamps and quoted values blanked out."""
    m = re.search(r"\{(\d+)\}", message)
    text = ID_RE.sub("ID", TS_RE.sub("TS", message))
    text = re.sub(r"'[^']*'", "'…'", text)
    return (m.group(1) if m else "-", text.split(": ", 1)[-1][:140])


def validate_chunk(objects):
    """Errors and warnings per object of one chunk, validated as a bundle."""
    out = []
    for o in objects:
        r = validate_instance(o, OPTIONS)
        out.append(([str(e) for e in r.errors], [str(w) for w in r.warnings]))
    return out


class Tally:
    """Validates collections of objects; an object (by its JSON) is checked
    once however many collections serve it (the collection of everything
    repeats every source's), on every core."""

    def __init__(self, pool):
        self.pool = pool
        self.errors = collections.Counter()
        self.warnings = collections.Counter()
        self.samples = {}
        self.done = {}

    def validate(self, name, bundle):
        start = time.monotonic()
        # The bundle as a whole: its own schema (ids, spec_version) ...
        shell = dict(bundle, objects=bundle["objects"][:1])
        results = [validate_chunk([shell])[0]]
        # ... and each distinct object.
        keyed = {json.dumps(o, sort_keys=True): o for o in bundle["objects"]}
        todo = [k for k in keyed if k not in self.done]
        chunks = [todo[i:i + 500] for i in range(0, len(todo), 500)]
        for chunk, res in zip(chunks, self.pool.map(
                validate_chunk, [[keyed[k] for k in c] for c in chunks])):
            self.done.update(zip(chunk, res))
        results += [self.done[k] for k in keyed]
        n_err = n_warn = 0
        for errors, warnings in results:
            n_err += len(errors)
            n_warn += len(warnings)
            for e in errors:
                k = kind_of(e)
                self.errors[k] += 1
                self.samples.setdefault(k, f"{name}: {e}")
            for w in warnings:
                self.warnings[kind_of(w)] += 1
        print(f"  {name}: {len(bundle['objects'])} objects ({len(todo)} not seen before), "
              f"{n_err} errors, {n_warn} warnings ({time.monotonic() - start:.1f} s)")


def read_collection(coll, per_request):
    objects, pages = [], 0
    start = time.monotonic()
    for envelope in as_pages(coll.get_objects, per_request=per_request):
        pages += 1
        objects.extend(envelope.get("objects", []))
    took = time.monotonic() - start
    return objects, pages, took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("exports", nargs="*")
    a = ap.parse_args()
    pool = multiprocessing.Pool(os.cpu_count() or 1)
    tally = Tally(pool)
    failures = []

    print("interop: stix2-validator on exports")
    for path in a.exports:
        with open(path, encoding="utf-8") as f:
            tally.validate(path.rsplit("/", 1)[-1], json.load(f))

    # taxii2-client speaks Basic; Cairn takes the token as the password.
    server = Server(a.url, user="interop", password=a.token)
    root = server.default or server.api_roots[0]
    colls = root.collections
    print(f"interop: TAXII {server.title!r}, {len(colls)} collections")
    everything = None
    for c in colls:
        objects, pages, took = read_collection(c, 1000)
        ids = [o["id"] for o in objects]
        if len(ids) != len(set(ids)):
            failures.append(f"{c.title}: an id served twice in one read")
        print(f"  {c.title}: {len(objects)} objects in {pages} pages, "
              f"{1000 * took / max(pages, 1):.0f} ms per page")
        bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
        tally.validate(f"collection {c.title}", bundle)
        if c.title.endswith("everything"):
            everything = c
    if everything is None:
        failures.append("no collection of everything")

    # Poll loop: a client remembers X-TAXII-Date-Added-Last.
    print(f"interop: poll loop, {a.rounds} rounds with an ingest between polls")
    last = {}

    def remember(resp, *args, **kwargs):
        h = resp.headers.get("X-TAXII-Date-Added-Last")
        if h:
            last["date"] = h

    everything._conn.session.hooks["response"].append(remember)
    seen = collections.Counter()

    def poll():
        kw = {"added_after": last["date"]} if "date" in last else {}
        for env in as_pages(everything.get_objects, per_request=500, **kw):
            for o in env.get("objects", []):
                seen[(o["id"], o.get("modified", o.get("created", "")))] += 1

    poll()
    expected = set()
    for i in range(a.rounds):
        path = f"{a.work}/poll-{i}.json"
        ind = str(uuid.uuid4())
        actor = f"intrusion-set--{uuid.uuid4()}"
        # A UUIDv7-style id, as MISP galaxies carry: published under a v5 one.
        v7 = f"malware--019514dc-{i:04x}-7{i:03x}-8b49-5dcd3c8b6f3a"
        rel = f"relationship--{uuid.uuid4()}"
        ts = "2024-01-01T00:00:00.000Z"
        bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [
            {"type": "intrusion-set", "spec_version": "2.1", "id": actor, "created": ts,
             "modified": ts, "name": f"Interop Poll {i}"},
            {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{ind}", "created": ts,
             "modified": ts, "pattern": f"[domain-name:value = 'poll{i}.example']",
             "pattern_type": "stix", "valid_from": ts, "indicator_types": ["c2"]},
            {"type": "malware", "spec_version": "2.1", "id": v7, "created": ts, "modified": ts,
             "name": f"Poller{i}", "is_family": True},
            {"type": "relationship", "spec_version": "2.1", "id": rel, "created": ts,
             "modified": ts, "relationship_type": "uses", "source_ref": actor, "target_ref": v7},
        ]}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(bundle, f)
        subprocess.run([a.cairn, "--db", a.db, "--quiet", "ingest", path, "--source",
                        f"interop poll {i}"], check=True, stdout=subprocess.DEVNULL)
        expected |= {actor, f"indicator--{ind}", rel}
        expected.add(v7)
        poll()
    by_id = collections.Counter()
    for (oid, _), n in seen.items():
        by_id[oid] += n
    published = {o: o for o in expected}
    # The v7 malware comes back under its published id; map through x_cairn_original_id.
    originals = {}
    for env in as_pages(everything.get_objects, per_request=1000, type="malware"):
        for o in env.get("objects", []):
            if "x_cairn_original_id" in o:
                originals[o["x_cairn_original_id"]] = o["id"]
    for o in list(published):
        if o in originals:
            published[o] = originals[o]
    lost = [o for o, p in published.items() if by_id[p] == 0]
    twice = [k for k, n in seen.items() if n > 1]
    print(f"  {len(seen)} object versions seen, {len(expected)} ingested in the loop, "
          f"{len(lost)} lost, {len(twice)} seen twice")
    if lost:
        failures.append(f"poll loop lost {len(lost)} objects, e.g. {lost[:3]}")
    if twice:
        failures.append(f"poll loop served {len(twice)} objects twice, e.g. {twice[:3]}")

    print("interop: summary")
    print(f"  errors: {sum(tally.errors.values())}")
    for (code, text), n in tally.errors.most_common():
        print(f"    {n:6d} {text}\n           e.g. {tally.samples[(code, text)][:300]}")
    print(f"  warnings: {sum(tally.warnings.values())}, by kind:")
    for (code, text), n in tally.warnings.most_common():
        print(f"    {n:6d} {{{code}}} {text}")
    if tally.errors:
        failures.append(f"{sum(tally.errors.values())} validator errors")
    for f in failures:
        print(f"interop: FAILED: {f}", file=sys.stderr)
    if failures:
        return 1
    print("interop: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

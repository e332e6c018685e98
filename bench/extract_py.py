#!/usr/bin/env python3
"""Times one Python IOC extractor on a file: extract_py.py ioc-finder|iocextract FILE [MAX_MB].
Prints `<tool> <bytes> <seconds> <indicators>`. MAX_MB reads only the first MAX_MB megabytes
(cut at a line end), for libraries too slow to finish the whole corpus in reasonable time."""
import sys
import time

tool, path = sys.argv[1], sys.argv[2]
max_bytes = int(float(sys.argv[3]) * 1024 * 1024) if len(sys.argv) > 3 else None
with open(path, encoding="utf-8") as f:
    text = f.read()
if max_bytes is not None and len(text.encode("utf-8")) > max_bytes:
    text = text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
    text = text[: text.rfind("\n") + 1]
n_bytes = len(text.encode("utf-8"))

start = time.perf_counter()
if tool == "ioc-finder":
    from ioc_finder import find_iocs
    # Reports arrive as documents: run it per section, as a user would per report.
    found = 0
    for chunk in text.split("\n\n"):
        r = find_iocs(chunk)
        found += sum(len(v) for v in r.values() if isinstance(v, list))
elif tool == "iocextract":
    import iocextract
    found = sum(1 for _ in iocextract.extract_iocs(text, refang=True))
else:
    sys.exit("unknown tool " + tool)
elapsed = time.perf_counter() - start
print(tool, n_bytes, "%.3f" % elapsed, found)

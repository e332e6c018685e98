# Reads sigdump.py's output on stdin; argv[1] is the ReversingLabs blocklist.
# Checks that every rule ANDs a serial test (an `or` appears only between
# serial alternatives), then which sample serials the rules name.
import re
import sys

rl = open(sys.argv[1]).read()
bodies = re.split(r"^rule ", rl, flags=re.M)[1:]
conditions = [b.split("condition:", 1)[1] for b in bodies]
with_serial = sum('serial ==' in c for c in conditions)
stray_or = sum(bool(re.search(r"\bor\b", re.sub(r'serial == "[^"]*"\s*or', "", c))) for c in conditions)
print("RL rules:", len(bodies), "with a serial test:", with_serial, "with another `or`:", stray_or)

norm = lambda s: s.replace(":", "").lower().lstrip("0")
rl_serials = {norm(s) for s in re.findall(r'serial == "([0-9a-fA-F:]+)"', rl)}
found = set(re.findall(r"serial=([0-9a-f]+)", sys.stdin.read()))
print("distinct RL serials:", len(rl_serials), "sample serials:", len(found),
      "in both:", sorted(s for s in found if norm(s) in rl_serials))

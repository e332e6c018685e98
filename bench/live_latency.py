"""Latency of live matching: events published on a NATS subject at a fixed
rate, each one a hit, against the moment its alert arrives on the alerts
subject (`cairn hunt --follow`). The event's `ts` is its send time, and
alerts carry `ts` as logged, so latency = arrival - ts. Prints p50/p99/max.

Usage: python3 live_latency.py NATS_URL EVENTS_SUBJECT ALERTS_SUBJECT RATE COUNT
"""
import asyncio
import json
import sys
import time

import nats


async def main():
    url, subject, alerts_subject, rate, count = sys.argv[1:6]
    rate, count = float(rate), int(count)
    nc = await nats.connect(url)
    lat = []
    seen = set()
    done = asyncio.Event()

    # An event under two indicators (kb.dga.asia, dga.asia) gives two
    # alerts; its latency is its first alert's.
    async def on_alert(msg):
        now = time.time()
        ts = json.loads(msg.data)["ts"]
        if ts in seen:
            return
        seen.add(ts)
        lat.append(now - float(ts))
        if len(lat) >= count:
            done.set()

    await nc.subscribe(alerts_subject, cb=on_alert)
    await nc.flush()
    t0 = time.perf_counter()
    sent = 0
    while sent < count:
        due = min(count, int((time.perf_counter() - t0) * rate) + 1)
        while sent < due:
            ev = {"ts": f"{time.time():.6f}", "query": f"n{sent}.kb.dga.asia", "id.orig_h": "10.1.2.3"}
            await nc.publish(subject, json.dumps(ev).encode())
            sent += 1
        await asyncio.sleep(0.0005)
    took = time.perf_counter() - t0
    try:
        await asyncio.wait_for(done.wait(), timeout=30)
    except asyncio.TimeoutError:
        pass
    await nc.close()
    lat.sort()
    if not lat:
        print("no alerts arrived")
        return
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    print(
        f"{count} events at {count / took:.0f}/s: {len(lat)} alerted; "
        f"latency p50 {q(0.50):.2f} ms, p99 {q(0.99):.2f} ms, max {lat[-1] * 1000:.2f} ms"
    )


asyncio.run(main())

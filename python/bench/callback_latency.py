"""The binding's overhead on events: time from the native ELECTED event to the Python callback.

Two electors on one backend hand leadership back and forth (each resigns from its on_elected
callback); for every ELECTED it records, with the steady clock:
  - binding: from the moment the extension took the event from tenure's queue (native, GIL
    released; Event.polled_ns) to the start of the Python callback on the package's thread:
    GIL hand-over, event conversion, routing and the call;
  - handover: from the previous leader's resign() call to the successor's callback (the
    library's handover on that backend plus the binding), for context.
Prints p50/p99/max in microseconds.

    python bench/callback_latency.py [--backend memory://bench] [--count 2000]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import tenure
from tenure import _native


def pct(xs: list, p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="memory://bench")
    ap.add_argument("--count", type=int, default=2000)
    a = ap.parse_args()

    binding: list = []
    handover: list = []
    done = threading.Event()
    resigned_at = [0]
    electors = [tenure.Elector(a.backend, "bench-latency", identity=f"b{i}", lease_duration=10,
                               renew_deadline=5, retry_period=0.05) for i in range(2)]

    def on_elected(ev: tenure.Event, me: tenure.Elector) -> None:
        now = _native.monotonic_ns()
        binding.append((now - ev.polled_ns) / 1000.0)
        if resigned_at[0]:
            handover.append((now - resigned_at[0]) / 1000.0)
        if len(binding) >= a.count:
            done.set()
            return
        resigned_at[0] = _native.monotonic_ns()
        me.resign()

    for e in electors:
        e.on_elected(lambda ev, me=e: on_elected(ev, me))
    t0 = time.monotonic()
    for e in electors:
        e.start()
    done.wait(600)
    wall = time.monotonic() - t0
    for e in electors:
        e.stop()
    print(f"backend {a.backend}, {len(binding)} ELECTED events in {wall:.1f} s "
          f"(tenure {tenure.library_version()})")
    for name, xs in (("binding (native event -> Python callback)", binding),
                     ("handover (resign -> successor's callback)", handover)):
        if xs:
            print(f"{name}: p50 {pct(xs, 50):.1f} us, p99 {pct(xs, 99):.1f} us, "
                  f"max {max(xs):.1f} us, mean {statistics.mean(xs):.1f} us")


if __name__ == "__main__":
    main()

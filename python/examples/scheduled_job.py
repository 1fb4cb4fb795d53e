"""A scheduled job that runs once per fire time across replicas.

Run the same program on every replica. Each replica is a candidate; whichever leads runs the
job for each fire time through ``run_once`` keyed by the fire time, so a fire time runs once even
when leadership moves between replicas (a new leader also catches up fire times of the last few
periods that nobody ran). Try three replicas on one machine, killing the leader now and then:

    python scheduled_job.py --backend file:///tmp/tenure-demo --replicas 3 --seconds 30

or one replica per terminal: ``python scheduled_job.py --backend redis://127.0.0.1:6379``.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import tenure

JOB = "report"


def fire_times(every: float, now: float, catch_up: int) -> list:
    """The latest fire times up to now (multiples of `every` seconds), oldest first."""
    last = int(now // every) * every
    return [last - i * every for i in range(catch_up, -1, -1)]


def key_of(fire: float) -> str:
    return f"{JOB}@{datetime.fromtimestamp(fire, timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def replica(backend: str, election: str, every: float, seconds: float) -> None:
    name = f"replica-{os.getpid()}"
    with tenure.Elector(backend, election, identity=name, lease_duration=3,
                        renew_deadline=2, retry_period=0.2) as elector:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if elector.is_leader:
                for fire in fire_times(every, time.time(), catch_up=3):
                    key = key_of(fire)
                    try:
                        if elector.run_once(key, lambda token: f"{name} token {token}"):
                            print(f"{name}: ran {key}", flush=True)
                    except tenure.NotLeader:
                        break  # lost leadership meanwhile: the next leader runs it
            time.sleep(0.25)


def launch(backend: str, election: str, every: float, seconds: float, n: int) -> None:
    """Starts n replicas here, kills the leader with SIGKILL half-way, prints the ledger."""
    procs = {}
    for _ in range(n):
        p = subprocess.Popen([sys.executable, __file__, "--backend", backend, "--election",
                              election, "--every", str(every), "--seconds", str(seconds)])
        procs[f"replica-{p.pid}"] = p
    start = time.time()
    with tenure.Elector(backend, election, observe_only=True) as obs:
        time.sleep(seconds / 2)
        leader = obs.status().leader
        if leader in procs:
            print(f"killing the leader {leader} (SIGKILL)", flush=True)
            procs[leader].kill()
        for p in procs.values():
            p.wait()
        # Every fire time of the run: one record each, whoever ran it.
        for fire in fire_times(every, time.time(), catch_up=int(seconds // every)):
            if fire >= start:
                run = obs.read_run(key_of(fire))
                print(f"{key_of(fire)}: {run.status} {run.detail}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", required=True)
    p.add_argument("--election", default="scheduled-job-demo")
    p.add_argument("--every", type=float, default=5.0, help="seconds between fire times")
    p.add_argument("--seconds", type=float, default=3600.0, help="how long to run")
    p.add_argument("--replicas", type=int, default=0, help="launch this many replicas here")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if a.replicas:
        launch(a.backend, a.election, a.every, a.seconds, a.replicas)
    else:
        replica(a.backend, a.election, a.every, a.seconds)


if __name__ == "__main__":
    main()

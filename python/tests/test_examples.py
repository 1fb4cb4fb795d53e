"""The examples run: a scheduled job once per fire time across three replicas with the leader
killed half-way, and the asyncio service that works only while it leads."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_scheduled_job_runs_once_per_fire_time_across_three_replicas(backend: str,
                                                                     election: str) -> None:
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / "scheduled_job.py"), "--backend", backend,
         "--election", election, "--replicas", "3", "--every", "1", "--seconds", "12"],
        capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    ran = re.findall(r"^(replica-\d+): ran (\S+)$", out, re.M)
    assert ran, out
    assert all(n == 1 for n in Counter(key for _, key in ran).values()), out  # never twice
    assert "killing the leader" in out, out
    assert len({who for who, _ in ran}) >= 2, out  # a successor took over the schedule
    ledger = re.findall(r"^(report@\S+): (\w+)", out, re.M)
    assert ledger and sum(status == "finished" for _, status in ledger) >= len(ledger) - 2, out


def test_leader_service_works_while_leading(backend: str, election: str) -> None:
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / "leader_service.py"), "--backend", backend,
         "--election", election, "--seconds", "4"],
        capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert re.search(r"leader work #2 under token \d+", out), out

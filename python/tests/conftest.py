"""Backends under test: the embedded file:// backend, and one entry per real server whose URL
tests/servers/*.sh exported (source STATEDIR/*.env). A new backend is one line in BACKENDS.
Under CI=true a server whose URL is missing fails its tests; elsewhere they are skipped with a
message saying how to start it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent

# name -> environment variable holding the server URL (None: embedded, made per test).
BACKENDS: Dict[str, Optional[str]] = {
    "file": None,
    "redis": "TENURE_TEST_REDIS_URL",
    "postgres": "TENURE_TEST_POSTGRES_URL",
    "etcd": "TENURE_TEST_ETCD_URL",
}

# Short timings so failovers take seconds: lease 3 s, renew deadline 2 s, retry 0.2 s.
FAST = dict(lease_duration=3.0, renew_deadline=2.0, retry_period=0.2)


def missing(what: str, how: str) -> None:
    msg = f"{what} is not set: {how}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{msg} (CI=true: a missing server fails)")
    pytest.skip(msg)


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The backend URL of one backend under test."""
    env = BACKENDS[request.param]
    if env is None:
        d = tmp_path / "leases"
        d.mkdir()
        return f"file://{d}"
    url = os.environ.get(env)
    if not url:
        missing(env, f"run 'bash tests/servers/{request.param}.sh start DIR' and "
                     f"'source DIR/{request.param}.env'")
    return url


@pytest.fixture
def election() -> str:
    return "py-" + uuid.uuid4().hex[:12]


class Candidate:
    """A candidate.py process; lines it prints are collected as they come."""

    def __init__(self, backend: str, election: str, identity: str, *extra: str) -> None:
        self.identity = identity
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "candidate.py"), "--backend", backend,
             "--election", election, "--identity", identity, *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines: List[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.strip())
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_line(self, prefix: str, timeout: float) -> Optional[str]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def has(self, prefix: str) -> bool:
        with self._cond:
            return any(line.startswith(prefix) for line in self.lines)

    @property
    def leading(self) -> bool:
        """Elected and not revoked since (by its own report)."""
        with self._cond:
            state = False
            for line in self.lines:
                if line.startswith("ELECTED"):
                    state = True
                elif line.startswith("REVOKED"):
                    state = False
            return state

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(15)
            except Exception:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def candidates() -> Iterator[Callable[..., Candidate]]:
    made: List[Candidate] = []

    def make(backend: str, election: str, identity: str, *extra: str) -> Candidate:
        c = Candidate(backend, election, identity, *extra)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()

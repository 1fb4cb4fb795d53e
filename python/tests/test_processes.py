"""Real processes in one election: contention, kill -9 and successors, run_once across a
failover, wrong credentials, and this binding against `tenure run` CLI candidates."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

import pytest

import tenure
from conftest import FAST, missing, wait_until


def token_of(line: str) -> int:
    return int(line.split()[1])


def test_two_processes_contend_exactly_one_leads(backend: str, election: str,
                                                  candidates) -> None:
    a = candidates(backend, election, "proc-a")
    b = candidates(backend, election, "proc-b")
    assert wait_until(lambda: a.leading or b.leading, 20)
    for _ in range(30):  # 3 s of samples: never both
        assert not (a.leading and b.leading), (a.lines, b.lines)
        time.sleep(0.1)
    assert wait_until(lambda: a.leading != b.leading, 10), (a.lines, b.lines)
    leader = a if a.leading else b
    with tenure.Elector(backend, election, observe_only=True, **FAST) as obs:
        assert wait_until(lambda: obs.leader == leader.identity, 10), obs.leader


def test_kill9_of_the_leader_elects_a_successor(backend: str, election: str, candidates) -> None:
    a = candidates(backend, election, "first")
    assert a.wait_line("ELECTED", 20)
    b = candidates(backend, election, "second")
    assert b.wait_line("READY", 20)
    first_token = token_of(a.wait_line("ELECTED", 1) or "")
    t0 = time.monotonic()
    a.kill9()
    line = b.wait_line("ELECTED", 15)  # lease 3 s: well within
    assert line, b.lines
    assert token_of(line) > first_token
    assert time.monotonic() - t0 < 15


def test_run_once_runs_once_across_a_failover(backend: str, election: str, candidates) -> None:
    a = candidates(backend, election, "runner-a", "--job", "nightly")
    assert a.wait_line("RUN nightly True", 20), a.lines
    b = candidates(backend, election, "runner-b", "--job", "nightly")
    assert b.wait_line("READY", 20)
    a.kill9()
    assert b.wait_line("ELECTED", 15), b.lines
    assert b.wait_line("RUN nightly False", 15), b.lines
    assert not b.has("RAN")
    with tenure.Elector(backend, election, observe_only=True, **FAST) as obs:
        run = obs.read_run("nightly")
    assert run.status == "finished" and run.holder == "runner-a" and run.detail == "by runner-a"


def test_unfinished_run_is_retried_by_the_successor(backend: str, election: str,
                                                    candidates) -> None:
    a = candidates(backend, election, "hung-a", "--job", "migrate", "--job-seconds", "60")
    assert a.wait_line("RAN migrate", 20), a.lines
    b = candidates(backend, election, "retry-b", "--job", "migrate")
    assert b.wait_line("READY", 20)
    a.kill9()  # dies mid-job: the run stays "started"
    assert b.wait_line("RUN migrate True", 20), b.lines
    with tenure.Elector(backend, election, observe_only=True, **FAST) as obs:
        run = obs.read_run("migrate")
    assert run.status == "finished" and run.holder == "retry-b"


def _with_password(url: str, password: str, user: Optional[str] = None) -> str:
    u = urlsplit(url)
    # Redis's default user takes any password (nopass): use a user that does not exist.
    user = user or u.username or "tenure-no-such-user"
    netloc = f"{user}:{password}@{u.hostname}:{u.port}"
    return urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))


# (server URL variable, variable naming a real user there whose password the test gets wrong)
@pytest.mark.parametrize("env,user_env", [("TENURE_TEST_POSTGRES_URL", None),
                                          ("TENURE_TEST_REDIS_URL", None),
                                          ("TENURE_TEST_ETCD_AUTH_URL", "TENURE_TEST_ETCD_USER")])
def test_wrong_credentials_raise_auth_error(env: str, user_env: Optional[str]) -> None:
    url = os.environ.get(env)
    if not url:
        missing(env, "start the server with tests/servers/*.sh and source its env file")
    user = os.environ.get(user_env) if user_env else None
    bad = _with_password(url, "wrong-password-for-the-test", user)
    with tenure.Elector(bad, "auth-test", **FAST) as e:
        t0 = time.monotonic()
        with pytest.raises(tenure.AuthError) as ei:
            with e.leadership(timeout=20):
                pass
        assert time.monotonic() - t0 < 15  # raised when the server refused, not at the timeout
    msg = ei.value.message
    assert msg and "wrong-password-for-the-test" not in msg  # never a password in a message
    assert re.search(r"auth|password|credential", msg, re.I), msg


def tenure_cli() -> str:
    cli = os.environ.get("TENURE_CLI") or shutil.which("tenure")
    if not cli:
        missing("TENURE_CLI", "set it to the tenure command built by scripts/test.sh "
                              "(BUILD/cli/tenure)")
    return cli  # type: ignore[return-value]


def test_python_and_cli_candidates_share_one_election(backend: str, election: str,
                                                      tmp_path: Path) -> None:
    cli = tenure_cli()
    log = tmp_path / "cli.log"
    py = tenure.Elector(backend, election, identity="python", **FAST)
    procs = []
    try:
        py.start()
        with py.leadership(timeout=15) as term:
            py_token = term.token
            for name in ("cli-1", "cli-2"):
                procs.append(subprocess.Popen(
                    [cli, "run", "-b", backend, "-e", election, "-i", name,
                     "--lease-duration", "3000", "--renew-deadline", "2000",
                     "--retry-period", "200", "-q", "--", "sh", "-c",
                     f'echo "{name} $TENURE_TOKEN" >> {log}; exec sleep 600']))
            time.sleep(2)
            assert py.is_leader and not log.exists()  # the CLI candidates wait
        # leaving the block resigned: a CLI candidate takes over with a newer token
        assert wait_until(lambda: log.exists() and log.read_text().strip() != "", 15)
        name, token = log.read_text().split()
        assert name in ("cli-1", "cli-2") and int(token) > py_token
        assert wait_until(lambda: py.leader == name, 10), py.leader
        assert not py.is_leader
        # one record format: the Python elector reads the CLI leader's lease
        st = py.status()
        assert st.leader == name and st.token == int(token)
    finally:
        py.stop()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(15)

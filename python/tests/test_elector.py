"""The synchronous API against every backend: leadership, callbacks, status, metrics, errors."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest

import tenure
from conftest import FAST, wait_until


def test_leadership_yields_a_term(backend: str, election: str) -> None:
    with tenure.Elector(backend, election, identity="solo", **FAST) as e:
        with e.leadership(timeout=15) as term:
            assert term.token > 0
            assert not term.lost.is_set()
            assert e.is_leader
            st = e.status()
            assert st.is_leader and st.role is tenure.Role.LEADER
            assert st.token == term.token
            assert st.leader == "solo"
            assert st.lease_duration == 3.0
            m = e.metrics()
            assert isinstance(m, dict) and m
        # leaving the block resigned
        assert term.lost.is_set()
        assert wait_until(lambda: not e.is_leader, 5)


def test_timedelta_and_float_seconds(backend: str, election: str) -> None:
    e = tenure.Elector(backend, election, lease_duration=timedelta(seconds=3),
                       renew_deadline=2, retry_period=timedelta(milliseconds=200))
    with e, e.leadership(timeout=15) as term:
        assert term.token > 0
    with pytest.raises(TypeError, match="timedelta"):
        tenure.Elector(backend, election, lease_duration="3s")  # type: ignore[arg-type]


def test_decorator_callbacks_run_on_the_package_thread(backend: str, election: str) -> None:
    seen: list = []
    done = threading.Event()
    e = tenure.Elector(backend, election, identity="cb", **FAST)

    @e.on_elected
    def elected(ev: tenure.Event) -> None:
        seen.append(("elected", ev.token, threading.current_thread().name))
        e.resign()

    @e.on_revoked
    def revoked(ev: tenure.Event) -> None:
        seen.append(("revoked", ev.reason, threading.current_thread().name))
        done.set()

    changes: list = []
    e.on_leader_changed(lambda ev: changes.append(ev.leader))
    with e:
        assert done.wait(15), seen
    assert seen[0][0] == "elected" and seen[0][1] > 0
    assert seen[1][:2] == ("revoked", "released")
    assert {s[2] for s in seen} == {"tenure-python"}
    assert "cb" in changes


def test_callback_that_raises_is_logged_and_elector_goes_on(
        backend: str, election: str, caplog: pytest.LogCaptureFixture) -> None:
    revoked = threading.Event()
    e = tenure.Elector(backend, election, **FAST)

    @e.on_elected
    def boom(ev: tenure.Event) -> None:
        raise RuntimeError("callback failure for the test")

    e.on_revoked(lambda ev: revoked.set())
    with caplog.at_level(logging.ERROR, logger="tenure"), e:
        with e.leadership(timeout=15) as term:
            assert wait_until(lambda: any("callback failure" in (r.exc_text or "")
                                          for r in caplog.records), 5)
            assert e.is_leader and not term.lost.is_set()
        assert revoked.wait(10)  # later events still reach callbacks
    rec = next(r for r in caplog.records if "raised" in r.getMessage())
    assert rec.name == "tenure" and rec.exc_info is not None


def test_blocking_callback_does_not_cost_the_lease(backend: str, election: str,
                                                    candidates) -> None:
    # Lease 3 s; the callback blocks 7 s: renewals go on in the library meanwhile.
    released = threading.Event()
    tokens: list = []
    e = tenure.Elector(backend, election, identity="slow", **FAST)

    @e.on_elected
    def slow(ev: tenure.Event) -> None:
        tokens.append(ev.token)
        released.wait(7)

    with e:
        assert wait_until(lambda: bool(tokens), 15)
        rival = candidates(backend, election, "rival")
        assert rival.wait_line("READY", 15)
        released.wait(7)
        time.sleep(0.5)
        st = e.status()
        assert st.is_leader and st.token == tokens[0]
        assert st.since_renewal is not None and st.since_renewal < 2.0
        assert not rival.has("ELECTED")
        assert len(tokens) == 1


def test_run_once_runs_once_and_records(backend: str, election: str) -> None:
    calls: list = []
    with tenure.Elector(backend, election, **FAST) as e, e.leadership(timeout=15) as term:
        assert e.capabilities & tenure.Capability.LEDGER
        assert e.read_run("job-a").status == "none"
        assert e.run_once("job-a", lambda tok: calls.append(tok) or "detail-a") is True
        assert e.run_once("job-a", lambda tok: calls.append(tok)) is False
        assert calls == [term.token]
        run = e.read_run("job-a")
        assert run.status == "finished" and run.token == term.token
        assert run.detail == "detail-a" and run.holder == e.identity
        assert run.started_at is not None and run.finished_at is not None
        # a job that raises is recorded as failed, and the exception propagates
        with pytest.raises(ValueError, match="job failure"):
            e.run_once("job-b", lambda: (_ for _ in ()).throw(ValueError("job failure")))
        run = e.read_run("job-b")
        assert run.status == "failed" and "job failure" in run.detail
        with pytest.raises(ValueError, match="on_unfinished"):
            e.run_once("job-c", lambda: None, on_unfinished="later")


def test_run_once_not_leader(backend: str, election: str) -> None:
    e = tenure.Elector(backend, election, observe_only=True, **FAST)
    with e:
        with pytest.raises(tenure.NotLeader) as ei:
            e.run_once("job", lambda: None)
        assert ei.value.message


@pytest.mark.parametrize("url,match", [
    ("nosuch://x", "nosuch"),
    ("redis://127.0.0.1:notaport", "port"),
    ("file://", ""),
])
def test_bad_url_raises_config_error(url: str, match: str) -> None:
    with pytest.raises(tenure.ConfigError) as ei:
        tenure.Elector(url, "e1")
    assert isinstance(ei.value, ValueError)
    assert ei.value.message and ei.value.name.startswith("TENURE_E_")
    assert match.lower() in str(ei.value).lower()


def test_bad_names_options_and_timing(backend: str) -> None:
    with pytest.raises(tenure.ConfigError, match="election"):
        tenure.Elector(backend, "bad name!")
    with pytest.raises(tenure.ConfigError) as ei:
        tenure.Elector(backend, "ok", lease_duration=1, renew_deadline=2, retry_period=0.5)
    assert ei.value.name == "TENURE_E_INVALID_TIMING" and "renew" in ei.value.message
    if not backend.startswith("file:"):  # the file backend takes no options and ignores them
        with pytest.raises(tenure.ConfigError, match="no_such_option"):
            tenure.Elector(backend, "ok", no_such_option_for_any_backend="1")


def test_unreachable_server_raises_backend_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    for url in ("redis://127.0.0.1:1", "postgres://tenure:x@127.0.0.1:1/tenure"):
        e = tenure.Elector(url, "unreach", lease_duration=3, renew_deadline=2, retry_period=0.2)
        with caplog.at_level(logging.INFO, logger="tenure"), e:
            with pytest.raises(tenure.BackendUnreachable) as ei:
                with e.leadership(timeout=4):
                    pass
            assert "127.0.0.1:1" in ei.value.message or "connect" in ei.value.message.lower()
            assert isinstance(ei.value, ConnectionError)
            with pytest.raises(tenure.BackendUnreachable):
                e.read_run("job")
    # the library's own records reached logging under the tenure logger
    assert any(r.name.startswith("tenure.") for r in caplog.records)


def test_interpreter_exit_releases_leadership(backend: str, election: str, candidates) -> None:
    # Lease 20 s: a successor within 8 s proves the leaver released rather than expired.
    slow = ("--lease", "20", "--renew", "10", "--retry", "0.2")
    leaver = candidates(backend, election, "leaver", "--exit-when-elected", *slow)
    assert leaver.wait_line("ELECTED", 20)
    t0 = time.monotonic()
    assert leaver.proc.wait(15) == 0  # no hang at exit
    successor = candidates(backend, election, "successor", *slow)
    assert successor.wait_line("ELECTED", 8), successor.lines
    assert time.monotonic() - t0 < 15


def test_stop_delivers_revoked_stopped_before_returning(backend: str, election: str) -> None:
    reasons: list = []
    e = tenure.Elector(backend, election, on_revoked=lambda ev: reasons.append(ev.reason), **FAST)
    with e:
        term = e.leadership(timeout=15).__enter__()
    assert reasons == ["stopped"]
    assert term.lost.is_set()
    with pytest.raises(tenure.StateError, match="stopped"):
        e.start()


EXIT_SCRIPT = """
import sys, threading, time, tenure
blocked = threading.Event()
def hang(ev):
    blocked.set()
    time.sleep(60)
e1 = tenure.Elector("redis://127.0.0.1:1", "exit-unreach", lease_duration=3, renew_deadline=2,
                    retry_period=0.2)
e1.start()
e2 = tenure.Elector(sys.argv[1], "exit-hang", lease_duration=3, renew_deadline=2,
                    retry_period=0.2, on_elected=hang)
e2.start()
assert blocked.wait(15)
print("exiting", flush=True)
"""


def test_exit_with_unreachable_backend_and_blocked_callback_does_not_hang(tmp_path) -> None:
    import subprocess
    import sys
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, f"file://{tmp_path}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "exiting" in r.stdout
    assert time.monotonic() - t0 < 20

"""fork() and multiprocessing (fork start method) in a process that holds electors: the parent
keeps leading; the child's inherited electors are inert; new electors in the child work."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

import tenure
from conftest import FAST


def _child_work(backend: str, election: str, parent: tenure.Elector) -> int:
    # inherited: inert (every call refused with the library's message), is_leader False
    try:
        parent.run_once("x", lambda: None)
        return 10
    except tenure.StateError as e:
        if "parent" not in e.message:
            return 11
    if parent.is_leader:
        return 12
    with tenure.Elector(backend, election + "-child", **FAST) as e, e.leadership(timeout=15) as t:
        if t.token <= 0:
            return 13
    return 0


def _mp_target(backend: str, election: str, parent: tenure.Elector, q) -> None:
    q.put(_child_work(backend, election, parent))


@pytest.mark.timeout(90)
def test_fork_leaves_parent_leading_and_child_gets_new_electors(backend: str,
                                                                election: str) -> None:
    with tenure.Elector(backend, election, **FAST) as e, e.leadership(timeout=15) as term:
        pid = os.fork()
        if pid == 0:
            rc = 99
            try:
                rc = _child_work(backend, election, e)
                tenure.shutdown()  # a child that used tenure shuts it down before _exit
            finally:
                os._exit(rc)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        time.sleep(0.5)
        assert e.is_leader and not term.lost.is_set()
        assert e.status().token == term.token


@pytest.mark.timeout(90)
def test_multiprocessing_fork_start_method(backend: str, election: str) -> None:
    ctx = multiprocessing.get_context("fork")
    with tenure.Elector(backend, election, **FAST) as e, e.leadership(timeout=15) as term:
        q = ctx.Queue()
        p = ctx.Process(target=_mp_target, args=(backend, election, e, q))
        p.start()
        p.join(60)
        assert p.exitcode == 0
        assert q.get(timeout=5) == 0
        assert e.is_leader and e.status().token == term.token

"""asyncio: wait_elected, events(), async with leadership(), through the library's descriptor
(loop.add_reader), with no thread per elector."""

from __future__ import annotations

import asyncio
import threading

import pytest

import tenure
from conftest import FAST


def test_wait_elected_and_async_leadership(backend: str, election: str) -> None:
    async def main() -> None:
        async with tenure.Elector(backend, election, identity="aio", **FAST) as e:
            term = await e.wait_elected(timeout=15)
            assert term.token > 0 and e.is_leader
            async with e.leadership(timeout=5) as t2:
                assert isinstance(t2, tenure.AsyncTerm) and t2.token == term.token
                assert not t2.lost.is_set()
            assert t2.lost.is_set()  # leaving the block resigned
            for _ in range(100):
                if not e.is_leader:
                    break
                await asyncio.sleep(0.05)
            assert not e.is_leader

    asyncio.run(main())


def test_events_iterator_in_order(backend: str, election: str) -> None:
    async def main() -> list:
        seen = []
        e = tenure.Elector(backend, election, identity="iter", **FAST)
        async with e:
            async for ev in e.events():
                seen.append(ev)
                if ev.type is tenure.EventType.ELECTED:
                    e.resign()
                if ev.type is tenure.EventType.REVOKED:
                    break
        return seen

    seen = asyncio.run(asyncio.wait_for(main(), 20))
    types = [ev.type for ev in seen]
    assert tenure.EventType.ELECTED in types
    assert types[-1] is tenure.EventType.REVOKED and seen[-1].reason == "released"
    assert types.index(tenure.EventType.ELECTED) < len(types) - 1


def test_coroutine_callbacks_and_no_thread_per_elector(backend: str, election: str) -> None:
    async def main() -> None:
        elected = asyncio.Event()
        before = threading.active_count()
        electors = [tenure.Elector(backend, f"{election}-{i}", **FAST) for i in range(5)]

        async def on_elected(ev: tenure.Event) -> None:
            await asyncio.sleep(0)
            elected.set()

        electors[0].on_elected(on_elected)
        for e in electors:
            await e.__aenter__()
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait_elected() for e in electors)), 15)
            await asyncio.wait_for(elected.wait(), 5)
            # five electors, one loop: tenure's own threads and at most the package's one
            # thread plus the default executor's; never one per elector
            assert threading.active_count() - before < 5
        finally:
            for e in electors:
                await e.__aexit__(None, None, None)

    asyncio.run(main())


def test_async_wait_timeout_and_errors() -> None:
    async def main() -> None:
        e = tenure.Elector("redis://127.0.0.1:1", "aio-unreach", **FAST)
        async with e:
            with pytest.raises(tenure.BackendUnreachable):
                await e.wait_elected(timeout=3)

    asyncio.run(main())


def test_sync_started_elector_serves_async_waiters(backend: str, election: str) -> None:
    with tenure.Elector(backend, election, **FAST) as e:
        async def main() -> int:
            term = await e.wait_elected(timeout=15)
            return term.token

        assert asyncio.run(main()) > 0

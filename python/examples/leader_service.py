"""An asyncio service that works only while it leads.

Every replica runs this; the leader does the work (here: a ticking task stamped with its fencing
token), the others wait. When leadership goes, the work is cancelled at once and the replica
waits to be elected again. Ctrl-C leaves the election, releasing leadership.

    python leader_service.py --backend redis://127.0.0.1:6379
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import tenure


async def work(token: int) -> None:
    n = 0
    while True:
        n += 1
        # Pass the token to whatever the leader writes, so a stale leader's writes are refused.
        print(f"leader work #{n} under token {token}", flush=True)
        await asyncio.sleep(1)


async def serve(backend: str, election: str, seconds: float) -> None:
    async with tenure.Elector(backend, election, lease_duration=6, renew_deadline=4,
                              retry_period=0.5) as elector:

        @elector.on_leader_changed
        def show(ev: tenure.Event) -> None:
            print(f"leader is now {ev.leader}", flush=True)

        async def lead_forever() -> None:
            while True:
                async with elector.leadership() as term:
                    task = asyncio.create_task(work(term.token))
                    await term.lost.wait()  # set the moment leadership goes
                    task.cancel()
                    print(f"lost leadership (token {term.token}); waiting again", flush=True)

        try:
            await asyncio.wait_for(lead_forever(), seconds if seconds > 0 else None)
        except asyncio.TimeoutError:
            pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", required=True)
    p.add_argument("--election", default="leader-service-demo")
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO)
    try:
        asyncio.run(serve(a.backend, a.election, a.seconds))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

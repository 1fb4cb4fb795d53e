"""A candidate process for the tests: joins an election and prints what happens, one line each:
``READY <identity>``, ``ELECTED <token>``, ``REVOKED <reason>``, ``RAN <key> <token>``,
``RUN <key> <ran>``. Runs until killed, or until stdin closes (then stops, releasing)."""

import argparse
import sys
import threading
import time

import tenure


def say(*parts: object) -> None:
    print(*parts, flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--backend", required=True)
    p.add_argument("--election", required=True)
    p.add_argument("--identity", required=True)
    p.add_argument("--lease", type=float, default=3.0)
    p.add_argument("--renew", type=float, default=2.0)
    p.add_argument("--retry", type=float, default=0.2)
    p.add_argument("--job", default=None, help="run_once this key when elected")
    p.add_argument("--job-seconds", type=float, default=0.0, help="how long the job works")
    p.add_argument("--exit-when-elected", action="store_true",
                   help="leave the interpreter (no stop) once elected")
    a = p.parse_args()

    elector = tenure.Elector(a.backend, a.election, identity=a.identity, lease_duration=a.lease,
                             renew_deadline=a.renew, retry_period=a.retry)
    elected = threading.Event()

    @elector.on_elected
    def _elected(ev: tenure.Event) -> None:
        say("ELECTED", ev.token)
        elected.set()

    @elector.on_revoked
    def _revoked(ev: tenure.Event) -> None:
        say("REVOKED", ev.reason)

    elector.start()
    say("READY", elector.identity)
    if a.exit_when_elected:
        elected.wait()
        return  # interpreter exit with a live elector: atexit must release the lease
    if a.job:
        elected.wait()

        def job(token: int) -> str:
            say("RAN", a.job, token)
            time.sleep(a.job_seconds)
            return f"by {a.identity}"

        ran = elector.run_once(a.job, job)
        say("RUN", a.job, ran)
    sys.stdin.read()  # until the test closes stdin
    elector.stop()
    say("STOPPED")


if __name__ == "__main__":
    main()

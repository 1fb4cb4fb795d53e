"""tenure.Elector: one candidate (or observer) in one election."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import time
from datetime import timedelta
from typing import (Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar,
                    Union)

from . import _native, _runtime
from ._errors import FATAL_CODES, Error, StateError, Timeout, _from_code
from ._types import (AsyncTerm, Capability, Event, EventType, Role, Run, Status, Term,
                     ms_to_datetime, ms_to_seconds)

__all__ = ["Elector", "Seconds"]

_LOG = logging.getLogger("tenure")
Seconds = Union[float, int, timedelta]
Callback = Callable[[Event], Any]
F = TypeVar("F", bound=Callable[..., Any])

_ERR_NAMES = {
    1: "TENURE_E_INVALID_ARGUMENT", 2: "TENURE_E_UNKNOWN_OPTION", 3: "TENURE_E_BAD_URL",
    4: "TENURE_E_UNSUPPORTED_BACKEND", 5: "TENURE_E_INVALID_TIMING", 6: "TENURE_E_INVALID_NAME",
    7: "TENURE_E_IDENTITY_IN_USE", 8: "TENURE_E_PERMISSION_DENIED", 9: "TENURE_E_UNREACHABLE",
    10: "TENURE_E_AUTH_FAILED", 11: "TENURE_E_BACKEND", 12: "TENURE_E_TIMEOUT",
    13: "TENURE_E_BAD_STATE", 14: "TENURE_E_IN_CALLBACK", 15: "TENURE_E_NOT_LEADER",
    16: "TENURE_E_FENCED", 17: "TENURE_E_LOST", 18: "TENURE_E_NO_EVENT", 19: "TENURE_E_INTERNAL",
    20: "TENURE_E_CONNECTION_LIMIT",
}
# After these REVOKED reasons the library holds the lease until ack_revoked (or a bound).
_NEEDS_ACK = frozenset({"lost", "renew_deadline", "backend_error"})


def _ms(name: str, value: Seconds) -> str:
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(f"{name} must be seconds as a float or a datetime.timedelta, "
                        f"not {type(value).__name__}")
    return str(int(round(seconds * 1000)))


def _option_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return str(int(round(value.total_seconds() * 1000)))
    return str(value)


def _to_event(ev: Tuple[Any, ...]) -> Event:
    etype, token, reason, leader, err, message, _opaque, polled_ns = ev
    t = EventType(etype)
    error = None
    if t is EventType.ERROR and err:
        error = _from_code(err, _ERR_NAMES.get(err, ""), message)
    return Event(type=t, token=token,
                 reason=reason if t is EventType.REVOKED else None,
                 leader=(leader or None) if t is EventType.LEADER_CHANGED else None,
                 error=error, message=message, polled_ns=polled_ns)


def _call_job(fn: Callable[..., Any]) -> Callable[[int], Any]:
    """run_once jobs may take the fencing token or nothing."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return fn
    return fn if params else (lambda _token: fn())


class Elector:
    """A candidate for leadership of one election on one backend.

    ``backend`` is a URL: ``file:///var/lib/tenure``, ``redis://host:6379``, ``rediss://...``,
    ``postgres://user:pass@host/db``. ``election`` names the election (``[A-Za-z0-9._-]``, 1 to
    128 characters). Durations are seconds (float) or :class:`datetime.timedelta`; the library
    requires ``lease_duration > renew_deadline > retry_period > 0``. Other keyword arguments are
    backend options (``tls_ca=...``, ``sslrootcert=...``: see the backend's documentation).

    Use it as a context manager (``with Elector(...) as e:`` starts it; leaving stops it and
    releases leadership), or call :meth:`start` and :meth:`stop`. Callbacks registered with
    :meth:`on_elected`, :meth:`on_revoked`, :meth:`on_leader_changed` and :meth:`on_error` (as
    decorators or plain calls) receive an :class:`Event` and run on the package's own thread
    ``tenure-python``, in order; one that raises is logged with its traceback and the elector
    goes on. Inside asyncio (``async with``, :meth:`wait_elected`, :meth:`events`) events are
    handled on the event loop, through the library's descriptor (``loop.add_reader``), and
    callbacks may be coroutine functions.

    Raises :class:`tenure.ConfigError` (a ``ValueError``) for a bad URL, name, option or timing.
    """

    def __init__(
        self,
        backend: str,
        election: str,
        *,
        identity: Optional[str] = None,
        lease_duration: Seconds = 15.0,
        renew_deadline: Seconds = 10.0,
        retry_period: Seconds = 2.0,
        observe_only: bool = False,
        stop_timeout: Seconds = 5.0,
        on_elected: Optional[Callback] = None,
        on_revoked: Optional[Callback] = None,
        on_leader_changed: Optional[Callback] = None,
        on_error: Optional[Callback] = None,
        **backend_options: Any,
    ) -> None:
        opts: List[Tuple[str, str]] = [
            ("backend", backend),
            ("election", election),
            ("lease_duration_ms", _ms("lease_duration", lease_duration)),
            ("renew_deadline_ms", _ms("renew_deadline", renew_deadline)),
            ("retry_period_ms", _ms("retry_period", retry_period)),
            ("stop_timeout_ms", _ms("stop_timeout", stop_timeout)),
        ]
        if identity is not None:
            opts.append(("identity", identity))
        if observe_only:
            opts.append(("observe_only", "true"))
        opts += [(f"backend.{k}", _option_value(v)) for k, v in backend_options.items()]
        self._native = _native.Elector(opts)
        self.backend = backend
        self.election = election
        self.identity: str = self._native.identity()
        self._cond = threading.Condition()
        self._callbacks: Dict[EventType, List[Callback]] = {t: [] for t in EventType}
        for t, cb in ((EventType.ELECTED, on_elected), (EventType.REVOKED, on_revoked),
                      (EventType.LEADER_CHANGED, on_leader_changed), (EventType.ERROR, on_error)):
            if cb is not None:
                self._callbacks[t].append(cb)
        self._term: Optional[Term] = None
        self._leader: Optional[str] = None
        self._last_error: Optional[Error] = None
        self._fatal_error: Optional[Error] = None
        self._holders = 0  # leadership() blocks inside the current term
        self._state = "new"  # new, running, stopped, shut down, inherited
        self._id = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._sink: Any = None
        self._subscribers: List[Tuple[asyncio.AbstractEventLoop, "asyncio.Queue[Optional[Event]]"]] = []

    def __repr__(self) -> str:
        return (f"Elector(election={self.election!r}, identity={self.identity!r}, "
                f"state={self._state!r}, leader={self.is_leader})")

    # ---- callbacks ----

    def on_elected(self, fn: F) -> F:
        """Registers ``fn(event)`` for ELECTED (``event.token`` is the fencing token)."""
        self._callbacks[EventType.ELECTED].append(fn)
        return fn

    def on_revoked(self, fn: F) -> F:
        """Registers ``fn(event)`` for REVOKED (``event.reason``); stop leader-only work in it.
        When it returns, the library is told that the work stopped (it may then release the
        lease at once)."""
        self._callbacks[EventType.REVOKED].append(fn)
        return fn

    def on_leader_changed(self, fn: F) -> F:
        """Registers ``fn(event)`` for LEADER_CHANGED (``event.leader``, None when no one leads)."""
        self._callbacks[EventType.LEADER_CHANGED].append(fn)
        return fn

    def on_error(self, fn: F) -> F:
        """Registers ``fn(event)`` for ERROR events (``event.error``: the matching exception)."""
        self._callbacks[EventType.ERROR].append(fn)
        return fn

    # ---- life cycle ----

    def start(self) -> "Elector":
        """Starts running for leadership; returns at once, events follow. Outside asyncio."""
        self._start(None)
        return self

    def _start(self, loop: Optional[asyncio.AbstractEventLoop]) -> None:
        with self._cond:
            if self._state != "new":
                if self._state == "running":
                    return
                raise StateError(f"this elector is {self._state}; make a new Elector",
                                 name="TENURE_E_BAD_STATE")
            self._state = "running"
        self._id = _runtime.register(self)
        try:
            if loop is None:
                self._native.set_queue(_runtime.dispatcher().queue, self._id)
            else:
                self._sink = _runtime.aio_sink(loop)
                self._loop = loop
                self._native.set_queue(self._sink.queue, self._id)
            self._native.start()
        except BaseException:
            self._mark_stopped("stopped")
            raise

    def stop(self) -> None:
        """Leaves the election: releases leadership (a REVOKED event with reason ``stopped``),
        waiting at most ``stop_timeout``. The GIL is released while it waits. Safe twice."""
        if self._state == "running":
            self._native.stop()
            # deliver what the stop queued (REVOKED "stopped") before marking the elector stopped
            d = _runtime.current_dispatcher()
            if self._sink is None and d is not None:
                d.flush(2.0)
            elif self._sink is not None and _runtime.running_loop() is self._sink.loop:
                self._sink.drain()
        self._mark_stopped("stopped")

    close = stop

    def _mark_stopped(self, state: str) -> None:
        with self._cond:
            if self._state in ("stopped", "shut down", "inherited"):
                return
            self._state = state
            term, self._term = self._term, None
            subs = list(self._subscribers)
            self._cond.notify_all()
        if term is not None:
            term._set_lost()
        for loop, q in subs:
            _runtime.call_soon(loop, q.put_nowait, None)
        sink, self._sink = self._sink, None
        if sink is not None:
            _runtime.call_soon(sink.loop, sink.release)
        if self._id:
            _runtime.unregister(self._id)

    def _after_shutdown(self) -> None:
        self._mark_stopped("shut down")

    def _after_fork(self) -> None:
        # In a forked child: the parent's elector, inert here; the parent keeps leading.
        self._cond = threading.Condition()
        self._state = "inherited"
        self._term = None
        self._subscribers = []
        self._sink = None

    def __enter__(self) -> "Elector":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    async def __aenter__(self) -> "Elector":
        self._start(asyncio.get_running_loop())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.astop()

    async def astop(self) -> None:
        """:meth:`stop` for asyncio: waits in the loop's default executor, not on the loop."""
        if self._state == "running":
            await asyncio.get_running_loop().run_in_executor(None, self._native.stop)
            sink = self._sink
            if sink is not None and sink.loop is asyncio.get_running_loop():
                sink.drain()  # deliver what the stop queued (REVOKED "stopped")
            else:
                d = _runtime.current_dispatcher()
                if d is not None:
                    await asyncio.get_running_loop().run_in_executor(None, d.flush, 2.0)
        self._mark_stopped("stopped")

    # ---- state ----

    @property
    def is_leader(self) -> bool:
        """True while this elector leads (the library's view, at this instant)."""
        return self._state == "running" and self._native.is_leader()

    @property
    def leader(self) -> Optional[str]:
        """The identity of the known leader, None when none is known."""
        return self._leader

    @property
    def term(self) -> Optional[Term]:
        """The current term while leading, else None."""
        return self._term

    def resign(self) -> None:
        """A leader steps down (REVOKED, reason ``released``) and sits out one retry period.
        The current term's ``lost`` is set when this returns."""
        term = self._term
        self._native.resign()
        if term is not None:
            term._set_lost()

    def status(self) -> Status:
        """A snapshot of this elector and of the lease as the backend last showed it."""
        d = self._native.status()
        return Status(
            role=Role(d["role"]), is_leader=d["is_leader"], token=d["token"],
            leader=d["leader"] or None,
            since_renewal=ms_to_seconds(d["ms_since_renewal"]),
            expires_in=ms_to_seconds(d["expires_in_ms"]),
            acquired_at=ms_to_datetime(d["acquired_unix_ms"]),
            renewed_at=ms_to_datetime(d["renewed_unix_ms"]),
            lease_duration=d["lease_duration_ms"] / 1000.0 if d["lease_duration_ms"] > 0 else None,
            transitions=d["transitions"],
            since_backend_contact=ms_to_seconds(d["ms_since_backend_contact"]),
        )

    def metrics(self) -> Dict[str, Any]:
        """This elector's metrics as a dict (schema: docs/metrics.md of the repository)."""
        metrics: Dict[str, Any] = json.loads(self._native.metrics_json())
        return metrics

    @property
    def capabilities(self) -> Capability:
        """What the backend offers (:class:`Capability` flags)."""
        return Capability(self._native.capabilities())

    # ---- run once ----

    def run_once(self, job_key: str, fn: Callable[..., Any], *,
                 on_unfinished: str = "retry") -> bool:
        """Runs ``fn`` at most once per ``job_key`` across all leaders of this election.

        Runs only if this elector leads and no leader finished ``job_key`` before; ``fn`` runs
        on the calling thread, with the fencing token as its argument if it takes one. Its return
        value, if not None, is recorded as the run's detail (``str()``, up to 64 KiB); if it
        raises, the run is recorded as failed and the exception propagates. ``on_unfinished``:
        ``"retry"`` runs again a job an older leader started but never finished, ``"skip"``
        leaves it. Returns True when ``fn`` ran here. Raises :class:`NotLeader` when not leading
        and :class:`Fenced` when leadership moved on while ``fn`` ran. Blocks (GIL released).
        """
        policies = {"retry": 0, "skip": 1}
        if on_unfinished not in policies:
            raise ValueError(f"on_unfinished must be 'retry' or 'skip', not {on_unfinished!r}")
        return self._native.run_once(job_key, policies[on_unfinished], _call_job(fn))

    def read_run(self, job_key: str) -> Run:
        """The ledger's record of ``job_key`` (status ``"none"`` when never run). Any elector may
        read, leader or not; blocks up to ``renew_deadline`` (GIL released)."""
        d = self._native.read_run(job_key)
        return Run(job_key=job_key, status=d["status"], token=d["token"],
                   holder=d["holder"] or None, started_at=ms_to_datetime(d["started_unix_ms"]),
                   finished_at=ms_to_datetime(d["finished_unix_ms"]), detail=d["detail"])

    # ---- leadership ----

    def leadership(self, timeout: Optional[Seconds] = None) -> "Leadership":
        """``with elector.leadership(timeout) as term:`` blocks until elected (starting the
        elector if needed) and yields the :class:`Term`; leaving the block resigns.
        ``async with`` works too and yields an :class:`AsyncTerm`.

        Raises :class:`tenure.Timeout` when not elected within ``timeout`` seconds (or the
        backend's own exception, e.g. :class:`BackendUnreachable`, when the backend failed
        meanwhile), and :class:`AuthError`/:class:`PermissionDenied` at once.
        """
        return Leadership(self, timeout)

    def _timeout_error(self, timeout: Optional[float]) -> Error:
        err = self._last_error
        if err is not None:
            return type(err)(f"not elected within {timeout:g} s; the backend failed: {err.message}",
                             code=err.code, name=err.name)
        leader = f"; {self._leader!r} leads" if self._leader else ""
        return Timeout(f"not elected within {timeout:g} s{leader}", name="TENURE_E_TIMEOUT")

    def _ready(self) -> Optional[Term]:
        """With _cond held: the live term, or raises why none will come."""
        if self._fatal_error is not None:
            err = self._fatal_error
            raise type(err)(err.message, code=err.code, name=err.name)
        if self._state != "running":
            raise StateError(f"this elector is {self._state}", name="TENURE_E_BAD_STATE")
        t = self._term
        return t if t is not None and not t.lost.is_set() else None

    def _wait_term(self, timeout: Optional[float]) -> Term:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                term = self._ready()
                if term is not None:
                    self._holders += 1
                    return term
                if _runtime.on_dispatcher_thread():
                    raise StateError("leadership() cannot wait inside a callback: the events "
                                     "it waits for are delivered on this thread",
                                     name="TENURE_E_IN_CALLBACK")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise self._timeout_error(timeout)
                self._cond.wait(left)

    def _leave_term(self, term: Term) -> None:
        with self._cond:
            self._holders -= 1
        if self._state != "running":
            return
        if term.lost.is_set():
            self._native.ack_revoked()  # our leader-only work stopped: let a successor in
        elif self._term is term:
            self.resign()

    # ---- asyncio ----

    def _subscribe(self) -> "asyncio.Queue[Optional[Event]]":
        loop = asyncio.get_running_loop()
        if self._state == "new":
            self._start(loop)
        q: "asyncio.Queue[Optional[Event]]" = asyncio.Queue()
        with self._cond:
            self._subscribers.append((loop, q))
            if self._state != "running":
                q.put_nowait(None)
        return q

    def _unsubscribe(self, q: "asyncio.Queue[Optional[Event]]") -> None:
        with self._cond:
            self._subscribers = [s for s in self._subscribers if s[1] is not q]

    async def wait_elected(self, timeout: Optional[Seconds] = None) -> AsyncTerm:
        """Waits until this elector leads (starting it in the running loop if needed) and
        returns the term. Raises like :meth:`leadership`."""
        t = None if timeout is None else float(_ms("timeout", timeout)) / 1000.0
        q = self._subscribe()
        loop = asyncio.get_running_loop()
        deadline = None if t is None else loop.time() + t
        try:
            while True:
                with self._cond:
                    term = self._ready()
                if term is not None:
                    return AsyncTerm(term, loop)
                left = None if deadline is None else deadline - loop.time()
                if left is not None and left <= 0:
                    raise self._timeout_error(t)
                try:
                    await asyncio.wait_for(q.get(), left)
                except asyncio.TimeoutError:
                    pass
        finally:
            self._unsubscribe(q)

    async def events(self) -> AsyncIterator[Event]:
        """``async for event in elector.events():`` every event from now on, in order, until the
        elector stops (starting it in the running loop if needed)."""
        q = self._subscribe()
        try:
            while True:
                ev = await q.get()
                if ev is None:
                    return
                yield ev
        finally:
            self._unsubscribe(q)

    # ---- delivery (the dispatcher thread, or the loop of an asyncio-started elector) ----

    def _deliver(self, raw: Tuple[Any, ...]) -> None:
        ev = _to_event(raw)
        lost_term: Optional[Term] = None
        with self._cond:
            if ev.type is EventType.ELECTED:
                self._term = Term(ev.token)
                self._leader = self.identity
                self._last_error = None
            elif ev.type is EventType.REVOKED:
                lost_term, self._term = self._term, None
            elif ev.type is EventType.LEADER_CHANGED:
                self._leader = ev.leader
            elif ev.type is EventType.ERROR and ev.error is not None:
                self._last_error = ev.error  # type: ignore[assignment]
                if getattr(ev.error, "name", "") in FATAL_CODES:
                    self._fatal_error = ev.error  # type: ignore[assignment]
            subs = list(self._subscribers)
            self._cond.notify_all()
        if lost_term is not None:
            lost_term._set_lost()  # first: leader-only work sees it before any callback runs
        for loop, q in subs:
            _runtime.call_soon(loop, q.put_nowait, ev)
        for cb in list(self._callbacks[ev.type]):
            self._run_callback(cb, ev)
        if ev.type is EventType.REVOKED and ev.reason in _NEEDS_ACK:
            with self._cond:
                held = self._holders > 0
            if not held and self._state == "running":
                try:
                    self._native.ack_revoked()
                except Error as e:
                    _LOG.debug("tenure: ack_revoked: %s", e)

    def _run_callback(self, cb: Callback, ev: Event) -> None:
        try:
            r = cb(ev)
            if inspect.isawaitable(r):
                self._schedule(r, cb)
        except Exception:
            _LOG.exception("tenure: the %s callback %r of election %r raised; the elector goes on",
                           ev.type.name.lower(), cb, self.election)

    def _schedule(self, aw: Awaitable[Any], cb: Callback) -> None:
        loop = self._loop
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        if loop is None:
            _LOG.error("tenure: callback %r is a coroutine but the elector was not started "
                       "inside asyncio; use 'async with elector' or a plain function", cb)
            if inspect.iscoroutine(aw):
                aw.close()
            return

        async def guarded() -> None:
            try:
                await aw
            except Exception:
                _LOG.exception("tenure: the coroutine callback %r of election %r raised; "
                               "the elector goes on", cb, self.election)

        asyncio.run_coroutine_threadsafe(guarded(), loop)


class Leadership:
    """What :meth:`Elector.leadership` returns: use it with ``with`` or ``async with``."""

    def __init__(self, elector: Elector, timeout: Optional[Seconds]) -> None:
        self._elector = elector
        self._timeout = None if timeout is None else float(_ms("timeout", timeout)) / 1000.0
        self._term: Optional[Term] = None

    def __enter__(self) -> Term:
        if self._elector._state == "new":
            self._elector.start()
        self._term = self._elector._wait_term(self._timeout)
        return self._term

    def __exit__(self, *exc: Any) -> None:
        if self._term is not None:
            self._elector._leave_term(self._term)

    async def __aenter__(self) -> AsyncTerm:
        e = self._elector
        aterm = await e.wait_elected(self._timeout)
        with e._cond:
            e._holders += 1
        self._term = aterm._term
        return aterm

    async def __aexit__(self, *exc: Any) -> None:
        if self._term is not None:
            self._elector._leave_term(self._term)

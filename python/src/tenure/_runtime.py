"""The package's process-wide machinery: one dispatcher thread (events of electors started
outside asyncio, and the library's log records), asyncio sinks (one tenure queue per event loop,
watched with ``loop.add_reader``), interpreter exit and fork."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import select
import sys
import threading
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _native

_LOG = logging.getLogger("tenure")
_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}

#: opaque id -> elector, for routing queued events (strong while the elector runs)
_electors: Dict[int, Any] = {}
_next_id = 1
_lock = threading.Lock()
_dispatcher: Optional["_Dispatcher"] = None
_sinks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _AioSink]" = weakref.WeakKeyDictionary()
_inherited: List[Any] = []  # a forked child's copies of the parent's native objects: never freed
_shut_down = False


def register(elector: Any) -> int:
    global _next_id
    with _lock:
        eid = _next_id
        _next_id += 1
        _electors[eid] = elector
        return eid


def unregister(eid: int) -> None:
    with _lock:
        _electors.pop(eid, None)


def dispatch(ev: Tuple[Any, ...]) -> None:
    """Hands one native event tuple to its elector (on the dispatcher or a loop thread)."""
    elector = _electors.get(ev[6])
    if elector is not None:
        try:
            elector._deliver(ev)
        except Exception:  # a bug here must not stop the other electors' events
            _LOG.exception("tenure: delivering an event failed")


def emit_log(rec: Tuple[Any, ...]) -> None:
    level, facility, election, identity, message, _unix_ms = rec
    logger = logging.getLogger(f"tenure.{facility}" if facility else "tenure")
    pylevel = _LEVELS.get(level, logging.INFO)
    if not logger.isEnabledFor(pylevel):
        return
    prefix = f"[{election} {identity}] " if election else ""
    logger.log(pylevel, "%s%s", prefix, message,
               extra={"tenure_election": election, "tenure_identity": identity})


def drain_logs() -> None:
    while True:
        rec = _native.log_poll()
        if rec is None:
            return
        emit_log(rec)


class _Dispatcher:
    """The package's one thread: drains the shared event queue (running callbacks of electors
    started outside asyncio) and the library's log queue. It waits in poll(2), GIL released."""

    def __init__(self) -> None:
        self.queue = _native.Queue()
        _native.log_set_queue(4 if _LOG.isEnabledFor(logging.DEBUG) else 3)
        self._fds = (self.queue.fd(), _native.log_fd())
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._stopping = False
        self._barriers: List[threading.Event] = []
        self.thread = threading.Thread(target=self._run, name="tenure-python", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        poller = select.poll()
        for fd in (*self._fds, self._wake_r):
            poller.register(fd, select.POLLIN)
        while not self._stopping:
            poller.poll()
            if self._stopping:
                break
            try:
                os.read(self._wake_r, 4096)
            except BlockingIOError:
                pass
            drain_logs()
            self.drain()
            with _lock:
                barriers, self._barriers = self._barriers, []
            for b in barriers:
                b.set()

    def drain(self) -> None:
        while not self._stopping:
            ev = self.queue.poll(0)
            if ev is None:
                break
            dispatch(ev)

    def flush(self, timeout: float) -> None:
        """Returns once every event queued before the call was handled (or after timeout)."""
        if threading.current_thread() is self.thread:
            self.drain()
            return
        done = threading.Event()
        with _lock:
            self._barriers.append(done)
        os.write(self._wake_w, b"f")
        done.wait(timeout)

    def stop(self, timeout: float) -> None:
        self._stopping = True
        os.write(self._wake_w, b"x")
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)


def dispatcher() -> _Dispatcher:
    global _dispatcher
    with _lock:
        if _dispatcher is None:
            _dispatcher = _Dispatcher()
        return _dispatcher


def current_dispatcher() -> Optional[_Dispatcher]:
    return _dispatcher


def on_dispatcher_thread() -> bool:
    d = _dispatcher
    return d is not None and threading.current_thread() is d.thread


class _AioSink:
    """One tenure queue per event loop, its descriptor watched with loop.add_reader: events of
    electors started inside that loop are handled on the loop's thread, no thread per elector."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue = _native.Queue()
        self.fd = self.queue.fd()
        self.users = 0
        loop.add_reader(self.fd, self.drain)

    def drain(self) -> None:
        while True:
            ev = self.queue.poll(0)
            if ev is None:
                return
            dispatch(ev)

    def release(self) -> None:
        self.users -= 1
        if self.users == 0:
            self.drain()
            if not self.loop.is_closed():
                self.loop.remove_reader(self.fd)
            _sinks.pop(self.loop, None)


def aio_sink(loop: asyncio.AbstractEventLoop) -> _AioSink:
    dispatcher()  # the library's logs still flow through the package thread
    sink = _sinks.get(loop)
    if sink is None:
        sink = _AioSink(loop)
        _sinks[loop] = sink
    sink.users += 1
    return sink


def shutdown(timeout: float = 5.0) -> None:
    """Stops every elector of the process, releasing their leases (waiting at most ``timeout``
    seconds), and stops the package's thread. Called at interpreter exit; safe twice."""
    global _dispatcher, _shut_down
    with _lock:
        live = list(_electors.values())
        d, _dispatcher = _dispatcher, None
    try:
        _native.shutdown(int(timeout * 1000))
    except Exception as e:  # leases that did not release in time expire on the backend
        _LOG.warning("tenure: shutdown: %s", e)
    finally:
        for elector in live:
            elector._after_shutdown()
        if d is not None:
            d.stop(1.0)
            try:
                drain_logs()
            except Exception:
                pass
        _shut_down = True


def _at_exit() -> None:
    with _lock:
        busy = bool(_electors) or _dispatcher is not None
    if busy:
        shutdown(5.0)


def _after_fork_child() -> None:
    # Only this thread exists here. The parent's electors are inert (the library refuses every
    # call on them); keep every native object inherited, never free one (its memory may be in
    # use by parent threads that do not exist here).
    global _lock, _dispatcher, _electors, _sinks
    _lock = threading.Lock()
    for e in list(_electors.values()):
        e._after_fork()
        _inherited.append(e)
    _electors = {}
    if _dispatcher is not None:
        _inherited.append(_dispatcher)
    _dispatcher = None
    _inherited.extend(_sinks.values())
    _sinks = weakref.WeakKeyDictionary()
    # multiprocessing's children leave with os._exit, without atexit: shut down there too.
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        mp_util.Finalize(None, _at_exit, exitpriority=100)


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)


def running_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """Runs fn(*args) on loop: at once when this thread runs it, else thread-safely."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        fn(*args)
    elif not loop.is_closed():
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # closed meanwhile
            pass

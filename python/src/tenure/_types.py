"""Plain data returned by the API: events, status snapshots, run records, terms."""

from __future__ import annotations

import asyncio
import enum
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import List, Optional, Tuple


class EventType(enum.Enum):
    """What an :class:`Event` reports."""

    ELECTED = 1
    REVOKED = 2
    LEADER_CHANGED = 3
    ERROR = 4


class Role(enum.Enum):
    """An elector's role in :class:`Status`."""

    STOPPED = 0
    CANDIDATE = 1
    LEADER = 2
    OBSERVER = 3


class Capability(enum.Flag):
    """What the elector's backend offers (``Elector.capabilities``)."""

    NONE = 0
    SESSION_BOUND = 1  #: a crashed holder loses the lease when its session closes
    PUSH_WAKEUP = 2  #: releases and expiries wake followers without polling
    SERVER_SIDE_EXPIRY = 4  #: the server itself enforces lease_duration
    LEDGER = 8  #: run_once and read_run are available


@dataclass(frozen=True)
class Event:
    """One event of an elector, in the order the library delivered them.

    ``token`` is the fencing token (ELECTED); ``reason`` why leadership ended (REVOKED:
    ``"released"``, ``"lost"``, ``"renew_deadline"``, ``"backend_error"``, ``"stopped"``);
    ``leader`` the new leader's identity or ``None`` (LEADER_CHANGED); ``error`` the exception
    that the ERROR event's code maps to; ``message`` the library's detail (ERROR, REVOKED).
    """

    type: EventType
    token: int = 0
    reason: Optional[str] = None
    leader: Optional[str] = None
    error: Optional[BaseException] = None
    message: str = ""
    #: steady-clock ns when the binding took the event from the library (benchmarks)
    polled_ns: int = field(default=0, repr=False, compare=False)


@dataclass(frozen=True)
class Status:
    """A snapshot of an elector (``Elector.status()``). Durations are seconds; ``None`` unknown."""

    role: Role
    is_leader: bool
    token: int
    leader: Optional[str]
    since_renewal: Optional[float]
    expires_in: Optional[float]
    acquired_at: Optional[datetime]
    renewed_at: Optional[datetime]
    lease_duration: Optional[float]
    transitions: int
    since_backend_contact: Optional[float]


@dataclass(frozen=True)
class Run:
    """The run-once ledger's record of a job key (``Elector.read_run``).

    ``status`` is ``"none"`` (never run), ``"started"`` (claimed, not finished: running, or its
    leader died), ``"finished"`` or ``"failed"``.
    """

    job_key: str
    status: str
    token: int
    holder: Optional[str]
    started_at: Optional[datetime]
    finished_at: Optional[datetime]
    detail: str


class Term:
    """One term of leadership: ``token`` is its fencing token; ``lost`` is set the moment
    leadership goes (a :class:`threading.Event`)."""

    __slots__ = ("token", "lost", "_async_lost")

    def __init__(self, token: int) -> None:
        self.token = token
        self.lost = threading.Event()
        self._async_lost: List[Tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def __repr__(self) -> str:
        return f"Term(token={self.token}, lost={self.lost.is_set()})"

    def _set_lost(self) -> None:
        self.lost.set()
        for loop, ev in self._async_lost:
            _set_async_event(loop, ev)


class AsyncTerm:
    """A term for asyncio code: ``lost`` is an :class:`asyncio.Event` of the running loop."""

    __slots__ = ("token", "lost", "_term")

    def __init__(self, term: Term, loop: asyncio.AbstractEventLoop) -> None:
        self.token = term.token
        self.lost = asyncio.Event()
        self._term = term
        term._async_lost.append((loop, self.lost))
        if term.lost.is_set():
            self.lost.set()

    def __repr__(self) -> str:
        return f"AsyncTerm(token={self.token}, lost={self.lost.is_set()})"


def _set_async_event(loop: asyncio.AbstractEventLoop, ev: asyncio.Event) -> None:
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        ev.set()
    elif not loop.is_closed():
        loop.call_soon_threadsafe(ev.set)


def ms_to_datetime(ms: int) -> Optional[datetime]:
    return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc) if ms > 0 else None


def ms_to_seconds(ms: int) -> Optional[float]:
    return ms / 1000.0 if ms >= 0 else None

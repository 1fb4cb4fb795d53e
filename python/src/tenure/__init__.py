"""tenure: leader election for Python services.

One :class:`Elector` per election and process::

    import tenure

    with tenure.Elector("redis://127.0.0.1:6379", "billing-cron") as elector:
        with elector.leadership() as term:
            while not term.lost.is_set():
                do_leader_work(fencing_token=term.token)

Backends: ``file:///dir``, ``redis://`` / ``rediss://``, ``postgres://``. The package is a thin
layer over tenure's C library (its stable C ABI, ``tenure.h``), shipped inside the wheel.
Library logs go to the :mod:`logging` logger ``tenure`` (children ``tenure.redis``,
``tenure.postgres``, ``tenure.file``, ``tenure.core``).
"""

from __future__ import annotations

import json
from typing import Any, Dict

from . import _native
from ._elector import Elector, Leadership, Seconds
from ._errors import (AuthError, BackendError, BackendUnreachable, ConfigError, ConnectionLimit,
                      Error, Fenced, IdentityInUse, InternalError, LeadershipLost, NotLeader,
                      PermissionDenied, StateError, Timeout)
from ._runtime import shutdown
from ._types import AsyncTerm, Capability, Event, EventType, Role, Run, Status, Term

__version__: str = _native.HEADER_VERSION

__all__ = [
    "Elector", "Leadership", "Seconds", "Term", "AsyncTerm", "Event", "EventType", "Role",
    "Status", "Run", "Capability", "shutdown", "library_version", "process_metrics",
    "prometheus_metrics", "Error", "ConfigError", "IdentityInUse", "BackendError",
    "BackendUnreachable", "ConnectionLimit", "AuthError", "PermissionDenied", "Timeout",
    "StateError", "NotLeader", "LeadershipLost", "Fenced", "InternalError",
]


def library_version() -> str:
    """The version of the loaded native library (libtenure)."""
    return _native.version()


def process_metrics() -> Dict[str, Any]:
    """Process-wide metrics (electors, event lag and counts, backend connections) as a dict."""
    metrics: Dict[str, Any] = json.loads(_native.metrics_json())
    return metrics


def prometheus_metrics() -> str:
    """Every live elector's and the process's metrics in Prometheus text format 0.0.4."""
    return _native.metrics_prometheus()

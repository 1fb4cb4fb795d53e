"""The exception hierarchy, mapped from the C ABI's error codes (``tenure_err``)."""

from __future__ import annotations

from typing import Dict, Type

__all__ = [
    "Error",
    "ConfigError",
    "IdentityInUse",
    "BackendError",
    "BackendUnreachable",
    "ConnectionLimit",
    "AuthError",
    "PermissionDenied",
    "Timeout",
    "StateError",
    "NotLeader",
    "LeadershipLost",
    "Fenced",
    "InternalError",
]


class Error(Exception):
    """Base of every tenure exception.

    ``code`` is the C ABI's numeric error code, ``name`` its name (``"TENURE_E_BAD_URL"``), and
    ``message`` the library's message: what is wrong and how to fix it.
    """

    def __init__(self, message: str, *, code: int = 0, name: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.name = name


class ConfigError(Error, ValueError):
    """A bad option, URL, name or timing: fix the arguments (raised when the Elector is made)."""


class IdentityInUse(ConfigError):
    """Another elector of this process runs with this identity in this election."""


class BackendError(Error):
    """The backend answered with an error."""


class BackendUnreachable(BackendError, ConnectionError):
    """The backend cannot be reached (connection refused, DNS, TLS handshake, time-out)."""


class ConnectionLimit(BackendUnreachable):
    """The server refuses connections because it reached its connection limit."""


class AuthError(BackendError):
    """The backend refused the credentials."""


class PermissionDenied(BackendError, PermissionError):
    """The backend refused for lack of a grant."""


class Timeout(Error, TimeoutError):
    """An operation did not finish in time."""


class StateError(Error, RuntimeError):
    """Not valid in the elector's current state (stopped, shut down, inherited through fork)."""


class NotLeader(Error):
    """A leader-only call on an elector that does not lead."""


class LeadershipLost(NotLeader):
    """The lease is held by someone else."""


class Fenced(Error):
    """A newer fencing token exists: leadership moved on while the work ran."""


class InternalError(Error):
    """A bug in tenure; please report it with the message."""


_BY_NAME: Dict[str, Type[Error]] = {
    "TENURE_E_INVALID_ARGUMENT": ConfigError,
    "TENURE_E_UNKNOWN_OPTION": ConfigError,
    "TENURE_E_BAD_URL": ConfigError,
    "TENURE_E_UNSUPPORTED_BACKEND": ConfigError,
    "TENURE_E_INVALID_TIMING": ConfigError,
    "TENURE_E_INVALID_NAME": ConfigError,
    "TENURE_E_IDENTITY_IN_USE": IdentityInUse,
    "TENURE_E_PERMISSION_DENIED": PermissionDenied,
    "TENURE_E_UNREACHABLE": BackendUnreachable,
    "TENURE_E_AUTH_FAILED": AuthError,
    "TENURE_E_BACKEND": BackendError,
    "TENURE_E_TIMEOUT": Timeout,
    "TENURE_E_BAD_STATE": StateError,
    "TENURE_E_IN_CALLBACK": StateError,
    "TENURE_E_NOT_LEADER": NotLeader,
    "TENURE_E_FENCED": Fenced,
    "TENURE_E_LOST": LeadershipLost,
    "TENURE_E_INTERNAL": InternalError,
    "TENURE_E_CONNECTION_LIMIT": ConnectionLimit,
}

# Errors that waiting longer does not cure: leadership() and wait_elected() raise them at once.
FATAL_CODES = frozenset(
    {"TENURE_E_AUTH_FAILED", "TENURE_E_PERMISSION_DENIED", "TENURE_E_BAD_URL",
     "TENURE_E_INVALID_ARGUMENT", "TENURE_E_UNSUPPORTED_BACKEND"}
)


def _from_code(code: int, name: str, message: str) -> Error:
    """Builds the exception for a C error code (called by the native module)."""
    cls = _BY_NAME.get(name, Error)
    return cls(message, code=code, name=name)

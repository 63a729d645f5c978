"""Which `Host` names the app answers (issue 12, low finding: any `Host` was answered, so a
link or a redirect the app builds from it, such as the single sign-on redirect URI, could name
another site).

Starlette's TrustedHostMiddleware answers 400 to a request whose `Host` (its port set aside)
is not allowed. `settings.allowed_hosts` names them; unset, the app answers the address
`cervixwatch serve` listens on and this host's own names for loopback, so a server set up with
no more than `--host` works on it and nowhere else until its name is configured. An IPv6
literal (`[::1]:8000`) is not matched by the middleware: reach the app by a name.

Which client address the app sees (rate limits, back-off, the audit log) is Uvicorn's to
decide: it believes `X-Forwarded-For` only from `settings.trusted_proxies` (`serving.Listen`).
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from cervixwatch.settings import Settings

#: Addresses that listen on every interface: no name of their own to allow.
_EVERY_INTERFACE: Final = frozenset({"", "0.0.0.0", "::", "[::]"})
#: Always allowed when `allowed_hosts` is unset: a health check or an operator on the host.
LOOPBACK_NAMES: Final = ("localhost", "127.0.0.1")


def allowed_hosts(settings: Settings) -> list[str]:
    """The `Host` names the app answers: the setting, or what it listens on and loopback."""
    if settings.allowed_hosts is not None:
        return list(settings.allowed_hosts)
    listened = [] if settings.host in _EVERY_INTERFACE else [settings.host]
    return list(dict.fromkeys([*listened, *LOOPBACK_NAMES]))


def add_host_check(app: FastAPI, settings: Settings) -> None:
    """Refuse (400) a request whose `Host` is not allowed, before any route: it reaches no
    data, so it has no audit entry (as a request for a path that does not exist has none)."""
    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings), www_redirect=False
    )

"""What every way of signing in shares (the JSON sign-in, the sign-in page, single sign-on):
the sign-in rate limit, the back-off after wrong passwords, the session cookie, and signing
out.

Wrong passwords are answered by a back-off per account and client address (issue 12, F4),
never by locking the account: `settings.lockout_threshold` wrong ones for a username from one
address make that address wait `lockout_backoff_seconds`, doubling with each further wrong
one up to `lockout_backoff_max_seconds`, and forgotten a day after the first (or at once on a
right one). Someone guessing from elsewhere cannot keep the owner out, and her open sign-ins
and tokens are not touched. The count is kept by username as typed (lower-cased), whether or
not the account exists, so the answers reveal nothing about which usernames do.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.credentials import new_secret, same_secret
from cervixwatch.access.principal import Principal
from cervixwatch.app import accounts
from cervixwatch.settings import Settings
from cervixwatch.web.access import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE
from cervixwatch.web.rate_limits import Backoff, RateLimiter

#: The back-off's counters: wrong passwords by (username, client address).
WRONG_PASSWORDS = "wrong-password"


class TooManyAttempts(Exception):
    """Refused before the password is checked (429): the sign-in rate limit, or the back-off
    after wrong passwords; `retry_after` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = max(1, retry_after)


def _backoff(settings: Settings) -> Backoff:
    return Backoff(
        settings.lockout_threshold,
        settings.lockout_backoff_seconds,
        settings.lockout_backoff_max_seconds,
    )


def _keys(request: Request, username: str) -> tuple[str, str]:
    return username.strip().lower(), request.client.host if request.client else "unknown"


def check_backoff(request: Request, username: str) -> None:
    """TooManyAttempts while this address is backing off for this username."""
    limiter: RateLimiter = request.app.state.rate_limiter
    waited = limiter.backed_off_for(WRONG_PASSWORDS, *_keys(request, username))
    if waited:
        raise TooManyAttempts(waited)


def count_wrong_password(request: Request, settings: Settings, username: str) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.count_failure(_backoff(settings), WRONG_PASSWORDS, *_keys(request, username))


def clear_wrong_passwords(request: Request, username: str) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.clear_failures(WRONG_PASSWORDS, *_keys(request, username))


async def password_sign_in(
    request: Request,
    sessions: sessionmaker[Session],
    settings: Settings,
    username: str,
    password: str,
) -> accounts.SignedIn:
    """Sign in with a password, for the JSON sign-in and the sign-in page alike:
    `TooManyAttempts` (the rate limit, or the back-off) or `accounts.SignInRefused`."""
    retry = sign_in_refused_for(request, settings, username)
    if retry is not None:
        raise TooManyAttempts(retry)
    check_backoff(request, username)
    try:
        signed_in = await run_in_threadpool(
            accounts.sign_in, sessions, username, password, session_hours=settings.session_hours
        )
    except accounts.SignInRefused:
        count_wrong_password(request, settings, username)
        raise
    clear_wrong_passwords(request, username)
    return signed_in


def sign_in_refused_for(request: Request, settings: Settings, username: str) -> int | None:
    """Count one sign-in attempt against the limit, by client address and by username; the
    seconds to wait if either is over it, else None. Both keys are counted on every attempt,
    so neither spreading guesses over usernames nor over addresses escapes the limit."""
    limiter: RateLimiter = request.app.state.rate_limiter
    limit = settings.sign_in_rate_limit
    address = request.client.host if request.client else "unknown"
    user = username.strip().lower()
    allowed_address = limiter.hit(limit, "sign-in-address", address)
    allowed_user = limiter.hit(limit, "sign-in-user", user)
    if allowed_address and allowed_user:
        return None
    return max(
        1,
        limiter.retry_after(limit, "sign-in-address", address),
        limiter.retry_after(limit, "sign-in-user", user),
    )


def _secure(request: Request, settings: Settings) -> bool:
    secure = settings.cookie_secure
    return request.url.scheme == "https" if secure is None else secure


def set_session_cookie(
    response: Response, request: Request, settings: Settings, secret: str
) -> None:
    """The sign-in cookie: HttpOnly, SameSite=Lax, and Secure over TLS (or as configured)."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
        path="/",
    )


# --- login CSRF -------------------------------------------------------------------------------
#
# Issue 12, low finding: a form on another site could post an attacker's username and
# password to the sign-in, and the victim's browser then worked signed in as the attacker
# (what she typed, e.g. a woman's details, went into his account). A sign-in that sets the
# cookie is therefore refused (403) when the browser says it comes from a page of another
# site (`Sec-Fetch-Site`, else `Origin`), and a form (anything but JSON) must carry the
# sign-in form's pre-session token: the value of a cookie that `GET /sign-in` sets, which
# another site can neither read nor set (`__Host-` over TLS: not even a sibling subdomain).
# JSON clients, which send neither the headers nor cookies, are not affected.

#: The pre-session cookie: SameSite=Strict, HttpOnly; `__Host-` when Secure.
PRE_SESSION_COOKIE: Final = "cw_sign_in"
_WELL_FORMED: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_SAME_ORIGIN: Final = frozenset({"same-origin", "none"})
_DEFAULT_PORTS: Final = (":80", ":443")


class ForgedSignIn(Exception):
    """A sign-in refused as login CSRF (403): from another site, or a form without its
    token."""


def _pre_session_cookie(request: Request, settings: Settings) -> str:
    return f"__Host-{PRE_SESSION_COOKIE}" if _secure(request, settings) else PRE_SESSION_COOKIE


def sign_in_form_token(request: Request, settings: Settings) -> str:
    """The token this browser's sign-in form carries (its `csrf_token` field): the
    pre-session cookie's value, or a new one to set with `set_sign_in_form_cookie`."""
    kept = request.cookies.get(_pre_session_cookie(request, settings), "")
    return kept if _WELL_FORMED.fullmatch(kept) else new_secret()


def set_sign_in_form_cookie(
    response: Response, request: Request, settings: Settings, token: str
) -> None:
    """Kept for the browser's session (no expiry): a sign-in page left open still works."""
    response.set_cookie(
        _pre_session_cookie(request, settings),
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
        path="/",
    )


def _host(netloc: str) -> str:
    netloc = netloc.strip().lower()
    for port in _DEFAULT_PORTS:
        netloc = netloc.removesuffix(port)
    return netloc


def _from_another_site(request: Request) -> bool:
    """What the browser says: `Sec-Fetch-Site` (every current browser sends it), else an
    `Origin` that is not this host (`null` included). Neither header: not a browser page's
    request (an integration), or a browser too old to say; the form token covers those."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() not in _SAME_ORIGIN
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return _host(urlsplit(origin).netloc) != _host(request.headers.get("host", ""))


async def _token_sent(request: Request) -> str | None:
    """Where a signed-in request sends its CSRF token (`web.access`): the header, or the
    form's field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    media = request.headers.get("content-type", "")
    if not media.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def _json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media in ("", "application/json") or media.endswith("+json")


async def check_not_forged(request: Request, settings: Settings, *, json: bool = True) -> None:
    """`ForgedSignIn` unless this cookie-issuing sign-in comes from our own page: refused
    from another site's page; a form (or any body not typed as JSON, such as a `text/plain`
    form that smuggles JSON) must carry the pre-session token of its browser, and so must
    every request when `json` is False (the sign-in page, which takes only its form)."""
    if _from_another_site(request):
        raise ForgedSignIn
    if json and _json(request):
        return
    sent = await _token_sent(request)
    kept = request.cookies.get(_pre_session_cookie(request, settings))
    if not sent or not kept or not same_secret(sent, kept):
        raise ForgedSignIn


def end_sign_in(
    response: Response, sessions: sessionmaker[Session], principal: Principal
) -> Response:
    """End the caller's browser sign-in (a token is not one: it is revoked, not signed out)
    and clear its cookie on `response`."""
    if principal.session_id is not None:
        accounts.sign_out(sessions, principal.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response

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

from fastapi import Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Principal
from cervixwatch.app import accounts
from cervixwatch.settings import Settings
from cervixwatch.web.access import SESSION_COOKIE
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


def set_session_cookie(
    response: Response, request: Request, settings: Settings, secret: str
) -> None:
    """The sign-in cookie: HttpOnly, SameSite=Lax, and Secure over TLS (or as configured)."""
    secure = settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" if secure is None else secure,
        path="/",
    )


def end_sign_in(
    response: Response, sessions: sessionmaker[Session], principal: Principal
) -> Response:
    """End the caller's browser sign-in (a token is not one: it is revoked, not signed out)
    and clear its cookie on `response`."""
    if principal.session_id is not None:
        accounts.sign_out(sessions, principal.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response

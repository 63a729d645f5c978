"""What every way of signing in shares (the JSON sign-in, the sign-in page, single sign-on):
the sign-in rate limit, the session cookie, and signing out."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Principal
from cervixwatch.app import accounts
from cervixwatch.settings import Settings
from cervixwatch.web.access import SESSION_COOKIE
from cervixwatch.web.rate_limits import RateLimiter


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

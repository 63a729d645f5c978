"""Signing in and out, the caller's own account, and her API tokens.

    POST   /auth/sign-in        username + password (JSON, or the sign-in page's form with its
                                pre-session token): sets the sign-in cookie
    POST   /auth/set-password   username + one-time code (from an admin) + a new password
    POST   /auth/sign-out       ends this browser's sign-in
    GET    /auth/me             who is signed in, and the CSRF token of this sign-in
    POST   /api/tokens          a new bearer token for an integration (shown once), after the
                                password is entered again; at most `token_max_days` days
    GET    /api/tokens          the caller's tokens (never their secrets)
    DELETE /api/tokens/{id}     revoke one

Sign-in is rate limited by client address and by username (`settings.sign_in_rate_limit`),
and wrong passwords for one account from one address are answered by an exponential back-off
(`web.signing_in`), never by locking the account.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Principal, Role
from cervixwatch.app import account_lookups as account_store
from cervixwatch.app import accounts
from cervixwatch.app.errors import InvalidField, NotFound
from cervixwatch.web.access import (
    CSRF_FIELD,
    EVERYONE_SIGNED_IN,
    PUBLIC,
    PrincipalDep,
    SignedIn,
    access_record,
    allow,
)
from cervixwatch.web.api.errors import invalid
from cervixwatch.web.deps import SessionsDep, SettingsDep
from cervixwatch.web.signing_in import (
    ForgedSignIn,
    TooManyAttempts,
    check_backoff,
    check_not_forged,
    clear_wrong_passwords,
    count_wrong_password,
    end_sign_in,
    password_sign_in,
    set_session_cookie,
    sign_in_refused_for,
)

router = APIRouter(tags=["access"])


class SignIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class Me(BaseModel):
    id: str
    username: str
    display_name: str | None
    role: Role
    patient_id: str | None
    team_ids: list[str]
    csrf_token: str | None


class TokenCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    days: Annotated[
        int | None,
        Field(ge=1, description="Days it lasts: at most the settings' maximum (90 by default)."),
    ] = None
    password: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=256,
            description="Your password, entered again (required unless your account signs "
            "in only by single sign-on; then sign in again first).",
        ),
    ] = None


class TokenPublic(BaseModel):
    id: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenIssued(BaseModel):
    id: str
    name: str
    expires_at: dt.datetime
    #: The bearer secret: shown this once, stored only as its hash.
    token: str


async def _credentials(request: Request) -> SignIn:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        data = {k: form.get(k) for k in ("username", "password")}
    else:
        try:
            # orjson: a nesting deeper than 1,024 is an error, not Python's RecursionError (a
            # 500 for anyone, signed in or not), and NaN and Infinity are not JSON.
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise HTTPException(400, "send username and password as JSON or a form") from None
    try:
        return SignIn.model_validate(data)
    except ValidationError as error:
        # Without "input": it would echo the password back.
        raise RequestValidationError(
            [
                {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]}
                for e in error.errors(include_url=False)
            ]
        ) from None


def _me(principal: Principal, sessions: SessionsDep) -> Me:
    with sessions() as session:
        user = account_store.user_by_id(session, principal.user_id)
    if user is None:
        raise HTTPException(401, "sign in first")
    return Me(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        patient_id=user.patient_id,
        team_ids=sorted(principal.team_ids),
        csrf_token=principal.csrf_token,
    )


@router.post(
    "/auth/sign-in",
    response_model=Me,
    summary="Sign in with a username and password (sets the sign-in cookie)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": SignIn.model_json_schema()},
                "application/x-www-form-urlencoded": {"schema": SignIn.model_json_schema()},
            },
        }
    },
    responses={
        401: {"description": "Wrong username or password"},
        403: {
            "description": "Login CSRF: sent from another site's page, or a form without "
            "the sign-in form's token (integrations send JSON)"
        },
        429: {"description": "Too many attempts (rate limit, or back-off): see Retry-After"},
    },
)
@allow(PUBLIC)
async def sign_in(
    request: Request, response: Response, sessions: SessionsDep, settings: SettingsDep
) -> Me:
    record = access_record(request)
    record.action = "sign-in"
    try:
        await check_not_forged(request, settings)
    except ForgedSignIn:
        raise HTTPException(
            403, "sign-in refused: sent from another site, or a form without its token"
        ) from None
    credentials = await _credentials(request)
    try:
        signed_in = await password_sign_in(
            request, sessions, settings, credentials.username, credentials.password
        )
    except TooManyAttempts as refused:
        raise HTTPException(
            429,
            "too many sign-in attempts; try again later",
            headers={"Retry-After": str(refused.retry_after)},
        ) from None
    except accounts.SignInRefused:
        raise HTTPException(401, "wrong username or password") from None
    record.principal = signed_in.principal
    request.state.principal = signed_in.principal
    set_session_cookie(response, request, settings, signed_in.secret)
    return _me(signed_in.principal, sessions)


class PasswordSet(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    code: Annotated[
        str, Field(min_length=1, max_length=100, description="The one-time code an admin gave.")
    ]
    # Its length is checked by the use case, whose refusal never echoes it back (pydantic's
    # would, in "input").
    password: Annotated[
        str,
        Field(
            description="Your new password: 12 to 256 characters, not a common password, "
            "not your username, not one character repeated."
        ),
    ]


@router.post(
    "/auth/set-password",
    status_code=204,
    response_class=Response,
    summary="Set your own password with the one-time code an admin gave you",
    responses={
        401: {"description": "The username and code do not match a live code"},
        422: {"description": "The new password is refused; the message names the rule"},
        429: {"description": "Too many attempts: see Retry-After"},
    },
)
@allow(PUBLIC)
async def set_password(
    body: PasswordSet, request: Request, sessions: SessionsDep, settings: SettingsDep
) -> Response:
    """Issue 12, F2: an admin gives a new or reset account a one-time code, never a password;
    the user sets her own here. The code works once, before it expires, for its username;
    wrong codes count as wrong passwords (rate limit and back-off). Her sign-ins and tokens
    end; she then signs in with the new password."""
    record = access_record(request)
    record.action = "password-set"
    retry = sign_in_refused_for(request, settings, body.username)
    try:
        if retry is not None:
            raise TooManyAttempts(retry)
        check_backoff(request, body.username)
    except TooManyAttempts as refused:
        raise HTTPException(
            429, "too many attempts", headers={"Retry-After": str(refused.retry_after)}
        ) from None
    try:
        user = await run_in_threadpool(
            accounts.set_password_with_code, sessions, body.username, body.code, body.password
        )
    except accounts.CodeRefused:
        count_wrong_password(request, settings, body.username)
        raise HTTPException(401, "the username and code do not match a live code") from None
    except InvalidField as error:
        raise invalid("body", error.field, error.message) from None
    clear_wrong_passwords(request, body.username)
    record.target_user_id = user.id
    return Response(status_code=204)


@router.post("/auth/sign-out", status_code=204, summary="Sign out (ends this sign-in)")
@allow(SignedIn(EVERYONE_SIGNED_IN))
def sign_out(principal: PrincipalDep, sessions: SessionsDep) -> Response:
    return end_sign_in(Response(status_code=204), sessions, principal)


@router.get("/auth/me", response_model=Me, summary="Who is signed in")
@allow(SignedIn(EVERYONE_SIGNED_IN))
def me(principal: PrincipalDep, sessions: SessionsDep) -> Me:
    return _me(principal, sessions)


@router.post(
    "/api/tokens",
    status_code=201,
    response_model=TokenIssued,
    summary="New API token (enter your password again)",
    responses={
        403: {"description": "The password is missing or wrong, or the sign-in is not recent"},
        429: {"description": "Too many wrong passwords: see Retry-After"},
    },
)
@allow(SignedIn(EVERYONE_SIGNED_IN, audit_action="token-issue"))
def issue_token(
    request: Request,
    body: TokenCreate,
    principal: PrincipalDep,
    sessions: SessionsDep,
    settings: SettingsDep,
) -> TokenIssued:
    """A token is made only after re-authentication (issue 12, F3): the password again, or
    for a single-sign-on account a sign-in of the last few minutes; wrong passwords here
    back off as at sign-in. It lasts at most `settings.token_max_days`."""
    with sessions() as session:
        user = account_store.user_by_id(session, principal.user_id)
    if user is None:
        raise HTTPException(401, "sign in first")
    try:
        check_backoff(request, user.username)
    except TooManyAttempts as refused:
        raise HTTPException(
            429, "too many wrong passwords", headers={"Retry-After": str(refused.retry_after)}
        ) from None
    max_days = settings.token_max_days
    try:
        issued = accounts.issue_token_reauthenticated(
            sessions,
            principal.user_id,
            body.name,
            password=body.password,
            session_id=principal.session_id,
            days=body.days or min(settings.token_days, max_days),
            max_days=max_days,
            reauth_minutes=settings.token_reauth_minutes,
        )
    except accounts.ReauthenticationNeeded:
        if body.password is not None:
            count_wrong_password(request, settings, user.username)
        raise HTTPException(
            403,
            "enter your password again to make a token"
            if user.password_hash is not None
            else "sign in again (single sign-on) to make a token",
        ) from None
    except InvalidField as error:
        raise invalid("body", error.field, error.message) from None
    clear_wrong_passwords(request, user.username)
    return TokenIssued(
        id=issued.id, name=issued.name, expires_at=issued.expires_at, token=issued.secret
    )


@router.get("/api/tokens", response_model=list[TokenPublic], summary="Your API tokens")
@allow(SignedIn(EVERYONE_SIGNED_IN))
def list_tokens(principal: PrincipalDep, sessions: SessionsDep) -> list[TokenPublic]:
    with sessions() as session:
        rows = account_store.tokens_of(session, principal.user_id)
        return [TokenPublic.model_validate(row, from_attributes=True) for row in rows]


@router.delete(
    "/api/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API token",
    responses={404: {"description": "No such live token of yours"}},
)
@allow(SignedIn(EVERYONE_SIGNED_IN, audit_action="token-revoke"))
def revoke_token(token_id: str, principal: PrincipalDep, sessions: SessionsDep) -> Response:
    with sessions() as session:
        owned = {row.id for row in account_store.tokens_of(session, principal.user_id)}
    # An admin may revoke anyone's token (a leaked one); others only their own.
    if token_id not in owned and principal.role != Role.ADMIN:
        raise HTTPException(404, "no such live token of yours")
    try:
        accounts.revoke_token(sessions, token_id)
    except NotFound:
        raise HTTPException(404, "no such live token of yours") from None
    return Response(status_code=204)


__all__ = ["CSRF_FIELD", "router"]

"""The SMART on FHIR authorization server's endpoints (`app.smart_server` decides):

    GET  /oauth/authorize   the consent page: which app asks to read what, for which woman
                            (signed-in clinicians and patients; others are sent to sign in)
    POST /oauth/authorize   approve or deny (the page's form, CSRF-checked): the browser goes
                            back to the app's redirect URI with `code` or `error`, and `state`
    POST /oauth/token       an access token for a code (PKCE) or for a backend service's
                            signed JWT; RFC 6749's JSON errors, `Cache-Control: no-store`

The consent page keeps the app's request in hidden fields and checks it again on approval,
so nothing the browser changed in between is trusted. Every approval, refusal and token
issued is recorded in the audit log ("smart-authorize", "smart-token").
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Role, scope_of
from cervixwatch.access.smart_scopes import LAUNCH_PATIENT, parse_scope
from cervixwatch.app import smart_server
from cervixwatch.app.patients import find_for_picker
from cervixwatch.web.access import (
    PUBLIC,
    PrincipalDep,
    SignedIn,
    access_record,
    allow,
    audit_patient,
    audit_target,
)
from cervixwatch.web.deps import SessionsDep
from cervixwatch.web.hardening import FORM_ACTION_STATE
from cervixwatch.web.pages.core import PageRoute, error_page, render
from cervixwatch.web.smart_discovery import AUTHORIZE_PATH, TOKEN_PATH, smart_base

router = APIRouter(route_class=PageRoute, include_in_schema=False)
token_router = APIRouter(tags=["SMART"])

#: The authorization request's parameters, carried by the consent form.
_REQUEST_PARAMS: Final = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "aud",
    "code_challenge",
    "code_challenge_method",
    "launch",
)
USERS: Final = frozenset({Role.CLINICIAN, Role.PATIENT})
_FIELD_MAX: Final = 2000

_PERMISSION_WORDS: Final = {
    "c": "create",
    "r": "read",
    "u": "update",
    "d": "delete",
    "s": "search",
}


def scope_in_words(word: str) -> str:
    """A scope as the consent page says it."""
    if word == LAUNCH_PATIENT:
        return "Know which woman you chose"
    parsed = parse_scope(word)
    if parsed is None:
        return word
    what = "every kind of record" if parsed.resource_type == "*" else f"{parsed.resource_type}"
    verbs = ", ".join(_PERMISSION_WORDS[p] for p in parsed.permissions)
    whose = {
        "patient": "of the woman you choose",
        "user": "of every woman you can see",
        "system": "of every woman its account can see",
    }[parsed.context]
    return f"{verbs.capitalize()}: {what} {whose}"


def _params(source: Any) -> dict[str, str]:
    return {
        name: str(value)[:_FIELD_MAX]
        for name in _REQUEST_PARAMS
        if isinstance(value := source.get(name), str)
    }


def _back_to_app(redirect_uri: str, answer: dict[str, str]) -> RedirectResponse:
    joiner = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + joiner + urlencode(answer), status_code=303)


def _error_to_app(
    request: smart_server.AuthorizationRequest | None,
    redirect_uri: str,
    error: smart_server.OAuth2Error,
) -> RedirectResponse:
    answer = {"error": str(error.error), "error_description": str(error.description or "")}
    state = request.state if request is not None else error.state
    if state:
        answer["state"] = state
    return _back_to_app(redirect_uri, answer)


def _check(
    http: Request, sessions: SessionsDep, params: dict[str, str]
) -> smart_server.AuthorizationRequest:
    return smart_server.check_authorization_request(
        sessions, params, fhir_base=smart_base(http) + "/fhir"
    )


@router.get(AUTHORIZE_PATH)
@allow(SignedIn(USERS, audit_action="smart-authorize"))
def authorize_page(request: Request, sessions: SessionsDep, principal: PrincipalDep) -> Response:
    params = _params(request.query_params)
    try:
        asked = _check(request, sessions, params)
    except smart_server.PageError as error:
        return error_page(request, 400, str(error))
    except smart_server.OAuth2Error as error:
        return _error_to_app(None, params.get("redirect_uri", ""), error)
    _may_send_back_to(request, asked.redirect_uri)
    search = request.query_params.get("patient_search", "").strip()[:200]
    found = []
    if asked.needs_patient and principal.role == Role.CLINICIAN and search:
        found = find_for_picker(sessions, search, scope=scope_of(principal))
    return render(
        request,
        "smart_authorize.html",
        {
            "asked": asked,
            "params": params,
            "granted_words": [scope_in_words(w) for w in asked.scopes],
            "search": search,
            "found": found,
            "action": AUTHORIZE_PATH,
        },
    )


@router.post(AUTHORIZE_PATH)
@allow(SignedIn(USERS, audit_action="smart-authorize"))
async def authorize_decision(
    request: Request, sessions: SessionsDep, principal: PrincipalDep
) -> Response:
    form = await request.form()
    params = _params(form)
    try:
        asked = await run_in_threadpool(_check, request, sessions, params)
    except smart_server.PageError as error:
        return error_page(request, 400, str(error))
    except smart_server.OAuth2Error as error:
        return _error_to_app(None, params.get("redirect_uri", ""), error)
    audit_target(request, principal.user_id)
    if form.get("decision") != "approve":
        access_record(request).extra["decision"] = "denied"
        return _error_to_app(
            asked,
            asked.redirect_uri,
            smart_server.AccessDeniedError("the user did not let the app in"),
        )
    chosen = form.get("patient_id")
    patient_id = chosen if isinstance(chosen, str) and chosen else None
    try:
        code = await run_in_threadpool(
            smart_server.approve, sessions, asked, principal, patient_id=patient_id
        )
    except smart_server.OAuth2Error as error:
        return _error_to_app(asked, asked.redirect_uri, error)
    audit_patient(request, patient_id if principal.role == Role.CLINICIAN else principal.patient_id)
    answer = {"code": code}
    if asked.state:
        answer["state"] = asked.state
    return _back_to_app(asked.redirect_uri, answer)


def _may_send_back_to(request: Request, redirect_uri: str) -> None:
    """Let the consent page's form lead back to the app: after the POST the browser is
    redirected to its redirect URI, and browsers hold that redirect to the page's
    `form-action` (`web.hardening`). Only the origin of a URI registered for this app."""
    parts = urlsplit(redirect_uri)
    setattr(request.state, FORM_ACTION_STATE, (f"{parts.scheme}://{parts.netloc}",))


def _oauth_error(error: smart_server.OAuth2Error) -> JSONResponse:
    return JSONResponse(
        dict(error.get_body()),
        status_code=error.status_code,
        headers=dict(error.get_headers()),
    )


@token_router.post(TOKEN_PATH, summary="SMART token endpoint")
@allow(PUBLIC)
async def token_endpoint(request: Request, sessions: SessionsDep) -> Response:
    record = access_record(request)
    record.action = "smart-token"
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return _oauth_error(
            smart_server.InvalidRequestError(
                "the token request must be application/x-www-form-urlencoded"
            )
        )
    # Anyone may call it and a client assertion costs a signature check: counted per client
    # address as sign-in attempts are (429 with Retry-After over the limit).
    address = request.client.host if request.client else "unknown"
    await run_in_threadpool(
        request.app.state.rate_limiter.check,
        request.app.state.settings.sign_in_rate_limit,
        "smart-token-address",
        address,
    )
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        answer = await run_in_threadpool(
            smart_server.token, sessions, fields, token_url=smart_base(request) + TOKEN_PATH
        )
    except smart_server.OAuth2Error as error:
        return _oauth_error(error)
    record.patient_id = answer.patient
    record.target_user_id = answer.user_id
    return JSONResponse(answer.json(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

"""Who may call which route: every route declares its policy here, in one place.

A route's policy is attached to its endpoint with `@allow(policy)` (or `allow(policy)(fn)`
for endpoints made at run time). One app-wide dependency, `enforce`, runs before every route:
it finds the caller (`authenticate`), applies the route's policy and records what the audit
log needs. A route with no policy answers 500 and is refused for everyone (fail closed), and
`tests/web/test_access_matrix.py` fails for it.

The policies:
- `PUBLIC`: anyone (the CapabilityStatement, sign-in, the API's own documentation).
- `SignedIn(roles)`: a signed-in user of one of `roles`, for what is no woman's data (her own
  account, user management, the audit log).
- `PatientData(action, locate)`: one woman's record, found from the path by `locate`.
  Clinicians of one of her care teams may read and write it; a patient may read her own
  record, and write only what `patient_may` allows (her symptom reports). Anyone else who is
  signed in gets 404, the same answer as for a record that does not exist, so ids cannot be
  probed; admins and auditors get 403 (their roles never read clinical data).
- `ClinicalList(roles)`: lists and searches over many women; the route narrows them to the
  caller's `Scope` (her care teams, or a patient's own record).

A state-changing request signed by the sign-in cookie must carry the sign-in's CSRF token in
the `X-CSRF-Token` header or a `csrf_token` form field; bearer-token requests need none (a
browser never adds a bearer token on its own).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Final, Literal, TypeVar

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.credentials import same_secret
from cervixwatch.access.principal import Principal, Role, Scope, SmartGrant, scope_of
from cervixwatch.access.smart_scopes import contexts_for, needed_for
from cervixwatch.app import account_lookups as account_store
from cervixwatch.app import accounts

log = logging.getLogger(__name__)

SESSION_COOKIE: Final = "cw_session"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ROW_ID: Final = 2**31 - 1
#: Where the FHIR API is: the only place a SMART access token reaches.
FHIR_PREFIX: Final = "/fhir"

Action = Literal["read", "write", "delete"]
#: Finds the woman a request is about from its path parameters; None if there is none.
Locator = Callable[[Session, Mapping[str, str]], "str | None"]
F = TypeVar("F", bound=Callable[..., Any])


# --- the policies -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Public:
    audit: bool = False


@dataclass(frozen=True, slots=True)
class SignedIn:
    roles: frozenset[Role]
    #: Recorded in the audit log as this action (None: not recorded, e.g. reading one's own
    #: account).
    audit_action: str | None = None


@dataclass(frozen=True, slots=True)
class PatientData:
    action: Action
    locate: Locator
    #: What a patient may do to her own record beyond reading it.
    patient_may: frozenset[Action] = frozenset()
    #: The audit log's name for the action (default: `action`): "export", "import"...
    audit_action: str | None = None


@dataclass(frozen=True, slots=True)
class ClinicalList:
    roles: frozenset[Role] = frozenset({Role.CLINICIAN})
    audit_action: str = "search"
    #: The route may change data (an import, a registration): CSRF applies, and the audit
    #: entry is a write.
    writes: bool = False


Policy = Public | SignedIn | PatientData | ClinicalList

PUBLIC: Final = Public()
CLINICIANS: Final = frozenset({Role.CLINICIAN})
EVERYONE_SIGNED_IN: Final = frozenset(Role)


def allow(policy: Policy) -> Callable[[F], F]:
    """Declare the policy of a route's endpoint (put it under the route decorator)."""

    def declare(endpoint: F) -> F:
        endpoint.__access_policy__ = policy  # type: ignore[attr-defined]
        return endpoint

    return declare


def policy_of(endpoint: Callable[..., Any] | None) -> Policy | None:
    found = getattr(endpoint, "__access_policy__", None)
    return found if isinstance(found, Public | SignedIn | PatientData | ClinicalList) else None


# --- locating the woman a request is about -----------------------------------------------------


def by_patient(param: str = "patient_id") -> Locator:
    def locate(session: Session, params: Mapping[str, str]) -> str | None:
        patient_id = params.get(param)
        if patient_id and account_store.patient_exists(session, patient_id):
            return patient_id
        return None

    return locate


def by_pregnancy(param: str = "pregnancy_id") -> Locator:
    def locate(session: Session, params: Mapping[str, str]) -> str | None:
        pregnancy_id = params.get(param)
        return account_store.patient_of_pregnancy(session, pregnancy_id) if pregnancy_id else None

    return locate


def by_record(
    table: Any, owner: Literal["patient", "pregnancy"], param: str = "record_id"
) -> Locator:
    """The woman a record row (`table`, id in `param`) belongs to."""

    def locate(session: Session, params: Mapping[str, str]) -> str | None:
        raw = params.get(param, "")
        # Record ids are 32-bit INTEGERs: a larger number names nothing (and PostgreSQL
        # would refuse to compare it).
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ROW_ID:
            return None
        owner_id = session.scalar(select(getattr(table, f"{owner}_id")).where(table.id == int(raw)))
        if owner_id is None or owner == "patient":
            return owner_id
        return account_store.patient_of_pregnancy(session, owner_id)

    return locate


# --- who is asking ------------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <token>'")
    return credentials.strip()


def _unauthorized(detail: str = "sign in first") -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="cervixwatch"'})


#: The header a page's own requests carry (htmx's `hx-headers`: an open worklist refreshing
#: itself when its event stream says the list changed), and the paths a page keeps open by
#: itself (the event stream, which the browser reconnects every few minutes).
BY_THE_PAGE_HEADER: Final = "X-CervixWatch-By-Page"
BY_THE_PAGE_PATHS: Final = frozenset({"/worklist/events"})


def asked_by_the_page(request: Request) -> bool:
    """Whether the page asked for this by itself, not the person using it: such a request is
    answered as any other but does not count as activity, so a worklist left open on an
    unattended screen still signs out after the idle limit (`session_idle_minutes`).
    Claiming it can only shorten one's own sign-in."""
    return request.url.path in BY_THE_PAGE_PATHS or BY_THE_PAGE_HEADER in request.headers


def authenticate(request: Request) -> Principal | None:
    """The caller: by bearer token, else by sign-in cookie; None if neither (or not valid).
    A bearer token that is not valid is refused outright (401), never ignored."""
    if hasattr(request.state, "principal"):
        found: Principal | None = request.state.principal
        return found
    sessions: sessionmaker[Session] = request.app.state.sessions
    settings = request.app.state.settings
    principal: Principal | None = None
    token = _bearer(request)
    if token is not None:
        principal = accounts.token_principal(sessions, token, request.app.state.token_cache)
        if principal is None:
            request.state.principal = None
            raise _unauthorized("the bearer token is not valid (unknown, expired or revoked)")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = accounts.session_principal(
            sessions,
            cookie,
            idle_minutes=settings.session_idle_minutes,
            renew=not asked_by_the_page(request),
        )
    request.state.principal = principal
    return principal


# --- enforcing ----------------------------------------------------------------------------------


@dataclass(slots=True)
class AccessRecord:
    """What the audit log records of a request, filled in as the request is handled."""

    action: str | None = None
    patient_id: str | None = None
    principal: Principal | None = None
    extra: dict[str, str] = field(default_factory=dict)
    #: The refusal a page answered by sending the browser to sign in (401 answered as a
    #: redirect): the audit's outcome is this status's, not the redirect's.
    refused: int | None = None
    #: The account the request acts on (an admin's change, a password set by a code).
    target_user_id: str | None = None


def access_record(request: Request) -> AccessRecord:
    record = getattr(request.state, "access", None)
    if record is None:
        record = AccessRecord()
        request.state.access = record
    return record


def audit_target(request: Request, user_id: str | None) -> None:
    """Name the account a request changed (issue 12, F2: the audit names it)."""
    access_record(request).target_user_id = user_id


def audit_patient(request: Request, patient_id: str | None) -> None:
    """Name the woman a request turned out to be about (a registration, an import)."""
    access_record(request).patient_id = patient_id


async def _csrf_token_sent(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def _check_csrf(request: Request, principal: Principal) -> None:
    if principal.via != "session" or request.method in _SAFE_METHODS:
        return
    sent = await _csrf_token_sent(request)
    if not sent or principal.csrf_token is None or not same_secret(sent, principal.csrf_token):
        raise HTTPException(403, f"missing or wrong CSRF token (send it in {CSRF_HEADER})")


def _signed_in(principal: Principal | None, roles: frozenset[Role]) -> Principal:
    if principal is None:
        raise _unauthorized()
    if principal.role not in roles:
        raise HTTPException(403, f"not allowed for the {principal.role.value} role")
    return principal


def _not_found(params: Mapping[str, str]) -> HTTPException:
    """The same answer whether the record does not exist or may not be seen: ids cannot be
    probed. It names what the path asked for, as the routes' own 404s do."""
    if "resource_type" in params and "resource_id" in params:
        return HTTPException(404, f"no {params['resource_type']}/{params['resource_id']}")
    ids = [(name, value) for name, value in params.items() if name.endswith("_id")]
    if not ids:
        return HTTPException(404, "not found")
    name, value = ids[-1]
    return HTTPException(404, f"no {name.removesuffix('_id').replace('_', ' ')} {value}")


def _as_scoped(request: Request, principal: Principal, grant: SmartGrant) -> Principal:
    """A SMART token's request, as its scopes allow it (`access.smart_scopes`): on the FHIR
    API only; as the user (`user/`, `system/` scopes) or, when only a `patient/` scope
    allows it, reaching the launch patient alone; else 403 `insufficient_scope` (RFC 6750,
    3.1). The user's role and care teams still apply after this."""
    path = request.url.path
    if path != FHIR_PREFIX and not path.startswith(FHIR_PREFIX + "/"):
        raise HTTPException(403, "a SMART access token is for the FHIR API (/fhir) only")
    needs = needed_for(request.method, path.removeprefix(FHIR_PREFIX))
    contexts = contexts_for(grant.scopes, needs)
    if contexts & {"user", "system"}:
        return principal
    if "patient" in contexts and grant.patient_id is not None:
        if principal.role == Role.CLINICIAN and not _still_in_her_teams(
            request, grant.patient_id, principal.team_ids
        ):
            # Chosen at launch while one of her teams had the woman; no longer: the token
            # reaches no one (the scope below would otherwise name her outside any team).
            raise HTTPException(403, "the launch's woman is no longer under your care teams")
        return replace(principal, only_patient_id=grant.patient_id)
    wanted = ", ".join(f"{n.resource_type}.{n.permission}" for n in needs)
    raise HTTPException(
        403,
        f"the token's scopes do not allow this ({wanted} needed)",
        headers={"WWW-Authenticate": 'Bearer realm="cervixwatch", error="insufficient_scope"'},
    )


def _still_in_her_teams(request: Request, patient_id: str, team_ids: frozenset[str]) -> bool:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        return account_store.patient_in_teams(session, patient_id, team_ids)


def _may_touch(
    session: Session,
    principal: Principal,
    patient_id: str,
    policy: PatientData,
    params: Mapping[str, str],
) -> None:
    if principal.only_patient_id is not None and principal.only_patient_id != patient_id:
        raise _not_found(params)
    if principal.role == Role.CLINICIAN:
        if not account_store.patient_in_teams(session, patient_id, principal.team_ids):
            raise _not_found(params)
        return
    if principal.role == Role.PATIENT and principal.patient_id == patient_id:
        if policy.action != "read" and policy.action not in policy.patient_may:
            raise HTTPException(403, "a patient may report symptoms but not change her record")
        return
    raise _not_found(params)


def _rate_limit(request: Request, principal: Principal) -> None:
    limit = request.app.state.settings.api_rate_limit
    limiter = request.app.state.rate_limiter
    if not limiter.hit(limit, "api", principal.user_id):
        retry = limiter.retry_after(limit, "api", principal.user_id)
        raise HTTPException(429, "too many requests", headers={"Retry-After": str(retry)})


async def enforce(request: Request) -> None:
    """Apply the matched route's policy (an app-wide dependency: it runs for every route).

    The database work runs in the thread pool, not on the event loop, which would otherwise
    wait for it and hold every other request of the process; only reading a form for its
    CSRF token is done here."""
    route = request.scope.get("route")
    policy = policy_of(getattr(route, "endpoint", None))
    if policy is None:
        log.error("route %s has no access policy; refused", getattr(route, "path", "?"))
        raise HTTPException(500, "this route has no access policy")
    if isinstance(policy, Public):
        return
    # Always in a thread: even a remembered token reads the access generation from the
    # database (`access.token_cache`, issue 12 part 5).
    principal = await run_in_threadpool(_apply, request, policy)
    await _check_csrf(request, principal)


def _apply(request: Request, policy: SignedIn | ClinicalList | PatientData) -> Principal:
    """Who is asking and whether the policy lets her: the caller, or an HTTPException."""
    record = access_record(request)
    # Named first, so that whatever follows (a 401, a 429, a failure) is recorded as this.
    if isinstance(policy, SignedIn | ClinicalList):
        record.action = policy.audit_action
    else:
        record.action = policy.audit_action or policy.action
    principal = authenticate(request)
    if principal is not None and principal.smart is not None:
        principal = _as_scoped(request, principal, principal.smart)
        request.state.principal = principal
    record.principal = principal
    if principal is not None:
        _rate_limit(request, principal)
    if isinstance(policy, SignedIn | ClinicalList):
        _signed_in(principal, policy.roles)
    else:
        principal = _signed_in(principal, frozenset({Role.CLINICIAN, Role.PATIENT}))
        sessions: sessionmaker[Session] = request.app.state.sessions
        with sessions() as session:
            params = request.path_params
            patient_id = policy.locate(session, params)
            if patient_id is None:
                raise _not_found(params)
            # Recorded even if refused below: who tried to reach whose record.
            record.patient_id = patient_id
            _may_touch(session, principal, patient_id, policy, params)
    assert principal is not None
    return principal


def _caller(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise _unauthorized()
    return principal


async def current_principal(request: Request) -> Principal:
    """The caller of a route whose policy requires sign-in (`enforce` has checked it)."""
    return _caller(request)


async def current_scope(request: Request) -> Scope:
    return scope_of(_caller(request))


PrincipalDep = Annotated[Principal, Depends(current_principal)]
ScopeDep = Annotated[Scope, Depends(current_scope)]

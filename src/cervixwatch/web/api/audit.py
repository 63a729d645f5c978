"""The audit log for auditors: a page of entries (newest first) and an export of every match as
FHIR R4 AuditEvent resources in NDJSON. Only auditors may read the log, and each of their reads
is itself recorded in it ("audit-read")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Final

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Role
from cervixwatch.app.audit_log import AuditFilter, audit_events, audit_page
from cervixwatch.app.rows import AuditOutcome
from cervixwatch.interop.fhir_audit import audit_event_resource
from cervixwatch.web.access import SignedIn, allow
from cervixwatch.web.api.errors import invalid
from cervixwatch.web.api.paging import PagingDep
from cervixwatch.web.deps import SessionsDep

FHIR_NDJSON: Final = "application/fhir+ndjson"
#: Auditors only; their reads of the log are recorded in it too.
READ_AUDIT_LOG: Final = SignedIn(frozenset({Role.AUDITOR}), audit_action="audit-read")

router = APIRouter(tags=["audit log"])


class AuditEventPublic(BaseModel):
    """One access: who (a user id and role; none when not signed in), which woman, what (the
    action, and the route with ids but never query values), when, from where, and how it
    ended."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    recorded_at: dt.datetime
    actor_id: str | None
    actor_role: str | None
    via: str | None = Field(description="session (sign-in cookie) or token (API bearer token).")
    action: str
    method: str
    route: str = Field(description="The route's path template.")
    path: str = Field(description="The path requested (ids, never query values).")
    patient_id: str | None
    client_address: str | None
    outcome: AuditOutcome
    status: int = Field(description="The HTTP status of the answer.")
    request_id: str = Field(description="The answer's X-Request-ID.")
    target_user_id: str | None = Field(
        default=None, description="The account an admin action changed (its user id)."
    )
    prev_hash: str | None = Field(
        default=None,
        description="The hash of the entry sealed before this one (the audit chain; "
        "64 zeros for the first); null until the entry is sealed, about a second after it "
        "is written.",
    )
    entry_hash: str | None = Field(
        default=None,
        description="This entry's hash: SHA-256 of its stored fields but id and entry_hash "
        "(docs/security.md, tamper-evident audit trail).",
    )


class AuditEventPage(BaseModel):
    items: list[AuditEventPublic]
    total: int
    page: int
    page_size: int


async def audit_filter(
    patient_id: Annotated[
        str | None, Query(max_length=36, description="Only entries about this woman.")
    ] = None,
    actor_id: Annotated[
        str | None, Query(max_length=36, description="Only entries of this user.")
    ] = None,
    action: Annotated[
        str | None,
        Query(max_length=32, description="Only this action (read, write, delete, search...)."),
    ] = None,
    outcome: Annotated[AuditOutcome | None, Query(description="Only this outcome.")] = None,
    since: Annotated[
        AwareDatetime | None,
        Query(description="Only entries recorded at or after this instant (with its zone)."),
    ] = None,
    until: Annotated[
        AwareDatetime | None,
        Query(description="Only entries recorded before this instant (with its zone)."),
    ] = None,
) -> AuditFilter:
    since_utc, until_utc = _utc("since", since), _utc("until", until)
    if since_utc is not None and until_utc is not None and until_utc <= since_utc:
        raise invalid("query", "until", "until must be later than since", str(until))
    return AuditFilter(
        patient_id=patient_id,
        actor_id=actor_id,
        action=action,
        outcome=outcome,
        since=since_utc,
        until=until_utc,
    )


def _utc(name: str, moment: dt.datetime | None) -> dt.datetime | None:
    """`moment` in UTC, as entries are kept; refused (422) if UTC cannot hold it (a time
    zone east of Greenwich on 1 January of year 1, or west on 31 December 9999)."""
    if moment is None:
        return None
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise invalid("query", name, "the instant is out of range in UTC", str(moment)) from None


AuditFilterDep = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("/audit-events", response_model=AuditEventPage, summary="The audit log")
@allow(READ_AUDIT_LOG)
def list_audit_events(
    sessions: SessionsDep, paging: PagingDep, where: AuditFilterDep
) -> AuditEventPage:
    """The entries that match every filter given, newest first."""
    found = audit_page(
        sessions, where, limit=paging.page_size, offset=(paging.page - 1) * paging.page_size
    )
    items = [AuditEventPublic.model_validate(row) for row in found.rows]
    return AuditEventPage(
        items=items, total=found.total, page=paging.page, page_size=paging.page_size
    )


def _ndjson(sessions: sessionmaker[Session], where: AuditFilter, base_url: str) -> Iterator[bytes]:
    # A plain generator: the response pulls it in a worker thread, one batch of rows at a
    # time, so neither the event loop nor memory carries the whole log.
    for row in audit_events(sessions, where):
        yield orjson.dumps(audit_event_resource(row, base_url)) + b"\n"


@router.get(
    "/audit-events.ndjson",
    response_class=StreamingResponse,
    summary="Export the audit log as FHIR R4 AuditEvent resources (NDJSON)",
    responses={200: {"content": {FHIR_NDJSON: {}}, "description": "One AuditEvent a line."}},
)
@allow(READ_AUDIT_LOG)
def export_audit_events(
    request: Request, sessions: SessionsDep, where: AuditFilterDep
) -> StreamingResponse:
    """Every entry that matches the filters, in the order written, one FHIR R4 AuditEvent
    per line."""
    base_url = str(request.base_url).rstrip("/") + "/fhir"
    return StreamingResponse(_ndjson(sessions, where, base_url), media_type=FHIR_NDJSON)

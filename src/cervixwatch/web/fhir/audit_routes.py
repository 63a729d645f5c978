"""The audit log in the FHIR facade: search and read of AuditEvent, for auditors only (each of
their reads is itself recorded, as "audit-read"). Include this router in the /fhir router
before its generic `/{resource_type}` routes, which would otherwise answer for AuditEvent.

Search parameters (https://hl7.org/fhir/R4/auditevent.html#search):
- `patient`: the woman an entry is about (`Patient/{id}` or the bare id);
- `agent`: the user who asked, by our user id (agents are named by `who.identifier`, not by a
  reference, so the bare id is what is matched);
- `date`: when the entry was recorded, with the prefixes eq (the default), ge, gt, le and lt,
  at the precision given (a year, a month, a day, or a time with its zone). A day without a
  time is a UTC day. Repeat it for a range (`date=ge2026-03-01&date=lt2026-04-01`);
- `_count` and `_offset`: paging, newest entries first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, Final

from fastapi import APIRouter, Request, Response

from cervixwatch.access.principal import Role
from cervixwatch.app.audit_log import AuditFilter, audit_event, audit_page
from cervixwatch.app.exporting import searchset
from cervixwatch.interop.fhir_audit import audit_event_resource
from cervixwatch.web.access import SignedIn, allow
from cervixwatch.web.deps import SessionsDep, SettingsDep
from cervixwatch.web.fhir.http import (
    FHIR_JSON,
    FhirError,
    FhirRoute,
    fhir_base,
    fhir_response,
    query_params,
    whole_number,
)

READ_AUDIT_LOG: Final = SignedIn(frozenset({Role.AUDITOR}), audit_action="audit-read")

router = APIRouter(route_class=FhirRoute, tags=["FHIR R4"])

_SEARCH_PARAMS: Final = frozenset({"patient", "agent", "date", "_count", "_offset"})
_PREFIXES: Final = ("eq", "ge", "gt", "le", "lt")
#: The largest id `audit_events.id` (a 32-bit integer) holds; PostgreSQL refuses a larger one.
_MAX_ID: Final = 2**31 - 1
#: A whole number as ASCII digits ("²" and other Unicode digits are not), short enough to read.
_DIGITS: Final = re.compile(r"[0-9]{1,10}")
#: A year, a month or a day (`2026`, `2026-03`, `2026-03-02`).
_PARTIAL_DATE: Final = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
#: A time of day with its zone, to the minute, the second or a fraction of one.
_TIME: Final = re.compile(
    r"T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.([0-9]{1,6}))?)?(Z|[+-][0-9]{2}:[0-9]{2})"
)

_OUTCOME: dict[str, Any] = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A FHIR resource", **_OUTCOME},
    400: {"description": "Bad request (OperationOutcome)", **_OUTCOME},
    401: {"description": "Not signed in (OperationOutcome)", **_OUTCOME},
    403: {"description": "Not an auditor (OperationOutcome)", **_OUTCOME},
    404: {"description": "Not found (OperationOutcome)", **_OUTCOME},
}


def _one(values: Sequence[str] | None, name: str) -> str | None:
    """The single value of a parameter that takes one (no repetition, no comma-separated OR)."""
    if not values:
        return None
    if len(values) > 1 or "," in values[0] or not values[0]:
        raise FhirError(400, f"{name}: give one value", "not-supported", expression=name)
    return values[0]


def _next_month(day: dt.datetime) -> dt.datetime:
    return (
        day.replace(year=day.year + 1, month=1)
        if day.month == 12
        else day.replace(month=day.month + 1)
    )


def _date_range(text: str) -> tuple[dt.datetime, dt.datetime]:
    """The instants a FHIR date search value stands for: [start, end), at its precision."""
    if (partial := _PARTIAL_DATE.fullmatch(text)) is not None:
        year, month, day = partial.groups()
        start = dt.datetime(int(year), int(month or 1), int(day or 1), tzinfo=dt.UTC)
        if day:
            return start, start + dt.timedelta(days=1)
        if month:
            return start, _next_month(start)
        return start, start.replace(year=start.year + 1)
    date_part, _, _ = text.partition("T")
    time = _TIME.fullmatch(text[len(date_part) :])
    if time is None or _PARTIAL_DATE.fullmatch(date_part) is None or len(date_part) != 10:
        raise ValueError(text)
    start = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    seconds, fraction = time.group(1), time.group(3)
    if fraction:
        step = dt.timedelta(microseconds=10 ** (6 - len(fraction)))
    else:
        step = dt.timedelta(seconds=1) if seconds else dt.timedelta(minutes=1)
    return start, start + step


def _dates(values: Sequence[str]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`since` (inclusive) and `until` (exclusive) that every `date` value given allows."""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    for value in values:
        has_prefix = value[:2].isalpha() and value[2:3].isdigit()
        prefix, text = (value[:2], value[2:]) if has_prefix else ("eq", value)
        if prefix not in _PREFIXES:
            raise FhirError(
                400,
                f"date={value!r}: the prefix {prefix!r} is not supported ({', '.join(_PREFIXES)})",
                "not-supported",
                expression="date",
            )
        try:
            start, end = _date_range(text)
        except (ValueError, OverflowError):
            raise FhirError(
                400,
                f"date={value!r}: expected a date (2026-03-02) or a time with its zone "
                "(2026-03-02T10:00:00Z), after an optional prefix",
                "value",
                expression="date",
            ) from None
        low = {"eq": start, "ge": start, "gt": end}.get(prefix)
        high = {"eq": end, "le": end, "lt": start}.get(prefix)
        if low is not None:
            since = low if since is None else max(since, low)
        if high is not None:
            until = high if until is None else min(until, high)
    return since, until


def _criteria(params: dict[str, list[str]]) -> AuditFilter:
    patient = _one(params.get("patient"), "patient")
    since, until = _dates(params.get("date", []))
    return AuditFilter(
        patient_id=patient.removeprefix("Patient/") if patient else None,
        actor_id=_one(params.get("agent"), "agent"),
        since=since,
        until=until,
    )


@router.get(
    "/AuditEvent",
    summary="Search the audit log (auditors): patient, agent, date, _count, _offset",
    responses=_RESPONSES,
)
@allow(READ_AUDIT_LOG)
def search_audit_events(request: Request, sessions: SessionsDep, settings: SettingsDep) -> Response:
    params = query_params(request, _SEARCH_PARAMS, "search AuditEvent")
    count = whole_number(
        params.get("_count"), "_count", settings.page_size, 0, settings.max_page_size
    )
    offset = whole_number(params.get("_offset"), "_offset", 0, 0, 10**9)
    where = _criteria(params)
    base = fhir_base(request)
    found = audit_page(sessions, where, limit=count, offset=offset)
    total = found.total
    resources = [audit_event_resource(row, base) for row in found.rows]
    links = [{"relation": "self", "url": str(request.url)}]
    if count > 0 and offset + count < total:
        following = request.url.remove_query_params(["_offset", "_count"]).include_query_params(
            _count=count, _offset=offset + count
        )
        links.append({"relation": "next", "url": str(following)})
    return fhir_response(request, searchset(resources, base=base, total=total, links=links))


@router.get(
    "/AuditEvent/{event_id}", summary="Read an audit entry (auditors)", responses=_RESPONSES
)
@allow(READ_AUDIT_LOG)
def read_audit_event(request: Request, event_id: str, sessions: SessionsDep) -> Response:
    query_params(request, frozenset(), "read AuditEvent")
    row = None
    if _DIGITS.fullmatch(event_id) and int(event_id) <= _MAX_ID:
        row = audit_event(sessions, int(event_id))
    if row is None:
        raise FhirError(404, f"AuditEvent/{event_id} is not known", "not-found")
    return fhir_response(request, audit_event_resource(row, fhir_base(request)))

"""The audit log, as auditors read it (issue 13, part 9).

    GET /audit                  entries newest first, filtered, a page at a time, with where
                                the hash chain ends and the newest kept checkpoint
    GET /audit/{event_id}       one entry, every field
    GET /audit/export.csv       every entry the filters match, in the order written (CSV)

Only auditors may read the log (`docs/security.md`: admins manage accounts, auditors read
the log); each read is itself an entry ("audit-read"), and the export one of its own
("audit-export"), written when its last line has gone.

The filters: the woman (her id), the user who acted and the account an action changed (each
a username, else read as a user id: the log keeps the ids of deleted accounts too), the
action, the outcome, and days from and to
(inclusive, UTC: the log's times are UTC). Entries are shown with the usernames of the
accounts their ids name; the log itself holds ids only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import account_admin
from cervixwatch.app.audit_chain_status import chain_state
from cervixwatch.app.audit_log import AuditFilter, audit_event, audit_events, audit_page
from cervixwatch.app.rows import AuditOutcome
from cervixwatch.web.access import MAX_ROW_ID, allow
from cervixwatch.web.deps import SessionsDep
from cervixwatch.web.pages.admin_shared import (
    AUDIT_EXPORT,
    AUDIT_PAGES,
    PAGE_SIZE,
    page_number,
    pages_of,
    problems,
    query_string,
)
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FIELDS: Final = {
    "patient": "audit-patient",
    "user": "audit-user",
    "account": "audit-account",
    "action": "audit-action",
    "outcome": "audit-outcome",
    "since": "audit-since",
    "until": "audit-until",
}

#: The actions the app records, offered as suggestions (any other may be typed).
KNOWN_ACTIONS: Final = (
    "read",
    "write",
    "delete",
    "create",
    "search",
    "export",
    "import",
    "sign-in",
    "password-set",
    "password-reset",
    "access-grant",
    "user-admin",
    "token-issue",
    "token-revoke",
    "audit-read",
    "audit-export",
)

OUTCOME_LABELS: Final = {
    AuditOutcome.SUCCESS: "Success",
    AuditOutcome.DENIED: "Denied",
    AuditOutcome.INVALID: "Invalid",
    AuditOutcome.FAILED: "Failed",
}


@dataclass(frozen=True, slots=True)
class Asked:
    """The filter form as typed (shown back), the filter it makes, and its errors by
    field."""

    values: dict[str, str]
    where: AuditFilter
    errors: dict[str, str]

    def query(self, **changes: str | int) -> str:
        return query_string({**self.values, **changes})


def _day(name: str, raw: str, errors: dict[str, str]) -> dt.date | None:
    if not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None


def _asked(
    sessions: sessionmaker[Session],
    patient: str,
    user: str,
    account: str,
    action: str,
    outcome: str,
    since: str,
    until: str,
) -> Asked:
    """The filter of the form's values; a value that cannot be one is named, and left out
    of the filter (the page then shows the entries of the others, and says why)."""
    values = {
        "patient": patient.strip()[:36],
        "user": user.strip()[:64],
        "account": account.strip()[:64],
        "action": action.strip()[:32],
        "outcome": outcome.strip(),
        "since": since.strip(),
        "until": until.strip(),
    }
    errors: dict[str, str] = {}
    chosen_outcome = None
    if values["outcome"]:
        try:
            chosen_outcome = AuditOutcome(values["outcome"])
        except ValueError:
            errors["outcome"] = "Choose an outcome from the list."
    first = _day("since", values["since"], errors)
    last = _day("until", values["until"], errors)
    if first is not None and last is not None and last < first:
        errors["until"] = "The last day must not be before the first day."
        last = None
    actor_id = _user_id(sessions, values["user"])
    where = AuditFilter(
        patient_id=values["patient"] or None,
        actor_id=actor_id,
        action=values["action"] or None,
        outcome=chosen_outcome,
        since=_midnight(first),
        until=_midnight(last + dt.timedelta(days=1)) if last is not None else None,
        target_user_id=_user_id(sessions, values["account"]),
    )
    return Asked(values, where, errors)


def _user_id(sessions: sessionmaker[Session], typed: str) -> str | None:
    """The id of the account with the username `typed`, else `typed` read as a user id."""
    if not typed:
        return None
    return account_admin.user_id_of(sessions, typed) or typed


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _asked_of(request: Request, sessions: sessionmaker[Session]) -> Asked:
    params = request.query_params
    return _asked(
        sessions,
        patient=params.get("patient", ""),
        user=params.get("user", ""),
        account=params.get("account", ""),
        action=params.get("action", ""),
        outcome=params.get("outcome", ""),
        since=params.get("since", ""),
        until=params.get("until", ""),
    )


def _names(sessions: sessionmaker[Session], rows: list[Any]) -> Mapping[str, str]:
    ids = {i for r in rows for i in (r.actor_id, r.target_user_id) if i}
    return account_admin.usernames_of(sessions, sorted(ids))


@router.get("/audit")
@allow(AUDIT_PAGES)
def audit_log_page(
    request: Request,
    sessions: SessionsDep,
    page: Annotated[str, Query()] = "1",
) -> Response:
    """The entries that match every filter given, newest first."""
    asked = _asked_of(request, sessions)
    wanted = page_number(page)
    found = audit_page(sessions, asked.where, limit=PAGE_SIZE, offset=(wanted - 1) * PAGE_SIZE)
    shown = pages_of(found.total, wanted)
    if shown.page != wanted:  # past the end: the last page instead
        found = audit_page(sessions, asked.where, limit=shown.size, offset=shown.offset)
    settings = request.app.state.settings
    state = chain_state(request.app.state.engine, settings.audit_checkpoints, _now())
    return render(
        request,
        "audit_log.html",
        {
            "rows": found.rows,
            "names": _names(sessions, found.rows),
            "pages": shown,
            "asked": asked,
            "filtered": any(asked.values.values()),
            "summary": problems(asked.errors, FIELDS),
            "ids": FIELDS,
            "actions": KNOWN_ACTIONS,
            "outcomes": OUTCOME_LABELS,
            "chain": state,
            "page_link": lambda n: "/audit?" + asked.query(page=n),
        },
        status_code=422 if asked.errors else 200,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: The export's columns: the entry's own fields, and the usernames its ids name today.
CSV_COLUMNS: Final = (
    "id",
    "recorded_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "via",
    "action",
    "method",
    "route",
    "path",
    "patient_id",
    "client_address",
    "outcome",
    "status",
    "request_id",
    "target_user_id",
    "target_username",
    "prev_hash",
    "entry_hash",
)
#: A cell a spreadsheet would run as a formula starts with one of these: such a cell is
#: written with a leading apostrophe (OWASP, CSV injection).
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_BATCH: Final = 500


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat()
    text = str(value.value if isinstance(value, AuditOutcome) else value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_lines(sessions: sessionmaker[Session], where: AuditFilter) -> Iterator[bytes]:
    # A plain generator: the response pulls it in a worker thread, a batch of rows at a
    # time, so neither the event loop nor memory carries the whole log.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    batch: list[Any] = []

    def flush() -> bytes:
        names = _names(sessions, batch)
        for row in batch:
            fields = {name: getattr(row, name, None) for name in CSV_COLUMNS}
            fields["actor_username"] = names.get(row.actor_id or "")
            fields["target_username"] = names.get(row.target_user_id or "")
            writer.writerow([_cell(fields[name]) for name in CSV_COLUMNS])
        batch.clear()
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode()

    for row in audit_events(sessions, where):
        batch.append(row)
        if len(batch) >= _BATCH:
            yield flush()
    yield flush()


@router.get("/audit/export.csv")
@allow(AUDIT_EXPORT)
def export_csv(request: Request, sessions: SessionsDep) -> Response:
    """Every entry the filters match, oldest first, as CSV (UTF-8, a header line)."""
    asked = _asked_of(request, sessions)
    if asked.errors:
        return audit_log_page(request, sessions)
    stamp = _now().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        _csv_lines(sessions, asked.where),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="cervixwatch-audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/audit/{event_id}")
@allow(AUDIT_PAGES)
def audit_entry_page(request: Request, sessions: SessionsDep, event_id: str) -> Response:
    """One entry, every field, with the usernames its ids name."""
    number = event_id.isascii() and event_id.isdigit() and len(event_id) <= 10
    if not number or int(event_id) > MAX_ROW_ID:
        raise HTTPException(404, "There is no such entry.")
    row = audit_event(sessions, int(event_id))
    if row is None:
        raise HTTPException(404, "There is no such entry.")
    return render(
        request,
        "audit_entry.html",
        {"row": row, "names": _names(sessions, [row]), "outcomes": OUTCOME_LABELS},
    )

"""The worklist as CSV (GET /worklist.csv): every row the filters let through, in the list's
order, for a handover or a spreadsheet. Audited as an export (one entry per download: who,
when; the query values stay out of the log, a search may hold a name).

A cell that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) is prefixed with an apostrophe, so a name or a free-text history typed as
`=HYPERLINK(...)` stays text (OWASP, "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Final

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from cervixwatch.app.worklist import export_worklist
from cervixwatch.web.access import ClinicalList, ScopeDep, allow
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute
from cervixwatch.web.pages.worklist_query import FiltersDep, search_of
from cervixwatch.web.pages.worklist_words import Row, row_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HEADER: Final = (
    "Name",
    "Hospital number",
    "Date of birth",
    "GA today (weeks+days)",
    "Risk tier",
    "History",
    "Flags",
    "Urgent",
    "Urgent since",
    "Why urgent",
    "Latest cervical length (mm)",
    "Latest measured on",
    "Shortest cervical length (mm)",
    "Shortest measured on",
    "Next scan due",
    "Scan status",
    "Last symptom report",
    "Actions",
)
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """`value` as a CSV cell a spreadsheet will not run."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _actions(row: Row) -> str:
    return "; ".join(
        a.label
        + (" (overdue)" if a.overdue else "")
        + (f" [{', '.join(a.guidelines)} only]" if a.guidelines else "")
        for a in row.actions
    )


def csv_cells(row: Row) -> list[str]:
    values: list[object] = [
        row.name,
        row.hospital_number,
        row.birth_date,
        row.ga,
        row.tier,
        row.history,
        "; ".join(words for _, words in row.flags),
        (row.urgent_label or "Urgent") if row.urgent else "",
        row.urgent_since,
        row.urgent_reason,
        f"{row.latest.mm:g}" if row.latest else None,
        row.latest.on if row.latest else None,
        f"{row.shortest.mm:g}" if row.shortest else None,
        row.shortest.on if row.shortest else None,
        row.next_scan_due,
        row.scan_status,
        row.last_report,
        _actions(row),
    ]
    return [cell(v) for v in values]


def csv_text(rows: Iterable[Row]) -> Iterator[str]:
    """The CSV, a line at a time (with a byte-order mark, so spreadsheets read UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_cells(row))
        yield buffer.getvalue()


@router.get("/worklist.csv")
@allow(ClinicalList(audit_action="export"))
def worklist_csv(
    sessions: SessionsDep,
    scope: ScopeDep,
    profiles: ProfilesDep,
    today: TodayDep,
    filters: FiltersDep,
) -> StreamingResponse:
    """Every active pregnancy of the caller's care teams that the filters let through."""
    lines = export_worklist(sessions, search_of(filters, scope), today=today, profiles=profiles)
    rows = (row_of(line, profiles) for line in lines)
    return StreamingResponse(
        csv_text(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="worklist-{today.isoformat()}.csv"',
            "Cache-Control": "no-store",
        },
    )

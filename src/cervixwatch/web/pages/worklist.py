"""The clinician's worklist page (GET /worklist): the active pregnancies of her care teams, most
pressing first (a red-flag symptom she reported first: `store.worklist_flags`), one line each
with what the clinic must act on.

The filter form is a plain GET form, so the page works without script; with htmx the same
request, sent with `HX-Request`, answers only the results (count, table, pages) and the form's
URL is pushed to the history. Paging, filtering and ordering are the database's
(`app.worklist.list_worklist`), so the page stays fast with thousands of women. An open
worklist asks for its results again when the server says something changed
(`/worklist/events`, `web.events`). The same rows print as an A4 handover list (print CSS)
and download as CSV (`worklist_export`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from cervixwatch.app import clinic_settings
from cervixwatch.app.appointments import booking_summaries, clinic_now
from cervixwatch.app.worklist import WorklistSort, changed_marker, list_worklist
from cervixwatch.web.access import CLINICIANS, ClinicalList, ScopeDep, SignedIn, allow
from cervixwatch.web.deps import ProfilesDep, SessionsDep, SettingsDep, TodayDep
from cervixwatch.web.events import ChangeWatcher, worklist_stream
from cervixwatch.web.pages import worklist_export
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.worklist_query import (
    GA_LABELS,
    PAGE_SIZES,
    Filters,
    FiltersDep,
    page_number,
    page_size_of,
    search_of,
)
from cervixwatch.web.pages.worklist_words import (
    SCAN_STATUS_LABELS,
    TIER_CHOICES,
    Row,
    code_label,
    count_text,
    display_name,
    ga_words,
    guideline_name,
    row_of,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
router.include_router(worklist_export.router)

SORT_LABELS: Final[dict[WorklistSort, str]] = {
    "urgent": "Most pressing first",
    "next_scan_due": "Next scan due, soonest first",
    "-next_scan_due": "Next scan due, latest first",
    "ga": "Gestational age, earliest first",
    "-ga": "Gestational age, latest first",
    "name": "Name, A to Z",
    "-name": "Name, Z to A",
}
RESULTS_ID: Final = "worklist-results"


@dataclass(frozen=True, slots=True)
class SortHeader:
    """A column header that sorts: the link it offers and what it says to screen readers."""

    label: str
    href: str
    #: "ascending" / "descending" when the list is in this column's order, else None.
    aria_sort: str | None
    hint: str


def _sort_header(filters: Filters, label: str, up: WorklistSort, down: WorklistSort) -> SortHeader:
    """The header of a column sorted `up` first; chosen again, it sorts `down`."""
    current = {up: "ascending", down: "descending"}.get(filters.sort)
    following: WorklistSort = down if filters.sort == up else up
    words = SORT_LABELS[following].lower()
    return SortHeader(
        label,
        f"/worklist?{filters.sorted_by(following).query()}",
        current,
        f"sort by {words}",
    )


def _sort_headers(filters: Filters) -> dict[str, SortHeader]:
    return {
        "name": _sort_header(filters, "Name", "name", "-name"),
        "ga": _sort_header(filters, "GA today", "ga", "-ga"),
        "next_scan_due": _sort_header(filters, "Next scan", "next_scan_due", "-next_scan_due"),
    }


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def page_notice(asked: str, page: int, pages: int) -> str | None:
    """Why the page shown is not the page asked for (a link edited or out of date)."""
    if asked and page_number(asked) is None:
        return f"There is no page {asked[:12]}: showing page 1."
    wanted = page_number(asked) if asked else None
    if wanted is not None and wanted > pages:
        plural = "s" * (pages != 1)
        return f"There is no page {wanted}: the list has {pages} page{plural}; showing the last."
    return None


def _watcher(request: Request, sessions: SessionsDep) -> ChangeWatcher:
    """This worker's watcher (one per process, made on the first stream)."""
    state = request.app.state
    watcher: ChangeWatcher | None = getattr(state, "worklist_watcher", None)
    if watcher is None:
        watcher = ChangeWatcher(lambda: changed_marker(sessions))
        state.worklist_watcher = watcher
    return watcher


@router.get("/worklist")
@allow(ClinicalList())
def worklist_page(
    request: Request,
    sessions: SessionsDep,
    scope: ScopeDep,
    profiles: ProfilesDep,
    settings: SettingsDep,
    today: TodayDep,
    filters: FiltersDep,
    page: Annotated[str, Query(max_length=12, description="The page, from 1.")] = "",
) -> Response:
    """The active pregnancies of the caller's care teams as of today, one page at a time."""
    size = page_size_of(filters, settings)
    where = search_of(filters, scope)
    number = page_number(page) or 1
    found = list_worklist(
        sessions, where, page=number, page_size=size, today=today, profiles=profiles
    )
    pages = _pages(found.total, size)
    if not found.lines and found.total and number > pages:
        # Past the end (the list shrank, or the link was edited): the last page.
        number = pages
        found = list_worklist(
            sessions, where, page=number, page_size=size, today=today, profiles=profiles
        )
    clinic = clinic_settings.read_settings(sessions)
    bookings = booking_summaries(
        sessions, [line.entry.pregnancy_id for line in found.lines], clinic_now(today)
    )
    context = {
        "rows": [row_of(line, profiles) for line in found.lines],
        # Each row's next booked scan and a missed one (issue 13, part 4), by pregnancy.
        "bookings": bookings,
        # Dates in the clinic's format (its settings), a month's name shortened in this
        # dense table ("6 Mar 2026"), never broken over two lines.
        "date": clinic.short_date,
        "total": found.total,
        "page": number,
        "pages": pages,
        "page_size": size,
        "page_sizes": sorted(
            {*PAGE_SIZES, size} - {s for s in PAGE_SIZES if s > settings.max_page_size}
        ),
        "notice": page_notice(page, number, pages),
        "filters": filters,
        "filtered": filters.filtered,
        "count_text": count_text(found.total, number, pages, filters.filtered),
        "guidelines": [(g, guideline_name(profiles, g)) for g in profiles],
        "tiers": TIER_CHOICES,
        "ga_labels": GA_LABELS,
        "sorts": SORT_LABELS,
        "headers": _sort_headers(filters),
        "ga_words": ga_words,
        "results_id": RESULTS_ID,
        "here": f"/worklist?{filters.query(page=number if number > 1 else None)}",
    }
    # htmx asking for the results only (not a boosted link or a history restore, which want
    # the whole page).
    partial = (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
    context["partial"] = partial
    response = render(request, "worklist_rows.html" if partial else "worklist.html", context)
    # The same URL answers a whole page or only its results: caches must tell them apart.
    response.headers["Vary"] = "HX-Request"
    return response


@router.get("/worklist/events")
@allow(SignedIn(CLINICIANS))
def worklist_events(request: Request, sessions: SessionsDep) -> Response:
    """Server-sent events: `worklist` whenever any worklist may have changed (no data, only
    the word: each open list then asks for its own results). A client that does not ask for
    an event stream (`Accept: text/event-stream`, as EventSource does) is answered the
    stream's opening alone."""
    watcher = _watcher(request, sessions)
    wants_stream = "text/event-stream" in request.headers.get("accept", "")
    stream = worklist_stream(watcher, lasts=300.0 if wants_stream else 0.0)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


#: Named here for the pregnancy pages, which say things as the worklist does.
__all__ = [
    "SCAN_STATUS_LABELS",
    "Row",
    "code_label",
    "display_name",
    "ga_words",
    "guideline_name",
    "router",
]

"""The clinician's worklist page (GET /worklist): the active pregnancies of her care teams, most
pressing first, with what the clinic must act on.

The filter form is a plain GET form, so the page works without script; with htmx the same
request, sent with `HX-Request`, answers only the results (count, table, pages) and the form's
URL is pushed to the history. Paging, filtering and ordering are the database's
(`app.worklist.list_worklist`), so the page stays fast with thousands of women.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Final, Literal, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response

from cervixwatch.app.worklist import WorklistLine, WorklistSearch, WorklistSort, list_worklist
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.web.access import ClinicalList, ScopeDep, allow
from cervixwatch.web.api.paging import PagingDep
from cervixwatch.web.api.types import SearchText
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: Short labels of the recommendation codes (DESIGN.md's contract gives their meaning).
CODE_LABELS: Final = {
    "refer-preterm-birth-clinic": "Refer to preterm birth clinic",
    "single-cervical-length-screen": "Single cervical-length screen",
    "serial-cervical-length": "Serial cervical-length scans",
    "history-indicated-cerclage": "History-indicated cerclage",
    "ultrasound-indicated-cerclage": "Ultrasound-indicated cerclage",
    "exam-indicated-cerclage": "Exam-indicated (rescue) cerclage",
    "vaginal-progesterone": "Vaginal progesterone",
    "cerclage-not-recommended": "Cerclage not recommended",
    "cerclage-contraindicated": "Cerclage contraindicated",
    "no-activity-restriction": "No activity restriction",
    "remove-cerclage": "Remove cerclage",
    "urgent-evaluation": "Urgent same-day evaluation",
    "consider-abdominal-cerclage": "Consider abdominal cerclage",
    "discontinue-17ohpc": "Stop 17-OHPC",
}

#: Risk tiers (Saving Babies' Lives pathway) as the page names them; None: not settled.
TIER_LABELS: Final = {"high": "High", "intermediate": "Intermediate", "low": "Low", None: "Unknown"}

#: The next scan's status (clinical.surveillance) in words.
SCAN_STATUS_LABELS: Final = {"overdue": "Overdue", "due": "Due now", "upcoming": "Upcoming"}

SORT_LABELS: Final[dict[WorklistSort, str]] = {
    "urgent": "Most pressing first",
    "next_scan_due": "Next scan due, soonest first",
    "ga": "Gestational age, earliest first",
    "-ga": "Gestational age, latest first",
    "name": "Name",
}

TierChoice = Literal["", "high", "intermediate", "low", "unknown"]
YesNo = Literal["", "true", "false"]
RESULTS_ID: Final = "worklist-results"


def code_label(code: str) -> str:
    return CODE_LABELS.get(code, code)


def guideline_name(profiles: Mapping[str, GuidelineProfile], guideline: str) -> str:
    """ "ACOG/SMFM" from the profile's title "ACOG/SMFM (United States)"."""
    profile = profiles.get(guideline)
    return profile.title.split(" (")[0] if profile is not None else guideline.upper()


def ga_words(ga: GestationalAge) -> str:
    """ "19 weeks 3 days", for screen readers beside "19+3"."""
    return f"{ga.weeks} week{'s' * (ga.weeks != 1)} {ga.days} day{'s' * (ga.days != 1)}"


@dataclass(frozen=True, slots=True)
class Length:
    """A transvaginal cervical length (mm) and the day it was measured."""

    mm: float
    on: dt.date

    def __str__(self) -> str:
        return f"{self.mm:g} mm"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the worklist as the page shows it."""

    pregnancy_id: str
    name: str
    hospital_number: str | None
    ga: GestationalAge | None
    tier: str
    tier_key: str
    history: str | None
    latest: Length | None
    shortest: Length | None
    next_scan_due: dt.date | None
    scan_status: str | None
    scan_status_key: str | None
    overdue: bool
    urgent: bool
    #: (guideline name, [recommendation labels]) per guideline, in the profiles' order.
    recommendations: list[tuple[str, list[str]]]


def display_name(family: str | None, given: str | None) -> str:
    names = [n for n in (family, given) if n]
    return ", ".join(names) if names else "Name not recorded"


def _length(mm: float | None, on: dt.date | None) -> Length | None:
    return None if mm is None or on is None else Length(mm, on)


def _row(line: WorklistLine, profiles: Mapping[str, GuidelineProfile]) -> Row:
    e = line.entry
    order = [g for g in profiles if g in e.codes] + sorted(g for g in e.codes if g not in profiles)
    status = e.next_scan_status
    return Row(
        pregnancy_id=e.pregnancy_id,
        name=display_name(e.family_name, e.given_name),
        hospital_number=e.hospital_number,
        ga=GestationalAge(e.ga_days) if e.ga_days is not None else None,
        tier=TIER_LABELS.get(e.risk_tier, e.risk_tier or "Unknown"),
        tier_key=e.risk_tier or "unknown",
        history=line.history,
        latest=_length(e.latest_length_mm, e.latest_length_on),
        shortest=_length(e.shortest_length_mm, e.shortest_length_on),
        next_scan_due=e.next_scan_due,
        scan_status="Overdue" if e.overdue else SCAN_STATUS_LABELS.get(status or "", status),
        scan_status_key="overdue" if e.overdue else status,
        overdue=e.overdue,
        urgent=e.urgent,
        recommendations=[
            (guideline_name(profiles, g), [code_label(c) for c in e.codes[g]]) for g in order
        ],
    )


def _flag(value: YesNo) -> bool | None:
    return None if value == "" else value == "true"


@dataclass(frozen=True, slots=True)
class Filters:
    """The worklist's query as the form holds it (empty: no filter)."""

    q: str
    overdue: YesNo
    urgent: YesNo
    guideline: str
    #: The form offers one tier; a link may carry several (as the API takes them).
    tiers: tuple[str, ...]
    sort: WorklistSort
    page_size: int | None

    def query(self, **changes: str | int) -> str:
        """The query string of these filters (empty ones left out) with `changes`."""
        values: dict[str, str | int | tuple[str, ...] | None] = {
            "q": self.q,
            "overdue": self.overdue,
            "urgent": self.urgent,
            "guideline": self.guideline,
            "tier": self.tiers,
            "sort": "" if self.sort == "urgent" else self.sort,
            "page_size": self.page_size,
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", (), None)}, doseq=True)


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def count_text(total: int, page: int, pages: int, filtered: bool) -> str:
    """What the list holds, in words (announced to screen readers when it changes)."""
    if total == 0:
        where = "match these filters" if filtered else "are on your care teams' worklist"
        return f"No active pregnancies {where}."
    women = f"{total} active pregnanc{'y' if total == 1 else 'ies'}"
    verb = "matches" if total == 1 else "match"
    where = f"{verb} these filters" if filtered else "on your care teams' worklist"
    paged = f"; page {page} of {pages}" if pages > 1 else ""
    return f"{women} {where}{paged}."


@router.get("/worklist")
@allow(ClinicalList())
def worklist_page(
    request: Request,
    sessions: SessionsDep,
    scope: ScopeDep,
    profiles: ProfilesDep,
    today: TodayDep,
    paging: PagingDep,
    q: Annotated[SearchText, Query(description="Words in her name or hospital number.")] = "",
    overdue: YesNo = "",
    urgent: YesNo = "",
    guideline: Annotated[str, Query(max_length=64)] = "",
    tier: Annotated[list[TierChoice] | None, Query()] = None,
    sort: Annotated[WorklistSort | Literal[""], Query()] = "",
) -> Response:
    """The active pregnancies of the caller's care teams as of today, one page at a time."""
    if guideline and guideline not in profiles:
        raise HTTPException(400, f"guideline: choose one of {', '.join(profiles)}")
    tiers = {t for t in tier or () if t}
    chosen_sort: WorklistSort = sort or "urgent"
    where = WorklistSearch(
        risk_tiers=None if not tiers else {None if t == "unknown" else t for t in tiers},
        urgent=_flag(urgent),
        overdue=_flag(overdue),
        guideline=guideline or None,
        search=q or None,
        sort=chosen_sort,
        scope=scope,
    )
    found = list_worklist(
        sessions,
        where,
        page=paging.page,
        page_size=paging.page_size,
        today=today,
        profiles=profiles,
    )
    filters = Filters(
        q=q,
        overdue=overdue,
        urgent=urgent,
        guideline=guideline,
        tiers=tuple(sorted(tiers)),
        sort=chosen_sort,
        page_size=paging.page_size if "page_size" in request.query_params else None,
    )
    pages = _pages(found.total, paging.page_size)
    filtered = any((q, overdue, urgent, guideline, tiers))
    context = {
        "rows": [_row(line, profiles) for line in found.lines],
        "total": found.total,
        "page": paging.page,
        "pages": pages,
        "page_size": paging.page_size,
        "filters": filters,
        "filtered": filtered,
        "count_text": count_text(found.total, paging.page, pages, filtered),
        "guidelines": [(g, guideline_name(profiles, g)) for g in profiles],
        "tiers": [
            (t, TIER_LABELS[None if t == "unknown" else t]) for t in get_args(TierChoice)[1:]
        ],
        "sorts": SORT_LABELS,
        "ga_words": ga_words,
        "results_id": RESULTS_ID,
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

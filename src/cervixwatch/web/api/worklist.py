"""The worklist: active pregnancies with what the clinic must act on, as of today."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from cervixwatch.app.worklist import WorklistLine, WorklistSearch, WorklistSort, list_worklist
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.web.access import ClinicalList, ScopeDep, allow
from cervixwatch.web.api.errors import invalid
from cervixwatch.web.api.paging import PagingDep
from cervixwatch.web.api.types import Day, GestationalAgeOut, SearchText
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep

router = APIRouter(tags=["worklist"])


class RiskTier(StrEnum):
    """Saving Babies' Lives pathway tier; `unknown` when the history does not settle it."""

    HIGH = "high"
    INTERMEDIATE = "intermediate"
    LOW = "low"
    UNKNOWN = "unknown"


class LengthOut(BaseModel):
    """A transvaginal cervical length (mm) and the day it was measured."""

    mm: float
    measured_on: dt.date


class WorklistItem(BaseModel):
    patient_id: str
    hospital_number: str | None
    family_name: str | None
    given_name: str | None
    pregnancy_id: str
    edd: dt.date | None
    as_of: dt.date = Field(description="The day the assessment listed is of (today).")
    gestational_age: GestationalAgeOut | None
    risk_tier: str | None
    history: str | None = Field(description="The obstetric and cervical history in one line.")
    latest_length: LengthOut | None
    shortest_length: LengthOut | None
    next_scan_due: dt.date | None
    next_scan_status: str | None = Field(description="upcoming, due or overdue.")
    overdue: bool
    urgent: bool = Field(description="An urgent-evaluation recommendation: same-day review.")
    recommendations: dict[str, list[str]] = Field(
        description="The open recommendation codes, by guideline profile."
    )

    @classmethod
    def of(cls, line: WorklistLine) -> WorklistItem:
        e = line.entry
        ga = GestationalAge(e.ga_days) if e.ga_days is not None else None
        return cls(
            patient_id=e.patient_id,
            hospital_number=e.hospital_number,
            family_name=e.family_name,
            given_name=e.given_name,
            pregnancy_id=e.pregnancy_id,
            edd=e.edd,
            as_of=e.as_of,
            gestational_age=None
            if ga is None
            else GestationalAgeOut(weeks=ga.weeks, days=ga.days, text=str(ga)),
            risk_tier=e.risk_tier,
            history=line.history,
            latest_length=_length(e.latest_length_mm, e.latest_length_on),
            shortest_length=_length(e.shortest_length_mm, e.shortest_length_on),
            next_scan_due=e.next_scan_due,
            next_scan_status=e.next_scan_status,
            overdue=e.overdue,
            urgent=e.urgent,
            recommendations=e.codes,
        )


def _length(mm: float | None, on: dt.date | None) -> LengthOut | None:
    return None if mm is None or on is None else LengthOut(mm=mm, measured_on=on)


class WorklistPage(BaseModel):
    items: list[WorklistItem]
    total: int
    page: int
    page_size: int


@router.get("/worklist", response_model=WorklistPage, summary="The worklist")
@allow(ClinicalList())
def get_worklist(
    sessions: SessionsDep,
    scope: ScopeDep,
    profiles: ProfilesDep,
    today: TodayDep,
    paging: PagingDep,
    overdue: Annotated[
        bool | None, Query(description="true: only overdue scans; false: none overdue.")
    ] = None,
    urgent: Annotated[
        bool | None, Query(description="true: only those needing same-day review; false: not.")
    ] = None,
    tier: Annotated[
        list[RiskTier] | None, Query(description="Only these risk tiers (repeat for several).")
    ] = None,
    guideline: Annotated[
        str | None,
        Query(max_length=64, description="Only those with open recommendations from it."),
    ] = None,
    search: Annotated[
        SearchText | None, Query(description="Words in her name or hospital number.")
    ] = None,
    due_by: Annotated[
        Day | None, Query(description="Only those with a scan due on or before this day.")
    ] = None,
    sort: Annotated[
        WorklistSort,
        Query(
            description="urgent (urgent, then overdue, then next scan due), next_scan_due,"
            " ga (youngest first), -ga (oldest first) or name."
        ),
    ] = "urgent",
) -> WorklistPage:
    """The active pregnancies of the caller's care teams as of today (assessments made on an
    earlier day are brought up to date first), most pressing first unless `sort` says
    otherwise."""
    if guideline is not None and guideline not in profiles:
        raise invalid(
            "query", "guideline", f"Input should be one of {', '.join(profiles)}", guideline
        )
    where = WorklistSearch(
        risk_tiers=None
        if tier is None
        else {None if t is RiskTier.UNKNOWN else t.value for t in tier},
        urgent=urgent,
        overdue=overdue,
        due_by=due_by,
        guideline=guideline,
        search=search,
        sort=sort,
        scope=scope,
    )
    page = list_worklist(
        sessions,
        where,
        page=paging.page,
        page_size=paging.page_size,
        today=today,
        profiles=profiles,
    )
    return WorklistPage(
        items=[WorklistItem.of(line) for line in page.lines],
        total=page.total,
        page=paging.page,
        page_size=paging.page_size,
    )

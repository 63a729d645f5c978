"""The worklist: active pregnancies with what the clinic must act on, as of today."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from cervixwatch.app.worklist import (
    GaWindow,
    WorklistLine,
    WorklistSearch,
    WorklistSort,
    list_worklist,
)
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


class UrgentOut(BaseModel):
    """Why she needs same-day review (CD-07)."""

    kind: str | None = Field(
        description="red-flag (a red-flag symptom reported), exam (an urgent exam finding) or"
        " symptoms (other symptoms reported)."
    )
    reason: str | None = Field(description="What, reported when and by whom, in words.")
    since: dt.date | None = Field(description="The day the urgency began.")


class ActionOut(BaseModel):
    """A recommendation that still needs doing (due or overdue; generic advice left out)."""

    code: str
    state: str = Field(description="due or overdue.")


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
    birth_date: dt.date | None
    fetuses: int | None = Field(description="The fetus count recorded (None: not recorded).")
    cerclage_in_situ: bool
    cerclage_removal: str | None = Field(description="due or overdue; None: not due.")
    on_progesterone: bool = Field(description="Vaginal progesterone under way.")
    urgent_detail: UrgentOut | None = Field(description="Why she is urgent; None if not.")
    actions: dict[str, list[ActionOut]] = Field(
        description="The actions that need doing, by guideline profile."
    )
    last_report_at: dt.datetime | None = Field(
        description="Her latest symptom report's instant, when the source gave one."
    )
    last_report_on: dt.date | None = Field(description="Her latest symptom report's day.")

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
            birth_date=e.birth_date,
            fetuses=e.fetuses,
            cerclage_in_situ=e.cerclage_in_situ,
            cerclage_removal=e.cerclage_removal,
            on_progesterone=e.on_progesterone,
            urgent_detail=UrgentOut(
                kind=e.urgent_kind, reason=e.urgent_reason, since=e.urgent_since
            )
            if e.urgent
            else None,
            actions={
                g: [ActionOut(code=a["code"], state=a["state"]) for a in tasks]
                for g, tasks in (e.actions or {}).items()
            },
            last_report_at=line.last_report_at,
            last_report_on=line.last_report_on,
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
        SearchText | None,
        Query(
            description="Words of her name (either order) or hospital number; or one of her"
            " identifiers (an NHS number); or her date of birth."
        ),
    ] = None,
    cerclage_in_situ: Annotated[
        bool | None, Query(description="true: only those with a cerclage in situ; false: not.")
    ] = None,
    removal_due: Annotated[
        bool | None, Query(description="true: only those whose cerclage removal is due.")
    ] = None,
    ga_from: Annotated[
        int | None, Query(ge=0, le=300, description="Gestational age today from, in days.")
    ] = None,
    ga_to: Annotated[
        int | None, Query(ge=0, le=300, description="Gestational age today up to, in days.")
    ] = None,
    no_scan: Annotated[
        bool | None, Query(description="true: only those with no transvaginal length yet.")
    ] = None,
    due_by: Annotated[
        Day | None, Query(description="Only those with a scan due on or before this day.")
    ] = None,
    sort: Annotated[
        WorklistSort,
        Query(
            description="urgent (by severity: a red-flag report, an exam finding, other"
            " symptoms, an overdue removal, anything overdue, due now), next_scan_due,"
            " -next_scan_due, ga (youngest first), -ga (oldest first), name or -name."
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
        cerclage_in_situ=cerclage_in_situ,
        removal_due=removal_due,
        ga_window=None
        if ga_from is None and ga_to is None
        else GaWindow(ga_from or 0, 300 if ga_to is None else ga_to),
        no_scan=no_scan,
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

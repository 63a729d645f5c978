"""The assessment of a pregnancy on any day, by one guideline profile or all: the very JSON
`cervixwatch assess --format json` prints (DESIGN.md contract), computed afresh from the
stored records by the pure `assess`. Reading it writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from cervixwatch.app.assessing import assess_pregnancy
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.web.access import PatientData, allow, by_pregnancy
from cervixwatch.web.api.errors import NOT_FOUND, invalid
from cervixwatch.web.api.types import Day, GestationalAgeOut
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep

router = APIRouter(tags=["assessment"])


class _Open(BaseModel):
    # The contract lets keys be added: a client must not break on one it does not know.
    model_config = ConfigDict(extra="allow")


class Window(_Open):
    from_: dt.date | None = Field(alias="from")
    to: dt.date | None


class RecommendationOut(_Open):
    code: str = Field(description="A recommendation code (DESIGN.md), e.g. vaginal-progesterone.")
    guideline: str
    strength: str
    rule: str
    rules: list[str]
    citation: str
    provenance: str
    summary: str
    facts: dict[str, Any] = Field(description="The facts that fired the rule.")
    state: str = Field(
        description="The course of care: due, in-place, declined, overdue or missed."
    )
    state_note: str = Field(description="The state in plain words, with its dates.")
    assumptions: list[str] = Field(
        description="Plain sentences, one per usual value assumed for an unknown fact (CD-01)."
    )
    reason: str | None = Field(
        default=None,
        description="Why, where the facts alone do not say (an unreviewed symptom report:"
        " its symptoms, when, by whom, how long it has waited).",
    )
    window: Window | None = None


class WithheldOut(_Open):
    code: str
    guideline: str
    rule: str
    withheld_by: str
    reason: str


class GuidelineOut(_Open):
    id: str
    version: str
    title: str


class EvidenceOut(_Open):
    id: str
    figure: str
    statement: str
    population: str
    citation: str


class RiskOut(_Open):
    tier: str | None
    tier_label: str
    tier_rule: str
    current_findings: list[str]
    evidence: list[EvidenceOut]


class ScanWindow(_Open):
    from_: dt.date = Field(alias="from")
    to: dt.date
    from_ga: str
    to_ga: str


class NextScan(_Open):
    due: dt.date
    latest: dt.date
    status: str


class ScanPlanOut(_Open):
    guideline: str
    rule: str
    kind: str
    window: ScanWindow
    interval_days: int | None
    next: NextScan | None
    planned: list[dt.date]
    note: str
    missed: bool


class CurrentTreatmentOut(_Open):
    treatment: str = Field(description="cerclage, vaginal-progesterone, ...")
    since: dt.date | None
    since_ga: str | None
    detail: str


class AssessmentPublic(_Open):
    """The assessment JSON (`cervixwatch assess --format json`)."""

    patient: str
    as_of: dt.date
    gestational_age: GestationalAgeOut | None
    edd: dt.date | None
    fetuses: int | None
    chorionicity: str | None = Field(
        default=None,
        description="A twin pregnancy's chorionicity (dichorionic-diamniotic, monochorionic); "
        "recorded and shown, read by no rule.",
    )
    dating_method: str | None = Field(
        default=None,
        description="How the EDD was worked out (last-menstrual-period, ultrasound, "
        "ovulation-date); read by no rule.",
    )
    history: str
    cervical_lengths: list[str]
    guidelines: list[GuidelineOut]
    recommendations: list[RecommendationOut]
    withheld: list[WithheldOut]
    missing: list[str]
    current_treatments: list[CurrentTreatmentOut] = Field(
        description="Treatments under way on the day (a cerclage in situ, active orders)."
    )
    risk: RiskOut | None
    next_scan_due: dt.date | None
    next_scan_status: str | None
    scan_plan: list[ScanPlanOut]
    notes: list[str]


async def choose_profiles(
    profiles: ProfilesDep,
    guideline: Annotated[
        str,
        Query(
            max_length=64,
            description="A guideline profile (acog, nice, any other loaded) or all.",
        ),
    ] = "all",
) -> list[GuidelineProfile]:
    """The profiles `guideline` names (a dependency, so an unknown one is a 422 about it)."""
    if guideline == "all":
        return list(profiles.values())
    if guideline not in profiles:
        raise invalid(
            "query",
            "guideline",
            f"Input should be all or one of {', '.join(profiles)}",
            guideline,
        )
    return [profiles[guideline]]


@router.get(
    "/pregnancies/{pregnancy_id}/assessment",
    response_model=None,
    response_class=Response,
    responses={
        200: {"model": AssessmentPublic, "content": {"application/json": {}}},
        **NOT_FOUND,
    },
    summary="Assess a pregnancy",
)
@allow(PatientData("read", by_pregnancy()))
def get_assessment(
    pregnancy_id: str,
    sessions: SessionsDep,
    today: TodayDep,
    chosen: Annotated[list[GuidelineProfile], Depends(choose_profiles)],
    as_of: Annotated[
        Day | None, Query(description="The day to assess her on (default: today).")
    ] = None,
) -> Response:
    document = assess_pregnancy(sessions, pregnancy_id, as_of or today, chosen)
    return Response(orjson.dumps(document), media_type="application/json")

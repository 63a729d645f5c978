"""Pregnancies: start one for a woman (EDD, number of fetuses, chorionicity), re-date it, end
it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from cervixwatch.app import pregnancies
from cervixwatch.app.rows import PregnancyRow, PregnancyStatus
from cervixwatch.app.writing import Saved
from cervixwatch.clinical.records import Chorionicity, DatingMethod
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_patient, by_pregnancy
from cervixwatch.web.api.corrections import Reason
from cervixwatch.web.api.errors import BODY, CONFLICT, NOT_FOUND
from cervixwatch.web.api.types import JSON_NUMBER, UNSET, AssessmentSummaryPublic, Day, RecordIn
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep

router = APIRouter(tags=["pregnancies"])

Edd = Annotated[Day, Field(description="Estimated due date (40+0), from the dating scan.")]
Fetuses = Annotated[
    int,
    JSON_NUMBER,
    Field(
        ge=1,
        le=9,
        description="Number of fetuses; null when not recorded (taken as 1).",
    ),
]


DatingMethodField = Annotated[
    DatingMethod,
    Field(
        description="How the EDD was worked out (its LOINC code in FHIR: 11779-6 from the last "
        "menstrual period, 11781-2 from ultrasound, 11780-4 from the ovulation date); null "
        "when not recorded."
    ),
]
ChorionicityField = Annotated[
    Chorionicity,
    Field(
        description="A twin pregnancy's chorionicity, from the dating scan (SNOMED CT "
        "459166009 DCDA / 459167000 MC twin pregnancy); only with 2 fetuses; null when not "
        "recorded."
    ),
]


class PregnancyCreate(RecordIn):
    edd: Edd | None = None
    dating_method: DatingMethodField | None = None
    fetuses: Fetuses | None = None
    chorionicity: ChorionicityField | None = None


class PregnancyUpdate(RecordIn):
    is_patch = True

    edd: Edd | None = None
    dating_method: DatingMethodField | None = None
    fetuses: Fetuses | None = None
    chorionicity: ChorionicityField | None = None
    status: PregnancyStatus = UNSET
    ended_on: Day | None = Field(default=None, description="The day it ended (with status ended).")
    reason: Reason | None = Field(
        default=None,
        description="Why a recorded EDD, dating method, fetus count or chorionicity is "
        "amended: required then "
        "(the values before are kept with it as a correction); not needed to record one not "
        "yet recorded.",
        examples=["re-dated by the 12-week scan"],
    )


class PregnancyPublic(BaseModel):
    id: str
    patient_id: str
    edd: dt.date | None
    dating_method: DatingMethod | None
    fetuses: int | None
    chorionicity: Chorionicity | None
    status: PregnancyStatus
    ended_on: dt.date | None
    notes: list[str] = Field(description="Notes its records carried (e.g. what an import left).")
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: PregnancyRow) -> PregnancyPublic:
        return cls.model_validate(row, from_attributes=True)


class PregnancyWritten(PregnancyPublic):
    assessment: AssessmentSummaryPublic | None


def _written(saved: Saved[PregnancyRow]) -> PregnancyWritten:
    return PregnancyWritten(
        **PregnancyPublic.of(saved.row).model_dump(),
        assessment=AssessmentSummaryPublic.of(saved.assessment),
    )


@router.post(
    "/patients/{patient_id}/pregnancies",
    status_code=201,
    response_model=PregnancyWritten,
    responses={**NOT_FOUND, **CONFLICT, **BODY},
    summary="Start her active pregnancy",
)
@allow(PatientData("write", by_patient()))
def start_pregnancy(
    patient_id: str,
    body: PregnancyCreate,
    request: Request,
    response: Response,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> PregnancyWritten:
    saved = pregnancies.start_pregnancy(
        sessions, patient_id, body.columns(), today=today, profiles=profiles
    )
    response.headers["Location"] = str(request.url_for("get_pregnancy", pregnancy_id=saved.row.id))
    return _written(saved)


@router.get(
    "/patients/{patient_id}/pregnancies",
    response_model=list[PregnancyPublic],
    responses=NOT_FOUND,
    summary="Her pregnancies",
)
@allow(PatientData("read", by_patient()))
def list_pregnancies(patient_id: str, sessions: SessionsDep) -> list[PregnancyPublic]:
    return [PregnancyPublic.of(p) for p in pregnancies.pregnancies_of(sessions, patient_id)]


@router.get(
    "/pregnancies/{pregnancy_id}",
    response_model=PregnancyPublic,
    responses=NOT_FOUND,
    summary="Read a pregnancy",
)
@allow(PatientData("read", by_pregnancy()))
def get_pregnancy(pregnancy_id: str, sessions: SessionsDep) -> PregnancyPublic:
    return PregnancyPublic.of(pregnancies.get_pregnancy(sessions, pregnancy_id))


@router.patch(
    "/pregnancies/{pregnancy_id}",
    response_model=PregnancyWritten,
    responses={**NOT_FOUND, **CONFLICT, **BODY},
    summary="Re-date, count fetuses, or end a pregnancy",
)
@allow(PatientData("write", by_pregnancy()))
def update_pregnancy(
    pregnancy_id: str,
    body: PregnancyUpdate,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> PregnancyWritten:
    """A recorded EDD, fetus count or chorionicity changed is an amendment: `reason` is
    required, and the values before are kept as a correction (listed on her pregnancy page)."""
    changes = body.columns()
    reason = changes.pop("reason", None)
    saved = pregnancies.update_pregnancy(
        sessions,
        pregnancy_id,
        changes,
        today=today,
        profiles=profiles,
        reason=reason,
        user_id=principal.user_id,
    )
    return _written(saved)

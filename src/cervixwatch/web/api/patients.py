"""Women under care: register, find (by name or hospital number), read and correct."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from cervixwatch.app import patients
from cervixwatch.web.access import (
    ClinicalList,
    PatientData,
    PrincipalDep,
    ScopeDep,
    allow,
    audit_patient,
    by_patient,
)
from cervixwatch.web.api.errors import BODY, CONFLICT, NOT_FOUND
from cervixwatch.web.api.paging import PagingDep
from cervixwatch.web.api.types import (
    UNSET,
    AssessmentSummaryPublic,
    Day,
    HospitalNumber,
    Name,
    RecordIn,
    SearchText,
)
from cervixwatch.web.deps import ProfilesDep, SessionsDep, SettingsDep, TodayDep

router = APIRouter(tags=["patients"])


class PatientCreate(RecordIn):
    hospital_number: HospitalNumber
    family_name: Name | None = None
    given_name: Name | None = None
    birth_date: Day | None = None
    nhs_number: str | None = Field(
        default=None,
        max_length=20,
        description="Her NHS number (10 digits, check digit checked), stored as an identifier"
        " of https://fhir.nhs.uk/Id/nhs-number.",
    )


class PatientUpdate(RecordIn):
    is_patch = True

    hospital_number: HospitalNumber = UNSET
    family_name: Name | None = None
    given_name: Name | None = None
    birth_date: Day | None = None


class PatientPublic(BaseModel):
    id: str
    #: Her identifier of the installation's hospital-number system, else the one typed MR
    #: (None: a woman imported with neither).
    hospital_number: str | None
    family_name: str | None
    given_name: str | None
    birth_date: dt.date | None
    active_pregnancy_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, patient: patients.Patient) -> PatientPublic:
        return cls.model_validate(patient, from_attributes=True)


class PatientWritten(PatientPublic):
    assessment: AssessmentSummaryPublic | None


class PatientPage(BaseModel):
    items: list[PatientPublic]
    total: int
    page: int
    page_size: int


@router.post(
    "/patients",
    status_code=201,
    response_model=PatientPublic,
    responses={**CONFLICT, **BODY},
    summary="Register a woman",
    description="She is put under the care of the registering clinician's care teams.",
)
@allow(ClinicalList(audit_action="create", writes=True))
def register_patient(
    body: PatientCreate,
    request: Request,
    response: Response,
    sessions: SessionsDep,
    today: TodayDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> PatientPublic:
    patient = patients.register_patient(
        sessions,
        body.columns(),
        today=today,
        team_ids=principal.team_ids,
        local_system=settings.hospital_number_system,
    )
    audit_patient(request, patient.id)
    response.headers["Location"] = str(request.url_for("get_patient", patient_id=patient.id))
    return PatientPublic.of(patient)


@router.get("/patients", response_model=PatientPage, summary="Find women")
@allow(ClinicalList())
def find_patients(
    sessions: SessionsDep,
    paging: PagingDep,
    scope: ScopeDep,
    search: Annotated[
        SearchText | None,
        Query(description="Words that must each appear in her name or hospital number."),
    ] = None,
) -> PatientPage:
    found = patients.find_patients(
        sessions, search, page=paging.page, page_size=paging.page_size, scope=scope
    )
    return PatientPage(
        items=[PatientPublic.of(p) for p in found.items],
        total=found.total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get(
    "/patients/{patient_id}", response_model=PatientPublic, responses=NOT_FOUND, summary="Read"
)
@allow(PatientData("read", by_patient()))
def get_patient(patient_id: str, sessions: SessionsDep) -> PatientPublic:
    return PatientPublic.of(patients.get_patient(sessions, patient_id))


@router.patch(
    "/patients/{patient_id}",
    response_model=PatientWritten,
    responses={**NOT_FOUND, **CONFLICT, **BODY},
    summary="Correct her details",
)
@allow(PatientData("write", by_patient()))
def update_patient(
    patient_id: str,
    body: PatientUpdate,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    settings: SettingsDep,
) -> PatientWritten:
    saved = patients.update_patient(
        sessions,
        patient_id,
        body.columns(),
        today=today,
        profiles=profiles,
        local_system=settings.hospital_number_system,
    )
    return PatientWritten(
        **PatientPublic.of(saved.row).model_dump(),
        assessment=AssessmentSummaryPublic.of(saved.assessment),
    )

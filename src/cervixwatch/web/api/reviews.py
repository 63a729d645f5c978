"""Reviews of a woman's symptom reports (CD-07): a report stays open, and urgent, until a
clinician of her care team records a review of it.

    POST   /api/symptom-reports/{record_id}/reviews   review it (201): the review and the assessment
    GET    /api/symptom-reports/{record_id}/reviews   its reviews, as recorded
    GET    /api/symptom-reviews/{review_id}           one review
    DELETE /api/symptom-reviews/{review_id}           delete a review entered in error (204)

The woman may read the reviews of her reports (she sees that her team has looked), not write
them. Who reviewed is the signed-in clinician unless the body names someone; when, today
unless the body names the day; a note says what was advised or arranged; the instant it was
recorded is kept (`reviewed_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from cervixwatch.app import accounts, reviewing
from cervixwatch.app.clinic_clock import now_on
from cervixwatch.app.rows import SymptomReportRow
from cervixwatch.web.access import MAX_ROW_ID, PatientData, PrincipalDep, allow, by_record
from cervixwatch.web.api.errors import BODY, NOT_FOUND
from cervixwatch.web.api.findings import SymptomReviewCreate, SymptomReviewPublic
from cervixwatch.web.api.types import AssessmentSummaryPublic, written_model
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep

router = APIRouter(tags=["findings"])

SymptomReviewWritten = written_model(SymptomReviewPublic)


def by_review(session: Session, params: Mapping[str, str]) -> str | None:
    """The woman a review (`review_id`) is about: her report's pregnancy's."""
    raw = params.get("review_id", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ROW_ID:
        return None
    return reviewing.patient_of_review(session, int(raw))


_BY_REPORT = by_record(SymptomReportRow, "pregnancy")


@router.post(
    "/symptom-reports/{record_id}/reviews",
    status_code=201,
    response_model=SymptomReviewWritten,
    responses={**NOT_FOUND, **BODY},
    summary="Review a symptom report",
    operation_id="create_symptom_review",
)
@allow(PatientData("write", _BY_REPORT))
def review(
    record_id: int,
    body: SymptomReviewCreate,
    request: Request,
    response: Response,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Any:
    values = {**body.columns(), "reviewed_at": now_on(today)}
    if values.get("reviewer") is None:
        values["reviewer"] = accounts.shown_name(sessions, principal.user_id)
    saved = reviewing.review_report(sessions, record_id, values, today=today, profiles=profiles)
    response.headers["Location"] = str(
        request.url_for("read_symptom_review", review_id=saved.row.id)
    )
    answer: BaseModel = SymptomReviewWritten.model_validate(
        {
            **SymptomReviewPublic.from_row(saved.row).model_dump(),
            "assessment": AssessmentSummaryPublic.of(saved.assessment),
        }
    )
    return answer


@router.get(
    "/symptom-reports/{record_id}/reviews",
    response_model=list[SymptomReviewPublic],
    responses=NOT_FOUND,
    summary="List the reviews of a symptom report",
    operation_id="list_symptom_reviews",
)
@allow(PatientData("read", _BY_REPORT))
def list_reviews(record_id: int, sessions: SessionsDep) -> Any:
    return [SymptomReviewPublic.from_row(r) for r in reviewing.list_reviews(sessions, record_id)]


@router.get(
    "/symptom-reviews/{review_id}",
    response_model=SymptomReviewPublic,
    responses=NOT_FOUND,
    summary="Read a review of a symptom report",
    operation_id="read_symptom_review",
    name="read_symptom_review",
)
@allow(PatientData("read", by_review))
def read_review(review_id: int, sessions: SessionsDep) -> Any:
    return SymptomReviewPublic.from_row(reviewing.get_review(sessions, review_id))


@router.delete(
    "/symptom-reviews/{review_id}",
    status_code=204,
    response_class=Response,
    responses=NOT_FOUND,
    summary="Delete a review of a symptom report (entered in error)",
    operation_id="delete_symptom_review",
)
@allow(PatientData("delete", by_review))
def delete_review(
    review_id: int, sessions: SessionsDep, profiles: ProfilesDep, today: TodayDep
) -> Response:
    reviewing.delete_review(sessions, review_id, today=today, profiles=profiles)
    return Response(status_code=204)

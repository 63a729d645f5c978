"""Ending a pregnancy with its outcome (issue 13, part 2): the birth (or loss), its day and
how it started; the pregnancy becomes a previous pregnancy in her history
(`app.pregnancies.close_pregnancy`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from cervixwatch.app import pregnancies
from cervixwatch.clinical.records import Onset, PriorOutcome
from cervixwatch.web.access import PatientData, allow, by_pregnancy
from cervixwatch.web.api.errors import BODY, CONFLICT, NOT_FOUND
from cervixwatch.web.api.pregnancies import PregnancyWritten, _written
from cervixwatch.web.api.types import ApiModel, Day
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep

router = APIRouter(tags=["pregnancies"])


class PregnancyClose(ApiModel):
    ended_on: Annotated[Day, Field(description="The day of the birth or loss.")]
    outcome: Annotated[PriorOutcome, Field(description="How it ended (CW#live-birth ...).")]
    onset: Onset | None = Field(
        default=None,
        description="How it started (CW#onset): induction and pre-labour caesarean are"
        " medically indicated; null when not known.",
    )


@router.post(
    "/pregnancies/{pregnancy_id}/close",
    response_model=PregnancyWritten,
    responses={**NOT_FOUND, **CONFLICT, **BODY},
    summary="End a pregnancy with its birth or loss",
)
@allow(PatientData("write", by_pregnancy()))
def close_pregnancy(
    pregnancy_id: str,
    body: PregnancyClose,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> PregnancyWritten:
    saved = pregnancies.close_pregnancy(
        sessions,
        pregnancy_id,
        ended_on=body.ended_on,
        outcome=body.outcome,
        onset=body.onset,
        today=today,
        profiles=profiles,
    )
    return _written(saved)

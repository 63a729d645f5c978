"""The CDS Hooks feedback report for auditors: which cards were accepted or overridden, with
the reason, the card's code and rules and the EHR's patient id (`app.cds_feedback`). Reading
it is itself audited (`cds-feedback-read`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query

from cervixwatch.access.principal import Role
from cervixwatch.app.cds_feedback import feedback_report
from cervixwatch.web.access import SignedIn, allow
from cervixwatch.web.deps import SessionsDep

READ_FEEDBACK: Final = SignedIn(frozenset({Role.AUDITOR}), audit_action="cds-feedback-read")

router = APIRouter(tags=["CDS Hooks"])


@router.get("/api/cds-hooks/feedback", summary="Feedback on CDS Hooks cards (auditors)")
@allow(READ_FEEDBACK)
def cds_feedback(
    sessions: SessionsDep,
    since: Annotated[dt.date | None, Query(description="Received on or after this day.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    start = dt.datetime.combine(since, dt.time(), dt.UTC) if since else None
    return {"feedback": feedback_report(sessions, start, limit)}

"""Reviewing a woman's symptom report (CD-07): a clinician records who looked at it, when, and
what came of it. A report stays open, and urgent, until a review of it is recorded; every
review is one transaction that writes it and reassesses the pregnancy on `today`.

Who reviewed is a name as it is shown ("Dr A Obstetrician"): the web layer gives the signed-in
clinician's when the request names no one. A review may carry a note (what was advised, where
she was seen) and the instant it was recorded (`reviewed_at`), which the pregnancy page shows
beside who reviewed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import checks
from cervixwatch.app.assessing import AssessmentSummary, reassess_pregnancy
from cervixwatch.app.errors import InvalidField, NotFound
from cervixwatch.app.reassessing import Profiles
from cervixwatch.app.writing import Saved, writing
from cervixwatch.store import crud
from cervixwatch.store.accounts import patient_of_pregnancy
from cervixwatch.store.models import RecordSource, SymptomReportRow, SymptomReviewRow
from cervixwatch.store.records import lock_patient

__all__ = ["delete_review", "get_review", "list_reviews", "patient_of_review", "review_report"]

Values = Mapping[str, Any]

#: The longest note and reviewer name the record holds (`SymptomReviewRow`'s columns).
NOTE_MAX = 1000
REVIEWER_MAX = 200


def _text(values: Values, field: str, most: int) -> str | None:
    """A free-text value, trimmed; None when blank; refused, naming the field, when too long."""
    value = values.get(field)
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > most:
        raise InvalidField(field, f"at most {most} characters ({len(text)} given)")
    return text or None


def _report(session: Session, report_id: int, *, lock: bool) -> tuple[SymptomReportRow, str]:
    """The report (read again once its woman is locked) and its pregnancy's id."""
    report = crud.get_row(session, SymptomReportRow, report_id)
    if report is None:
        raise NotFound(f"no symptom report {report_id}")
    if lock:
        pregnancy = crud.get_pregnancy(session, report.pregnancy_id)
        assert pregnancy is not None, "a report's pregnancy exists (foreign key)"
        lock_patient(session, pregnancy.patient_id)
        report = session.get(SymptomReportRow, report_id, populate_existing=True)
        if report is None:
            raise NotFound(f"no symptom report {report_id}")
    return report, report.pregnancy_id


def review_report(
    sessions: sessionmaker[Session],
    report_id: int,
    values: Values,
    *,
    today: dt.date,
    profiles: Profiles,
    source: RecordSource = RecordSource.FORM,
    pregnancy_id: str | None = None,
) -> Saved[SymptomReviewRow]:
    """Record a review of the report (`outcome`; `reviewed_on`, today unless given;
    `reviewer`; a `note`; `reviewed_at`, the instant it is recorded), and reassess its
    pregnancy: reviewed, it no longer keeps her urgent. `pregnancy_id`: the pregnancy the
    caller reached the report through; a report of another is not found."""
    note = _text(values, "note", NOTE_MAX)
    reviewer = _text(values, "reviewer", REVIEWER_MAX)
    with writing(sessions) as session:
        report, of_pregnancy = _report(session, report_id, lock=True)
        if pregnancy_id is not None and of_pregnancy != pregnancy_id:
            raise NotFound(f"no symptom report {report_id} of pregnancy {pregnancy_id}")
        reviewed_on = values.get("reviewed_on") or today
        checks.not_in_future("reviewed_on", reviewed_on, today)
        checks.not_before("reviewed_on", reviewed_on, "the report's date", report.reported_on)
        review = SymptomReviewRow(
            reviewed_on=reviewed_on,
            outcome=values["outcome"],
            reviewer=reviewer,
            note=note,
            reviewed_at=values.get("reviewed_at"),
            source=source,
        )
        # Through the report, so the report as loaded in this transaction lists it too.
        report.reviews.append(review)
        session.flush()
        summary = reassess_pregnancy(session, of_pregnancy, today, profiles)
    return Saved(review, summary)


def patient_of_review(session: Session, review_id: int) -> str | None:
    """The woman a review is about (her report's pregnancy's), in the caller's session; None
    if there is no such review. For the web's access check before the request is served."""
    pregnancy_id = crud.pregnancy_of_review(session, review_id)
    return None if pregnancy_id is None else patient_of_pregnancy(session, pregnancy_id)


def list_reviews(sessions: sessionmaker[Session], report_id: int) -> list[SymptomReviewRow]:
    """The reviews of a report, in the order they were recorded."""
    with sessions() as session:
        report, _ = _report(session, report_id, lock=False)
        return list(report.reviews)


def get_review(sessions: sessionmaker[Session], review_id: int) -> SymptomReviewRow:
    with sessions() as session:
        review = crud.get_row(session, SymptomReviewRow, review_id)
        if review is None:
            raise NotFound(f"no symptom review {review_id}")
        return review


def delete_review(
    sessions: sessionmaker[Session], review_id: int, *, today: dt.date, profiles: Profiles
) -> AssessmentSummary | None:
    """Delete a review entered in error (the report is open again unless another review of it
    is recorded), and reassess."""
    with writing(sessions) as session:
        review = crud.get_row(session, SymptomReviewRow, review_id)
        if review is None:
            raise NotFound(f"no symptom review {review_id}")
        _, pregnancy_id = _report(session, review.symptom_report_id, lock=True)
        review = session.get(SymptomReviewRow, review_id, populate_existing=True)
        if review is None:
            raise NotFound(f"no symptom review {review_id}")
        crud.delete_row(session, review)
        return reassess_pregnancy(session, pregnancy_id, today, profiles)

"""What the clinician's pregnancy page shows, read in one transaction (issue 13, "How it is
built"): the pregnancy and the woman, her records as rows (their ids, sources and times) and as
the records `assess` reads (made from the same rows: nothing is read twice), the clinic's
settings (which guidelines it shows), the corrections of her records, and the assessment of
today by the guidelines the clinic shows, kept typed.

Every clinical fact the page shows (urgent, why, the treatments under way, the cerclage in
situ, each recommendation's state) is the assessment's; which reports are still open is the
clinical core's own test (`facts.open_reports`, CD-07). This module only gathers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import appointments, clinic_settings
from cervixwatch.app.clinic_settings import ClinicSettings
from cervixwatch.app.clinic_settings import _settings as settings_of_row
from cervixwatch.app.corrections import Correction
from cervixwatch.app.corrections import _correction as correction_of_row
from cervixwatch.app.errors import NotFound
from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.facts import RED_FLAG_SYMPTOMS, open_reports
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.knowledge import bundled_evidence
from cervixwatch.store import accounts as accounts_store
from cervixwatch.store import clinic_settings as settings_store
from cervixwatch.store import corrections as corrections_store
from cervixwatch.store.assessments import URGENT_CODE
from cervixwatch.store.crud import plausible_id
from cervixwatch.store.models import PatientRow, PregnancyRow, SymptomReportRow
from cervixwatch.store.records import load_stored

__all__ = ["OpenReport", "PregnancyView", "load_view"]

_RED_FLAGS = frozenset(s.value for s in RED_FLAG_SYMPTOMS)


@dataclass(frozen=True, slots=True)
class OpenReport:
    """A symptom report no clinician has reviewed yet (CD-07: it stays urgent until then),
    with what the review form and the page say of it."""

    row: SymptomReportRow
    #: Any of the red-flag symptoms (bleeding, fluid leaking, ...: `facts.RED_FLAG_SYMPTOMS`).
    red_flag: bool


@dataclass(frozen=True, slots=True)
class PregnancyView:
    """The page's read model: everything it shows, as of `as_of`."""

    patient: PatientRow
    pregnancy: PregnancyRow
    as_of: dt.date
    settings: ClinicSettings
    #: The guidelines the clinic shows (its setting), in its order; the assessment's.
    profiles: tuple[GuidelineProfile, ...]
    records: PregnancyRecords
    #: Each part's current rows, by `PregnancyRecords` field ("cervical_lengths"), stored order.
    rows: Mapping[str, Sequence[Any]]
    assessment: Assessment
    corrections: tuple[Correction, ...]
    #: Reports with symptoms not yet reviewed, red flags first, then the oldest first.
    open_reports: tuple[OpenReport, ...]
    #: How the signed-in clinician is named on what she records (a review's default reviewer,
    #: who took a report by telephone): her display name, else her username.
    viewer_name: str | None = None
    #: The scans booked, the earliest first, each booked, attended, missed or cancelled.
    bookings: tuple[appointments.Booking, ...] = ()
    #: An ended pregnancy's own outcome, as recorded in her history for her next pregnancy
    #: (previous-pregnancy rows dated the day it ended; `store.records.StoredPregnancy`).
    own_outcome: tuple[Any, ...] = ()

    @property
    def urgent(self) -> bool:
        """Whether a guideline asks for same-day evaluation today (`urgent-evaluation`)."""
        return any(r.code == URGENT_CODE for r in self.assessment.recommendations)

    def rows_of(self, part: str) -> Sequence[Any]:
        return self.rows.get(part, ())


def _open(records: PregnancyRecords, rows: Sequence[SymptomReportRow], as_of: dt.date) -> Any:
    """The open reports with symptoms, as rows: the records were made from the rows in order,
    so the n-th report is the n-th row."""
    still_open = {id(r) for r in open_reports(records.symptom_reports, as_of)}
    found = [
        OpenReport(row, bool(_RED_FLAGS & set(row.present)))
        for report, row in zip(records.symptom_reports, rows, strict=True)
        if id(report) in still_open and report.present
    ]
    return tuple(
        sorted(found, key=lambda o: (not o.red_flag, o.row.reported_on, o.row.id)),
    )


def load_view(
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    as_of: dt.date,
    profiles: Mapping[str, GuidelineProfile],
    viewer_id: str | None = None,
) -> PregnancyView:
    """The page of one pregnancy on `as_of` for the user `viewer_id`: one session, one
    transaction, one read of each table; then the assessment by the clinic's guidelines
    (nothing is written)."""
    if not plausible_id(pregnancy_id):
        raise NotFound(f"no pregnancy {pregnancy_id}")
    with sessions() as session:
        stored = load_stored(session, pregnancy_id)
        settings = settings_of_row(settings_store.read_row(session))
        corrections = tuple(
            correction_of_row(r)
            for r in corrections_store.corrections_of_patient(session, stored.patient.id)
        )
        # The reports' reviews were loaded with them (`selectin`): nothing is read later.
        reports = list(stored.rows.get("symptom_reports", ()))
        viewer = accounts_store.user_by_id(session, viewer_id) if viewer_id else None
        bookings = appointments.bookings_in(session, pregnancy_id, appointments.clinic_now(as_of))
    chosen = tuple(clinic_settings.chosen(settings, profiles))
    assessment = assess(stored.records, as_of, chosen, bundled_evidence())
    return PregnancyView(
        patient=stored.patient,
        pregnancy=stored.pregnancy,
        as_of=as_of,
        settings=settings,
        profiles=chosen,
        records=stored.records,
        rows=stored.rows,
        assessment=assessment,
        corrections=corrections,
        own_outcome=stored.own_outcome,
        open_reports=_open(stored.records, reports, as_of),
        viewer_name=(viewer.display_name or viewer.username) if viewer is not None else None,
        bookings=bookings,
    )

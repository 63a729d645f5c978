"""The domain checks of the JSON API (`app.checks`) applied to records any reader produced
(issue 12, F8): a finding of this pregnancy dated in the future, or outside the pregnancy
(EDD - 280 days .. EDD + 42 days), is refused as the API refuses it.

Only this pregnancy's findings are checked against its span: cervical lengths, cervical exams,
fetal fibronectin, symptom reports, cerclage placements and removals, and the start of a
medication order (shared/clinical/fhir-mapping.md: "This pregnancy's cervix", "Treatment in
this pregnancy", "Symptoms"). History is not: previous pregnancies, excisions and maternal
conditions are dated before it by nature, and a complication (a Condition) may be an old one
sent with its abatement, which the domain dates itself (CD-06); a declined offer may have been
made before a late booking. A review of a symptom report is only checked not to be in the
future, as the API checks it. A medication's stop day is not checked: an order's planned end
(its dosage's bounds) is rightly after today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from cervixwatch.app import checks
from cervixwatch.app.errors import InvalidField
from cervixwatch.clinical.records import PregnancyRecords


@dataclass(frozen=True, slots=True)
class DatedFinding:
    """One dated record: its part of `PregnancyRecords` ("cervical_lengths"), the id its
    source gave it, and the day it is dated."""

    part: str
    source_id: str | None
    day: dt.date
    #: Whether it must lie inside the pregnancy (else only not in the future).
    of_pregnancy: bool = True


def dated_findings(records: PregnancyRecords) -> Iterator[DatedFinding]:
    """This pregnancy's dated findings, in the order they are checked."""
    for m in records.cervical_lengths:
        yield DatedFinding("cervical_lengths", m.source_id, m.measured_on)
    for e in records.exams:
        yield DatedFinding("exams", e.source_id, e.examined_on)
    for f in records.fibronectin:
        yield DatedFinding("fibronectin", f.source_id, f.tested_on)
    for p in records.cerclage_placements:
        yield DatedFinding("cerclage_placements", p.source_id, p.placed_on)
    for r in records.cerclage_removals:
        yield DatedFinding("cerclage_removals", r.source_id, r.removed_on)
    for o in records.medications:
        if o.started_on is not None:
            yield DatedFinding("medications", o.source_id, o.started_on)
    for report in records.symptom_reports:
        yield DatedFinding("symptom_reports", report.source_id, report.reported_on)
        for review in report.reviews:
            yield DatedFinding("symptom_reviews", review.source_id, review.reviewed_on, False)


def first_misdated(
    records: PregnancyRecords, today: dt.date, edd: dt.date | None
) -> tuple[DatedFinding, InvalidField] | None:
    """The first finding the API would refuse for its date, and why; None: all are fine.
    `edd`: the pregnancy's due date (None: undated, so only the future is checked)."""
    for finding in dated_findings(records):
        try:
            checks.not_in_future("date", finding.day, today)
            if finding.of_pregnancy:
                checks.inside_pregnancy("date", finding.day, edd)
        except InvalidField as error:
            return finding, error
    return None

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

The values are checked as the API checks them too (`checks.plausible_record`, issue 13 part
3): a hard limit (a cervical length over 80 mm, a previous pregnancy ended after 44+0) refuses
the Bundle, naming the entry and element (`first_implausible`). A warning (a length under 5 mm
or over 60 mm ...) asks a person to confirm the value, which a machine feed cannot do: its
records are stored as sent (`checks.EVERY_WARNING`), since refusing them would refuse a real
3 mm cervix for good, and a feed's lengths come with their unit (UCUM), so a cm/mm slip of
typing is not what they risk. The record keeps its source (`fhir`) and can be corrected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from cervixwatch.app import checks
from cervixwatch.app.errors import InvalidField
from cervixwatch.clinical.plausible import LIMITS
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


#: The parts whose values have limits (`clinical.plausible.LIMITS`), in the order checked.
_LIMITED_PARTS: Final = tuple(dict.fromkeys(limit.part for limit in LIMITS))
#: The FHIR element of each value with limits, to name it in a refusal.
VALUE_ELEMENTS: Final = {
    "length_mm": "valueQuantity.value",
    "gestation_days": "component.valueQuantity.value",
}


@dataclass(frozen=True, slots=True)
class ImplausibleValue:
    """A record refused for a value: its part, the id its source gave it, and why."""

    part: str
    source_id: str | None
    error: InvalidField

    @property
    def element(self) -> str:
        return VALUE_ELEMENTS.get(self.error.field, self.error.field)


def _values(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def first_implausible(records: PregnancyRecords) -> ImplausibleValue | None:
    """The first record whose value the API would refuse as implausible (a hard limit);
    warnings are the feed's to keep (module docstring). None: all are plausible."""
    for part in _LIMITED_PARTS:
        for record in getattr(records, part):
            try:
                checks.plausible_record(part, _values(record), confirmed=checks.EVERY_WARNING)
            except InvalidField as error:
                return ImplausibleValue(part, getattr(record, "source_id", None), error)
    return None

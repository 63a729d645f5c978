"""What an ultrasound machine's report says, however it came (a DICOM SR, `dicom_sr`; an HL7 v2
ORU^R01 result, `hl7_oru`), and that as any reader gives the import use case
(`interop.intake`: a `Frame`, then an `Intake`), so the same use case stores it as it stores a
FHIR Bundle (`app.importing`).

- `DeviceResult`: who she is as the message names her (her Patient ID and its issuer as an
  identifier system, her birth date), the cervical lengths it reports (each with the id it is
  known by in its source, so the same result sent again updates the same record), the due
  date and fetus count, the results it corrects (taken back: a corrected SR names the SR it
  replaces), and the operator and device (kept in the intake log, never in logs).
- `device_intake(result, woman_id)`: the Frame and Intake. With `woman_id` (a clinician
  matched a queued report to her) the records are hers by CervixWatch's id; without it, she is
  found by her identifier, as a FHIR Patient is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from cervixwatch.clinical.records import (
    CervicalLengthMeasurement,
    PartialDate,
    PregnancyRecords,
)
from cervixwatch.interop.fhir_patient import Identifier, PatientIdentity
from cervixwatch.interop.intake import (
    Frame,
    Intake,
    IntakeError,
    Item,
    Part,
    PatientReference,
    Withdrawals,
)

__all__ = [
    "Channel",
    "DeviceResult",
    "ReportedLength",
    "device_intake",
    "length_in_mm",
]

Channel = Literal["dicom-sr", "hl7v2"]

#: UCUM codes of a length the readers convert to mm (standards.md, section 0, pitfall 2: store
#: mm, convert on input, refuse a missing unit or one that is not a length).
_MM_PER_UNIT: Final[Mapping[str, float]] = {"mm": 1.0, "cm": 10.0}


def length_in_mm(value: float, unit: str | None, *, resource: str, path: str) -> float:
    """`value` in `unit` (UCUM mm or cm) as mm; refuses any other unit, naming the field."""
    factor = _MM_PER_UNIT.get((unit or "").strip())
    if factor is None:
        shown = "no unit" if not unit else f"unit {unit!r}"
        raise IntakeError(
            f"{resource}: {path}: {shown}; a cervical length is sent in UCUM mm or cm",
            resource=resource,
            path=path,
            problem=f"{shown}; a cervical length is sent in UCUM mm or cm",
            code="value",
        )
    return round(value * factor, 2)


@dataclass(frozen=True, slots=True)
class ReportedLength:
    """One cervical length of the report: `source_id` is what it is known by in its source
    (the SR's SOP Instance UID; an HL7 result's order, code and sub-id)."""

    measurement: CervicalLengthMeasurement
    source_id: str
    path: str


@dataclass(frozen=True, slots=True)
class DeviceResult:
    """One device message as read: nothing here has been looked up."""

    channel: Channel
    #: The message's own id: the SOP Instance UID; MSH-10 for HL7 v2.
    message_id: str
    #: For people: `SR 1.2.3...`, `ORU MSG0001`.
    label: str
    #: Where in the message she is named (`PatientID`, `PID-3`).
    patient_path: str
    patient_value: str
    #: Her identifier as (system, value); None when the message gives no system and none is
    #: configured for the device, so she cannot be identified (the report waits for review).
    identifier: Identifier | None
    #: Why she cannot be identified, when `identifier` is None.
    unidentified: str | None = None
    birth_date: PartialDate | None = None
    lengths: tuple[ReportedLength, ...] = ()
    edd: tuple[dt.date, str] | None = None
    fetuses: tuple[int, str] | None = None
    #: Gestational age at the scan in days, as the report gives it (shown, not stored: her
    #: gestational age comes from her due date).
    gestational_age_days: int | None = None
    #: The source ids of results this message takes back (a corrected SR's predecessors; an
    #: HL7 result sent as deleted).
    takes_back: tuple[str, ...] = ()
    operator: str | None = None
    device: str | None = None

    def summary(self) -> str:
        """One line for the review queue: the values it would store."""
        parts = [
            f"cervical length {r.measurement.length_mm:g} mm on {r.measurement.measured_on}"
            for r in self.lengths
        ]
        if self.edd is not None:
            parts.append(f"due date {self.edd[0]}")
        if self.fetuses is not None:
            parts.append(f"{self.fetuses[0]} fetus(es)")
        if self.gestational_age_days is not None:
            weeks, days = divmod(self.gestational_age_days, 7)
            parts.append(f"gestational age {weeks}+{days} at the scan")
        if self.takes_back:
            parts.append(f"corrects {len(self.takes_back)} earlier result(s)")
        return "; ".join(parts) or "no values"


def _items(result: DeviceResult) -> tuple[Item, list[Item], dict[str, Item]]:
    base = result.label
    patient = Item(
        index=0,
        kind="Patient",
        label=f"{base}: patient",
        base=result.patient_path,
        is_patient=True,
    )
    items: list[Item] = []
    by_source: dict[str, Item] = {}
    for length in result.lengths:
        item = Item(
            index=len(items) + 1,
            kind=result.channel,
            label=f"{base}: cervical length",
            base=length.path,
            source_id=length.source_id,
            parts=("cervical_lengths",),
        )
        items.append(item)
        by_source[length.source_id] = item
    if result.edd is not None:
        items.append(
            Item(
                len(items) + 1,
                result.channel,
                f"{base}: due date",
                result.edd[1],
                pregnancy_fact="edd",
            )
        )
    if result.fetuses is not None:
        items.append(
            Item(
                len(items) + 1,
                result.channel,
                f"{base}: number of fetuses",
                result.fetuses[1],
                pregnancy_fact="fetuses",
            )
        )
    return patient, items, by_source


def device_intake(result: DeviceResult, woman_id: str | None = None) -> tuple[Frame, Intake]:
    """The report as the import use case takes it. `woman_id`: CervixWatch's id of the woman a
    clinician matched it to (then the message's identifier is not used)."""
    patient, items, by_source = _items(result)
    if woman_id is None:
        if result.identifier is None:
            raise ValueError("a report without an identifier is matched by a clinician")
        identity = PatientIdentity(
            resource_id=None, identifiers=(result.identifier,), birth_date=result.birth_date
        )
        frame = Frame((patient, *items), patient_item=patient, patient=identity)
    else:
        named = items[0] if items else patient
        reference = PatientReference(named, result.patient_path, f"Patient/{woman_id}", True)
        frame = Frame(tuple(items), references=(reference,))
    records = PregnancyRecords(
        patient_id="",
        edd=None if result.edd is None else result.edd[0],
        fetuses=None if result.fetuses is None else result.fetuses[0],
        # Her birth date only checks the woman her identifier names (`app.patient_identity`).
        birth_date=(
            None
            if result.birth_date is None or woman_id is not None
            else result.birth_date.earliest()
        ),
        cervical_lengths=tuple(r.measurement for r in result.lengths),
    )
    removed: dict[Part, Sequence[str]] = {}
    if result.takes_back:
        removed["cervical_lengths"] = result.takes_back

    def dated_by(part: Part, source_id: str | None, day: dt.date) -> tuple[Item, str] | None:
        if part == "cervical_lengths" and source_id in by_source:
            item = by_source[source_id]
            return item, "date"
        return None

    return frame, Intake(frame, records, Withdrawals(removed=removed), dated_by)

"""The FHIR reader of the import: the entries of a Bundle of one woman's records (transaction,
batch entry, collection, searchset, document) to what any reader gives the import use case
(`interop.intake`), in two steps, because a Bundle may name its woman only by reference to one
stored here:

1. `frame_bundle(entries)`: her Patient, if sent, and what it says of her; the references that
   name a woman outside the Bundle (`Patient/123`), which the use case resolves against the
   store; each entry as an `Item`. Refuses, naming the entry and element, what needs nothing
   stored to be refused: two Patients, a record that names no patient or a resource that is not
   a patient, a conditional delete.
2. `read_bundle_intake(frame, entries, ...)`: her records (every record's subject made hers), what
   the Bundle takes back (`Withdrawals`: entered in error, ended, resolved, refuted, deleted, or
   now another kind of record), and each record entry's descriptors for finding where it went.

What a status does is in `fhir_statuses`, shared with the record readers (`fhir_bundle`,
`fhir_care`), so reading and taking back cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final, Literal

from cervixwatch.clinical.records import Complication, MaternalCondition, PregnancyRecords
from cervixwatch.interop import fhir_values as fv
from cervixwatch.interop.fhir_bundle import records_from_bundle
from cervixwatch.interop.fhir_codes import CHORIONICITY_OF, COMPLICATION_OF, MATERNAL_OF
from cervixwatch.interop.fhir_entries import BundleEntry, dating_element
from cervixwatch.interop.fhir_patient import read_patient
from cervixwatch.interop.fhir_statuses import (
    END,
    ENDED_AS,
    INACTIVE_CONDITION,
    REFUTED_CONDITION,
    WITHDRAW,
    effect,
)
from cervixwatch.interop.fhir_values import BundleError, Where, codes_of
from cervixwatch.interop.intake import (
    Frame,
    Intake,
    IssueCode,
    Item,
    Part,
    PatientReference,
    PregnancyFact,
    Withdrawals,
)
from cervixwatch.knowledge import codes as c
from cervixwatch.knowledge.record_kinds import PARTS_OF_FHIR_TYPE, RECORD_RESOURCE_TYPES

__all__ = [
    "HORIZON",
    "RECORD_TYPES",
    "frame_bundle",
    "read_bundle_intake",
]

#: Records are read as of this day: every record is imported, whatever its date.
HORIZON: Final = dt.date.max
#: The resources that carry records; every one of them must be about the Bundle's woman.
RECORD_TYPES: Final = frozenset(RECORD_RESOURCE_TYPES)
#: The record parts each resource type may be read as (and so what sending it again, changed
#: or withdrawn, may take back).
PARTS_OF_TYPE: Final = PARTS_OF_FHIR_TYPE
_EXAM_PART_CODES: Final[Mapping[c.Code, str]] = {
    c.DILATION: "dilation",
    c.EFFACEMENT: "effacement",
    c.MEMBRANES_EXPOSED: "membranes",
}


def _refused(
    entry: BundleEntry, element: str, problem: str, code: IssueCode = "invalid"
) -> BundleError:
    return entry.where.error(element, problem, code)


def _refused_bundle(message: str, path: str, code: IssueCode = "invalid") -> BundleError:
    return BundleError(message, path=path, code=code)


# --- step 1: who the Bundle is about ----------------------------------------------------------


def _reference(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    """(element, reference) of the woman a resource is about (a Task names her by `for`)."""
    for name in ("subject", "patient", "for"):
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return name, ref["reference"]
    return None


def is_record(entry: BundleEntry) -> bool:
    """Whether an entry may carry her records: a Task only as a review of a symptom report
    (other Tasks are left alone, as other resources are)."""
    if entry.kind == "Task":
        return c.SYMPTOM_REPORT_REVIEW in codes_of(entry.resource.get("code"))
    return entry.kind in RECORD_TYPES


def names_patient(target: str) -> bool:
    """Whether a reference names a Patient (`Patient/1`, `http://x/fhir/Patient/1/_history/2`)."""
    parts = target.split("/_history/")[0].rstrip("/").split("/")
    return len(parts) >= 2 and parts[-2] == "Patient" and bool(parts[-1])


def _kept(entry: BundleEntry) -> bool:
    """Whether the reader may keep the record of an entry (its status does not withdraw it)."""
    r = entry.resource
    if entry.kind == "Condition":
        verification = {code for _, code in codes_of(r.get("verificationStatus"))}
        return not verification & REFUTED_CONDITION
    return effect(entry.kind, r.get("status")) is not WITHDRAW or (
        entry.kind == "Procedure" and c.REFUSAL_BY_PATIENT in codes_of(r.get("statusReason"))
    )


def _conditions(entry: BundleEntry) -> tuple[Complication | MaternalCondition, ...]:
    if entry.kind not in ("Condition", "Procedure"):
        return ()
    found: list[Complication | MaternalCondition] = []
    for code in sorted(codes_of(entry.resource.get("code"))):
        if entry.kind == "Procedure":
            if code == c.CAESAREAN_FULL_DILATATION:
                found.append(MaternalCondition.CAESAREAN_AT_FULL_DILATATION)
        elif (known := COMPLICATION_OF.get(code) or MATERNAL_OF.get(code)) is not None:
            found.append(known)
    return tuple(found)


def _item(entry: BundleEntry, *, is_patient: bool = False) -> Item:
    r = entry.resource
    rid = r.get("id")
    if entry.deletes and entry.request is not None:
        rid = entry.request.url.partition("/")[2] or None  # DELETE Type/id: what it names
    codes = codes_of(r.get("code")) if entry.kind == "Observation" else set()
    pregnancy_fact: PregnancyFact | None = None
    if codes & c.EDD_CODES:
        pregnancy_fact = "edd"
    elif c.FETUS_COUNT in codes:
        pregnancy_fact = "fetuses"
    elif entry.kind == "Condition" and codes_of(r.get("code")) & CHORIONICITY_OF.keys():
        pregnancy_fact = "chorionicity"
    record = not entry.deletes and not is_patient and is_record(entry)
    return Item(
        index=entry.index,
        kind=entry.kind,
        label=entry.where.label,
        base=entry.where.base,
        source_id=rid if isinstance(rid, str) else None,
        parts=PARTS_OF_TYPE.get(entry.kind, ()) if record or entry.deletes else (),
        kept=not entry.deletes and _kept(entry),
        exam_part=next((p for code, p in _EXAM_PART_CODES.items() if code in codes), None),
        pregnancy_fact=pregnancy_fact,
        conditions=_conditions(entry),
        deletes=entry.deletes,
        is_patient=is_patient,
    )


def frame_bundle(entries: Sequence[BundleEntry]) -> Frame:
    """Who the Bundle is about, and each entry as an item (`interop.intake.Frame`). Raises a
    `BundleError` naming the entry and element."""
    for entry in entries:
        if entry.deletes:
            assert entry.request is not None
            if "?" in entry.request.url or entry.kind == "Patient":
                at = f"Bundle.entry[{entry.index}].request.url"
                raise _refused_bundle(
                    f"{at}: {entry.request.url!r}: a conditional delete, or deleting a Patient, "
                    "is not supported; DELETE Type/id of a record",
                    at,
                    "not-supported",
                )
    sent = [e for e in entries if not e.deletes]
    patients = [e for e in sent if e.kind == "Patient"]
    if len(patients) > 1:
        raise _refused_bundle(
            f"Bundle: {len(patients)} Patient resources; expected one "
            "(a Bundle holds one woman's records)",
            "Bundle.entry",
        )
    patient_entry = patients[0] if patients else None
    keys: set[str] = set()
    identity = None
    if patient_entry is not None:
        identity = read_patient(patient_entry.resource, patient_entry.where)
        if not identity.identifiers and identity.resource_id is None:
            raise _refused(
                patient_entry,
                "identifier",
                "the Patient needs an identifier (her hospital number) or an id",
                "value",
            )
        if isinstance(patient_entry.resource.get("id"), str):
            keys.add(f"Patient/{patient_entry.resource['id']}")
        if patient_entry.full_url:
            keys.add(patient_entry.full_url)
    by_url = {e.full_url for e in sent if e.full_url}
    items: list[Item] = []
    references: list[PatientReference] = []
    for entry in entries:
        item = _item(entry, is_patient=entry is patient_entry)
        items.append(item)
        if entry.deletes or entry is patient_entry:
            continue
        record = is_record(entry)
        found = _reference(entry.resource)
        if found is None:
            if record:
                name = "for" if entry.kind == "Task" else "subject"
                raise _refused(
                    entry,
                    name,
                    f"missing: every record must refer to its Patient ({name}.reference)",
                    "value",
                )
            continue
        name, target = found
        element = f"{name}.reference"
        if target in keys or any(
            target.endswith("/" + k) for k in keys if k.startswith("Patient/")
        ):
            continue
        if target in by_url or not names_patient(target):
            if record:
                raise _refused(entry, element, f"{target!r} does not name the Bundle's Patient")
            continue
        references.append(PatientReference(item, element, target, record))
    patient_item = None if patient_entry is None else items[patient_entry.index]
    if patient_entry is None and not references and not any(e.deletes for e in entries):
        raise _refused_bundle(
            "Bundle: no Patient resource, and no record refers to a patient on this server",
            "Bundle.entry",
        )
    return Frame(tuple(items), patient_item, identity, tuple(references), _reports_named(sent))


def _report_id(reference: str) -> str | None:
    """The id of the QuestionnaireResponse a reference names (relative or absolute)."""
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != "QuestionnaireResponse" or not parts[-1]:
        return None
    return parts[-1]


def _reports_named(entries: Sequence[BundleEntry]) -> tuple[str, ...]:
    """The ids of the reports that reviews (Tasks) name by `focus` but the Bundle lacks."""
    held: set[str] = set()
    for entry in entries:
        if entry.kind == "QuestionnaireResponse":
            if isinstance(entry.resource.get("id"), str):
                held.add(f"QuestionnaireResponse/{entry.resource['id']}")
            if entry.full_url:
                held.add(entry.full_url)
    wanted: dict[str, None] = {}
    for entry in entries:
        if entry.kind != "Task" or not is_record(entry):
            continue
        focus = entry.resource.get("focus")
        target = focus.get("reference") if isinstance(focus, dict) else None
        if not isinstance(target, str) or not target:
            continue
        if target in held or any(target.endswith("/" + k) for k in held if "/" in k):
            continue
        if (report_id := _report_id(target)) is not None:
            wanted[report_id] = None
    return tuple(wanted)


# --- step 2: her records and what the Bundle takes back ------------------------------------------


#: The name the reader gives a Patient sent with neither an id nor a fullUrl (a POST of her
#: alone), so that the records reader can know her.
_UNNAMED_PATIENT: Final = "urn:cervixwatch:patient-as-sent"


def _subject_key(entries: Sequence[BundleEntry], frame: Frame, patient_id: str | None) -> str:
    """How the records are made to refer to her: her Patient entry's id (or fullUrl), else
    CervixWatch's id for her (`patient_id`, a Patient entry with it added last)."""
    if frame.patient_item is not None:
        patient = entries[frame.patient_item.index].resource
        if isinstance(patient.get("id"), str):
            return f"Patient/{patient['id']}"
        return entries[frame.patient_item.index].full_url or _UNNAMED_PATIENT
    assert patient_id is not None, "a Bundle without a Patient is read for a stored woman"
    return f"Patient/{patient_id}"


def bundle_for_reader(
    frame: Frame,
    entries: Sequence[BundleEntry],
    patient_id: str | None,
    context: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The Bundle as the record reader is given it: every record's subject made hers; DELETE
    entries in their places (passed over), so entry numbers stay as sent; then, last, her
    Patient (when the Bundle named her only by reference) and the `context` resources."""
    subject = {"reference": _subject_key(entries, frame, patient_id)}
    rewritten: list[dict[str, Any]] = []
    for entry, item in zip(entries, frame.items, strict=True):
        if entry.request is not None and entry.deletes:
            rewritten.append({"request": {"method": "DELETE", "url": entry.request.url}})
            continue
        resource = entry.resource
        if item.parts:
            name = (_reference(resource) or ("subject", ""))[0]
            resource = {**resource, name: subject}
        kept: dict[str, Any] = {"resource": resource}
        if entry.full_url:
            kept["fullUrl"] = entry.full_url
        elif item.is_patient and subject["reference"] == _UNNAMED_PATIENT:
            kept["fullUrl"] = _UNNAMED_PATIENT
        rewritten.append(kept)
    if frame.patient_item is None:
        rewritten.append({"resource": {"resourceType": "Patient", "id": patient_id}})
    own = {"reference": f"Patient/{patient_id}"}
    for stored in context:
        # Stored resources name her by CervixWatch's id: made to name her as the records do.
        rewritten.append({"resource": {k: subject if v == own else v for k, v in stored.items()}})
    return {"resourceType": "Bundle", "type": "collection", "entry": rewritten}


def _ended_on(resource: Mapping[str, Any], where: Where) -> dt.date | None:
    """The day an order ended, where the resource says: the end of its dosage's bounds."""
    for i, dosage in enumerate(
        fv.listed(resource.get("dosageInstruction"), where, "dosageInstruction")
    ):
        repeat = (dosage.get("timing") or {}).get("repeat") if isinstance(dosage, dict) else None
        bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
        if isinstance(bounds, dict) and isinstance(bounds.get("end"), str):
            name = f"dosageInstruction[{i}].timing.repeat.boundsPeriod.end"
            return fv.parse_partial_date(bounds["end"], where, name).earliest()
    return None


def _given_ids(records: PregnancyRecords) -> dict[Part, set[str]]:
    """{part: the source ids of the records the Bundle gives} (reviews inside reports too)."""
    given: dict[Part, set[str]] = {}
    for part in {p for parts in PARTS_OF_TYPE.values() for p in parts} - {"symptom_reviews"}:
        for record in getattr(records, part):
            if record.source_id is not None:
                given.setdefault(part, set()).add(record.source_id)
    for report in records.symptom_reports:
        given.setdefault("symptom_reviews", set()).update(
            review.source_id for review in report.reviews if review.source_id
        )
    return given


def withdrawals(
    entries: Sequence[BundleEntry], frame: Frame, records: PregnancyRecords
) -> Withdrawals:
    """What the Bundle takes back: records sent with a status that withdraws or ends them,
    what a DELETE entry names, and what a resource was read as before that it no longer is
    (a cerclage Procedure now not done: an offer declined)."""
    given = _given_ids(records)
    removed: dict[Part, list[str]] = {}
    ended: dict[str, tuple[Literal["stopped", "completed"], dt.date | None]] = {}
    resolved: dict[Complication, dt.date | None] = {}
    refuted_complications: set[Complication] = set()
    refuted_maternal: set[MaternalCondition] = set()
    for entry, item in zip(entries, frame.items, strict=True):
        if entry.request is not None and entry.deletes:
            # DELETE Type/id: whatever that resource was read as goes (its body, if any, is
            # not read).
            kind, _, target = entry.request.url.partition("/")
            for part in PARTS_OF_TYPE.get(kind, ()):
                removed.setdefault(part, []).append(target)
            continue
        if not item.parts:
            continue
        r = entry.resource
        status = r.get("status")
        gone = not item.kept
        if entry.kind == "Condition":
            verification = {code for _, code in codes_of(r.get("verificationStatus"))}
            clinical = {code for _, code in codes_of(r.get("clinicalStatus"))}
            complications = {k for k in item.conditions if isinstance(k, Complication)}
            if verification & REFUTED_CONDITION:
                refuted_complications |= complications
                refuted_maternal |= {k for k in item.conditions if isinstance(k, MaternalCondition)}
            elif clinical & INACTIVE_CONDITION or ("abatementDateTime" in r and not clinical):
                day = None
                if "abatementDateTime" in r:
                    day = fv.parse_partial_date(
                        r["abatementDateTime"], entry.where, "abatementDateTime"
                    ).earliest()
                for complication in complications:
                    resolved[complication] = day
        rid = item.source_id
        if rid is None:
            continue
        read_as = [p for p in item.parts if rid in given.get(p, ())]
        if gone or read_as:
            # Not kept (entered in error), or kept as another kind of record than before:
            # whatever else it was stored as goes.
            for part in item.parts:
                removed.setdefault(part, []).append(rid)
        elif entry.kind == "MedicationRequest" and effect(entry.kind, status) is END:
            how: Literal["stopped", "completed"] = (
                "completed" if ENDED_AS[str(status)] == "completed" else "stopped"
            )
            ended[rid] = (how, _ended_on(r, entry.where))
    active = {record.complication for record in records.complications if record.resolved_on is None}
    return Withdrawals(
        removed=removed,
        ended_orders=ended,
        resolved={k: v for k, v in resolved.items() if k not in active},
        refuted_complications=frozenset(refuted_complications - active),
        refuted_maternal=frozenset(refuted_maternal - records.maternal_conditions),
    )


def _read(bundle: dict[str, Any]) -> PregnancyRecords:
    return records_from_bundle(bundle, HORIZON)


def _alone(
    resource: Mapping[str, Any], context: Sequence[Mapping[str, Any]]
) -> PregnancyRecords | None:
    """A record entry sent without an id, read alone with the Patient and the resources records
    refer to (`context`): what it gives, to find the row it went to by its values."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [*context, {"resource": resource}],
    }
    try:
        return _read(bundle)
    except BundleError:
        return None


def read_bundle_intake(
    frame: Frame,
    entries: Sequence[BundleEntry],
    *,
    patient_id: str | None = None,
    context: Sequence[Mapping[str, Any]] = (),
) -> Intake:
    """Her records, what the Bundle takes back and each entry's item. `patient_id`: the stored
    woman the Bundle names by reference only (when it has no Patient). `context`: stored
    resources the Bundle's records refer to but do not hold (the reports a review names,
    `app.late_reviews`), read with them. Raises a `BundleError` naming entry and element."""
    bundle = bundle_for_reader(frame, entries, patient_id, context)
    records = _read(bundle)
    sent = bundle["entry"]
    non_records = [
        item
        for item in sent
        if "resource" in item and item["resource"]["resourceType"] not in RECORD_TYPES
    ]
    items = list(frame.items)
    for position, item in enumerate(items):
        if item.parts and not item.deletes and item.source_id is None and item.kept:
            resource = sent[item.index]["resource"]
            items[position] = replace(item, alone=_alone(resource, non_records))
    framed = Frame(tuple(items), frame.patient_item, frame.patient, frame.references)
    record_entries = [e for e, i in zip(entries, items, strict=True) if i.parts and not e.deletes]

    def dated_by(part: Part, source_id: str | None, day: dt.date) -> tuple[Item, str] | None:
        found = dating_element(record_entries, part, source_id, day)
        if found is None:
            return None
        entry, element = found
        return items[entry.index], element

    return Intake(
        framed,
        records,
        withdrawals(entries, framed, records),
        dated_by,
        added=len(context),
    )

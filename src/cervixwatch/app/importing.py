"""Importing a FHIR R4 Bundle (transaction, collection, searchset or document) of one woman's
records, coded as shared/clinical/fhir-mapping.md says: all of it in one transaction, or
nothing.

- The Bundle's Patient is found by her hospital number: the identifier typed MR, else her first
  identifier, else (none given) her id, which may be CervixWatch's own id for her. A woman
  never seen before is registered.
- A Bundle may leave her Patient out when its records refer to a woman stored here:
  `Patient/<CervixWatch id>`, or the Patient id an earlier import of hers used.
- Every record (Observation, Condition, Procedure, MedicationRequest, MedicationStatement,
  QuestionnaireResponse, and a Task reviewing a symptom report) must refer to her; a reference
  to a patient neither in the Bundle nor stored here, or to another woman, refuses the whole
  Bundle, naming the entry and field.
- Everything sent is kept, whatever its date: the clinic's record holds what was sent. The
  assessment stored with it is made on `today` (the clinical rules leave out what is dated
  later), and an export assessed on any day gives what the sent Bundle gives on that day.
- Records are known by their resource ids, scoped to the woman (`store.records`), so sending a
  Bundle again updates what it stored the first time and stores nothing twice, and another
  woman's Bundle using the same ids ("cl-1") never touches hers.
- A record sent under one of CervixWatch's own ids (as `$everything` or a read gave it, with
  her Patient named by CervixWatch's id) is that stored record: unchanged it is left alone,
  changed it is updated in place.
- A record sent again as `entered-in-error` is removed; a medication order sent again as
  stopped, completed or cancelled is no longer active (from the day its dosage's bounds end,
  else today); a complication is stored with the days it was noted and resolved, and one
  sent as resolved also resolves what else is stored of it; one refuted or entered in error
  is removed. A resource sent as another kind of record than before (a cerclage Procedure now
  not done: an offer declined) is no longer what it was.
- A review (Task) of a report stored here but not in the Bundle is stored with that report
  (`late_reviews`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Scope
from cervixwatch.app.assessing import AssessmentSummary, summarise
from cervixwatch.app.errors import Conflict, OutOfScope
from cervixwatch.app.exporting import (
    EXAM_PARTS,
    INSIDE_PREFIXES,
    TUPLE_PREFIXES,
    parse_resource_id,
)
from cervixwatch.app.late_reviews import stored_reports_for_reviews
from cervixwatch.clinical.records import (
    CervicalExam,
    Complication,
    DeclinableCode,
    MaternalCondition,
    PregnancyRecords,
)
from cervixwatch.interop import fhir_values as fv
from cervixwatch.interop.fhir_bundle import BUNDLE_TYPES, records_from_bundle
from cervixwatch.interop.fhir_values import BundleError, Where, codes_of
from cervixwatch.knowledge import codes as c
from cervixwatch.store import transaction
from cervixwatch.store.accounts import add_patients_to_teams, visible_patient_ids
from cervixwatch.store.audit import AuditEntry
from cervixwatch.store.audit import append as append_audit_entry
from cervixwatch.store.crud import patient_by_hospital_number, plausible_id
from cervixwatch.store.exports import (
    KINDS_BY_TABLE,
    condition_rows,
    identified_rows,
    own_rows,
    patients_by_reference,
    track_changes,
)
from cervixwatch.store.mapping import declined_key
from cervixwatch.store.models import MedicationStatus, PatientRow, RecordSource
from cervixwatch.store.records import (
    IdentifierConflict,
    PatientFields,
    default_identifier_system,
    save_records,
)
from cervixwatch.store.retractions import Retractions, claim_identifier, retract
from cervixwatch.store.writes import Profiles, reassess

#: Records are parsed as of this day: every record is imported, whatever its date.
HORIZON: Final = dt.date.max
#: The resources that carry records; every one of them must be about the Bundle's woman.
RECORD_TYPES: Final = frozenset(
    {
        "Observation",
        "Condition",
        "Procedure",
        "MedicationRequest",
        "MedicationStatement",
        "QuestionnaireResponse",
        "Task",
    }
)
#: A FHIR id: 1 to 64 letters, digits, '-' and '.'.
FHIR_ID: Final = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
MAX_HOSPITAL_NUMBER: Final = 64
MAX_NAME: Final = 200
#: The largest fetus count believed (the column is an integer; the record is a typing error).
MAX_FETUSES: Final = 12
_CONDITION_RESOLVED: Final = frozenset({"inactive", "resolved", "remission"})

IssueCode = Literal["invalid", "structure", "value", "not-found", "not-supported", "processing"]


class InvalidBundle(ValueError):
    """The body is not a Bundle this server can read (not JSON, not a Bundle, a broken
    structure): answered 400."""

    def __init__(
        self, message: str, *, expression: str | None = None, code: IssueCode = "structure"
    ) -> None:
        super().__init__(message)
        self.expression = expression
        self.code = code


class RejectedBundle(ValueError):
    """A readable Bundle whose content cannot be imported (a value, a unit, a date, a
    reference that names nobody): answered 422. The message names the entry and field."""

    def __init__(
        self, message: str, *, expression: str | None = None, code: IssueCode = "invalid"
    ) -> None:
        super().__init__(message)
        self.expression = expression
        self.code = code


@dataclass(frozen=True, slots=True)
class EntryResult:
    """What became of one entry: `location` names the resource it is stored as (None: it is
    not kept, e.g. a resource CervixWatch has no use for)."""

    index: int
    resource_type: str
    location: str | None
    created: bool = False


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import stored: the woman and pregnancy, counts of record rows, the outcome of
    each entry (in the Bundle's order) and the assessment now current."""

    patient_id: str
    pregnancy_id: str
    patient_created: bool
    received: int
    created: int
    updated: int
    unchanged: int
    removed: int
    entries: list[EntryResult]
    assessment: AssessmentSummary


# --- structure ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    index: int
    full_url: str | None
    resource: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.resource["resourceType"])

    @property
    def where(self) -> Where:
        return Where(self.resource, self.index)

    def path(self, field: str) -> str:
        return f"Bundle.entry[{self.index}].resource.{field}"


def _load(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidBundle(f"not valid JSON: {error}", code="invalid") from None
    if not isinstance(data, dict):
        raise InvalidBundle("not a FHIR resource: expected a JSON object")
    if data.get("resourceType") != "Bundle":
        raise InvalidBundle(
            f"resourceType: expected 'Bundle', got {data.get('resourceType')!r}",
            expression="resourceType",
        )
    return data


def _entries(bundle: Mapping[str, Any]) -> list[_Entry]:
    kind = bundle.get("type")
    if kind == "batch":
        raise InvalidBundle(
            "Bundle.type: 'batch' is not supported: send a 'transaction' (all or nothing) "
            "or a 'collection'",
            expression="Bundle.type",
            code="not-supported",
        )
    if kind not in BUNDLE_TYPES:
        raise InvalidBundle(
            f"Bundle.type: {kind!r} is not one of {', '.join(sorted(BUNDLE_TYPES))}",
            expression="Bundle.type",
        )
    raw_entries = bundle.get("entry", [])
    if not isinstance(raw_entries, list):
        raise InvalidBundle("Bundle.entry: expected a list", expression="Bundle.entry")
    entries = []
    for index, entry in enumerate(raw_entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise InvalidBundle(
                f"Bundle.entry[{index}]: expected an entry with a resource",
                expression=f"Bundle.entry[{index}]",
            )
        resource = entry["resource"]
        if not isinstance(resource.get("resourceType"), str):
            raise InvalidBundle(
                f"Bundle.entry[{index}].resource: missing resourceType",
                expression=f"Bundle.entry[{index}].resource",
            )
        full_url = entry.get("fullUrl")
        if full_url is not None and not isinstance(full_url, str):
            raise InvalidBundle(
                f"Bundle.entry[{index}].fullUrl: expected a string",
                expression=f"Bundle.entry[{index}].fullUrl",
            )
        found = _Entry(index, full_url, resource)
        rid = resource.get("id")
        if rid is not None and (not isinstance(rid, str) or not FHIR_ID.match(rid)):
            raise InvalidBundle(
                f"{found.where.label}: id: {rid!r} is not a FHIR id "
                "(1 to 64 letters, digits, '-' and '.')",
                expression=found.path("id"),
            )
        entries.append(found)
    return entries


# --- who the Bundle is about ----------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """The woman the Bundle is about and the Bundle as the reader is given it."""

    fields: PatientFields
    patient: PatientRow | None
    #: Her Patient is named by CervixWatch's own id: the records' ids may be CervixWatch's.
    own_ids: bool
    bundle: dict[str, Any]
    patient_entry: _Entry | None
    records: list[_Entry] = field(default_factory=list)
    #: How the records refer to her in `bundle`.
    subject: dict[str, str] = field(default_factory=dict)
    #: Stored reports added to `bundle` for the reviews of them it holds (`late_reviews`).
    added_reports: int = 0


def _reference(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    """(field, reference) of the woman a resource is about, as the reader looks for it (a
    Task names her by `for`)."""
    for name in ("subject", "patient", "for"):
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return name, ref["reference"]
    return None


def _is_record(entry: _Entry) -> bool:
    """Whether an entry may carry her records: a Task only as a review of a symptom report
    (other Tasks are left alone, as other resources are)."""
    if entry.kind == "Task":
        return c.SYMPTOM_REPORT_REVIEW in codes_of(entry.resource.get("code"))
    return entry.kind in RECORD_TYPES


def _names_patient(target: str) -> bool:
    parts = target.split("/_history/")[0].rstrip("/").split("/")
    return len(parts) >= 2 and parts[-2] == "Patient" and bool(parts[-1])


def _hospital_number(patient: _Entry) -> tuple[str, str] | None:
    """(value, field) of her hospital number: the identifier typed MR, else the first."""
    identifiers = patient.resource.get("identifier")
    if identifiers is None:
        return None
    if not isinstance(identifiers, list):
        raise RejectedBundle(
            patient.where.error("identifier", "expected a list").args[0],
            expression=patient.path("identifier"),
        )
    usable = [
        (i, ident)
        for i, ident in enumerate(identifiers)
        if isinstance(ident, dict)
        and isinstance(ident.get("value"), str)
        and ident["value"].strip()
    ]
    typed = [
        (i, ident)
        for i, ident in usable
        if any(code == "MR" for _, code in codes_of(ident.get("type")))
    ]
    if not usable:
        return None
    i, ident = (typed or usable)[0]
    return ident["value"].strip(), f"identifier[{i}].value"


def _text(patient: _Entry, value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _rejected(patient, name, f"{value!r} is not a string")
    if len(value) > MAX_NAME:
        raise _rejected(patient, name, f"longer than {MAX_NAME} characters")
    return value.strip() or None


def _names(patient: _Entry) -> tuple[str | None, str | None]:
    names = patient.resource.get("name")
    if names is None:
        return None, None
    if not isinstance(names, list) or not all(isinstance(n, dict) for n in names):
        raise _rejected(patient, "name", "expected a list of HumanName")
    if not names:
        return None, None
    index = next((i for i, n in enumerate(names) if n.get("use") in ("official", "usual")), 0)
    name = names[index]
    family = _text(patient, name.get("family"), f"name[{index}].family")
    given_parts = name.get("given")
    given = None
    if given_parts is not None:
        if not isinstance(given_parts, list) or not all(isinstance(g, str) for g in given_parts):
            raise _rejected(patient, f"name[{index}].given", "expected a list of strings")
        given = _text(patient, " ".join(g.strip() for g in given_parts), f"name[{index}].given")
    return family, given


def _rejected(
    entry: _Entry, name: str, problem: str, code: IssueCode = "invalid"
) -> RejectedBundle:
    return RejectedBundle(
        entry.where.error(name, problem).args[0], expression=entry.path(name), code=code
    )


def _bundle_patient(
    session: Session, patient: _Entry
) -> tuple[PatientFields, PatientRow | None, bool]:
    """Her fields, her stored row if she is known, and whether she is named by CervixWatch's
    own id."""
    found = _hospital_number(patient)
    rid = patient.resource.get("id")
    stored: PatientRow | None = None
    if found is not None:
        number, number_field = found
        if len(number) > MAX_HOSPITAL_NUMBER:
            raise _rejected(patient, number_field, f"longer than {MAX_HOSPITAL_NUMBER} characters")
        stored = patient_by_hospital_number(session, number)
    elif isinstance(rid, str) and plausible_id(rid) and session.get(PatientRow, rid) is not None:
        stored = session.get(PatientRow, rid)
        assert stored is not None
        number = stored.hospital_number
    elif isinstance(rid, str):
        number = rid
        stored = patient_by_hospital_number(session, number)
    else:
        raise _rejected(
            patient,
            "identifier",
            "the Patient needs an identifier (her hospital number) or an id",
            code="value",
        )
    family, given = _names(patient)
    own = stored is not None and rid == stored.id
    return PatientFields(number, family, given), stored, own


def _plan(session: Session, entries: list[_Entry]) -> _Plan:
    patients = [e for e in entries if e.kind == "Patient"]
    if len(patients) > 1:
        raise RejectedBundle(
            f"Bundle: {len(patients)} Patient resources; expected one "
            "(a Bundle holds one woman's records)",
            expression="Bundle.entry",
        )
    patient_entry = patients[0] if patients else None
    keys: set[str] = set()
    fields: PatientFields | None = None
    stored: PatientRow | None = None
    own_ids = False
    if patient_entry is not None:
        fields, stored, own_ids = _bundle_patient(session, patient_entry)
        if isinstance(patient_entry.resource.get("id"), str):
            keys.add(f"Patient/{patient_entry.resource['id']}")
        if patient_entry.full_url:
            keys.add(patient_entry.full_url)
    by_url = {e.full_url: e for e in entries if e.full_url}
    named: set[str] = set()
    named_by_own_id = True
    records: list[_Entry] = []
    for entry in entries:
        if entry is patient_entry:
            continue
        is_record = _is_record(entry)
        if is_record:
            records.append(entry)
        found = _reference(entry.resource)
        if found is None:
            if is_record:
                name = "for" if entry.kind == "Task" else "subject"
                raise _rejected(
                    entry,
                    name,
                    f"missing: every record must refer to its Patient ({name}.reference)",
                    code="value",
                )
            continue
        name, target = found
        where = f"{name}.reference"
        if target in keys or any(
            target.endswith("/" + k) for k in keys if k.startswith("Patient/")
        ):
            continue
        if target in by_url or not _names_patient(target):
            if is_record:
                raise _rejected(entry, where, f"{target!r} does not name the Bundle's Patient")
            continue
        women = patients_by_reference(session, target)
        if not women:
            raise _rejected(
                entry,
                where,
                f"{target!r} names no Patient in the Bundle or on this server",
                code="not-found",
            )
        if len(women) > 1:
            raise _rejected(
                entry,
                where,
                f"{target!r} names {len(women)} patients on this server; refer to her by "
                "CervixWatch's id",
            )
        woman = women.pop()
        if patient_entry is not None and (stored is None or woman != stored.id):
            raise _rejected(
                entry,
                where,
                f"{target!r} is not the Bundle's Patient (entry {patient_entry.index}); "
                "a Bundle holds one woman's records",
            )
        named.add(woman)
        named_by_own_id = named_by_own_id and target.rstrip("/").split("/")[-1] == woman
    injected: dict[str, Any] | None = None
    if patient_entry is None:
        if not named:
            raise RejectedBundle(
                "Bundle: no Patient resource, and no record refers to a patient on this server",
                expression="Bundle.entry",
            )
        if len(named) > 1:
            raise RejectedBundle(
                f"Bundle: its records refer to {len(named)} different patients; "
                "a Bundle holds one woman's records",
                expression="Bundle.entry",
            )
        stored = session.get(PatientRow, named.pop())
        assert stored is not None
        fields = PatientFields(stored.hospital_number)
        own_ids = named_by_own_id
        injected = {"resourceType": "Patient", "id": stored.id}
        keys = {f"Patient/{stored.id}"}
    assert fields is not None
    key = sorted(k for k in keys if k.startswith("Patient/"))
    subject = {"reference": key[0] if key else next(iter(keys))}
    rewritten: list[dict[str, Any]] = []
    for entry in entries:
        resource = entry.resource
        if _is_record(entry):
            name = (_reference(resource) or ("subject", ""))[0]
            resource = {**resource, name: subject}
        item: dict[str, Any] = {"resource": resource}
        if entry.full_url:
            item["fullUrl"] = entry.full_url
        rewritten.append(item)
    if injected is not None:
        rewritten.append({"resource": injected})  # last, so entry numbers stay as sent
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": rewritten}
    return _Plan(fields, stored, own_ids, bundle, patient_entry, records, subject)


def _add_reviewed_reports(session: Session, patient_id: str, plan: _Plan) -> None:
    """Her stored reports that reviews in the Bundle name but the Bundle lacks, added to the
    Bundle the reader is given (last, so entry numbers stay as sent)."""
    sent = [
        (e.resource, e.full_url)
        for e in plan.records
        if e.kind in ("Task", "QuestionnaireResponse")
    ]
    added = stored_reports_for_reviews(session, patient_id, sent, plan.subject)
    plan.bundle["entry"].extend({"resource": resource} for resource in added)
    plan.added_reports = len(added)


# --- checks the reader does not make ------------------------------------------------------------


def _check(records: PregnancyRecords, plan: _Plan, today: dt.date) -> None:
    if records.birth_date is not None and records.birth_date > today:
        entry = plan.patient_entry
        assert entry is not None  # a birth date comes from the Bundle's Patient
        raise _rejected(entry, "birthDate", f"{records.birth_date} is in the future", "value")
    counts = [records.fetuses] + [p.fetuses for p in records.prior_pregnancies]
    if any(n is not None and n > MAX_FETUSES for n in counts):
        for entry in plan.records:
            if entry.kind == "Observation" and _has_fetus_count(entry.resource):
                raise _rejected(
                    entry,
                    "valueInteger",
                    f"more than {MAX_FETUSES} fetuses is not a plausible count",
                    "value",
                )
        raise RejectedBundle(f"a fetus count above {MAX_FETUSES} is not plausible")


def _has_fetus_count(resource: Mapping[str, Any]) -> bool:
    def too_many(item: Mapping[str, Any]) -> bool:
        value = item.get("valueInteger")
        if value is None and isinstance(item.get("valueQuantity"), dict):
            value = item["valueQuantity"].get("value")
        return isinstance(value, int | float) and value > MAX_FETUSES

    if c.FETUS_COUNT in codes_of(resource.get("code")) and too_many(resource):
        return True
    return any(
        isinstance(comp, dict) and c.FETUS_COUNT in codes_of(comp.get("code")) and too_many(comp)
        for comp in resource.get("component") or ()
    )


# --- records under CervixWatch's own ids -------------------------------------------------------


def _own_records(session: Session, patient_id: str, records: PregnancyRecords) -> PregnancyRecords:
    """Records sent under CervixWatch's own ids (`cl-17`, `review-3`): left out where they
    equal the stored record, else sent on under an id that names the stored row (so it is
    updated). A report is sent on while a review inside it is, so the review finds its row."""
    wanted: dict[str, list[int]] = {}
    for part in (*TUPLE_PREFIXES, "exams"):
        for item in getattr(records, part):
            for held in (item, *_inside(part, item)):
                named = parse_resource_id(held.source_id) if held.source_id else None
                if named is not None and named.table is not None and named.row_id is not None:
                    wanted.setdefault(named.table, []).append(named.row_id)
    if not wanted:
        return records
    stored = own_rows(session, patient_id, wanted)
    system = default_identifier_system(patient_id, RecordSource.FHIR)

    def changed(item: Any, table: str) -> bool | None:
        """Whether a record under one of her own ids differs from the stored one (and if so,
        let its id name the row); None: the id names no stored record of hers."""
        named = parse_resource_id(item.source_id) if item.source_id else None
        if named is None or named.table != table or named.row_id is None:
            return None
        hit = stored.get((table, named.row_id))
        if hit is None:
            return None
        ref, record = hit
        kind = KINDS_BY_TABLE.get(table)
        bare = kind.bare if kind is not None else (lambda r: r)
        if bare(replace(item, source_id=record.source_id)) == bare(record):
            return False
        key = kind.source_id(item) if kind is not None else None
        claim_identifier(session, patient_id, system, table, key or item.source_id, ref.row_id)
        return True

    def resolve(item: Any, table: str) -> Any | None:
        part = _PART_OF_TABLE.get(table)
        inside: dict[str, tuple[Any, ...]] = {}
        for field_name, (_, held_table) in INSIDE_PREFIXES.get(part or "", {}).items():
            inside[field_name] = tuple(
                held
                for held in getattr(item, field_name)
                if changed(held, held_table) is not False  # unchanged: nothing to store
            )
        item = replace(item, **inside) if inside else item
        if changed(item, table) is False and not any(inside.values()):
            return None  # unchanged, and nothing inside it to store: nothing to store
        return item

    parts: dict[str, Any] = {}
    for part, (_prefix, table) in TUPLE_PREFIXES.items():
        kept = [resolve(item, table) for item in getattr(records, part)]
        parts[part] = tuple(item for item in kept if item is not None)
    parts["exams"] = _own_exams(records.exams, stored, resolve)
    return replace(records, **parts)


def _inside(part: str, item: Any) -> tuple[Any, ...]:
    """The records held inside a record of `part` (a report's reviews)."""
    return tuple(v for name in INSIDE_PREFIXES.get(part, {}) for v in getattr(item, name))


def _own_exams(
    exams: Sequence[CervicalExam], stored: Mapping[tuple[str, int], Any], resolve: Any
) -> tuple[CervicalExam, ...]:
    """Examinations: the parts of one stored examination (`exam-5-dilation`,
    `exam-5-effacement` ...) are one record again, its own id `exam-5-dilation` style."""
    out: list[CervicalExam] = []
    merged: dict[int, int] = {}  # row id -> index in out
    for exam in exams:
        named = parse_resource_id(exam.source_id) if exam.source_id else None
        row_id = named.row_id if named is not None and named.table == "cervical_exams" else None
        if row_id is None or ("cervical_exams", row_id) not in stored:
            out.append(exam)
            continue
        if row_id in merged:
            first = out[merged[row_id]]
            out[merged[row_id]] = replace(
                first,
                dilation_cm=first.dilation_cm if exam.dilation_cm is None else exam.dilation_cm,
                effacement_percent=first.effacement_percent
                if exam.effacement_percent is None
                else exam.effacement_percent,
                membranes_exposed=first.membranes_exposed
                if exam.membranes_exposed is None
                else exam.membranes_exposed,
            )
            continue
        _ref, record = stored[("cervical_exams", row_id)]
        # Parts not sent keep their stored values.
        merged[row_id] = len(out)
        out.append(
            replace(
                record,
                examined_on=exam.examined_on,
                dilation_cm=record.dilation_cm if exam.dilation_cm is None else exam.dilation_cm,
                effacement_percent=record.effacement_percent
                if exam.effacement_percent is None
                else exam.effacement_percent,
                membranes_exposed=record.membranes_exposed
                if exam.membranes_exposed is None
                else exam.membranes_exposed,
                source_id=f"exam-{row_id}-{EXAM_PARTS[0]}",
            )
        )
    return tuple(kept for kept in (resolve(e, "cervical_exams") for e in out) if kept is not None)


# --- retractions ---------------------------------------------------------------------------------

_TABLES_OF_TYPE: Final[Mapping[str, tuple[str, ...]]] = {
    "Observation": (
        "prior_pregnancies",
        "cervical_lengths",
        "cervical_exams",
        "fibronectin_tests",
    ),
    "Condition": ("complications",),
    "Procedure": (
        "cervical_excisions",
        "cerclage_placements",
        "cerclage_removals",
        "declined_decisions",
    ),
    "MedicationRequest": ("medications",),
    "MedicationStatement": ("declined_decisions",),
    "QuestionnaireResponse": ("symptom_reports",),
    "Task": ("symptom_reviews",),
}
_REMOVED_STATUSES: Final[Mapping[str, frozenset[str]]] = {
    "Observation": frozenset({"entered-in-error", "cancelled"}),
    # A Procedure not done is no excision or cerclage (it may be an offer declined instead).
    "Procedure": frozenset({"entered-in-error", "not-done"}),
    "MedicationRequest": frozenset({"entered-in-error"}),
    "MedicationStatement": frozenset({"entered-in-error"}),
    "QuestionnaireResponse": frozenset({"entered-in-error"}),
    "Task": frozenset({"entered-in-error", "cancelled", "rejected", "failed"}),
}
_ENDED_ORDERS: Final[Mapping[str, MedicationStatus]] = {
    "stopped": MedicationStatus.STOPPED,
    "cancelled": MedicationStatus.STOPPED,
    "on-hold": MedicationStatus.STOPPED,
    "completed": MedicationStatus.COMPLETED,
}
_COMPLICATION_CODES: Final[Mapping[c.Code, Complication]] = {
    c.PRETERM_LABOUR: Complication.PRETERM_LABOUR,
    c.RUPTURED_MEMBRANES: Complication.RUPTURED_MEMBRANES,
    c.CHORIOAMNIONITIS: Complication.CHORIOAMNIONITIS,
    c.VAGINAL_BLEEDING: Complication.VAGINAL_BLEEDING,
    c.FETAL_DEATH: Complication.FETAL_DEATH,
    c.LETHAL_FETAL_ANOMALY: Complication.LETHAL_FETAL_ANOMALY,
    c.PLACENTA_PRAEVIA: Complication.PLACENTA_PRAEVIA,
}
_MATERNAL_CODES: Final[Mapping[c.Code, MaternalCondition]] = {
    c.UTERINE_ANOMALY: MaternalCondition.UTERINE_ANOMALY,
    c.INTRAUTERINE_ADHESIONS: MaternalCondition.INTRAUTERINE_ADHESIONS,
    c.CERVICAL_INSUFFICIENCY: MaternalCondition.CERVICAL_INSUFFICIENCY,
}
_REFUTED: Final = frozenset({"refuted", "entered-in-error"})


def _keys(table: str, rid: str) -> list[str]:
    """What the records one resource `rid` may become in `table` are known by (the source
    ids the store keys them by): its id, or for declined offers its id with each code."""
    if table == "declined_decisions":
        return [key for code in DeclinableCode if (key := declined_key(rid, code.value))]
    return [rid]


def _kept_keys(records: PregnancyRecords) -> dict[str, set[str]]:
    """{table: the source keys of the records the Bundle gives} (the reviews inside reports
    included)."""
    kept: dict[str, set[str]] = {}
    for part, (_prefix, table) in (*TUPLE_PREFIXES.items(), ("exams", ("exam", "cervical_exams"))):
        kind = KINDS_BY_TABLE[table]
        for item in getattr(records, part):
            if (key := kind.source_id(item)) is not None:
                kept.setdefault(table, set()).add(key)
            for field_name, (_, held_table) in INSIDE_PREFIXES.get(part, {}).items():
                kept.setdefault(held_table, set()).update(
                    held.source_id for held in getattr(item, field_name) if held.source_id
                )
    return kept


def _ended_on(resource: Mapping[str, Any], where: Where) -> dt.date | None:
    """The day an order ended, where the resource says: the end of its dosage's bounds."""
    for i, dosage in enumerate(resource.get("dosageInstruction") or ()):
        repeat = (dosage.get("timing") or {}).get("repeat") if isinstance(dosage, dict) else None
        bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
        if isinstance(bounds, dict) and isinstance(bounds.get("end"), str):
            name = f"dosageInstruction[{i}].timing.repeat.boundsPeriod.end"
            return fv.parse_partial_date(bounds["end"], where, name).earliest()
    return None


def _retractions(plan: _Plan, records: PregnancyRecords, today: dt.date) -> Retractions:
    """What the Bundle takes back: records sent with a status that removes or ends them, and
    what a resource was stored as before that it no longer is (a cerclage Procedure now not
    done: an offer declined)."""
    kept = _kept_keys(records)
    removed: dict[str, list[str]] = {}
    medications: dict[str, tuple[MedicationStatus, dt.date | None]] = {}
    resolved: dict[Complication, dt.date] = {}
    refuted_complications: set[Complication] = set()
    refuted_maternal: set[MaternalCondition] = set()
    for entry in plan.records:
        r = entry.resource
        rid = r.get("id")
        status = r.get("status")
        gone = status in _REMOVED_STATUSES.get(entry.kind, ())
        if entry.kind == "Condition":
            codes = codes_of(r.get("code"))
            verification = {code for _, code in codes_of(r.get("verificationStatus"))}
            clinical = {code for _, code in codes_of(r.get("clinicalStatus"))}
            complications = {_COMPLICATION_CODES[k] for k in codes if k in _COMPLICATION_CODES}
            gone = bool(verification & _REFUTED)
            if gone:
                refuted_complications |= complications
                refuted_maternal |= {_MATERNAL_CODES[k] for k in codes if k in _MATERNAL_CODES}
            elif clinical & _CONDITION_RESOLVED or ("abatementDateTime" in r and not clinical):
                day = today
                if "abatementDateTime" in r:
                    abated = fv.parse_partial_date(
                        r["abatementDateTime"], entry.where, "abatementDateTime"
                    ).earliest()
                    day = min(abated, today)
                for complication in complications:
                    resolved[complication] = day
        if not isinstance(rid, str):
            continue
        tables = _TABLES_OF_TYPE.get(entry.kind, ())
        kept_as = [t for t in tables if any(k in kept.get(t, ()) for k in _keys(t, rid))]
        if gone or kept_as:
            # Not kept (entered in error), or kept as another kind of record than before:
            # whatever else it was stored as goes.
            for table in tables:
                stale = [k for k in _keys(table, rid) if k not in kept.get(table, ())]
                if stale:
                    removed.setdefault(table, []).extend(stale)
        elif entry.kind == "MedicationRequest" and (ended := _ENDED_ORDERS.get(str(status))):
            medications[rid] = (ended, _ended_on(r, entry.where))
    active = {c.complication for c in records.complications if c.resolved_on is None}
    return Retractions(
        removed=removed,
        medications=medications,
        resolved={k: v for k, v in resolved.items() if k not in active},
        refuted_complications=frozenset(refuted_complications - active),
        refuted_maternal=frozenset(refuted_maternal - records.maternal_conditions),
    )


# --- where each entry went ----------------------------------------------------------------------


_EXAM_PART_CODES: Final[Mapping[c.Code, str]] = {
    c.DILATION: "dilation",
    c.EFFACEMENT: "effacement",
    c.MEMBRANES_EXPOSED: "membranes",
}
_PREFIX_OF_TABLE: Final = {
    table: prefix
    for prefix, table in (
        *TUPLE_PREFIXES.values(),
        *(pair for inside in INSIDE_PREFIXES.values() for pair in inside.values()),
    )
}
_PART_OF_TABLE: Final = {table: part for part, (_prefix, table) in TUPLE_PREFIXES.items()}


def _kept(entry: _Entry) -> bool:
    """Whether the reader may keep the record of an entry (its status does not drop it)."""
    r = entry.resource
    if entry.kind == "Condition":
        verification = {code for _, code in codes_of(r.get("verificationStatus"))}
        return not verification & _REFUTED
    return r.get("status") not in _REMOVED_STATUSES.get(entry.kind, ()) or (
        entry.kind == "Procedure" and c.REFUSAL_BY_PATIENT in codes_of(r.get("statusReason"))
    )


def _locations(
    session: Session,
    patient_id: str,
    pregnancy_id: str,
    plan: _Plan,
    claimed: Mapping[str, int] | None = None,
    code_rows: Mapping[Any, int] | None = None,
) -> dict[int, str]:
    """{entry index: Type/id} of each entry kept as a resource of this server (the ids
    `app.exporting` gives), found by the identifiers the records were stored under
    (`claimed`: all of them, when known), and conditions by their code (`code_rows`, when
    known)."""
    system = default_identifier_system(patient_id, RecordSource.FHIR)
    kept = [e for e in plan.records if _kept(e)]
    wanted = [
        f"{table}/{key}"
        for e in kept
        if isinstance(e.resource.get("id"), str)
        for table in _TABLES_OF_TYPE.get(e.kind, ())
        for key in _keys(table, e.resource["id"])
    ]
    rows = (
        {v: claimed[v] for v in wanted if v in claimed}
        if claimed is not None
        else identified_rows(session, system, wanted)
    )
    conditions: Mapping[Any, int] = {}
    if any(e.kind in ("Condition", "Procedure") for e in kept):
        conditions = (
            code_rows
            if code_rows is not None
            else condition_rows(session, patient_id, pregnancy_id)
        )
    out: dict[int, str] = {}
    for entry in kept:
        rid = entry.resource.get("id")
        codes = codes_of(entry.resource.get("code"))
        found: str | None = None
        for table in _TABLES_OF_TYPE.get(entry.kind, ()) if isinstance(rid, str) else ():
            assert isinstance(rid, str)
            row_id = next(
                (rows[f"{table}/{k}"] for k in _keys(table, rid) if f"{table}/{k}" in rows), None
            )
            if row_id is None:
                continue
            if table == "cervical_exams":
                part = next((p for code, p in _EXAM_PART_CODES.items() if code in codes), None)
                found = f"exam-{row_id}-{part}" if part else None
            else:
                found = f"{_PREFIX_OF_TABLE[table]}-{row_id}"
            break
        if found is None and plan.own_ids and isinstance(rid, str):
            named = parse_resource_id(rid)
            if named is not None and named.table in _TABLES_OF_TYPE.get(entry.kind, ()):
                found = rid
        if found is None and entry.kind == "Observation":
            if codes & c.EDD_CODES:
                found = f"edd-{pregnancy_id}"
            elif c.FETUS_COUNT in codes:
                found = f"fetuses-{pregnancy_id}"
        if found is None and entry.kind in ("Condition", "Procedure"):
            for code in sorted(codes):
                known = _COMPLICATION_CODES.get(code) or _MATERNAL_CODES.get(code)
                if code == c.CAESAREAN_FULL_DILATATION and entry.kind == "Procedure":
                    known = MaternalCondition.CAESAREAN_AT_FULL_DILATATION
                elif entry.kind != "Condition":
                    known = None
                if known is not None and known in conditions:
                    prefix = "complication" if isinstance(known, Complication) else "maternal"
                    found = f"{prefix}-{conditions[known]}"
                    break
        if found is not None:
            out[entry.index] = f"{entry.kind}/{found}"
    return out


# --- the use case -------------------------------------------------------------------------------


def _parse(plan: _Plan) -> PregnancyRecords:
    try:
        return records_from_bundle(plan.bundle, HORIZON)
    except BundleError as error:
        raise RejectedBundle(str(error), expression=_expression(str(error))) from None


_WHERE_FIELD = re.compile(r"^\w+(?:/\S+)? \(entry (?P<index>\d+)\): (?P<field>[^:]+): ")


def _expression(message: str) -> str | None:
    """`Bundle.entry[3].resource.valueQuantity.code` from the reader's message, if it names
    an entry and field."""
    match = _WHERE_FIELD.match(message)
    if match is None:
        return None
    return f"Bundle.entry[{match['index']}].resource.{match['field']}"


def _received(records: PregnancyRecords) -> int:
    return sum(
        len(getattr(records, part)) for part in (*TUPLE_PREFIXES, "exams", "maternal_conditions")
    ) + sum(len(_inside(part, item)) for part in INSIDE_PREFIXES for item in getattr(records, part))


def import_bundle(
    sessions: sessionmaker[Session],
    raw: bytes,
    *,
    today: dt.date,
    profiles: Profiles,
    scope: Scope | None = None,
    new_patient_teams: Collection[str] = (),
    audit: AuditEntry | None = None,
) -> Imported:
    """Store the records of the Bundle `raw` (JSON) for the woman it is about and reassess her
    on `today`, all in one transaction. Raises `InvalidBundle` (unreadable), `RejectedBundle`
    (readable but wrong: the message names the entry and field), `Conflict`, or `OutOfScope`
    (she is stored but not among the women `scope` may write; None: any woman).

    A woman seen for the first time is put under the care of `new_patient_teams`. `audit`: the
    request's audit entry, appended (naming the woman) in the same transaction, so the import
    and its entry stand or fall together."""
    entries = _entries(_load(raw))
    try:
        with transaction(sessions) as session, track_changes(session) as changes:
            plan = _plan(session, entries)
            if (
                scope is not None
                and plan.patient is not None
                and plan.patient.id not in visible_patient_ids(session, scope)
            ):
                raise OutOfScope(
                    "the Bundle's Patient is a woman stored here but not under the care of "
                    "your care teams; ask to be added to her team"
                )
            if plan.patient is not None:
                _add_reviewed_reports(session, plan.patient.id, plan)
            records = _parse(plan)
            _check(records, plan, today)
            if plan.patient_entry is not None and "id" not in plan.patient_entry.resource:
                # Known only by her fullUrl (a urn:uuid made for this message): no id to keep.
                records = replace(records, patient_id="")
            received = _received(records) - plan.added_reports
            patient_created = plan.patient is None
            retractions = Retractions()
            if plan.patient is not None:
                retractions = _retractions(plan, records, today)
                if plan.own_ids:
                    records = _own_records(session, plan.patient.id, records)
            saved = save_records(
                session, plan.fields, records, source=RecordSource.FHIR, new_patient=patient_created
            )
            patient_id, pregnancy_id = saved.patient_id, saved.pregnancy_id
            if patient_created:
                add_patients_to_teams(session, patient_id, new_patient_teams, new_patient=True)
            stored = saved.records
            if retractions:
                system = default_identifier_system(patient_id, RecordSource.FHIR)
                retract(session, patient_id, pregnancy_id, system, retractions, today)
                stored = None  # what the retractions changed is read back
            _, assessment = reassess(session, pregnancy_id, today, profiles, stored=stored)
            # A new woman's identifiers and condition rows are all the ones just written.
            claimed = saved.claimed if patient_created else None
            code_rows = saved.code_rows if patient_created else None
            locations = _locations(session, patient_id, pregnancy_id, plan, claimed, code_rows)
            if audit is not None:
                append_audit_entry(session, replace(audit, patient_id=patient_id))
    except IdentifierConflict as error:
        raise Conflict(str(error)) from None
    except IntegrityError as error:
        raise Conflict(
            f"the Bundle conflicts with stored data ({type(error.orig).__name__})"
        ) from None
    created = changes.created + saved.inserted  # a new woman's rows are written by plain INSERTs
    results = []
    for entry in entries:
        if entry is plan.patient_entry:
            results.append(
                EntryResult(entry.index, entry.kind, f"Patient/{patient_id}", patient_created)
            )
        else:
            results.append(EntryResult(entry.index, entry.kind, locations.get(entry.index)))
    return Imported(
        patient_id=patient_id,
        pregnancy_id=pregnancy_id,
        patient_created=patient_created,
        received=received,
        created=created,
        updated=changes.updated,
        unchanged=max(0, received - created - changes.updated),
        removed=changes.deleted,
        entries=results,
        assessment=summarise(pregnancy_id, assessment),
    )

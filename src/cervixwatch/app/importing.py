"""Importing a FHIR R4 Bundle (transaction, collection, searchset or document) of one woman's
records, coded as shared/clinical/fhir-mapping.md says: all of it in one transaction, or
nothing.

- The Bundle's Patient is found by any of her identifiers, (system, value), or by her id as
  the same source sent it before, or by CervixWatch's own id for her (`app.patient_identity`).
  A woman never seen before is registered; a Patient that contradicts the woman it names
  (another birth date, another value of one of her identifier systems, or naming two women)
  refuses the whole Bundle. Her identifiers, names (with their uses) and gender are kept.
- A Bundle may leave her Patient out when its records refer to a woman stored here:
  `Patient/<CervixWatch id>`, or the Patient id an earlier import of hers from the same source
  used.
- Every record (Observation, Condition, Procedure, MedicationRequest, MedicationStatement,
  QuestionnaireResponse, and a Task reviewing a symptom report) must refer to her; a reference
  to a patient neither in the Bundle nor stored here, or to another woman, refuses the whole
  Bundle, naming the entry and field.
- The JSON API's date checks apply (`intake_checks`): a finding of this pregnancy dated after
  `today` or outside the pregnancy refuses the Bundle, naming the entry and element. History
  is kept whatever its date. The assessment stored with it is made on `today`.
- A DELETE entry takes back what its url names (`import_matching.taken_back`); its resource,
  if any, is not read.
- A fact already stored of her under another id (sent before, by this feed or another) is
  not stored again (`import_matching.already_stored`).
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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Scope
from cervixwatch.app.assessing import AssessmentSummary, summarise
from cervixwatch.app.errors import Conflict, OutOfScope
from cervixwatch.app.exporting import (
    INSIDE_PREFIXES,
    TUPLE_PREFIXES,
)
from cervixwatch.app.import_matching import (
    BundleEntry,
    Located,
    already_stored,
    entry_locations,
    held_records,
    own_records,
    taken_back,
    unnamed_locations,
)
from cervixwatch.app.intake_checks import first_misdated
from cervixwatch.app.late_reviews import stored_reports_for_reviews
from cervixwatch.app.patient_identity import (
    Found,
    Sender,
    birth_date_to_keep,
    check_contradictions,
    find_woman,
    women_by_reference,
)
from cervixwatch.app.reassessing import Profiles, reassess
from cervixwatch.clinical.records import (
    PregnancyRecords,
)
from cervixwatch.interop.fhir_bundle import records_from_bundle
from cervixwatch.interop.fhir_entries import (
    UnreadableBundle,
    bundle_entries,
    dating_element,
    load_bundle,
)
from cervixwatch.interop.fhir_patient import PatientIdentity, read_patient
from cervixwatch.interop.fhir_values import BundleError, codes_of
from cervixwatch.interop.intake import IssueCode
from cervixwatch.knowledge import codes as c
from cervixwatch.store import crud, transaction
from cervixwatch.store.accounts import add_patients_to_teams, visible_patient_ids
from cervixwatch.store.audit import AuditEntry
from cervixwatch.store.audit import append as append_audit_entry
from cervixwatch.store.exports import track_changes
from cervixwatch.store.models import PatientRow, RecordSource
from cervixwatch.store.records import (
    IdentifierConflict,
    PatientFields,
    default_identifier_system,
    load_records,
    save_records,
)
from cervixwatch.store.retractions import Retractions, retract

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
#: The largest fetus count believed (the column is an integer; the record is a typing error).
MAX_FETUSES: Final = 12


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
    #: Why an entry is not kept, when it is not for the usual reasons.
    note: str | None = None
    #: A DELETE entry: what it named is no longer stored (answered 204).
    deleted: bool = False


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


def _entries(raw: bytes) -> list[BundleEntry]:
    try:
        return bundle_entries(load_bundle(raw))
    except UnreadableBundle as error:
        raise InvalidBundle(str(error), expression=error.path, code=error.code) from None


def _refusal(error: BundleError) -> RejectedBundle:
    """The reader's refusal, as it named the entry and element."""
    return RejectedBundle(str(error), expression=error.path, code=error.code)


# --- who the Bundle is about ----------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """The woman the Bundle is about and the Bundle as the reader is given it."""

    fields: PatientFields
    patient: PatientRow | None
    #: How the Bundle's Patient named her (`patient`), and what it says of who she is.
    found: Found
    identity: PatientIdentity | None
    #: Her Patient is named by CervixWatch's own id: the records' ids may be CervixWatch's.
    own_ids: bool
    bundle: dict[str, Any]
    patient_entry: BundleEntry | None
    records: list[BundleEntry] = field(default_factory=list)
    #: How the records refer to her in `bundle`.
    subject: dict[str, str] = field(default_factory=dict)
    #: Stored reports added to `bundle` for the reviews of them it holds (`late_reviews`).
    added_reports: int = 0
    #: The DELETE entries: what each names is taken back.
    deletes: list[BundleEntry] = field(default_factory=list)


def _reference(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    """(field, reference) of the woman a resource is about, as the reader looks for it (a
    Task names her by `for`)."""
    for name in ("subject", "patient", "for"):
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return name, ref["reference"]
    return None


def _is_record(entry: BundleEntry) -> bool:
    """Whether an entry may carry her records: a Task only as a review of a symptom report
    (other Tasks are left alone, as other resources are)."""
    if entry.kind == "Task":
        return c.SYMPTOM_REPORT_REVIEW in codes_of(entry.resource.get("code"))
    return entry.kind in RECORD_TYPES


def _names_patient(target: str) -> bool:
    parts = target.split("/_history/")[0].rstrip("/").split("/")
    return len(parts) >= 2 and parts[-2] == "Patient" and bool(parts[-1])


def _rejected(
    entry: BundleEntry, name: str, problem: str, code: IssueCode = "invalid"
) -> RejectedBundle:
    return RejectedBundle(
        entry.where.error(name, problem).args[0], expression=entry.path(name), code=code
    )


def _bundle_patient(
    session: Session, patient: BundleEntry, sender: Sender
) -> tuple[PatientFields, Found, PatientIdentity]:
    """Her fields, the stored woman the Patient names (if any), and what it says of her."""
    try:
        identity = read_patient(patient.resource, patient.where)
    except BundleError as error:
        raise _refusal(error) from None
    if not identity.identifiers and identity.resource_id is None:
        raise _rejected(
            patient,
            "identifier",
            "the Patient needs an identifier (her hospital number) or an id",
            code="value",
        )
    found = find_woman(session, identity, sender, patient.where.label, patient.path)
    rid = identity.resource_id
    fields = PatientFields(
        identifiers=identity.identifiers,
        names=identity.names,
        gender=identity.gender,
        local_system=sender.local_system,
        source=sender.source,
        # Her id in the source, claimed under the source's own system unless it is already
        # (or is CervixWatch's id for her).
        source_id=None if found.by_source or rid == found.patient_id else rid,
    )
    return fields, found, identity


def _plan(session: Session, entries: list[BundleEntry], sender: Sender) -> _Plan:
    # What a DELETE entry names is taken back (`_deleted`); its resource, if sent, is not read.
    sent, entries = entries, [e for e in entries if not e.deletes]
    deletes = [e for e in sent if e.deletes]
    for entry in deletes:
        assert entry.request is not None
        if "?" in entry.request.url or entry.kind == "Patient":
            raise RejectedBundle(
                f"Bundle.entry[{entry.index}].request.url: {entry.request.url!r}: a conditional "
                "delete, or deleting a Patient, is not supported; DELETE Type/id of a record",
                expression=f"Bundle.entry[{entry.index}].request.url",
                code="not-supported",
            )
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
    named_by = Found(None)
    identity: PatientIdentity | None = None
    own_ids = False
    if patient_entry is not None:
        fields, named_by, identity = _bundle_patient(session, patient_entry, sender)
        if named_by.patient_id is not None:
            stored = session.get(PatientRow, named_by.patient_id)
        own_ids = stored is not None and patient_entry.resource.get("id") == stored.id
        if isinstance(patient_entry.resource.get("id"), str):
            keys.add(f"Patient/{patient_entry.resource['id']}")
        if patient_entry.full_url:
            keys.add(patient_entry.full_url)
    by_url = {e.full_url: e for e in entries if e.full_url}
    named: set[str] = set()
    named_by_own_id = True
    records: list[BundleEntry] = []
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
        women = women_by_reference(session, target, sender.source)
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
        named_by = Found(stored.id, "the records' references")
        fields = PatientFields(local_system=sender.local_system, source=sender.source)
        own_ids = named_by_own_id
        injected = {"resourceType": "Patient", "id": stored.id}
        keys = {f"Patient/{stored.id}"}
    assert fields is not None
    key = sorted(k for k in keys if k.startswith("Patient/"))
    subject = {"reference": key[0] if key else next(iter(keys))}
    rewritten: list[dict[str, Any]] = []
    for entry in sent:
        if entry.request is not None and entry.deletes:
            # In its place, so entry numbers stay as sent; the reader passes over it.
            rewritten.append({"request": {"method": "DELETE", "url": entry.request.url}})
            continue
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
    return _Plan(
        fields,
        stored,
        named_by,
        identity,
        own_ids,
        bundle,
        patient_entry,
        records,
        subject,
        deletes=deletes,
    )


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


def _check(session: Session, records: PregnancyRecords, plan: _Plan, today: dt.date) -> None:
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
    edd = records.edd
    if edd is None and plan.patient is not None:
        pregnancy_id = crud.active_pregnancy_id(session, plan.patient.id)
        pregnancy = None if pregnancy_id is None else crud.get_pregnancy(session, pregnancy_id)
        edd = None if pregnancy is None else pregnancy.edd
    misdated = first_misdated(records, today, edd)
    if misdated is not None:
        finding, error = misdated
        found = dating_element(plan.records, finding.part, finding.source_id, finding.day)
        if found is None:
            raise RejectedBundle(f"a record dated {error.message}", code="value")
        entry, element = found
        raise _rejected(entry, element, error.message, "value")


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


# --- the use case -------------------------------------------------------------------------------


def _unnamed(
    plan: _Plan, records: PregnancyRecords, placed: Mapping[str, Sequence[tuple[int, bool]]]
) -> dict[int, Located]:
    """Where the records sent without an id went (`import_matching.unnamed_locations`)."""
    sent = plan.bundle["entry"]
    unnamed = [
        BundleEntry(e.index, e.full_url, sent[e.index]["resource"])
        for e in plan.records
        if not isinstance(e.resource.get("id"), str)
    ]
    if not unnamed:
        return {}
    context = [item for item in sent if item["resource"]["resourceType"] not in RECORD_TYPES]
    return unnamed_locations(unnamed, context, records, placed, HORIZON)


def _parse(plan: _Plan) -> PregnancyRecords:
    try:
        return records_from_bundle(plan.bundle, HORIZON)
    except BundleError as error:
        raise _refusal(error) from None


def _received(records: PregnancyRecords) -> int:
    return sum(
        len(getattr(records, part)) for part in (*TUPLE_PREFIXES, "exams", "maternal_conditions")
    ) + sum(
        len(held_records(part, item)) for part in INSIDE_PREFIXES for item in getattr(records, part)
    )


def import_bundle(
    sessions: sessionmaker[Session],
    raw: bytes,
    *,
    today: dt.date,
    profiles: Profiles,
    sender: Sender,
    scope: Scope | None = None,
    new_patient_teams: Collection[str] = (),
    audit: AuditEntry | None = None,
) -> Imported:
    """Store the records of the Bundle `raw` (JSON) for the woman it is about and reassess her
    on `today`, all in one transaction. Raises `InvalidBundle` (unreadable), `RejectedBundle`
    (readable but wrong: the message names the entry and field), `Conflict` (an
    `IdentityConflict` when the Patient contradicts the woman it names), or `OutOfScope` (she
    is stored but not among the women `scope` may write; None: any woman). `sender` says who
    sends it: the ids and system-less identifiers of its Patient are that source's.

    A woman seen for the first time is put under the care of `new_patient_teams`. `audit`: the
    request's audit entry, appended (naming the woman) in the same transaction, so the import
    and its entry stand or fall together."""
    entries = _entries(raw)
    try:
        with transaction(sessions) as session, track_changes(session) as changes:
            plan = _plan(session, entries, sender)
            if (
                scope is not None
                and plan.patient is not None
                and plan.patient.id not in visible_patient_ids(session, scope)
            ):
                raise OutOfScope(
                    "the Bundle's Patient is a woman stored here but not under the care of "
                    "your care teams; ask to be added to her team"
                )
            if plan.identity is not None and plan.patient_entry is not None:
                entry = plan.patient_entry
                check_contradictions(
                    session, plan.found, plan.identity, sender, entry.where.label, entry.path
                )
            if plan.patient is not None:
                _add_reviewed_reports(session, plan.patient.id, plan)
            records = _parse(plan)
            if plan.identity is not None:
                records = replace(
                    records,
                    birth_date=birth_date_to_keep(session, plan.found, plan.identity.birth_date),
                )
            _check(session, records, plan, today)
            # The id her Patient has in its source is claimed under the source's own system
            # (`PatientFields.source_id`), not under hers.
            records = replace(records, patient_id="")
            received = _received(records) - plan.added_reports
            patient_created = plan.patient is None
            retractions = Retractions()
            repeated: list[str] = []
            if plan.patient is not None:
                retractions = taken_back([*plan.records, *plan.deletes], records, today)
                if plan.own_ids:
                    records = own_records(session, plan.patient.id, records)
                current = crud.active_pregnancy_id(session, plan.patient.id)
                if current is not None:
                    records, repeated = already_stored(records, load_records(session, current))
            saved_records = records
            saved = save_records(
                session,
                plan.fields,
                records,
                source=RecordSource.FHIR,
                new_patient=patient_created,
                patient_id=None if plan.patient is None else plan.patient.id,
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
            locations = entry_locations(
                session,
                patient_id,
                pregnancy_id,
                plan.records,
                plan.own_ids,
                claimed,
                code_rows,
                new_identifiers=saved.claimed.keys(),
                pregnancy_created=saved.pregnancy_created,
                unnamed=_unnamed(plan, saved_records, saved.placed),
            )
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
        elif (located := locations.get(entry.index)) is not None:
            results.append(EntryResult(entry.index, entry.kind, located.location, located.created))
        elif entry.deletes:
            results.append(EntryResult(entry.index, entry.kind, None, deleted=True))
        elif entry.resource.get("id") in repeated:
            note = "the same fact is already stored (sent before under another id)"
            results.append(EntryResult(entry.index, entry.kind, None, note=note))
        else:
            results.append(EntryResult(entry.index, entry.kind, None))
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

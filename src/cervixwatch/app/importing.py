"""Importing a FHIR R4 Bundle (transaction, collection, searchset or document) of one woman's
records, coded as shared/clinical/fhir-mapping.md says: all of it in one transaction, or
nothing.

The FHIR reader (`interop.fhir_intake`) says who the Bundle is about and what it holds, as any
reader does (`interop.intake`: a `Frame`, then an `Intake`); this use case finds the woman,
checks, stores, takes back and reassesses, reading no FHIR itself, so a DICOM SR or HL7 v2
reader's intake is stored the same way.

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
  is kept whatever its date. The assessment stored with it is made on `today`. So do its
  plausibility limits: a value beyond a hard limit (a length over 80 mm) refuses the Bundle,
  naming the entry and element; a warning, which no feed can confirm, is stored as sent.
- A DELETE entry takes back what its url names (`Withdrawals`); its resource,
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
- A red-flag symptom report stored or amended queues her care team's notification in the
  same transaction (`app.notifications`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Scope
from cervixwatch.app.assessing import AssessmentSummary, summarise
from cervixwatch.app.corrections import keep_removals
from cervixwatch.app.errors import Conflict, NotFound, OutOfScope
from cervixwatch.app.exporting import (
    INSIDE_PREFIXES,
    TUPLE_PREFIXES,
    owner_of_resource,
    parse_resource_id,
)
from cervixwatch.app.import_matching import (
    already_stored,
    entry_locations,
    held_records,
    own_records,
    retractions_of,
    table_of_part,
    unnamed_locations,
)
from cervixwatch.app.intake_checks import first_implausible, first_misdated
from cervixwatch.app.late_reviews import stored_reports_for_reviews
from cervixwatch.app.notifications import queue_red_flag_notifications
from cervixwatch.app.patient_identity import (
    Found,
    Sender,
    birth_date_to_keep,
    check_contradictions,
    find_woman,
    women_by_reference,
)
from cervixwatch.app.reassessing import Profiles, reassess
from cervixwatch.app.versions import before_change, check_if_match
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.fhir_entries import (
    BundleEntry,
    UnreadableBundle,
    bundle_entries,
    load_bundle,
)
from cervixwatch.interop.fhir_intake import frame_bundle, read_bundle_intake
from cervixwatch.interop.fhir_patient import PatientIdentity
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.interop.intake import Frame, Intake, IssueCode, Item
from cervixwatch.store import crud, transaction
from cervixwatch.store.accounts import add_patients_to_teams, visible_among
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
from cervixwatch.store.retractions import Removed, Retractions, remove_row, retract


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
    #: It is a kind of item that carries records (so "not kept" means it held none).
    carries_records: bool = False


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


def _entries(raw: bytes | Mapping[str, Any]) -> list[BundleEntry]:
    try:
        return bundle_entries(raw if isinstance(raw, Mapping) else load_bundle(raw))
    except UnreadableBundle as error:
        raise InvalidBundle(str(error), expression=error.path, code=error.code) from None


def _refusal(error: BundleError) -> RejectedBundle:
    """The reader's refusal, as it named the item and element."""
    return RejectedBundle(str(error), expression=error.path, code=error.code)


def _rejected(
    item: Item, element: str, problem: str, code: IssueCode = "invalid"
) -> RejectedBundle:
    return RejectedBundle(
        f"{item.label}: {element}: {problem}", expression=item.path(element), code=code
    )


# --- who the input is about ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Woman:
    """The woman an input is about: her fields as sent, the stored woman (None: new), how she
    was found, and whether the records' ids may be CervixWatch's own (her Patient, or every
    reference to her, used CervixWatch's id for her)."""

    fields: PatientFields
    patient: PatientRow | None
    found: Found
    own_ids: bool


def _fields_of(identity: PatientIdentity, sender: Sender, found: Found) -> PatientFields:
    """Who the Patient says she is, as the store keeps it."""
    rid = identity.resource_id
    return PatientFields(
        identifiers=identity.identifiers,
        names=identity.names,
        gender=identity.gender,
        local_system=sender.local_system,
        source=sender.source,
        # Her id in the source, claimed under the source's own system unless it is already
        # (or is CervixWatch's id for her).
        source_id=None if found.by_source or rid == found.patient_id else rid,
    )


def _woman(session: Session, frame: Frame, sender: Sender) -> _Woman:
    stored: PatientRow | None = None
    found = Found(None)
    fields: PatientFields | None = None
    own_ids = False
    item, identity = frame.patient_item, frame.patient
    if item is not None and identity is not None:
        found = find_woman(session, identity, sender, item.label, item.path)
        rid = identity.resource_id
        fields = _fields_of(identity, sender, found)
        if found.patient_id is not None:
            stored = session.get(PatientRow, found.patient_id)
        own_ids = stored is not None and rid == stored.id
    named: set[str] = set()
    named_by_own_id = True
    for reference in frame.references:
        at, target = reference.element, reference.target
        women = women_by_reference(session, target, sender.source)
        if not women:
            raise _rejected(
                reference.item,
                at,
                f"{target!r} names no Patient in the Bundle or on this server",
                "not-found",
            )
        if len(women) > 1:
            raise _rejected(
                reference.item,
                at,
                f"{target!r} names {len(women)} patients on this server; refer to her by "
                "CervixWatch's id",
            )
        woman = women.pop()
        if item is not None and (stored is None or woman != stored.id):
            raise _rejected(
                reference.item,
                at,
                f"{target!r} is not the Bundle's Patient (entry {item.index}); "
                "a Bundle holds one woman's records",
            )
        named.add(woman)
        named_by_own_id = named_by_own_id and target.rstrip("/").split("/")[-1] == woman
    if item is None and not named:
        named = _owners_of_deletes(session, frame)
    if item is None:
        if len(named) > 1:
            raise RejectedBundle(
                f"Bundle: its records refer to {len(named)} different patients; "
                "a Bundle holds one woman's records",
                expression="Bundle.entry",
            )
        stored = session.get(PatientRow, named.pop())
        assert stored is not None
        found = Found(stored.id, "the records' references")
        fields = PatientFields(local_system=sender.local_system, source=sender.source)
        own_ids = named_by_own_id
    assert fields is not None
    return _Woman(fields, stored, found, own_ids)


#: The reasons kept with the corrections of records a feed removes (issue 13, part 3): what
#: the source did, since a FHIR message carries no reason of its own.
_DELETED: Final = "deleted by its source (FHIR DELETE)"
_WITHDRAWN: Final = "withdrawn by its source (sent again as entered in error, or refuted)"


def _user_of(sender: Sender) -> str | None:
    """The account that sent the records (`Sender.source` is `user:<id>`), for the
    correction's `corrected_by`; None for any other source."""
    user, found, rest = sender.source.partition("user:")
    return rest if found and not user else None


def _owners_of_deletes(session: Session, frame: Frame) -> set[str]:
    """The women the DELETE entries of a Bundle with nothing else name by CervixWatch's ids."""
    owners = {
        owner_of_resource(session, item.kind, item.source_id)
        for item in frame.items
        if item.deletes and item.source_id is not None
    }
    owners.discard(None)
    if not owners:
        raise NotFound(
            "the Bundle's DELETE entries name no resource stored here (a source's own ids "
            "need her Patient, or a record naming her, in the Bundle)"
        )
    return {owner for owner in owners if owner is not None}


def _delete_own(session: Session, patient_id: str, frame: Frame) -> list[Removed]:
    """DELETE entries that name a record by CervixWatch's own id for it (`Observation/cl-17`)
    remove that row, when it is hers; a source's own ids are taken back by `retract`. The
    rows removed."""
    removed: list[Removed] = []
    for item in frame.items:
        if not item.deletes or item.source_id is None:
            continue
        named = parse_resource_id(item.source_id)
        if named is None or owner_of_resource(session, item.kind, item.source_id) != patient_id:
            continue  # a source's id, or nothing of hers
        tables = {table_of_part(part) for part in item.parts}
        if named.table not in tables - {"cervical_exams"} or named.row_id is None:
            raise _rejected(
                item,
                "request.url",
                f"{item.kind}/{item.source_id} cannot be deleted on its own (an examination's "
                "finding, the due date, the fetus count or an assessment): send the record "
                "again corrected",
                "not-supported",
            )
        if (gone := remove_row(session, named.table, named.row_id)) is not None:
            removed.append(gone)
    return removed


# --- checks the reader does not make ------------------------------------------------------------


def _check(session: Session | None, intake: Intake, woman: _Woman, today: dt.date) -> None:
    """The checks of dates and plausibility (`session`: to read a stored woman's due date;
    None for a woman seen for the first time)."""
    records = intake.records
    if records.birth_date is not None and records.birth_date > today:
        item = intake.frame.patient_item
        assert item is not None  # a birth date comes from the input's Patient
        raise _rejected(item, "birthDate", f"{records.birth_date} is in the future", "value")
    edd = records.edd
    if edd is None and woman.patient is not None and session is not None:
        pregnancy_id = crud.active_pregnancy_id(session, woman.patient.id)
        pregnancy = None if pregnancy_id is None else crud.get_pregnancy(session, pregnancy_id)
        edd = None if pregnancy is None else pregnancy.edd
    implausible = first_implausible(records)
    if implausible is not None:
        item = next(
            (
                i
                for i in intake.frame.records
                if implausible.part in i.parts and i.source_id == implausible.source_id
            ),
            None,
        )
        if item is None:
            raise RejectedBundle(f"a record's {implausible.error.message}", code="value")
        raise _rejected(item, implausible.element, implausible.error.message, "value")
    misdated = first_misdated(records, today, edd)
    if misdated is not None:
        finding, error = misdated
        found = intake.dated_by(finding.part, finding.source_id, finding.day)
        if found is None:
            raise RejectedBundle(f"a record dated {error.message}", code="value")
        item, element = found
        raise _rejected(item, element, error.message, "value")


# --- the use case -------------------------------------------------------------------------------


def _received(records: PregnancyRecords) -> int:
    return sum(
        len(getattr(records, part)) for part in (*TUPLE_PREFIXES, "exams", "maternal_conditions")
    ) + sum(
        len(held_records(part, item)) for part in INSIDE_PREFIXES for item in getattr(records, part)
    )


def _read(
    session: Session | None, frame: Frame, entries: list[BundleEntry], woman: _Woman
) -> Intake:
    """The FHIR reader's records of the Bundle, with her stored reports its reviews name
    (`session`: to read them; None for a woman seen for the first time)."""
    context: list[dict[str, Any]] = []
    if woman.patient is not None and session is not None:
        context = stored_reports_for_reviews(session, woman.patient.id, frame.reports_named)
    try:
        return read_bundle_intake(
            frame,
            entries,
            patient_id=None if woman.patient is None else woman.patient.id,
            context=context,
        )
    except BundleError as error:
        raise _refusal(error) from None


def import_bundle(
    sessions: sessionmaker[Session],
    raw: bytes | Mapping[str, Any],
    *,
    today: dt.date,
    profiles: Profiles,
    sender: Sender,
    scope: Scope | None = None,
    new_patient_teams: Collection[str] = (),
    audit: AuditEntry | None = None,
    if_match: Mapping[str, str] | None = None,
) -> Imported:
    """Store the records of the Bundle `raw` (JSON, or parsed) for the woman it is about and
    reassess her on `today`, all in one transaction. Raises `InvalidBundle` (unreadable),
    `RejectedBundle` (readable but wrong: the message names the entry and field), `Conflict` (an
    `IdentityConflict` when the Patient contradicts the woman it names), or `OutOfScope` (she
    is stored but not among the women `scope` may write; None: any woman). `sender` says who
    sends it: the ids and system-less identifiers of its Patient are that source's.

    A woman seen for the first time is put under the care of `new_patient_teams`. `audit`: the
    request's audit entry, appended (naming the woman) in the same transaction, so the import
    and its entry stand or fall together. `if_match`: {`Type/id`: an `If-Match` tag} of the
    updates in it, each refused (`PreconditionFailed`) unless the resource is at that
    version."""
    framed = framed_bundle(raw)

    def read(session: Session, frame: Frame, woman: _Woman) -> Intake:
        return _read(session, frame, framed.entries, woman)

    return import_intake(
        sessions,
        framed.frame,
        read,
        today=today,
        profiles=profiles,
        sender=sender,
        scope=scope,
        new_patient_teams=new_patient_teams,
        audit=audit,
        if_match=if_match,
    )


@dataclass(frozen=True, slots=True)
class FramedBundle:
    """A Bundle read as far as who it is about (`frame_bundle`), before anything is looked
    up: what a batch of new women is registered from (`app.registering`)."""

    entries: list[BundleEntry]
    frame: Frame


def framed_bundle(raw: bytes | Mapping[str, Any]) -> FramedBundle:
    """The Bundle `raw` read as far as who it is about; `InvalidBundle` or `RejectedBundle`
    as `import_bundle` raises them."""
    entries = _entries(raw)
    try:
        return FramedBundle(entries, frame_bundle(entries))
    except BundleError as error:
        raise _refusal(error) from None


def may_be_new(framed: FramedBundle) -> bool:
    """Whether the Bundle describes a woman by her Patient alone (no reference to a woman
    it does not hold, nothing deleted), so she is new here if no identifier or id of her
    Patient names a stored woman."""
    frame = framed.frame
    return (
        frame.patient is not None
        and frame.patient_item is not None
        and not frame.references
        and not any(item.deletes for item in frame.items)
    )


def new_woman_records(
    framed: FramedBundle, sender: Sender, today: dt.date
) -> tuple[PatientFields, PregnancyRecords]:
    """Her fields and records as `import_bundle` stores them for a woman seen for the first
    time (`may_be_new`, and no stored woman named), after the same reading and checks;
    `RejectedBundle` names the entry and field."""
    frame = framed.frame
    assert frame.patient is not None, "may_be_new: her Patient is in the Bundle"
    woman = _Woman(_fields_of(frame.patient, sender, Found(None)), None, Found(None), False)
    intake = _read(None, frame, framed.entries, woman)
    birth_date = birth_date_to_keep(None, woman.found, frame.patient.birth_date)
    records = replace(intake.records, birth_date=birth_date)
    _check(None, replace(intake, records=records), woman, today)
    return woman.fields, replace(records, patient_id="")


class UnknownWoman(NotFound):
    """The input names a woman by identifiers that match no one stored here, and its channel
    registers no one (a device's report: it waits for a clinician, `app.device_intake`)."""


#: What an input's reader gives once the woman is known: her records (`interop.intake`).
IntakeReader = Callable[[Session, Frame, "_Woman"], Intake]
#: Work done in the import's own transaction once her records are stored, with her id and
#: the pregnancy's (a device report's intake log: stored with them or not at all).
AlsoInTransaction = Callable[[Session, str, str], None]


def import_intake(
    sessions: sessionmaker[Session],
    frame: Frame,
    read: IntakeReader,
    *,
    today: dt.date,
    profiles: Profiles,
    sender: Sender,
    source: RecordSource = RecordSource.FHIR,
    register: bool = True,
    also: AlsoInTransaction | None = None,
    scope: Scope | None = None,
    new_patient_teams: Collection[str] = (),
    audit: AuditEntry | None = None,
    if_match: Mapping[str, str] | None = None,
) -> Imported:
    """Store what any reader read (`frame`, then `read` once she is found), as
    `import_bundle` says, with its records marked as from `source`. `register`: False for a
    channel that may not register a woman (raises `UnknownWoman` before anything is written).
    `also` runs in the same transaction after the records are stored."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return _import_once(
                sessions,
                read,
                frame,
                source=source,
                register=register,
                also=also,
                today=today,
                profiles=profiles,
                sender=sender,
                scope=scope,
                new_patient_teams=new_patient_teams,
                audit=audit,
                if_match=if_match,
            )
        except _RegisteredMeanwhile:
            # Another request registered her between our look and our write (the same new
            # woman sent by several clients at once): read her again, as a woman stored.
            if attempt == _ATTEMPTS:
                break
    raise Conflict("the Bundle conflicts with stored data (her record was being written)")


#: How often an import of a new woman is tried when another request registers her first.
_ATTEMPTS: Final = 3


class _RegisteredMeanwhile(Exception):
    """The import registered a woman whom another transaction registered first."""


def _import_once(
    sessions: sessionmaker[Session],
    read: IntakeReader,
    frame: Frame,
    *,
    source: RecordSource,
    register: bool,
    also: AlsoInTransaction | None,
    today: dt.date,
    profiles: Profiles,
    sender: Sender,
    scope: Scope | None,
    new_patient_teams: Collection[str],
    audit: AuditEntry | None,
    if_match: Mapping[str, str] | None,
) -> Imported:
    """One attempt at `import_bundle`, in one transaction."""
    registering = False
    try:
        with transaction(sessions) as session, track_changes(session) as changes:
            woman = _woman(session, frame, sender)
            registering = woman.patient is None
            if registering and not register:
                raise UnknownWoman("the identifiers sent match no woman stored here")
            if (
                scope is not None
                and woman.patient is not None
                and not visible_among(session, [woman.patient.id], scope)
            ):
                raise OutOfScope(
                    "the Bundle's Patient is a woman stored here but not under the care of "
                    "your care teams; ask to be added to her team"
                )
            if woman.patient is not None:
                # Her resources as served now are kept as versions before anything changes
                # (`app.versions`); an update made for another version is refused.
                before_change(session, woman.patient.id)
                for target, tag in (if_match or {}).items():
                    kind, _, rid = target.partition("/")
                    check_if_match(session, kind, rid, tag)
            item = frame.patient_item
            if frame.patient is not None and item is not None:
                check_contradictions(
                    session, woman.found, frame.patient, sender, item.label, item.path
                )
            intake = read(session, frame, woman)
            records = intake.records
            if frame.patient is not None:
                records = replace(
                    records,
                    birth_date=birth_date_to_keep(session, woman.found, frame.patient.birth_date),
                )
            _check(session, replace(intake, records=records), woman, today)
            # The id her Patient has in its source is claimed under the source's own system
            # (`PatientFields.source_id`), not under hers.
            records = replace(records, patient_id="")
            received = _received(records) - intake.added
            patient_created = woman.patient is None
            retractions = Retractions()
            repeated: list[str] = []
            if woman.patient is not None:
                removed = _delete_own(session, woman.patient.id, frame)
                keep_removals(session, woman.patient.id, removed, _DELETED, _user_of(sender))
                retractions = retractions_of(intake.withdrawals, records, today)
                if woman.own_ids:
                    records = own_records(session, woman.patient.id, records)
                current = crud.active_pregnancy_id(session, woman.patient.id)
                if current is not None:
                    records, repeated = already_stored(records, load_records(session, current))
            saved_records = records
            saved = save_records(
                session,
                woman.fields,
                records,
                source=source,
                new_patient=patient_created,
                patient_id=None if woman.patient is None else woman.patient.id,
            )
            patient_id, pregnancy_id = saved.patient_id, saved.pregnancy_id
            if patient_created:
                add_patients_to_teams(session, patient_id, new_patient_teams, new_patient=True)
            stored = saved.records
            if retractions:
                system = default_identifier_system(patient_id, source)
                withdrawn = retract(session, patient_id, pregnancy_id, system, retractions, today)
                keep_removals(session, patient_id, withdrawn, _WITHDRAWN, _user_of(sender))
                stored = None  # what the retractions changed is read back
            _, assessment = reassess(session, pregnancy_id, today, profiles, stored=stored)
            if saved_records.symptom_reports:
                # Her care team told of a red-flag report, in this transaction (an outbox).
                queue_red_flag_notifications(session, pregnancy_id)
            # A new woman's identifiers and condition rows are all the ones just written.
            claimed = saved.claimed if patient_created else None
            code_rows = saved.code_rows if patient_created else None
            items = intake.frame.items
            locations = entry_locations(
                session,
                patient_id,
                pregnancy_id,
                items,
                woman.own_ids,
                claimed,
                code_rows,
                new_identifiers=saved.claimed.keys(),
                pregnancy_created=saved.pregnancy_created,
                unnamed=unnamed_locations(items, saved_records, saved.placed),
                source=source,
            )
            if also is not None:
                also(session, patient_id, pregnancy_id)
            if audit is not None:
                append_audit_entry(session, replace(audit, patient_id=patient_id))
    except IdentifierConflict as error:
        raise Conflict(str(error)) from None
    except IntegrityError as error:
        if registering:
            raise _RegisteredMeanwhile from None
        raise Conflict(
            f"the Bundle conflicts with stored data ({type(error.orig).__name__})"
        ) from None
    created = changes.created + saved.inserted  # a new woman's rows are written by plain INSERTs
    results = []
    for item in items:
        carries = bool(item.parts)
        if item.is_patient:
            results.append(
                EntryResult(item.index, item.kind, f"Patient/{patient_id}", patient_created)
            )
        elif (located := locations.get(item.index)) is not None:
            results.append(
                EntryResult(
                    item.index,
                    item.kind,
                    located.location,
                    located.created,
                    carries_records=carries,
                )
            )
        elif item.deletes:
            results.append(EntryResult(item.index, item.kind, None, deleted=True))
        elif item.source_id is not None and item.source_id in repeated:
            note = "the same fact is already stored (sent before under another id)"
            results.append(
                EntryResult(item.index, item.kind, None, note=note, carries_records=carries)
            )
        else:
            results.append(EntryResult(item.index, item.kind, None, carries_records=carries))
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

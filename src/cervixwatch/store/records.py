"""Saving a woman's clinical records and loading them back: the SQL between the domain and
the tables (no clinical logic here).

`save_records` merges records into what is stored, so sending the same records twice stores
nothing twice:
- a record with a source id (`source_id`: a FHIR resource id, a DICOM SOP Instance UID ...) is
  known by the identifier (`system`, `<table>/<source_id>`); sent again it updates its row
  (an amended result replaces the first), never adds one;
- a record without one is the same record as a stored one with equal values (a form sent
  twice), matched one to one, so two equal records sent together are both kept;
- records held inside a record (the reviews of a symptom report) are merged into the stored
  ones of its row the same way: by their own source id, else by equal values;
- codes (maternal conditions) are added once;
- the EDD, fetus count and birth date are replaced when the records give them, kept otherwise.

`load_records` gives the `PregnancyRecords` of a stored pregnancy, every part in the order it
was stored; `patient_id` is then CervixWatch's id for the woman.

A woman seen for the first time has nothing stored to merge with: her records are written
without reading anything first, and `Saved.records` gives them back as stored (what
`load_records` would read), so the reassessment need not read them again. Most bulk imports
are of such women, and each skipped read is a round trip to the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, insert, select
from sqlalchemy.orm import Session

from cervixwatch.clinical.gestation import TERM_DAYS
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.knowledge import codes as c
from cervixwatch.store.bulk_rows import insert_rows
from cervixwatch.store.identity import (
    IdentifierKey,
    IdentifierLike,
    claim_source_id,
    display_number,
    hospital_number_row,
    identifier_row,
    identifiers_of,
    main_name,
    merged_names,
    name_columns,
    refresh_hospital_number,
    source_id_row,
    with_main_name,
    women_by_identifiers,
)
from cervixwatch.store.mapping import RECORD_KINDS, ChildKind, RecordKind
from cervixwatch.store.models import (
    ComplicationRow,
    PatientIdentifierRow,
    PatientRow,
    PregnancyRow,
    PregnancyStatus,
    RecordSource,
    SourceIdentifierRow,
    new_id,
)
from cervixwatch.store.record_presence import kinds_with_rows

__all__ = [
    "IdentifierConflict",
    "NotFound",
    "PatientFields",
    "Saved",
    "StoredPregnancy",
    "default_identifier_system",
    "load_records",
    "load_stored",
    "lock_patient",
    "save_first_records",
    "save_records",
]


class NotFound(LookupError):
    """No such patient or pregnancy."""


class IdentifierConflict(ValueError):
    """A source identifier already names a record of another woman or another kind."""


@dataclass(frozen=True, slots=True)
class PatientFields:
    """Who the woman is. Her identifiers find her (`store.identity`); with none given, her
    hospital number is her identifier of the installation's system (`local_system`), typed MR.
    `names` are HumanName JSON objects with their uses (her main name gives `family_name` and
    `given_name`); `source` is who sent the identifiers that have no system (they name her only
    for that source)."""

    hospital_number: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    identifiers: tuple[IdentifierLike, ...] = ()
    names: tuple[dict[str, Any], ...] = ()
    gender: str | None = None
    local_system: str = c.DEFAULT_HOSPITAL_NUMBER_SYSTEM
    source: str | None = None
    #: Her id in `source` (a FHIR Patient.id there), to claim under the source's own system
    #: (`identity.source_system`) so the source's later Patients and references find her.
    source_id: str | None = None

    def identifier_rows(self, patient_id: str) -> list[dict[str, Any]]:
        """The column values of her identifier rows."""
        if self.identifiers:
            return [identifier_row(patient_id, i, self.source) for i in self.identifiers]
        if self.hospital_number is not None:
            return [hospital_number_row(patient_id, self.hospital_number, self.local_system)]
        return []

    def keys(self) -> list[IdentifierKey]:
        """What her identifiers are known by."""
        return [(row["system"], row["source"], row["value"]) for row in self.identifier_rows("")]

    def columns(self) -> dict[str, Any]:
        """Her names and gender as the patient row holds them (those sent)."""
        out: dict[str, Any] = {}
        family, given = self.family_name, self.given_name
        if self.names:
            family, given = name_columns(main_name(self.names))
        if family is not None:
            out["family_name"] = family
        if given is not None:
            out["given_name"] = given
        if self.gender is not None:
            out["gender"] = self.gender
        return out


@dataclass(frozen=True, slots=True)
class Saved:
    """What `save_records` wrote: her ids and, when known without reading them back, her
    records as now stored."""

    patient_id: str
    pregnancy_id: str
    #: The records as stored, given when she was new (nothing stored before these records);
    #: None: read them with `load_records`.
    records: PregnancyRecords | None = None
    #: {identifier value ("<table>/<source id>"): row id} of the identifiers this call claimed.
    claimed: dict[str, int] = field(default_factory=dict)
    #: {code: row id} of her maternal conditions and complications (the first of each), when
    #: she was new (what `exports.condition_rows` would read); None: read them.
    code_rows: dict[Any, int] | None = None
    #: Record rows written by plain INSERTs, which the session's change tracking
    #: (`exports.track_changes`) does not see: a new woman's records.
    inserted: int = 0
    #: {part: (row id, whether this call added the row) of each record of the part, in the
    #: order the records were given}: where each record went (a tuple part's).
    placed: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)
    #: Whether this call started her active pregnancy.
    pregnancy_created: bool = False


def default_identifier_system(patient_id: str, source: RecordSource) -> str:
    """The identifier system of records whose source gives ids unique only to the woman's own
    records (a Bundle from a file, a form): scoped to her, so ids reused across patients
    ("cl-1" in every exported Bundle) never clash. A FHIR server's base URL is the better
    system when the records came from one."""
    return f"urn:cervixwatch:patient:{patient_id}:{source.value}"


def lock_patient(session: Session, patient_id: str) -> None:
    """Hold the woman's row until the transaction ends (PostgreSQL), so two writes of her data
    (or a write and a recomputed assessment) run one after the other. SQLite needs no row
    lock: `database.transaction` takes the database's write lock when it begins."""
    session.execute(select(PatientRow.id).where(PatientRow.id == patient_id).with_for_update())


# --- loading ------------------------------------------------------------------------------------


def _owner_column(kind: RecordKind[Any, Any]) -> Any:
    return getattr(kind.table, f"{kind.owner}_id")


@cache
def _stored_query(kind: RecordKind[Any, Any]) -> Select[Any]:
    # Built once per kind: building the statement costs more than running it.
    query = select(kind.table).where(_owner_column(kind) == bindparam("owner_id"))
    if kind.current is not None:
        query = query.where(kind.current())
    return query.order_by(kind.table.id)


def _stored(session: Session, kind: RecordKind[Any, Any], owner_id: str) -> list[Any]:
    """The rows of `kind` that belong to the records, in the order they were stored."""
    return list(session.scalars(_stored_query(kind), {"owner_id": owner_id}))


def load_records(session: Session, pregnancy_id: str) -> PregnancyRecords:
    """The records of one stored pregnancy, as `assess` reads them."""
    pregnancy = session.get(PregnancyRow, pregnancy_id)
    if pregnancy is None:
        raise NotFound(f"no pregnancy {pregnancy_id}")
    patient = session.get(PatientRow, pregnancy.patient_id)
    assert patient is not None, "a pregnancy's patient exists (foreign key)"
    rows, _ = _rows_of(session, patient, pregnancy)
    return _records_of_rows(patient, pregnancy, rows)


def _rows_of(
    session: Session, patient: PatientRow, pregnancy: PregnancyRow
) -> tuple[dict[str, list[Any]], list[Any]]:
    """The rows of each part of the pregnancy's records, her history as of this pregnancy;
    and, for an ended pregnancy, the previous-pregnancy rows that record its own end."""
    owners = {"patient": [patient.id], "pregnancy": [pregnancy.id]}
    present = kinds_with_rows(session, owners)
    rows = {
        kind.field: _stored(session, kind, owners[kind.owner][0]) if kind.field in present else []
        for kind in RECORD_KINDS
    }
    everything = rows["prior_pregnancies"]
    rows["prior_pregnancies"] = history_of(pregnancy, everything)
    ended_on = pregnancy.ended_on
    own = [
        p
        for p in everything
        if ended_on is not None
        and (p.ended_year, p.ended_month, p.ended_day)
        == (ended_on.year, ended_on.month, ended_on.day)
        and p not in rows["prior_pregnancies"]
    ]
    return rows, own


def history_of(pregnancy: PregnancyRow, priors: list[Any]) -> list[Any]:
    """Her previous pregnancies as the history of `pregnancy`. Those of an ended pregnancy
    are the ones that ended before it began (its EDD - 280 days; its end, when it has no
    EDD): its own outcome, which closing it recorded as a previous pregnancy of hers for the
    next one, and any later pregnancy's, are not its history. A date known only to the year
    or month counts as before unless its earliest possible day is not. An active pregnancy's
    history is every previous pregnancy of hers: one dated inside it contradicts it and is
    kept, read and shown, rather than dropped unseen."""
    if pregnancy.status != PregnancyStatus.ENDED:
        return priors
    began = pregnancy.edd - dt.timedelta(days=TERM_DAYS) if pregnancy.edd else pregnancy.ended_on
    if began is None:
        return priors
    return [
        p
        for p in priors
        if p.ended_year is None
        or dt.date(p.ended_year, p.ended_month or 1, p.ended_day or 1) < began
    ]


@dataclass(frozen=True, slots=True)
class StoredPregnancy:
    """A stored pregnancy as one read gives it: her and its rows, each part's current rows in
    stored order (`rows`, by `PregnancyRecords` field: what the records were made of, so a
    page can show a record's id, source and times beside what `assess` read) and the records."""

    patient: PatientRow
    pregnancy: PregnancyRow
    rows: dict[str, list[Any]]
    records: PregnancyRecords
    #: An ended pregnancy's own outcome: the previous-pregnancy rows dated the day it ended,
    #: which are her history for the next pregnancy, not this one's (`history_of`).
    own_outcome: tuple[Any, ...] = ()


def load_stored(session: Session, pregnancy_id: str) -> StoredPregnancy:
    """`load_records`, keeping the rows the records were made of (the same statements)."""
    pregnancy = session.get(PregnancyRow, pregnancy_id)
    if pregnancy is None:
        raise NotFound(f"no pregnancy {pregnancy_id}")
    patient = session.get(PatientRow, pregnancy.patient_id)
    assert patient is not None, "a pregnancy's patient exists (foreign key)"
    rows, own = _rows_of(session, patient, pregnancy)
    records = _records_of_rows(patient, pregnancy, rows)
    return StoredPregnancy(patient, pregnancy, rows, records, tuple(own))


def _records_of_rows(
    patient: PatientRow | SimpleNamespace,
    pregnancy: PregnancyRow | SimpleNamespace,
    rows: dict[str, list[Any]],
) -> PregnancyRecords:
    """The records held by `rows` ({part: its current rows in stored order})."""
    parts: dict[str, Any] = {}
    for kind in RECORD_KINDS:
        items = [kind.record(row) for row in rows.get(kind.field, ())]
        parts[kind.field] = frozenset(items) if kind.is_set else tuple(items)
    return PregnancyRecords(
        patient_id=patient.id,
        edd=pregnancy.edd,
        fetuses=pregnancy.fetuses,
        chorionicity=pregnancy.chorionicity,
        dating_method=pregnancy.dating_method,
        birth_date=patient.birth_date,
        notes=tuple(pregnancy.notes),
        **parts,
    )


# --- saving -------------------------------------------------------------------------------------


def _find_patient(
    session: Session, fields: PatientFields, patient_id: str | None
) -> PatientRow | None:
    """The woman `patient_id` names, else the one her identifiers name, her row locked
    (PostgreSQL) until the transaction ends; None if there is none."""
    if patient_id is None:
        women = set(women_by_identifiers(session, fields.keys()).values())
        if len(women) > 1:
            raise IdentifierConflict("her identifiers name more than one stored woman")
        if not women:
            return None
        patient_id = women.pop()
    query = select(PatientRow).where(PatientRow.id == patient_id)
    return session.scalars(query.with_for_update()).one_or_none()


def _patient(
    session: Session, patient: PatientRow | None, fields: PatientFields, records: PregnancyRecords
) -> PatientRow:
    """Her row (`patient`, found) with what the records say, or a new one, with her
    identifiers."""
    created = patient is None
    if patient is None:
        patient = PatientRow(id=new_id(), names=[])
        session.add(patient)
    for column, value in fields.columns().items():
        setattr(patient, column, value)
    if fields.names:
        patient.names = merged_names(patient.names, fields.names)
    elif patient.names and (fields.family_name is not None or fields.given_name is not None):
        patient.names = with_main_name(patient.names, patient.family_name, patient.given_name)
    if records.birth_date is not None:
        patient.birth_date = records.birth_date
    # Inserted before her records and identifiers: the rows have no ORM relationships to order
    # them by.
    session.flush()
    have = set() if created else _keys_of(session, patient)
    added = [
        row
        for row in fields.identifier_rows(patient.id)
        if (row["system"], row["source"], row["value"]) not in have
    ]
    if added:
        session.execute(insert(PatientIdentifierRow), added)
        refresh_hospital_number(session, patient.id, fields.local_system)
        session.refresh(patient, ["hospital_number"])
    if fields.source is not None and fields.source_id is not None:
        claim_source_id(session, patient.id, fields.source, fields.source_id)
    return patient


def _keys_of(session: Session, patient: PatientRow) -> set[IdentifierKey]:
    stored = identifiers_of(session, [patient.id]).get(patient.id, [])
    return {(r.system, r.source if r.system is None else None, r.value) for r in stored}


def _pregnancy(
    session: Session, patient_id: str, records: PregnancyRecords, *, new_patient: bool
) -> tuple[PregnancyRow, bool]:
    """Her active pregnancy, started if she has none (and whether it was), with the dating the
    records give."""
    pregnancy = None
    if not new_patient:
        query = select(PregnancyRow).where(
            PregnancyRow.patient_id == patient_id, PregnancyRow.status == PregnancyStatus.ACTIVE
        )
        pregnancy = session.scalars(query).one_or_none()
    created = pregnancy is None
    if pregnancy is None:
        pregnancy = PregnancyRow(
            id=new_id(), patient_id=patient_id, status=PregnancyStatus.ACTIVE, notes=[]
        )
        session.add(pregnancy)
    if records.edd is not None:
        # The method goes with the EDD it dated: a new EDD sent without one leaves it
        # unknown; the same EDD sent without one keeps the method recorded.
        if records.edd != pregnancy.edd or records.dating_method is not None:
            pregnancy.dating_method = records.dating_method
        pregnancy.edd = records.edd
    if records.fetuses is not None:
        pregnancy.fetuses = records.fetuses
    if records.chorionicity is not None:
        pregnancy.chorionicity = records.chorionicity
    new_notes = [n for n in records.notes if n not in pregnancy.notes]
    if new_notes:
        # A new list, so the change is seen (JSON columns do not track mutation in place).
        pregnancy.notes = [*pregnancy.notes, *new_notes]
    session.flush()  # before her records: the rows have no ORM relationships to order them by
    return pregnancy, created


@dataclass(slots=True)
class _Identity:
    """The (system, value) a record is known by, and the woman it belongs to."""

    session: Session
    system: str
    patient_id: str

    def find(self, table: str, values: Iterable[str]) -> dict[str, SourceIdentifierRow]:
        wanted = sorted({f"{table}/{v}" for v in values})
        if not wanted:
            return {}
        query = select(SourceIdentifierRow).where(
            SourceIdentifierRow.system == self.system, SourceIdentifierRow.value.in_(wanted)
        )
        found = {i.value: i for i in self.session.scalars(query)}
        for identifier in found.values():
            if identifier.patient_id != self.patient_id:
                raise IdentifierConflict(
                    f"{self.system}|{identifier.value} already names a record of another patient"
                )
        return found

    def claim(self, table: str, source_id: str, row_id: str) -> None:
        self.session.add(
            SourceIdentifierRow(
                patient_id=self.patient_id,
                system=self.system,
                value=f"{table}/{source_id}",
                table_name=table,
                row_id=row_id,
            )
        )


def _merge_part(
    session: Session,
    kind: RecordKind[Any, Any],
    items: list[Any],
    owner_id: str,
    source: RecordSource,
    identity: _Identity,
    *,
    new_owner: bool,
) -> tuple[list[Any], list[tuple[str, dict[str, Any]]], list[Any]]:
    """Merge `items` into the owner's stored rows of `kind`. Returns the rows added, in order;
    per table, the rows added with a source id ({source id: row}), to claim once they have
    ids; and the row each item is stored in, in the order of `items`."""
    table = kind.table_name
    stored = [] if new_owner else _stored(session, kind, owner_id)
    by_id = {row.id: row for row in stored}
    unmatched = [(kind.bare(kind.record(row)), row) for row in stored]
    known = identity.find(table, (ref for item in items if (ref := kind.source_id(item))))
    rows: list[Any] = []
    added: dict[str, Any] = {}  # source id -> new row
    placed: list[tuple[Any, Any]] = []  # (record, the row it is stored in)
    for item in items:
        ref = kind.source_id(item)
        if ref is not None and ref in added:
            # The same source record twice in one batch: the later one stands.
            for column, value in kind.columns(item).items():
                setattr(added[ref], column, value)
            placed.append((item, added[ref]))
            continue
        if ref is not None and (identifier := known.get(f"{table}/{ref}")) is not None:
            row = by_id.get(int(identifier.row_id)) or session.get(
                kind.table, int(identifier.row_id)
            )
            if row is not None:
                for column, value in kind.columns(item).items():
                    setattr(row, column, value)
                placed.append((item, row))
                continue
            # The row was deleted since: store the record again under the same identifier.
            session.delete(identifier)
            session.flush()
        elif ref is None:
            bare = kind.bare(item)
            match = next((i for i, (record, _) in enumerate(unmatched) if record == bare), None)
            if match is not None:
                placed.append((item, unmatched[match][1]))
                del unmatched[match]
                continue
        row = kind.table(**{f"{kind.owner}_id": owner_id, "source": source, **kind.columns(item)})
        session.add(row)
        rows.append(row)
        placed.append((item, row))
        if ref is not None:
            added[ref] = row
    to_claim = [(table, added)]
    for child in kind.children:
        added_children = _merge_children(session, child, placed, source, identity)
        to_claim.append((child.table_name, added_children))
    return rows, to_claim, [row for _, row in placed]


def _merge_children(
    session: Session,
    child: ChildKind[Any, Any],
    placed: list[tuple[Any, Any]],
    source: RecordSource,
    identity: _Identity,
) -> dict[str, Any]:
    """Merge the records held inside each record (`child.field`) into its row's stored ones
    (the relationship of the same name). Returns the rows added with a source id."""
    table = child.table_name
    wanted = [(item, row) for item, row in placed if getattr(item, child.field)]
    known = identity.find(
        table,
        (v.source_id for item, _ in wanted for v in getattr(item, child.field) if v.source_id),
    )
    added: dict[str, Any] = {}
    unmatched: dict[int, list[tuple[Any, Any]]] = {}  # parent row -> its stored children
    for item, parent in wanted:
        stored = getattr(parent, child.field)
        if id(parent) not in unmatched:
            unmatched[id(parent)] = [(child.record(r), r) for r in stored]
        candidates = unmatched[id(parent)]
        for value in getattr(item, child.field):
            ref = value.source_id
            if ref is not None and ref in added:
                for column, column_value in child.columns(value).items():
                    setattr(added[ref], column, column_value)
                continue
            if ref is not None and (identifier := known.get(f"{table}/{ref}")) is not None:
                row = session.get(child.table, int(identifier.row_id))
                if row is not None:
                    for column, column_value in child.columns(value).items():
                        setattr(row, column, column_value)
                    continue
                session.delete(identifier)
                session.flush()
            elif ref is None:
                match = next((i for i, (r, _) in enumerate(candidates) if r == value), None)
                if match is not None:
                    del candidates[match]
                    continue
            row = child.table(source=source, **child.columns(value))
            stored.append(row)  # inserted with its parent, which names it
            if ref is not None:
                added[ref] = row
    return added


def save_records(
    session: Session,
    patient: PatientFields,
    records: PregnancyRecords,
    *,
    source: RecordSource = RecordSource.FORM,
    identifier_system: str | None = None,
    new_patient: bool = False,
    patient_id: str | None = None,
) -> Saved:
    """Merge `records` into the woman's stored data and her active pregnancy (started if she
    has none). Call inside `database.transaction`, and reassess in the same transaction
    (`app.reassessing.write_records` does both).

    `patient_id`: the stored woman the records are hers (the caller found her); else she is
    found by her identifiers (`PatientFields`). `new_patient`: the caller has looked for her
    in this transaction and found no one, so she is registered without looking again (should
    another writer register her meanwhile, her identifiers' unique constraints refuse this
    transaction)."""
    existing = None if new_patient else _find_patient(session, patient, patient_id)
    if existing is None and identifier_system is None:
        # Nothing stored to merge with, and no identifier that could be taken already.
        return save_first_records(session, [(patient, records)], source)[0]
    # Autoflush off: every query here reads what was stored before this call, and the new
    # rows go to the database together at the end (one INSERT per table).
    new_patient = existing is None
    with session.no_autoflush:
        patient_row = _patient(session, existing, patient, records)
        pregnancy, pregnancy_created = _pregnancy(
            session, patient_row.id, records, new_patient=new_patient
        )
        system = identifier_system or default_identifier_system(patient_row.id, source)
        identity = _Identity(session, system, patient_row.id)
        rows: dict[str, list[Any]] = {}
        item_rows: dict[str, list[Any]] = {}
        to_claim: list[tuple[str, dict[str, Any]]] = []
        # Her id in the source (a FHIR Patient id), so the source's references find her.
        source_patient_id = records.patient_id
        if (
            source_patient_id
            and source_patient_id != patient_row.id
            and not identity.find("patients", [source_patient_id])
        ):
            to_claim.append(("patients", {source_patient_id: patient_row}))
        for kind in RECORD_KINDS:
            owner_id = patient_row.id if kind.owner == "patient" else pregnancy.id
            items = list(kind.records_of(records))
            if items:
                rows[kind.field], claims, item_rows[kind.field] = _merge_part(
                    session, kind, items, owner_id, source, identity, new_owner=new_patient
                )
                to_claim.extend(claims)
    session.flush()  # assigns the new rows' ids
    claimed: dict[str, int] = {}
    for table, added in to_claim:
        for ref, row in added.items():
            identity.claim(table, ref, str(row.id))
            if table != "patients":
                claimed[f"{table}/{ref}"] = row.id
    session.flush()
    stored = _records_of_rows(patient_row, pregnancy, rows) if new_patient else None
    placed = {
        part: [(row.id, any(row is new for new in rows[part])) for row in placed_rows]
        for part, placed_rows in item_rows.items()
    }
    return Saved(
        patient_row.id,
        pregnancy.id,
        stored,
        claimed,
        placed=placed,
        pregnancy_created=pregnancy_created,
    )


# --- a woman's first records: plain INSERTs ----------------------------------------------------


def _table(model: Any) -> Table:
    return cast("Table", model.__table__)


def _first_rows(
    kind: RecordKind[Any, Any], items: list[Any]
) -> tuple[list[dict[str, Any]], list[str | None], list[dict[str, list[Any]]], list[int]]:
    """The column values of the rows `items` become, in order, each row's source id, the
    records each row holds inside it ({child field: records}), and the row of each item: the
    same source record twice in one batch is one row, at its first place, with the values of
    the later (an amended result replaces the first) and the records inside both."""
    values: list[dict[str, Any]] = []
    refs: list[str | None] = []
    inside: list[dict[str, list[Any]]] = []
    positions: list[int] = []
    place: dict[str, int] = {}
    for item in items:
        ref = kind.source_id(item)
        held = {child.field: list(getattr(item, child.field)) for child in kind.children}
        if ref is not None and ref in place:
            values[place[ref]].update(kind.columns(item))
            for name, more in held.items():
                inside[place[ref]][name].extend(more)
            positions.append(place[ref])
            continue
        if ref is not None:
            place[ref] = len(values)
        positions.append(len(values))
        values.append(kind.columns(item))
        refs.append(ref)
        inside.append(held)
    return values, refs, inside, positions


class _FirstRows:
    """One new woman's rows as `save_first_records` writes them: her patient and pregnancy
    rows, the identifiers to claim, and each part's rows once their ids are known."""

    def __init__(self, fields: PatientFields, records: PregnancyRecords, source: RecordSource):
        self.records = records
        self.patient_id, self.pregnancy_id = new_id(), new_id()
        self.identifier_rows = fields.identifier_rows(self.patient_id)
        columns = fields.columns()
        self.patient = SimpleNamespace(
            id=self.patient_id,
            hospital_number=display_number(
                [SimpleNamespace(**row) for row in self.identifier_rows], fields.local_system
            ),
            family_name=columns.get("family_name"),
            given_name=columns.get("given_name"),
            birth_date=records.birth_date,
            gender=fields.gender,
            names=[dict(n) for n in fields.names],
        )
        self.pregnancy = SimpleNamespace(
            id=self.pregnancy_id,
            patient_id=self.patient_id,
            status=PregnancyStatus.ACTIVE,
            edd=records.edd,
            fetuses=records.fetuses,
            chorionicity=records.chorionicity,
            dating_method=records.dating_method,
            notes=list(records.notes),
        )
        self.system = default_identifier_system(self.patient_id, source)
        self.source_ids: list[dict[str, Any]] = []
        if fields.source is not None and fields.source_id is not None:
            self.source_ids.append(source_id_row(self.patient_id, fields.source, fields.source_id))
        if records.patient_id and records.patient_id != self.patient_id:
            # Her id in the source (a FHIR Patient id), so the source's references find her.
            self.claim("patients", records.patient_id, self.patient_id)
        self.rows: dict[str, list[Any]] = {}
        self.claimed: dict[str, int] = {}
        self.code_rows: dict[Any, int] = {}
        self.placed: dict[str, list[tuple[int, bool]]] = {}
        self.inserted = 0

    def owner(self, kind: RecordKind[Any, Any]) -> dict[str, str]:
        owner_id = self.patient_id if kind.owner == "patient" else self.pregnancy_id
        return {f"{kind.owner}_id": owner_id}

    def claim(self, table: str, source_id: str, row_id: str) -> None:
        self.source_ids.append(_identifier(self.patient_id, self.system, table, source_id, row_id))

    def saved(self) -> Saved:
        return Saved(
            self.patient_id,
            self.pregnancy_id,
            _records_of_rows(self.patient, self.pregnancy, self.rows),
            self.claimed,
            code_rows=self.code_rows,
            inserted=self.inserted,
            placed=self.placed,
            pregnancy_created=True,
        )


def _first_children(
    connection: Any,
    child: ChildKind[Any, Any],
    parents: list[tuple[_FirstRows, list[tuple[int, list[Any]]]]],
    source: RecordSource,
) -> dict[int, list[SimpleNamespace]]:
    """Insert the records held inside new women's records (`parents`: each woman's
    (parent row id, held records)): {parent row id: child rows as stored, in order}, each
    child with a source id claimed for its woman. The same source record twice in one woman's
    records is one row, with the later values, under the later parent."""
    values: list[dict[str, Any]] = []
    refs: list[tuple[_FirstRows, str] | None] = []
    for woman, held_by_parent in parents:
        place: dict[str, int] = {}
        for parent_id, held in held_by_parent:
            for value in held:
                columns = {child.parent_column: parent_id, "source": source, **child.columns(value)}
                ref = value.source_id
                if ref is not None and ref in place:
                    values[place[ref]].update(columns)
                    continue
                if ref is not None:
                    place[ref] = len(values)
                values.append(columns)
                refs.append(None if ref is None else (woman, ref))
    if not values:
        return {}
    ids = insert_rows(connection, _table(child.table), values, ids=True)
    by_parent: dict[int, list[SimpleNamespace]] = {}
    for columns, row_id, named in zip(values, ids, refs, strict=True):
        by_parent.setdefault(columns[child.parent_column], []).append(
            SimpleNamespace(id=row_id, **columns)
        )
        if named is not None:
            woman, ref = named
            woman.claim(child.table_name, ref, str(row_id))
            woman.claimed[f"{child.table_name}/{ref}"] = row_id
    return by_parent


def _first_part(
    connection: Any, kind: RecordKind[Any, Any], women: list[_FirstRows], source: RecordSource
) -> None:
    """Insert one part's rows for every woman of `women` (one INSERT, and one per kind of
    record held inside), giving each woman her rows, their places and claims."""
    written: list[tuple[_FirstRows, list[dict[str, Any]], list[str | None], Any, list[int]]] = []
    for woman in women:
        items = list(kind.records_of(woman.records))
        if items:
            values, refs, inside, positions = _first_rows(kind, items)
            stored = [{**woman.owner(kind), "source": source, **v} for v in values]
            written.append((woman, stored, refs, inside, positions))
    if not written:
        return
    all_ids = insert_rows(
        connection,
        _table(kind.table),
        [row for _, stored, _, _, _ in written for row in stored],
        ids=True,
    )
    parents: dict[str, list[tuple[_FirstRows, list[tuple[int, list[Any]]]]]] = {
        child.field: [] for child in kind.children
    }
    at = 0
    for woman, stored, refs, inside, positions in written:
        ids = all_ids[at : at + len(stored)]
        at += len(stored)
        rows = [SimpleNamespace(id=i, **v) for v, i in zip(stored, ids, strict=True)]
        woman.rows[kind.field] = rows
        woman.placed[kind.field] = [(ids[p], True) for p in positions]
        woman.inserted += len(stored)
        if kind.is_set:
            for row, row_id in zip(rows, ids, strict=True):
                woman.code_rows.setdefault(kind.record(row), row_id)
        elif kind.table is ComplicationRow:
            # A condition sent without an id is found by its code (`exports.condition_rows`).
            for row, row_id in zip(rows, ids, strict=True):
                woman.code_rows.setdefault(row.complication, row_id)
        for ref, row_id in zip(refs, ids, strict=True):
            if ref is not None:
                woman.claim(kind.table_name, ref, str(row_id))
                woman.claimed[f"{kind.table_name}/{ref}"] = row_id
        for child in kind.children:
            held = [(row_id, h[child.field]) for row_id, h in zip(ids, inside, strict=True)]
            parents[child.field].append((woman, held))
    for child in kind.children:
        by_parent = _first_children(connection, child, parents[child.field], source)
        for woman, _, _, _, _ in written:
            for row in woman.rows[kind.field]:
                children = by_parent.get(row.id, [])
                setattr(row, child.field, children)
                woman.inserted += len(children)


def save_first_records(
    session: Session,
    women: Sequence[tuple[PatientFields, PregnancyRecords]],
    source: RecordSource,
) -> list[Saved]:
    """Register women seen for the first time, each with her records and a new pregnancy:
    what each woman's `Saved` says, in the order given.

    With nothing stored to merge with, every row is new: one INSERT per table for all the
    women together, through the session's connection (the ORM's unit of work, which tracks
    each object, cost more than the database did), the ids of rows with a source id taken
    from RETURNING, and the records given back as stored without reading them. A bulk import
    registers a batch of new women in one call (`app.registering`): a round trip per table
    instead of per table and woman. Should another writer have registered one of them
    meanwhile, her identifiers' unique constraints refuse the caller's transaction."""
    connection = session.connection()
    firsts = [_FirstRows(fields, records, source) for fields, records in women]
    if not firsts:
        return []
    insert_rows(connection, _table(PatientRow), [vars(w.patient) for w in firsts])
    identifier_rows = [row for w in firsts for row in w.identifier_rows]
    insert_rows(connection, _table(PatientIdentifierRow), identifier_rows)
    insert_rows(connection, _table(PregnancyRow), [vars(w.pregnancy) for w in firsts])
    for kind in RECORD_KINDS:
        _first_part(connection, kind, firsts, source)
    source_ids = [row for w in firsts for row in w.source_ids]
    insert_rows(connection, _table(SourceIdentifierRow), source_ids)
    return [w.saved() for w in firsts]


def _identifier(
    patient_id: str, system: str, table: str, source_id: str, row_id: str
) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "system": system,
        "value": f"{table}/{source_id}",
        "table_name": table,
        "row_id": row_id,
    }

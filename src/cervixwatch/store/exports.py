"""Reading women's stored records together with the rows they come from, for the FHIR facade:
exporting them (each record named by its row, so a resource id found in an export can be read
back), finding who a reference names, and counting what an import changed.

The records are built exactly as `records.load_records` builds them (the same kinds, rows,
filters and order), so an export is what `assess` reads for the pregnancy. Many women are
loaded with one query per kind of record (`load_exports`), not one per woman.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, event, func, select
from sqlalchemy.orm import Session

from cervixwatch.access.principal import Scope
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.store.accounts import in_scope
from cervixwatch.store.crud import plausible_id, plausible_row_id
from cervixwatch.store.identity import identifier_search, identifiers_of
from cervixwatch.store.mapping import (
    MATERNAL_CONDITIONS,
    RECORD_KINDS,
    RecordKind,
)
from cervixwatch.store.models import (
    Base,
    ComplicationRow,
    PatientIdentifierRow,
    PatientRow,
    PregnancyRow,
    PregnancyStatus,
    RecordSource,
    SourceIdentifierRow,
)
from cervixwatch.store.record_presence import kinds_with_rows

__all__ = [
    "KINDS_BY_TABLE",
    "Changes",
    "PatientExport",
    "RowRef",
    "condition_rows",
    "identified_rows",
    "load_exports",
    "own_rows",
    "patients_by_reference",
    "patients_by_source_id",
    "pregnancy_owner",
    "row_owner",
    "search_patients",
    "track_changes",
]

#: Rows read per query when many women are loaded (an IN list of this many ids).
CHUNK = 500

KINDS_BY_TABLE: Mapping[str, RecordKind[Any, Any]] = {k.table_name: k for k in RECORD_KINDS}
#: {table of records held inside records: (the kind that holds them, their field)}.
CHILD_TABLES: Mapping[str, tuple[RecordKind[Any, Any], str]] = {
    child.table_name: (kind, child.field) for kind in RECORD_KINDS for child in kind.children
}


@dataclass(frozen=True, slots=True)
class RowRef:
    """The row a record was loaded from: its table, id, and where it came from."""

    table: str
    row_id: int
    source: RecordSource
    source_ref: str | None


@dataclass(frozen=True, slots=True)
class PatientExport:
    """A woman as registered and the records of one of her pregnancies (or, with none, her
    own history), each tuple part of `records` with the rows it came from, in the same order
    (`rows[field][i]` is the row of `records.<field>[i]`), the records held inside them with
    theirs (`inside[field][i]`: {child field: rows}, e.g. the reviews of a symptom report),
    and each code of a set part with its row (`codes[field][code]`)."""

    patient_id: str
    hospital_number: str | None
    family_name: str | None
    given_name: str | None
    birth_date: dt.date | None
    pregnancy_id: str | None
    records: PregnancyRecords
    rows: Mapping[str, tuple[RowRef, ...]] = field(default_factory=dict)
    codes: Mapping[str, Mapping[Any, RowRef]] = field(default_factory=dict)
    inside: Mapping[str, tuple[Mapping[str, tuple[RowRef, ...]], ...]] = field(default_factory=dict)
    #: Her identifiers (in the order stored), HumanNames with their uses (empty: her name is
    #: `family_name` and `given_name`) and administrative gender.
    identifiers: tuple[PatientIdentifierRow, ...] = ()
    names: tuple[Mapping[str, Any], ...] = ()
    gender: str | None = None


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _default_pregnancies(session: Session, patient_ids: Sequence[str]) -> dict[str, PregnancyRow]:
    """Each woman's active pregnancy, else the one recorded last."""
    chosen: dict[str, PregnancyRow] = {}
    for chunk in _chunks(patient_ids):
        query = (
            select(PregnancyRow)
            .where(PregnancyRow.patient_id.in_(chunk))
            .order_by(
                PregnancyRow.patient_id,
                case((PregnancyRow.status == PregnancyStatus.ACTIVE, 0), else_=1),
                PregnancyRow.created_at.desc(),
                PregnancyRow.id.desc(),
            )
        )
        for pregnancy in session.scalars(query):
            chosen.setdefault(pregnancy.patient_id, pregnancy)
    return chosen


def _rows_by_owner(
    session: Session, kind: RecordKind[Any, Any], owner_ids: Sequence[str]
) -> dict[str, list[Any]]:
    """The rows of `kind` of each owner, as `records._stored` selects and orders them."""
    out: dict[str, list[Any]] = {}
    owner = getattr(kind.table, f"{kind.owner}_id")
    for chunk in _chunks(owner_ids):
        query = select(kind.table).where(owner.in_(chunk))
        if kind.current is not None:
            query = query.where(kind.current())
        for row in session.scalars(query.order_by(kind.table.id)):
            out.setdefault(getattr(row, f"{kind.owner}_id"), []).append(row)
    return out


def load_exports(
    session: Session,
    patient_ids: Sequence[str],
    *,
    pregnancies: Mapping[str, str] | None = None,
) -> list[PatientExport]:
    """The women of `patient_ids` that exist, in that order, each with her active (else latest)
    pregnancy's records, or the pregnancy `pregnancies[patient_id]` names."""
    wanted = [p for p in dict.fromkeys(patient_ids) if plausible_id(p)]
    patients: dict[str, PatientRow] = {}
    for chunk in _chunks(wanted):
        patients.update(
            (p.id, p) for p in session.scalars(select(PatientRow).where(PatientRow.id.in_(chunk)))
        )
    found = [p for p in wanted if p in patients]
    identifiers = identifiers_of(session, found)
    chosen = _default_pregnancies(session, found)
    for patient_id, pregnancy_id in (pregnancies or {}).items():
        pregnancy = session.get(PregnancyRow, pregnancy_id)
        if pregnancy is not None and pregnancy.patient_id == patient_id:
            chosen[patient_id] = pregnancy
    pregnancy_ids = [chosen[p].id for p in found if p in chosen]
    owners = {"patient": found, "pregnancy": pregnancy_ids}
    present = kinds_with_rows(session, owners) if len(found) <= CHUNK else None
    rows = {
        kind.field: _rows_by_owner(session, kind, owners[kind.owner])
        if present is None or kind.field in present
        else {}
        for kind in RECORD_KINDS
    }
    exports = []
    for patient_id in found:
        patient = patients[patient_id]
        pregnancy = chosen.get(patient_id)
        parts: dict[str, Any] = {}
        refs: dict[str, tuple[RowRef, ...]] = {}
        codes: dict[str, dict[Any, RowRef]] = {}
        inside: dict[str, tuple[Mapping[str, tuple[RowRef, ...]], ...]] = {}
        for kind in RECORD_KINDS:
            owner_id = patient_id if kind.owner == "patient" else (pregnancy and pregnancy.id)
            kind_rows = rows[kind.field].get(owner_id, []) if owner_id else []
            items = [kind.record(row) for row in kind_rows]
            row_refs = tuple(
                RowRef(kind.table_name, row.id, row.source, row.source_ref) for row in kind_rows
            )
            if kind.is_set:
                parts[kind.field] = frozenset(items)
                codes[kind.field] = {}
                for item, ref in zip(items, row_refs, strict=True):
                    codes[kind.field].setdefault(item, ref)
            else:
                parts[kind.field] = tuple(items)
                refs[kind.field] = row_refs
            if kind.children:
                inside[kind.field] = tuple(
                    {
                        child.field: tuple(
                            RowRef(child.table_name, held.id, held.source, held.source_ref)
                            for held in getattr(row, child.field)
                        )
                        for child in kind.children
                    }
                    for row in kind_rows
                )
        records = PregnancyRecords(
            patient_id=patient.id,
            edd=pregnancy.edd if pregnancy else None,
            fetuses=pregnancy.fetuses if pregnancy else None,
            chorionicity=pregnancy.chorionicity if pregnancy else None,
            dating_method=pregnancy.dating_method if pregnancy else None,
            birth_date=patient.birth_date,
            notes=tuple(pregnancy.notes) if pregnancy else (),
            **parts,
        )
        exports.append(
            PatientExport(
                patient_id=patient.id,
                hospital_number=patient.hospital_number,
                family_name=patient.family_name,
                given_name=patient.given_name,
                birth_date=patient.birth_date,
                pregnancy_id=pregnancy.id if pregnancy else None,
                records=records,
                rows=refs,
                codes=codes,
                inside=inside,
                identifiers=tuple(identifiers.get(patient_id, ())),
                names=tuple(patient.names or ()),
                gender=patient.gender.value if patient.gender is not None else None,
            )
        )
    return exports


def search_patients(
    session: Session,
    *,
    ids: Sequence[str] | None = None,
    scope: Scope | None = None,
    identifiers: Sequence[Sequence[tuple[str | None, str | None]]] | None = None,
    family: str | None = None,
    given: str | None = None,
    birth_date: dt.date | None = None,
    limit: int,
    offset: int,
) -> tuple[list[PatientRow], int]:
    """The women `scope` may see (None: all) matching every criterion given (ids;
    identifiers, each list of tokens one parameter as `identity.identifier_search` reads it;
    names starting with `family`/`given` case-insensitively; birth date), by name: one page
    and the total, both in SQL."""
    where: list[ColumnElement[bool]] = []
    if ids is not None:
        where.append(PatientRow.id.in_([i for i in ids if plausible_id(i)]))
    if scope is not None:
        where.append(in_scope(PatientRow.id, scope))
    for tokens in identifiers or ():
        where.append(identifier_search(tokens))
    for column, prefix in ((PatientRow.family_name, family), (PatientRow.given_name, given)):
        if prefix is not None:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(func.lower(column).like(escaped.lower() + "%", escape="\\"))
    if birth_date is not None:
        where.append(PatientRow.birth_date == birth_date)
    total = session.scalar(select(func.count()).select_from(PatientRow).where(*where)) or 0
    query = (
        select(PatientRow)
        .where(*where)
        .order_by(
            PatientRow.family_name.asc().nulls_last(),
            PatientRow.given_name.asc().nulls_last(),
            PatientRow.hospital_number,
            PatientRow.id,
        )
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query)), int(total)


def patients_by_reference(session: Session, reference: str) -> set[str]:
    """The women a reference names: `Patient/<id>` (or a URL ending so, or the bare id) with
    CervixWatch's id for her, else the id a source knew her by when her records were imported
    (several women, if several sources used the same id)."""
    target = reference.split("/_history/")[0]
    parts = target.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != "Patient":
        return set()
    value = parts[-1]
    if not value:
        return set()
    if plausible_id(value) and session.get(PatientRow, value) is not None:
        return {value}
    return patients_by_source_id(session, value)


def patients_by_source_id(session: Session, source_id: str) -> set[str]:
    """The women a source (a FHIR server or file) knew by `source_id` (her Patient id there),
    as recorded when her records were imported."""
    query = select(SourceIdentifierRow.patient_id).where(
        SourceIdentifierRow.table_name == "patients",
        SourceIdentifierRow.value == f"patients/{source_id}",
    )
    return set(session.scalars(query))


def row_owner(session: Session, table: str, row_id: int) -> tuple[str, str | None] | None:
    """(patient id, pregnancy id or None) of a stored record (or a record held inside one: a
    review of a symptom report); None if there is no such row."""
    if table in CHILD_TABLES and plausible_row_id(row_id):
        parent_kind, child_field = CHILD_TABLES[table]
        child = next(c for c in parent_kind.children if c.field == child_field)
        held = session.get(child.table, row_id)
        if held is None:
            return None
        return row_owner(session, parent_kind.table_name, getattr(held, child.parent_column))
    kind = KINDS_BY_TABLE.get(table)
    if kind is None or not plausible_row_id(row_id):
        return None
    row = session.get(kind.table, row_id)
    if row is None:
        return None
    if kind.owner == "patient":
        return str(row.patient_id), None
    pregnancy = session.get(PregnancyRow, row.pregnancy_id)
    assert pregnancy is not None, "a record's pregnancy exists (foreign key)"
    return pregnancy.patient_id, pregnancy.id


def pregnancy_owner(session: Session, pregnancy_id: str) -> str | None:
    if not plausible_id(pregnancy_id):
        return None
    return session.scalar(select(PregnancyRow.patient_id).where(PregnancyRow.id == pregnancy_id))


def own_rows(
    session: Session, patient_id: str, wanted: Mapping[str, Sequence[int]]
) -> dict[tuple[str, int], tuple[RowRef, Any]]:
    """Of the rows `wanted` ({table: row ids}), those that are the woman's: each with its
    record as `load_records` gives it."""
    out: dict[tuple[str, int], tuple[RowRef, Any]] = {}
    for table, row_ids in wanted.items():
        ids = [i for i in row_ids if plausible_row_id(i)]
        if table in CHILD_TABLES and ids:
            out.update(_own_children(session, patient_id, table, ids))
            continue
        kind = KINDS_BY_TABLE.get(table)
        if kind is None or not ids:
            continue
        query = select(kind.table).where(kind.table.id.in_(ids))
        if kind.owner == "patient":
            query = query.where(kind.table.patient_id == patient_id)
        else:
            query = query.join(PregnancyRow, PregnancyRow.id == kind.table.pregnancy_id).where(
                PregnancyRow.patient_id == patient_id
            )
        if kind.current is not None:
            query = query.where(kind.current())
        for row in session.scalars(query):
            ref = RowRef(table, row.id, row.source, row.source_ref)
            out[(table, row.id)] = (ref, kind.record(row))
    return out


def _own_children(
    session: Session, patient_id: str, table: str, ids: Sequence[int]
) -> dict[tuple[str, int], tuple[RowRef, Any]]:
    """`own_rows` of a table of records held inside records (the reviews of her reports)."""
    parent_kind, child_field = CHILD_TABLES[table]
    child = next(c for c in parent_kind.children if c.field == child_field)
    parent = parent_kind.table
    query = (
        select(child.table)
        .join(parent, parent.id == getattr(child.table, child.parent_column))
        .join(PregnancyRow, PregnancyRow.id == parent.pregnancy_id)
        .where(child.table.id.in_(ids), PregnancyRow.patient_id == patient_id)
    )
    return {
        (table, row.id): (RowRef(table, row.id, row.source, row.source_ref), child.record(row))
        for row in session.scalars(query)
    }


def identified_rows(session: Session, system: str, values: Sequence[str]) -> dict[str, int]:
    """{value: row id} of the identifiers (`system`, value) that exist, of `values`."""
    found: dict[str, int] = {}
    wanted = sorted(set(values))
    for start in range(0, len(wanted), CHUNK):
        query = select(SourceIdentifierRow.value, SourceIdentifierRow.row_id).where(
            SourceIdentifierRow.system == system,
            SourceIdentifierRow.value.in_(wanted[start : start + CHUNK]),
        )
        found.update((value, int(row_id)) for value, row_id in session.execute(query))
    return found


def condition_rows(session: Session, patient_id: str, pregnancy_id: str) -> dict[Any, int]:
    """{code: row id} of her maternal conditions and the pregnancy's complications (the first
    row of each code), to name the stored row of a condition sent without an id."""
    found: dict[Any, int] = {}
    maternal = select(MATERNAL_CONDITIONS.table).where(
        MATERNAL_CONDITIONS.table.patient_id == patient_id
    )
    for row in session.scalars(maternal.order_by(MATERNAL_CONDITIONS.table.id)):
        found.setdefault(MATERNAL_CONDITIONS.record(row), row.id)
    complications = select(ComplicationRow.complication, ComplicationRow.id).where(
        ComplicationRow.pregnancy_id == pregnancy_id
    )
    for code, row_id in session.execute(complications.order_by(ComplicationRow.id)):
        found.setdefault(code, row_id)
    return found


@dataclass(slots=True)
class Changes:
    """How many record rows a unit of work added, changed (a value differs) and deleted."""

    created: int = 0
    updated: int = 0
    deleted: int = 0


_RECORD_TABLES = frozenset(
    (*(k.table for k in RECORD_KINDS), *(c.table for k in RECORD_KINDS for c in k.children))
)


@contextmanager
def track_changes(session: Session) -> Iterator[Changes]:
    """Count the record rows the session writes while the block runs (no queries)."""
    changes = Changes()

    def before_flush(session: Session, _context: Any, _instances: Any) -> None:
        def records(objects: Any) -> list[Base]:
            return [o for o in objects if type(o) in _RECORD_TABLES]

        changes.created += len(records(session.new))
        changes.updated += sum(
            1 for o in records(session.dirty) if session.is_modified(o, include_collections=False)
        )
        changes.deleted += len(records(session.deleted))

    event.listen(session, "before_flush", before_flush)
    try:
        yield changes
    finally:
        event.remove(session, "before_flush", before_flush)

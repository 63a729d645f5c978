"""What the records of an import are in the store, item by item: the stored rows that records
sent under CervixWatch's own ids are (`own_records`), what the input takes back as the store
retracts it (`retractions_of` a reader's `Withdrawals`), where each item went
(`entry_locations`: the id of the resource it is stored as), and facts already stored under
another id (`already_stored`).

`app.importing` runs the import; this is how its items are matched to what is stored. It reads
no input format: what it needs of each item, a reader says (`interop.intake.Item`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from sqlalchemy.orm import Session

from cervixwatch.app.exporting import (
    EXAM_PARTS,
    INSIDE_PREFIXES,
    TUPLE_PREFIXES,
    parse_resource_id,
)
from cervixwatch.clinical.records import (
    CervicalExam,
    Complication,
    DeclinableCode,
    PregnancyRecords,
)
from cervixwatch.interop.intake import Item, Withdrawals
from cervixwatch.knowledge.record_kinds import RECORD_KINDS as RECORD_KIND_NAMES
from cervixwatch.store.exports import (
    KINDS_BY_TABLE,
    condition_rows,
    identified_rows,
    own_rows,
)
from cervixwatch.store.mapping import RECORD_KINDS, declined_key
from cervixwatch.store.models import MedicationStatus, RecordSource
from cervixwatch.store.records import default_identifier_system
from cervixwatch.store.retractions import Retractions, claim_identifier

__all__ = [
    "Located",
    "already_stored",
    "entry_locations",
    "held_records",
    "own_records",
    "retractions_of",
    "table_of_part",
    "unnamed_locations",
]


# --- records under CervixWatch's own ids -------------------------------------------------------


def own_records(session: Session, patient_id: str, records: PregnancyRecords) -> PregnancyRecords:
    """Records sent under CervixWatch's own ids (`cl-17`, `review-3`): left out where they
    equal the stored record, else sent on under an id that names the stored row (so it is
    updated). A report is sent on while a review inside it is, so the review finds its row."""
    wanted: dict[str, list[int]] = {}
    for part in (*TUPLE_PREFIXES, "exams"):
        for item in getattr(records, part):
            for held in (item, *held_records(part, item)):
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


def held_records(part: str, item: Any) -> tuple[Any, ...]:
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

#: The store's table of each record part a reader names (`interop.intake.Part`).
_TABLE_OF_PART: Final[Mapping[str, str]] = {k.part: k.table for k in RECORD_KIND_NAMES}
_ENDED: Final[Mapping[str, MedicationStatus]] = {
    "stopped": MedicationStatus.STOPPED,
    "completed": MedicationStatus.COMPLETED,
}


def table_of_part(part: str) -> str:
    """The store's table of a record part a reader names."""
    return _TABLE_OF_PART[part]


def _keys(table: str, rid: str) -> list[str]:
    """What the records one resource `rid` may become in `table` are known by (the source
    ids the store keys them by): its id, or for declined offers its id with each code."""
    if table == "declined_decisions":
        return [key for code in DeclinableCode if (key := declined_key(rid, code.value))]
    return [rid]


def _kept_keys(records: PregnancyRecords) -> dict[str, set[str]]:
    """{table: the source keys of the records the input gives} (the reviews inside reports
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


def retractions_of(
    withdrawals: Withdrawals, records: PregnancyRecords, today: dt.date
) -> Retractions:
    """What a reader says the input takes back, as the store retracts it: by table and the
    keys its records are known by, less what the records now given hold; a resolution dated
    after `today` (or not dated) on `today`."""
    kept = _kept_keys(records)
    removed: dict[str, list[str]] = {}
    for part, ids in withdrawals.removed.items():
        table = _TABLE_OF_PART[part]
        for rid in ids:
            stale = [k for k in _keys(table, rid) if k not in kept.get(table, ())]
            if stale:
                removed.setdefault(table, []).extend(stale)
    return Retractions(
        removed=removed,
        medications={rid: (_ENDED[how], on) for rid, (how, on) in withdrawals.ended_orders.items()},
        resolved={
            k: today if day is None else min(day, today) for k, day in withdrawals.resolved.items()
        },
        refuted_complications=withdrawals.refuted_complications,
        refuted_maternal=withdrawals.refuted_maternal,
    )


# --- where each entry went ----------------------------------------------------------------------


_PREFIX_OF_TABLE: Final = {
    table: prefix
    for prefix, table in (
        *TUPLE_PREFIXES.values(),
        *(pair for inside in INSIDE_PREFIXES.values() for pair in inside.values()),
    )
}
_PART_OF_TABLE: Final = {table: part for part, (_prefix, table) in TUPLE_PREFIXES.items()}


@dataclass(frozen=True, slots=True)
class Located:
    """Where an item went: the resource it is stored as (Type/id) and whether this import
    created it (else it was there: updated, or unchanged)."""

    location: str
    created: bool = False


def unnamed_locations(
    items: Sequence[Item],
    records: PregnancyRecords,
    placed: Mapping[str, Sequence[tuple[int, bool]]],
) -> dict[int, Located]:
    """{item index: where it went} of the records sent without an id (as POST entries of a
    transaction are): each such item's records read alone (`Item.alone`) are found among
    `records` (as given to `save_records`, whose `placed` says which row each record went to)
    by their values."""
    taken: dict[str, set[int]] = {}
    out: dict[int, Located] = {}
    for item in items:
        read = item.alone
        if read is None or item.source_id is not None or not item.kept:
            continue
        for part, (prefix, table) in (
            *TUPLE_PREFIXES.items(),
            ("exams", ("exam", "cervical_exams")),
        ):
            bare = KINDS_BY_TABLE[table].bare
            sent = [bare(record) for record in getattr(read, part)]
            if not sent or part not in placed:
                continue
            given = getattr(records, part)
            used = taken.setdefault(part, set())
            index = next(
                (i for i, record in enumerate(given) if i not in used and bare(record) == sent[0]),
                None,
            )
            if index is None or index >= len(placed[part]):
                continue
            used.add(index)
            row_id, created = placed[part][index]
            if part == "exams":
                if item.exam_part is None:
                    continue
                found = f"exam-{row_id}-{item.exam_part}"
            else:
                found = f"{prefix}-{row_id}"
            out[item.index] = Located(f"{item.kind}/{found}", created)
            break
    return out


def entry_locations(
    session: Session,
    patient_id: str,
    pregnancy_id: str,
    items: Sequence[Item],
    own_ids: bool,
    claimed: Mapping[str, int] | None = None,
    code_rows: Mapping[Any, int] | None = None,
    *,
    new_identifiers: Collection[str] = (),
    pregnancy_created: bool = False,
    unnamed: Mapping[int, Located] | None = None,
    source: RecordSource = RecordSource.FHIR,
) -> dict[int, Located]:
    """{item index: where it went} of each item kept as a resource of this server (the ids
    `app.exporting` gives), found by the identifiers the records were stored under
    (`claimed`: all of them, when known), conditions by their kind (`code_rows`, when
    known), and records sent without an id as `unnamed` found them. An item is created when
    its identifier is among those this import claimed (`new_identifiers`), the due date and
    fetus count when the pregnancy was started (`pregnancy_created`), a condition found by
    its kind when both were; else it was there. `source`: the channel the records came by
    (their ids are scoped to it)."""
    system = default_identifier_system(patient_id, source)
    kept = [i for i in items if i.parts and i.kept and not i.deletes]
    tables = {i.index: [_TABLE_OF_PART[p] for p in i.parts] for i in kept}
    wanted = [
        f"{table}/{key}"
        for i in kept
        if i.source_id is not None
        for table in tables[i.index]
        for key in _keys(table, i.source_id)
    ]
    rows = (
        {v: claimed[v] for v in wanted if v in claimed}
        if claimed is not None
        else identified_rows(session, system, wanted)
    )
    conditions: Mapping[Any, int] = {}
    if any(i.conditions for i in kept):
        conditions = (
            code_rows
            if code_rows is not None
            else condition_rows(session, patient_id, pregnancy_id)
        )
    out: dict[int, Located] = {}
    for item in kept:
        rid = item.source_id
        found: str | None = None
        created = False
        for table in tables[item.index] if rid is not None else ():
            assert rid is not None
            row_id = next(
                (rows[f"{table}/{k}"] for k in _keys(table, rid) if f"{table}/{k}" in rows), None
            )
            if row_id is None:
                continue
            created = any(f"{table}/{k}" in new_identifiers for k in _keys(table, rid))
            if table == "cervical_exams":
                found = f"exam-{row_id}-{item.exam_part}" if item.exam_part else None
            else:
                found = f"{_PREFIX_OF_TABLE[table]}-{row_id}"
            break
        if found is None and own_ids and rid is not None:
            named = parse_resource_id(rid)
            if named is not None and named.table in tables[item.index]:
                found = rid
        if found is None and unnamed and item.index in unnamed:
            out[item.index] = unnamed[item.index]
            continue
        if found is None and item.pregnancy_fact is not None:
            created = pregnancy_created
            found = f"{item.pregnancy_fact}-{pregnancy_id}"
        if found is None:
            for known in item.conditions:
                if known in conditions:
                    prefix = "complication" if isinstance(known, Complication) else "maternal"
                    found = f"{prefix}-{conditions[known]}"
                    created = pregnancy_created and code_rows is not None
                    break
        if found is not None:
            out[item.index] = Located(f"{item.kind}/{found}", created)
    return out


# --- the same facts under other ids -----------------------------------------------------------

#: The parts whose records are facts compared whole (a report, holding its reviews, is not).
_FACT_PARTS: Final = tuple(k.field for k in RECORD_KINDS if not k.is_set and not k.children)


def _fact(record: Any) -> Any:
    """A record as a clinical fact: its kind, dates and values, not the id its source gave."""
    return replace(record, source_id=None)


def already_stored(
    records: PregnancyRecords, stored: PregnancyRecords
) -> tuple[PregnancyRecords, list[str]]:
    """`records` less the facts sent under an id that are already stored under another (sent
    before by the same or another feed: "sPTB 30+0 (2023)" twice), and the ids left out.

    A record is matched on its id first: one sent under an id a stored record has is that
    record (updated if changed). Otherwise it is matched on the fact itself (kind, dates,
    values): each stored fact stands for one record sent, so two stored miscarriages of 2021
    and three sent leave one to store."""
    if records.edd is not None and records.edd != stored.edd:
        # Another pregnancy's records: only her history can repeat what is stored.
        mine = {k.field for k in RECORD_KINDS if k.owner == "pregnancy"}
        emptied: dict[str, Any] = {part: () for part in _FACT_PARTS if part in mine}
        stored = replace(stored, **emptied)
    known_ids = {
        item.source_id
        for part in _FACT_PARTS
        for item in getattr(stored, part)
        if item.source_id is not None
    }
    parts: dict[str, Any] = {}
    left_out: list[str] = []
    for part in _FACT_PARTS:
        facts = Counter(_fact(item) for item in getattr(stored, part))
        kept = []
        for item in getattr(records, part):
            fact = _fact(item)
            # Sent without an id, it is found by its values already (`unnamed_locations`).
            if item.source_id is not None and item.source_id not in known_ids and facts[fact]:
                facts[fact] -= 1
                left_out.append(item.source_id)
                continue
            kept.append(item)
        parts[part] = tuple(kept)
    return replace(records, **parts), left_out

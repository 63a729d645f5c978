"""What the records of an imported Bundle are in the store, entry by entry: the stored rows that
records sent under CervixWatch's own ids are (`own_records`), what the Bundle takes back
(`taken_back`: entered in error, ended, resolved, refuted, or now another kind of record), and
where each entry went (`entry_locations`: the id of the resource it is stored as).

`app.importing` runs the import; this is how its entries are matched to what is stored.
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
    MaternalCondition,
    PregnancyRecords,
)
from cervixwatch.interop import fhir_values as fv
from cervixwatch.interop.fhir_bundle import records_from_bundle
from cervixwatch.interop.fhir_entries import BundleEntry
from cervixwatch.interop.fhir_values import Where, codes_of
from cervixwatch.knowledge import codes as c
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
    "BundleEntry",
    "Located",
    "already_stored",
    "entry_locations",
    "held_records",
    "own_records",
    "taken_back",
    "unnamed_locations",
]

_CONDITION_RESOLVED: Final = frozenset({"inactive", "resolved", "remission"})


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


def taken_back(
    entries: Sequence[BundleEntry], records: PregnancyRecords, today: dt.date
) -> Retractions:
    """What the Bundle takes back: records sent with a status that removes or ends them, and
    what a resource was stored as before that it no longer is (a cerclage Procedure now not
    done: an offer declined)."""
    kept = _kept_keys(records)
    removed: dict[str, list[str]] = {}
    medications: dict[str, tuple[MedicationStatus, dt.date | None]] = {}
    resolved: dict[Complication, dt.date] = {}
    refuted_complications: set[Complication] = set()
    refuted_maternal: set[MaternalCondition] = set()
    for entry in entries:
        if entry.request is not None and entry.deletes:
            # DELETE Type/id: whatever that resource was stored as goes (its body, if any,
            # is not read).
            kind, _, target = entry.request.url.partition("/")
            for table in _TABLES_OF_TYPE.get(kind, ()):
                stale = [k for k in _keys(table, target) if k not in kept.get(table, ())]
                removed.setdefault(table, []).extend(stale)
            continue
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


def _kept(entry: BundleEntry) -> bool:
    """Whether the reader may keep the record of an entry (its status does not drop it)."""
    r = entry.resource
    if entry.kind == "Condition":
        verification = {code for _, code in codes_of(r.get("verificationStatus"))}
        return not verification & _REFUTED
    return r.get("status") not in _REMOVED_STATUSES.get(entry.kind, ()) or (
        entry.kind == "Procedure" and c.REFUSAL_BY_PATIENT in codes_of(r.get("statusReason"))
    )


@dataclass(frozen=True, slots=True)
class Located:
    """Where an entry went: the resource it is stored as (Type/id) and whether this import
    created it (else it was there: updated, or unchanged)."""

    location: str
    created: bool = False


def unnamed_locations(
    entries: Sequence[BundleEntry],
    context: Sequence[Mapping[str, Any]],
    records: PregnancyRecords,
    placed: Mapping[str, Sequence[tuple[int, bool]]],
    as_of: dt.date,
) -> dict[int, Located]:
    """{entry index: where it went} of the records sent without an id (as POST entries of a
    transaction are): each such entry is read alone, with the Patient and the resources records
    refer to (`context`: Bundle entries), and its record found among `records` (as given to
    `save_records`, whose `placed` says which row each record went to) by its values."""
    taken: dict[str, set[int]] = {}
    out: dict[int, Located] = {}
    for entry in entries:
        if isinstance(entry.resource.get("id"), str) or not _kept(entry):
            continue
        alone = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [*context, {"resource": entry.resource}],
        }
        try:
            read = records_from_bundle(alone, as_of)
        except fv.BundleError:
            continue
        for part, (prefix, table) in (
            *TUPLE_PREFIXES.items(),
            ("exams", ("exam", "cervical_exams")),
        ):
            bare = KINDS_BY_TABLE[table].bare
            sent = [bare(item) for item in getattr(read, part)]
            if not sent or part not in placed:
                continue
            given = getattr(records, part)
            used = taken.setdefault(part, set())
            index = next(
                (i for i, item in enumerate(given) if i not in used and bare(item) == sent[0]),
                None,
            )
            if index is None or index >= len(placed[part]):
                continue
            used.add(index)
            row_id, created = placed[part][index]
            if part == "exams":
                codes = codes_of(entry.resource.get("code"))
                name = next((p for code, p in _EXAM_PART_CODES.items() if code in codes), None)
                if name is None:
                    continue
                found = f"exam-{row_id}-{name}"
            else:
                found = f"{prefix}-{row_id}"
            out[entry.index] = Located(f"{entry.kind}/{found}", created)
            break
    return out


def entry_locations(
    session: Session,
    patient_id: str,
    pregnancy_id: str,
    entries: Sequence[BundleEntry],
    own_ids: bool,
    claimed: Mapping[str, int] | None = None,
    code_rows: Mapping[Any, int] | None = None,
    *,
    new_identifiers: Collection[str] = (),
    pregnancy_created: bool = False,
    unnamed: Mapping[int, Located] | None = None,
) -> dict[int, Located]:
    """{entry index: where it went} of each entry kept as a resource of this server (the ids
    `app.exporting` gives), found by the identifiers the records were stored under
    (`claimed`: all of them, when known), conditions by their code (`code_rows`, when
    known), and records sent without an id as `unnamed` found them. An entry is created when
    its identifier is among those this import claimed (`new_identifiers`), the due date and
    fetus count when the pregnancy was started (`pregnancy_created`), a condition found by
    its code when both were; else it was there."""
    system = default_identifier_system(patient_id, RecordSource.FHIR)
    kept = [e for e in entries if _kept(e)]
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
    out: dict[int, Located] = {}
    for entry in kept:
        rid = entry.resource.get("id")
        codes = codes_of(entry.resource.get("code"))
        found: str | None = None
        created = False
        for table in _TABLES_OF_TYPE.get(entry.kind, ()) if isinstance(rid, str) else ():
            assert isinstance(rid, str)
            row_id = next(
                (rows[f"{table}/{k}"] for k in _keys(table, rid) if f"{table}/{k}" in rows), None
            )
            if row_id is None:
                continue
            created = any(f"{table}/{k}" in new_identifiers for k in _keys(table, rid))
            if table == "cervical_exams":
                part = next((p for code, p in _EXAM_PART_CODES.items() if code in codes), None)
                found = f"exam-{row_id}-{part}" if part else None
            else:
                found = f"{_PREFIX_OF_TABLE[table]}-{row_id}"
            break
        if found is None and own_ids and isinstance(rid, str):
            named = parse_resource_id(rid)
            if named is not None and named.table in _TABLES_OF_TYPE.get(entry.kind, ()):
                found = rid
        if found is None and unnamed and entry.index in unnamed:
            out[entry.index] = unnamed[entry.index]
            continue
        if found is None and entry.kind == "Observation":
            created = pregnancy_created
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
                    created = pregnancy_created and code_rows is not None
                    break
        if found is not None:
            out[entry.index] = Located(f"{entry.kind}/{found}", created)
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

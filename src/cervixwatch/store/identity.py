"""Who a stored woman is: her identifiers, the ids sources know her by, her names, and the
hospital number the pages show. SQL and bookkeeping only: which incoming Patient is which
woman, and what contradicts her, is decided by `app.patient_identity`.

- An identifier with a system names one woman (`patient_identifiers`, unique on system and
  value). One without a system is kept with the source that sent it and names her only for
  that source.
- A source's id for her (a FHIR `Patient.id` on the sending system) is a source identifier
  (`source_identifiers`, table `patients`) under the source's own system, `source_system`:
  two sources that both call a woman `Patient/123` name two women.
- `patients.hospital_number` repeats, for the pages and the worklist, the value of her
  identifier under the installation's hospital-number system, else of her identifier typed
  MR; `refresh_hospital_number` keeps it so whenever her identifiers change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    bindparam,
    false,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from cervixwatch.knowledge import codes as c
from cervixwatch.store.models import PatientIdentifierRow, PatientRow, SourceIdentifierRow

__all__ = [
    "IdentifierKey",
    "IdentifierLike",
    "StoredAmong",
    "add_identifiers",
    "claim_source_id",
    "display_number",
    "hospital_number_owner",
    "identifier_key",
    "identifier_search",
    "identifiers_of",
    "main_name",
    "refresh_hospital_number",
    "set_hospital_number",
    "source_system",
    "stored_among",
    "with_main_name",
    "woman_by_source_id",
    "women_by_identifiers",
    "women_named",
]

#: The system of the ids a source (an integration's account, a file) gives women.
SOURCE_SYSTEM_PREFIX: Final = "urn:cervixwatch:source:"
#: Name uses that are never her main name.
_PAST_NAME_USES: Final = frozenset({"old", "maiden"})

#: What names an identifier in the store: (system, source, value), source only when the system
#: is None.
IdentifierKey = tuple[str | None, str | None, str]


class IdentifierLike(Protocol):
    """An identifier to store (`interop.fhir_patient.Identifier`, or a stored row)."""

    @property
    def value(self) -> str: ...
    @property
    def system(self) -> str | None: ...
    @property
    def use(self) -> str | None: ...
    @property
    def type_system(self) -> str | None: ...
    @property
    def type_code(self) -> str | None: ...
    @property
    def type_text(self) -> str | None: ...


def source_system(source: str) -> str:
    """The identifier system of the ids the source `source` (e.g. `user:<id>`) gives."""
    return f"{SOURCE_SYSTEM_PREFIX}{source}"


def identifier_key(identifier: IdentifierLike, source: str | None) -> IdentifierKey:
    """How the store names an identifier: by its system, or (none) by the source sending it."""
    if identifier.system is not None:
        return (identifier.system, None, identifier.value)
    return (None, source, identifier.value)


def _row_key(row: PatientIdentifierRow) -> IdentifierKey:
    return (row.system, row.source if row.system is None else None, row.value)


_IDENTIFIERS: Final = PatientIdentifierRow.__table__
_SOURCE_IDS: Final = SourceIdentifierRow.__table__


def _named(kind: str, table: Any, source: Any) -> Select[Any]:
    return select(
        literal(kind).label("kind"), table.c.system, source, table.c.value, table.c.patient_id
    )


#: The women identifiers name: those with a system by (system, value), those without by
#: (source, value), each list an expanding parameter.
_BY_IDENTIFIERS: Final = (
    _named("identifier", _IDENTIFIERS, _IDENTIFIERS.c.source).where(
        tuple_(_IDENTIFIERS.c.system, _IDENTIFIERS.c.value).in_(
            bindparam("with_system", expanding=True)
        )
    ),
    _named("identifier", _IDENTIFIERS, _IDENTIFIERS.c.source).where(
        _IDENTIFIERS.c.system.is_(None),
        tuple_(_IDENTIFIERS.c.source, _IDENTIFIERS.c.value).in_(
            bindparam("without_system", expanding=True)
        ),
    ),
)

#: Who the identifiers name and whom a source's Patient id names, as one statement built
#: once: its identifier lists are expanding parameters, so SQLAlchemy finds it in its
#: compiled cache by a key made once instead of building and keying an OR of every key on each
#: import (a tenth of the import's time went there). `(system, value) IN (...)` is planned as
#: an OR of index lookups on PostgreSQL and SQLite alike.
_WOMEN_NAMED: Final = union_all(
    *_BY_IDENTIFIERS,
    _named("source", _SOURCE_IDS, null()).where(
        _SOURCE_IDS.c.system == bindparam("source_system"),
        _SOURCE_IDS.c.value == bindparam("source_value"),
    ),
)


#: Which of many identifiers, source Patient ids and CervixWatch ids name a stored woman:
#: `_WOMEN_NAMED` for a whole batch of Patients at once.
_ANY_NAMED: Final[CompoundSelect[Any]] = union_all(
    *_BY_IDENTIFIERS,
    _named("source", _SOURCE_IDS, null()).where(
        _SOURCE_IDS.c.system == bindparam("source_system"),
        _SOURCE_IDS.c.value.in_(bindparam("source_values", expanding=True)),
    ),
    select(literal("own").label("kind"), null(), null(), PatientRow.id, PatientRow.id).where(
        PatientRow.id.in_(bindparam("own_ids", expanding=True))
    ),
)


@dataclass(frozen=True, slots=True)
class StoredAmong:
    """Which of the identifiers and ids asked about (`stored_among`) name a stored woman."""

    keys: frozenset[IdentifierKey]
    #: Patient ids the source sent before.
    source_ids: frozenset[str]
    #: CervixWatch's ids of stored women.
    own_ids: frozenset[str]


def stored_among(
    session: Session,
    keys: Iterable[IdentifierKey],
    source: str,
    resource_ids: Iterable[str],
    own_ids: Iterable[str],
) -> StoredAmong:
    """Which of `keys`, of the Patient ids `resource_ids` as the source `source` sent them,
    and of `own_ids` (ids that may be CervixWatch's) name a stored woman, in one round trip:
    what `women_named` asks of one Patient, asked of a bulk import's batch, most of whom
    name no one yet."""
    wanted = list(dict.fromkeys(keys))
    values = {
        "with_system": [(system, value) for system, _, value in wanted if system is not None],
        "without_system": [(src, value) for system, src, value in wanted if system is None],
        "source_system": source_system(source),
        "source_values": [f"patients/{rid}" for rid in dict.fromkeys(resource_ids)],
        "own_ids": list(dict.fromkeys(own_ids)),
    }
    found_keys: set[IdentifierKey] = set()
    found_sources: set[str] = set()
    found_own: set[str] = set()
    for kind, system, row_source, value, _ in session.execute(_ANY_NAMED, values):
        if kind == "source":
            found_sources.add(value.removeprefix("patients/"))
        elif kind == "own":
            found_own.add(value)
        else:
            found_keys.add((system, row_source if system is None else None, value))
    return StoredAmong(frozenset(found_keys), frozenset(found_sources), frozenset(found_own))


def women_by_identifiers(
    session: Session, keys: Iterable[IdentifierKey]
) -> dict[IdentifierKey, str]:
    """{key: the woman it names} of the identifiers `keys` that are stored."""
    return women_named(session, list(keys), None, None)[0]


def women_named(
    session: Session,
    keys: Sequence[IdentifierKey],
    source: str | None,
    resource_id: str | None,
) -> tuple[dict[IdentifierKey, str], str | None]:
    """The women the identifiers `keys` name ({key: woman}), and the woman the source `source`
    sent as `Patient/<resource_id>` before (None: none), in one round trip: an import asks
    this of every Patient, and most name no one yet."""
    wanted = list(dict.fromkeys(keys))
    by_source_id = source is not None and resource_id is not None
    if not wanted and not by_source_id:
        return {}, None
    # The values as the execution's parameters, not bound into the statement with `.params`:
    # that makes a copy of it, whose cache key SQLAlchemy must work out again on each import.
    values = {
        "with_system": [(system, value) for system, _, value in wanted if system is not None],
        "without_system": [(src, value) for system, src, value in wanted if system is None],
        "source_system": source_system(source) if by_source_id else None,  # type: ignore[arg-type]
        "source_value": f"patients/{resource_id}" if by_source_id else None,
    }
    by_identifier: dict[IdentifierKey, str] = {}
    by_source: str | None = None
    for kind, system, row_source, value, patient_id in session.execute(_WOMEN_NAMED, values):
        if kind == "source":
            by_source = patient_id
        else:
            by_identifier[(system, row_source if system is None else None, value)] = patient_id
    return by_identifier, by_source


def identifiers_of(
    session: Session, patient_ids: Sequence[str]
) -> dict[str, list[PatientIdentifierRow]]:
    """Each woman's identifiers, in the order they were stored."""
    out: dict[str, list[PatientIdentifierRow]] = {}
    for start in range(0, len(patient_ids), 500):
        chunk = patient_ids[start : start + 500]
        query = (
            select(PatientIdentifierRow)
            .where(PatientIdentifierRow.patient_id.in_(chunk))
            .order_by(PatientIdentifierRow.id)
        )
        for row in session.scalars(query):
            out.setdefault(row.patient_id, []).append(row)
    return out


def identifier_row(
    patient_id: str, identifier: IdentifierLike, source: str | None
) -> dict[str, Any]:
    """The column values of her identifier row."""
    return {
        "patient_id": patient_id,
        "system": identifier.system,
        "source": source if identifier.system is None else None,
        "value": identifier.value,
        "use": identifier.use,
        "type_system": identifier.type_system,
        "type_code": identifier.type_code,
        "type_text": identifier.type_text,
    }


def add_identifiers(
    session: Session,
    patient_id: str,
    identifiers: Iterable[IdentifierLike],
    *,
    source: str | None,
    local_system: str,
) -> int:
    """Give her the identifiers she does not have yet (an identifier another woman has is
    refused by the unique constraints: the caller checks first); keeps her hospital number in
    step. Returns how many were added."""
    stored = identifiers_of(session, [patient_id]).get(patient_id, [])
    have = {_row_key(row) for row in stored}
    added = 0
    for identifier in identifiers:
        key = identifier_key(identifier, source)
        if key in have:
            continue
        have.add(key)
        session.add(PatientIdentifierRow(**identifier_row(patient_id, identifier, source)))
        added += 1
    if added:
        session.flush()
        refresh_hospital_number(session, patient_id, local_system)
    return added


def display_number(identifiers: Iterable[IdentifierLike], local_system: str) -> str | None:
    """The hospital number shown for her: her identifier of the installation's system, else
    her first typed MR (a medical record number), else None."""
    listed = list(identifiers)
    local = next((i for i in listed if i.system == local_system and i.use != "old"), None)
    if local is not None:
        return local.value
    typed = next(
        (
            i
            for i in listed
            if i.type_code == "MR" and i.type_system in (c.IDENTIFIER_TYPE, None) and i.use != "old"
        ),
        None,
    )
    return typed.value if typed is not None else None


def refresh_hospital_number(session: Session, patient_id: str, local_system: str) -> None:
    number = display_number(identifiers_of(session, [patient_id]).get(patient_id, []), local_system)
    session.execute(
        update(PatientRow).where(PatientRow.id == patient_id).values(hospital_number=number)
    )


def hospital_number_owner(session: Session, number: str, local_system: str) -> str | None:
    """The woman whose hospital number (of the installation's system) is `number`."""
    query = select(PatientIdentifierRow.patient_id).where(
        PatientIdentifierRow.system == local_system, PatientIdentifierRow.value == number
    )
    return session.scalar(query)


def set_hospital_number(session: Session, patient_id: str, number: str, local_system: str) -> None:
    """Her hospital number of the installation's system is `number` (a form's correction): her
    identifier of that system changes, or she is given one."""
    query = select(PatientIdentifierRow).where(
        PatientIdentifierRow.patient_id == patient_id,
        PatientIdentifierRow.system == local_system,
    )
    row = session.scalars(query.order_by(PatientIdentifierRow.id)).first()
    if row is None:
        session.add(PatientIdentifierRow(**hospital_number_row(patient_id, number, local_system)))
    else:
        row.value = number
    session.flush()
    refresh_hospital_number(session, patient_id, local_system)


def hospital_number_row(patient_id: str, number: str, local_system: str) -> dict[str, Any]:
    """The identifier row of a hospital number a form registers."""
    return {
        "patient_id": patient_id,
        "system": local_system,
        "source": None,
        "value": number,
        "use": "usual",
        "type_system": c.IDENTIFIER_TYPE,
        "type_code": "MR",
        "type_text": "Hospital number",
    }


# --- the ids sources know her by -----------------------------------------------------------------


def woman_by_source_id(session: Session, source: str, resource_id: str) -> str | None:
    """The woman the source `source` calls `Patient/<resource_id>`, if it has sent her."""
    query = select(SourceIdentifierRow.patient_id).where(
        SourceIdentifierRow.system == source_system(source),
        SourceIdentifierRow.value == f"patients/{resource_id}",
    )
    return session.scalar(query)


def source_id_row(patient_id: str, source: str, resource_id: str) -> dict[str, Any]:
    """The source identifier row saying the source `source` calls her `Patient/<resource_id>`."""
    return {
        "patient_id": patient_id,
        "system": source_system(source),
        "value": f"patients/{resource_id}",
        "table_name": "patients",
        "row_id": patient_id,
    }


def claim_source_id(session: Session, patient_id: str, source: str, resource_id: str) -> None:
    """Record that the source `source` calls her `Patient/<resource_id>` (once)."""
    if woman_by_source_id(session, source, resource_id) is not None:
        return
    session.add(SourceIdentifierRow(**source_id_row(patient_id, source, resource_id)))


# --- names ---------------------------------------------------------------------------------------


def main_name(names: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Her main name: the official one, else the usual, else the first that is not past."""
    for wanted in ("official", "usual"):
        found = next((n for n in names if n.get("use") == wanted), None)
        if found is not None:
            return found
    return next((n for n in names if n.get("use") not in _PAST_NAME_USES), None)


def name_columns(name: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(family, given) of a HumanName, the given names joined by spaces."""
    if name is None:
        return None, None
    given = " ".join(name.get("given") or ()) or None
    return name.get("family"), given


def with_main_name(
    names: Sequence[Mapping[str, Any]], family: str | None, given: str | None
) -> list[dict[str, Any]]:
    """`names` with her main name's family and given names corrected (a form's correction)."""
    main = main_name(names)
    out = []
    for name in names:
        copy = dict(name)
        if name is main:
            copy.pop("family", None)
            copy.pop("given", None)
            copy.pop("text", None)
            if family:
                copy["family"] = family
            if given and given.split():
                copy["given"] = given.split()
        out.append(copy)
    return out


def merged_names(
    stored: Sequence[Mapping[str, Any]], sent: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Her names after a source sent `sent`: those, then each stored name it no longer gives,
    kept as an old name (a name change, as on marriage, is recorded, not lost)."""
    out = [dict(n) for n in sent]

    def same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        return {k: v for k, v in a.items() if k != "use"} == {
            k: v for k, v in b.items() if k != "use"
        }

    for name in stored:
        if not any(same(name, n) for n in out):
            past = dict(name)
            if past.get("use") not in _PAST_NAME_USES:
                past["use"] = "old"
            out.append(past)
    return out


# --- search --------------------------------------------------------------------------------------


def identifier_search(tokens: Sequence[tuple[str | None, str | None]]) -> ColumnElement[bool]:
    """Women with an identifier matching any of `tokens` (FHIR token search): (system, value)
    exactly; (None, value) a value under any system or none; ("", value) a value sent without
    a system; (system, None) any value of the system."""
    conditions: list[ColumnElement[bool]] = []
    for system, value in tokens:
        parts: list[ColumnElement[bool]] = []
        if system == "":
            parts.append(PatientIdentifierRow.system.is_(None))
        elif system is not None:
            parts.append(PatientIdentifierRow.system == system)
        if value is not None:
            parts.append(PatientIdentifierRow.value == value)
        if parts:
            conditions.append(and_(*parts))
    if not conditions:
        return false()
    return PatientRow.id.in_(select(PatientIdentifierRow.patient_id).where(or_(*conditions)))

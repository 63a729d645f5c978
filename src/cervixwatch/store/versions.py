"""The kept versions of served FHIR resources and the time of each woman's last write
(`models.ResourceVersionRow`, `models.PatientWriteRow`): the queries `app.versions` needs,
each one statement, by index (a resource's (type, id), a woman's id), never a scan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    bindparam,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased

from cervixwatch.store.crud import plausible_id
from cervixwatch.store.models import PatientRow, PatientWriteRow, ResourceVersionRow

__all__ = [
    "Kept",
    "add_versions",
    "her_latest",
    "history",
    "latest_versions",
    "lock_and_written_at",
    "set_written_at",
    "written_at",
]

#: (resource type, resource id)
Key = tuple[str, str]
#: Keys (or ids) bound in one IN list.
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Kept:
    """A kept version (without the resource, unless asked for)."""

    resource_type: str
    resource_id: str
    version_id: int
    patient_id: str
    last_updated: dt.datetime
    deleted: bool
    content_hash: str | None
    resource: Mapping[str, Any] | None = None

    @property
    def key(self) -> Key:
        return (self.resource_type, self.resource_id)


_R = ResourceVersionRow
_COLUMNS = (
    _R.resource_type,
    _R.resource_id,
    _R.version_id,
    _R.patient_id,
    _R.last_updated,
    _R.deleted,
    _R.content_hash,
)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _kept(row: Any, resource: Mapping[str, Any] | None = None) -> Kept:
    return Kept(
        row.resource_type,
        row.resource_id,
        row.version_id,
        row.patient_id,
        row.last_updated,
        row.deleted,
        row.content_hash,
        resource,
    )


def latest_versions(session: Session, keys: Iterable[Key]) -> dict[Key, Kept]:
    """The latest kept version of each resource `keys` names that has one (whoever's)."""
    wanted = sorted(set(keys))
    out: dict[Key, Kept] = {}
    for chunk in _chunks(wanted):
        newest = (
            select(_R.resource_type, _R.resource_id, func.max(_R.version_id).label("newest"))
            .where(tuple_(_R.resource_type, _R.resource_id).in_(chunk))
            .group_by(_R.resource_type, _R.resource_id)
            .subquery()
        )
        query = select(*_COLUMNS).join(
            newest,
            (newest.c.resource_type == _R.resource_type)
            & (newest.c.resource_id == _R.resource_id)
            & (newest.c.newest == _R.version_id),
        )
        for row in session.execute(query):
            out[(row.resource_type, row.resource_id)] = _kept(row)
    return out


@cache
def _her_latest_query(with_keys: bool) -> Executable:
    # Built once (the keys and her id bound at each call): building it cost more than
    # running it, on every write of a stored woman (`app.versions.before_change`).
    other = aliased(ResourceVersionRow)
    hers = select(other.resource_type, other.resource_id).where(
        other.patient_id == bindparam("patient_id")
    )
    named = tuple_(_R.resource_type, _R.resource_id)
    wanted: ColumnElement[bool] = named.in_(hers)
    if with_keys:
        wanted = or_(wanted, named.in_(bindparam("keys", expanding=True)))
    return select(*_COLUMNS).where(wanted)


def her_latest(session: Session, patient_id: str, keys: Collection[Key]) -> dict[Key, Kept]:
    """The latest kept version (whoever's) of each resource `keys` names and of each that has
    a kept version of hers, in one statement (by her index and the resources' own)."""
    parameters: dict[str, Any] = {"patient_id": patient_id}
    if keys:
        parameters["keys"] = sorted(keys)
    out: dict[Key, Kept] = {}
    for row in session.execute(_her_latest_query(bool(keys)), parameters):
        key = (row.resource_type, row.resource_id)
        if key not in out or out[key].version_id < row.version_id:
            out[key] = _kept(row)
    return out


def history(session: Session, resource_type: str, resource_id: str, patient_id: str) -> list[Kept]:
    """Every kept version of a resource that was hers (newest first), with its resource."""
    query = (
        select(*_COLUMNS, _R.resource)
        .where(
            _R.resource_type == resource_type,
            _R.resource_id == resource_id,
            _R.patient_id == patient_id,
        )
        .order_by(_R.version_id.desc())
    )
    return [_kept(row, row.resource) for row in session.execute(query)]


def add_versions(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Keep these versions (`ResourceVersionRow`'s columns), by one INSERT on the session's
    connection."""
    if rows:
        session.connection().execute(insert(ResourceVersionRow), list(rows))


def written_at(session: Session, patient_ids: Collection[str]) -> dict[str, dt.datetime]:
    """When a write last began to change each stored woman's records; when she was
    registered if none has since."""
    wanted = sorted(p for p in set(patient_ids) if plausible_id(p))
    out: dict[str, dt.datetime] = {}
    for chunk in _chunks(wanted):
        query = (
            select(PatientRow.id, func.coalesce(PatientWriteRow.written_at, PatientRow.created_at))
            .outerjoin(PatientWriteRow, PatientWriteRow.patient_id == PatientRow.id)
            .where(PatientRow.id.in_(chunk))
        )
        out.update((patient_id, when) for patient_id, when in session.execute(query))
    return out


def women_written_since(session: Session, since: dt.datetime) -> list[str]:
    """The women whose last write began at or after `since` (or, never written since, who were
    registered then): the only ones any of whose resources can have changed since."""
    last = func.coalesce(PatientWriteRow.written_at, PatientRow.created_at)
    query = (
        select(PatientRow.id)
        .outerjoin(PatientWriteRow, PatientWriteRow.patient_id == PatientRow.id)
        .where(last >= since)
        .order_by(PatientRow.id)
    )
    return list(session.scalars(query))


def lock_and_written_at(session: Session, patient_id: str) -> dt.datetime | None:
    """`written_at` of one woman, her row locked until the transaction ends (PostgreSQL; SQLite
    has locked the database for the write already); None if she is not stored."""
    if not plausible_id(patient_id):
        return None
    query = (
        select(func.coalesce(PatientWriteRow.written_at, PatientRow.created_at))
        .select_from(PatientRow)
        .outerjoin(PatientWriteRow, PatientWriteRow.patient_id == PatientRow.id)
        .where(PatientRow.id == patient_id)
        .with_for_update(of=PatientRow)
    )
    when: dt.datetime | None = session.scalar(query)
    return when


def set_written_at(session: Session, patient_id: str, when: dt.datetime) -> None:
    """Her last write began at `when` (her row is locked: no other writer races this)."""
    connection = session.connection()
    changed = connection.execute(
        update(PatientWriteRow)
        .where(PatientWriteRow.patient_id == patient_id)
        .values(written_at=when)
    )
    if changed.rowcount == 0:
        connection.execute(insert(PatientWriteRow), {"patient_id": patient_id, "written_at": when})

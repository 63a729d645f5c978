"""Versions of the served FHIR resources (issue 11, part 4): what a write keeps, and the
instance history, version reads and `If-Match` checks of the facade.

Kept before a change, not after: a woman's records are written in one transaction, and before
it changes any of them `before_change` locks her, makes each of her served resources as it is
now (her Patient and the records of every pregnancy of hers) and keeps it as a new version if
it differs from its latest kept one (SHA-256 of its canonical JSON), or is not kept yet; a
resource kept but no longer served gets a deletion marker. Each such version is dated by her
previous write (`app.version_meta` explains why that is when it came to be), and this write
becomes her last one. So what a write changes is served at once as the next version, dated
by the write, without the write making its resources again: a woman seen for the first time
costs nothing more (her records are version 1 of when she was registered).

Every JSON API write (`app.writing.writing`) calls `before_change` for each woman whose rows it
is about to flush (`keep_versions`); the FHIR import calls it for the woman it found before it
writes anything.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from cervixwatch.app.errors import NotFound, PreconditionFailed
from cervixwatch.app.exporting import find_resource, resources_of
from cervixwatch.app.version_meta import (
    VERSIONED_TYPES,
    Version,
    bare,
    content_hash,
    version_now,
    versions_of,
    with_version,
)
from cervixwatch.store.exports import load_exports
from cervixwatch.store.mapping import RECORD_KINDS
from cervixwatch.store.models import (
    PatientIdentifierRow,
    PatientRow,
    PregnancyRow,
    SymptomReportRow,
    SymptomReviewRow,
)
from cervixwatch.store.versions import (
    Kept,
    add_versions,
    her_latest,
    history,
    latest_versions,
    lock_and_written_at,
    set_written_at,
    written_at,
)

__all__ = [
    "VERSIONED_TYPES",
    "HistoryEntry",
    "Version",
    "before_change",
    "check_if_match",
    "current_version",
    "instance_history",
    "keep_versions",
    "read_version",
    "was_deleted",
]

#: session.info key: the women whose resources this transaction has kept already.
_KEPT: Final = "cervixwatch.versions.kept"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- what a write keeps -----------------------------------------------------------------------


def served_resources(session: Session, patient_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Her served resources that have versions, by (type, id): her Patient and the records of
    each of her pregnancies (as a read gives them: a record of her own, not of a pregnancy,
    as her active, else latest, pregnancy's export has it)."""
    exports = load_exports(session, [patient_id])
    if not exports:
        return {}
    others = session.scalars(
        select(PregnancyRow.id)
        .where(PregnancyRow.patient_id == patient_id, PregnancyRow.id != exports[0].pregnancy_id)
        .order_by(PregnancyRow.id)
    )
    for pregnancy_id in others:
        exports += load_exports(session, [patient_id], pregnancies={patient_id: pregnancy_id})
    served: dict[tuple[str, str], dict[str, Any]] = {}
    for export in exports:
        for resource in resources_of(export):
            served.setdefault((resource["resourceType"], resource["id"]), resource)
    return served


def before_change(session: Session, patient_id: str, *, now: dt.datetime | None = None) -> None:
    """Call in a write's transaction before it changes anything of the woman's: lock her, keep
    what it may change (module docstring) and make `now` her last write. Once per transaction
    and woman; nothing for a woman not stored (yet).

    What is kept is read through a second session on the same connection (the same
    transaction): objects this session holds changed but not yet flushed are not read."""
    kept: set[str] = session.info.setdefault(_KEPT, set())
    if patient_id in kept:
        return
    kept.add(patient_id)
    reader = Session(bind=session.connection())
    try:
        _keep(reader, patient_id, now or _now())
    finally:
        reader.close()


def _keep(session: Session, patient_id: str, now: dt.datetime) -> None:
    last_write = lock_and_written_at(session, patient_id)
    if last_write is None:
        return
    served = served_resources(session, patient_id)
    latest = her_latest(session, patient_id, served.keys())
    rows: list[dict[str, Any]] = []
    for (kind, resource_id), resource in served.items():
        content = content_hash(resource)
        before = latest.get((kind, resource_id))
        version = version_now(patient_id, content, before, last_write)
        if before is not None and version.version_id == before.version_id:
            continue  # kept as it is
        rows.append(
            _row(kind, resource_id, version, patient_id, content_hash=content, resource=resource)
        )
    for key, before in latest.items():
        if key not in served and before.patient_id == patient_id and not before.deleted:
            gone = Version(before.version_id + 1, last_write)
            rows.append(_row(*key, gone, patient_id, content_hash=None, resource=None))
    add_versions(session, rows)
    set_written_at(session, patient_id, now)


def _row(
    kind: str,
    resource_id: str,
    version: Version,
    patient_id: str,
    *,
    content_hash: str | None,
    resource: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "resource_type": kind,
        "resource_id": resource_id,
        "version_id": version.version_id,
        "patient_id": patient_id,
        "last_updated": version.last_updated,
        "deleted": resource is None,
        "content_hash": content_hash,
        "resource": bare(resource) if resource is not None else None,
    }


#: The rows whose change changes a woman's served resources: her row, identifiers,
#: pregnancies and records (and the records held inside them).
_WATCHED: Final = frozenset(
    {
        PatientRow,
        PatientIdentifierRow,
        PregnancyRow,
        *(kind.table for kind in RECORD_KINDS),
        *(child.table for kind in RECORD_KINDS for child in kind.children),
    }
)


def _owner(session: Session, row: Any) -> str | None:
    """The stored woman whose served resources a row about to be flushed is part of (None: a
    row of no woman's resources, or of a woman or pregnancy not stored yet)."""
    if type(row) not in _WATCHED:
        return None
    if isinstance(row, PatientRow):
        return row.id
    if isinstance(row, SymptomReviewRow):
        # Not yet given its report's id: added to the report's reviews, which makes the
        # report itself one of the flush's changed rows.
        if row.symptom_report_id is None:
            return None
        report = session.get(SymptomReportRow, row.symptom_report_id)
        if report is None:
            return None
        row = report
    patient_id = getattr(row, "patient_id", None)
    if patient_id is None and getattr(row, "pregnancy_id", None) is not None:
        patient_id = session.scalar(
            select(PregnancyRow.patient_id).where(PregnancyRow.id == row.pregnancy_id)
        )
    return patient_id if isinstance(patient_id, str) else None


def keep_versions(session: Session) -> None:
    """Have every flush of `session` call `before_change` first for each stored woman whose
    rows it adds to, changes or deletes (the JSON API's writes, `app.writing`)."""

    def before_flush(session: Session, _context: Any, _instances: Any) -> None:
        kept: set[str] = session.info.setdefault(_KEPT, set())
        changed = (*session.new, *session.dirty, *session.deleted)
        if not any(type(o) in _WATCHED for o in changed):
            return
        kept.update(_registered(session))
        reader = Session(bind=session.connection())
        try:
            women = {owner for o in changed if (owner := _owner(reader, o)) is not None}
        finally:
            reader.close()
        for patient_id in sorted(women - kept):
            before_change(session, patient_id)

    def after_flush(session: Session, _context: Any) -> None:
        # Her id is given by the flush that inserts her.
        session.info.setdefault(_KEPT, set()).update(_registered(session))

    event.listen(session, "before_flush", before_flush)
    event.listen(session, "after_flush", after_flush)


def _registered(session: Session) -> set[str]:
    """The women this flush registers: nothing of theirs is kept in this transaction, now or
    at a later flush of it (which would keep them half written)."""
    return {o.id for o in session.new if isinstance(o, PatientRow) and o.id is not None}


# --- reading versions ---------------------------------------------------------------------------


def current_version(
    session: Session, resource_type: str, resource_id: str
) -> tuple[int, dt.datetime] | None:
    """(version id, last updated) of the resource as served now, in this transaction (after
    a write: the version it made); None if there is no such resource, or its type has no
    versions."""
    if resource_type not in VERSIONED_TYPES:
        return None
    found = find_resource(session, resource_type, resource_id)
    if found is None:
        return None
    version = versions_of(session, [found])[0]
    return None if version is None else (version.version_id, version.last_updated)


_ETAG = re.compile(r'\s*(?:W/)?"([0-9]{1,9})"\s*')


def check_if_match(
    session: Session, resource_type: str, resource_id: str, if_match: str | None
) -> None:
    """Refuse an update whose `If-Match` header does not name the version the resource is at
    (`PreconditionFailed`, answered 412). No header: nothing to check. `*` matches any
    version of a resource that exists; `W/"3"` (or `"3"`) matches version 3; a resource that
    does not exist (or has no versions) matches no version."""
    if if_match is None:
        return
    current = current_version(session, resource_type, resource_id)
    wanted = [tag for tag in if_match.split(",") if tag.strip()]
    if current is not None and any(tag.strip() == "*" for tag in wanted):
        return
    versions = {int(m[1]) for tag in wanted if (m := _ETAG.fullmatch(tag)) is not None}
    if current is not None and current[0] in versions:
        return
    now = "does not exist" if current is None else f'is at version W/"{current[0]}"'
    raise PreconditionFailed(
        f"If-Match: {if_match.strip()}: {resource_type}/{resource_id} {now}; read it again, "
        "and send the version read"
    )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One version of a resource: its content (None: the version is its deletion)."""

    version: Version
    resource: dict[str, Any] | None
    #: How it came to be: "create" (version 1, or made again after a deletion), "update",
    #: "delete".
    change: str


def _versions(
    session: Session, resource_type: str, resource_id: str, owner: str
) -> list[HistoryEntry]:
    """Every version of a resource of the woman `owner`, newest first."""
    kept = history(session, resource_type, resource_id, owner)
    entries = [_entry(k) for k in kept]
    found = find_resource(session, resource_type, resource_id)
    latest = latest_versions(session, [(resource_type, resource_id)]).get(
        (resource_type, resource_id)
    )
    last_write = written_at(session, [owner]).get(owner)
    if last_write is None:
        return entries
    if found is not None and found[0] == owner:
        resource = found[1]
        version = version_now(owner, content_hash(resource), latest, last_write)
        if latest is None or version.version_id != latest.version_id:
            with_version(resource, version)
            entries.insert(0, HistoryEntry(version, resource, "update"))
    elif latest is not None and latest.patient_id == owner and not latest.deleted:
        gone = Version(latest.version_id + 1, last_write)
        entries.insert(0, HistoryEntry(gone, None, "delete"))
    # The change of each version: to what the version before it (older, next in the list) was.
    return [
        HistoryEntry(e.version, e.resource, _change_from(e, entries[i + 1 :]))
        for i, e in enumerate(entries)
    ]


def _entry(kept: Kept) -> HistoryEntry:
    version = Version(kept.version_id, kept.last_updated)
    resource = None
    if kept.resource is not None:
        resource = dict(kept.resource)
        with_version(resource, version)
    return HistoryEntry(version, resource, "delete" if kept.deleted else "update")


def _change_from(entry: HistoryEntry, older: Sequence[HistoryEntry]) -> str:
    if entry.resource is None:
        return "delete"
    return "create" if not older or older[0].resource is None else "update"


def owner_of_versions(session: Session, resource_type: str, resource_id: str) -> str | None:
    """The woman a resource is (or, deleted, was) hers, for the access policy of its history;
    None if there is no such resource, nor was."""
    if resource_type not in VERSIONED_TYPES:
        return None
    found = find_resource(session, resource_type, resource_id)
    if found is not None:
        return found[0]
    key = (resource_type, resource_id)
    latest = latest_versions(session, [key]).get(key)
    return None if latest is None else latest.patient_id


def was_deleted(session: Session, resource_type: str, resource_id: str) -> bool:
    """Whether a resource that is not served now was once (kept, so deleted since): a read
    of it answers 410 Gone rather than 404."""
    if resource_type not in VERSIONED_TYPES or find_resource(session, resource_type, resource_id):
        return False
    key = (resource_type, resource_id)
    return key in latest_versions(session, [key])


def instance_history(
    session: Session,
    resource_type: str,
    resource_id: str,
    *,
    since: dt.datetime | None = None,
) -> list[HistoryEntry]:
    """Every version of a resource, newest first (only those that came to be at or after
    `since`, when given); `NotFound` if there is no such resource, nor was."""
    owner = owner_of_versions(session, resource_type, resource_id)
    if owner is None:
        raise NotFound(f"no {resource_type}/{resource_id}")
    entries = _versions(session, resource_type, resource_id, owner)
    if since is not None:
        entries = [e for e in entries if e.version.last_updated >= since]
    return entries


class Deleted(NotFound):
    """The version asked for is the resource's deletion (answered 410 Gone)."""


def read_version(
    session: Session, resource_type: str, resource_id: str, version_id: str
) -> dict[str, Any]:
    """The resource as it was at a version (vread); `NotFound` if it has no such version,
    `Deleted` if that version is its deletion."""
    if not re.fullmatch(r"[0-9]{1,9}", version_id):
        raise NotFound(f"no version {version_id!r} of {resource_type}/{resource_id}")
    for entry in instance_history(session, resource_type, resource_id):
        if entry.version.version_id == int(version_id):
            if entry.resource is None:
                raise Deleted(f"{resource_type}/{resource_id} was deleted at version {version_id}")
            return entry.resource
    raise NotFound(f"no version {version_id} of {resource_type}/{resource_id}")

"""Correcting a clinical record (issue 13, part 3): amending its values, or marking it entered
in error, always with a reason, by someone.

Both are one write transaction (`app.writing`) that also keeps the correction
(`store.corrections`: the change, the reason, who, when, and the record's values before) and
reassesses the pregnancy, as `app.recording` does for a new record:

- An amendment is checked as a new record is (dates, plausibility; warned only about what it
  changes). The record's FHIR resources as they were are kept as a version first (every write
  does that, `app.versions`), so `_history` shows the earlier version.
- A record entered in error stops being one of her records: its row is removed, so it leaves
  the assessment, the lists, the letter and the FHIR searches. Its FHIR resources as they were
  are kept as a version, and then, as their last version, the same resources with the status
  `entered-in-error` (FHIR's own status for this; a Condition says it by its
  `verificationStatus`), kept as the marker that ends them: `_history` and a read of that
  version serve it, and a plain read answers it too (`entered_in_error_version`).

The reason is free text the clinician writes; it is kept with the correction, never logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import recording
from cervixwatch.app.assessing import AssessmentSummary, reassess_pregnancy
from cervixwatch.app.errors import InvalidField
from cervixwatch.app.exporting import parse_resource_id
from cervixwatch.app.reassessing import Profiles
from cervixwatch.app.recording import RecordType, Row, Values
from cervixwatch.app.version_meta import Version, bare, content_hash, with_version
from cervixwatch.app.versions import before_change, served_resources
from cervixwatch.app.writing import Saved, writing
from cervixwatch.store import corrections as store
from cervixwatch.store.crud import delete_row
from cervixwatch.store.models import CorrectionChange, SymptomReportRow
from cervixwatch.store.retractions import Removed
from cervixwatch.store.versions import add_versions, history, latest_versions, written_at

__all__ = [
    "REASON_MAX_LENGTH",
    "Correction",
    "amend_record",
    "as_json",
    "checked_reason",
    "corrections_of",
    "corrections_of_record",
    "entered_in_error",
    "entered_in_error_version",
    "keep_removals",
    "mark_entered_in_error",
]

#: The longest reason kept (the column's width).
REASON_MAX_LENGTH: Final = 500
_CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


@dataclass(frozen=True, slots=True)
class Correction:
    """One correction, as shown: which record, how, why, by whom (a user id), when, and the
    record's values before it (by column)."""

    id: int
    record_table: str
    #: The record's id: an integer row id, or a pregnancy's text id (its EDD and fetus count
    #: amended, `app.pregnancies.amend_pregnancy`).
    record_id: int | str
    change: CorrectionChange
    reason: str
    corrected_by: str | None
    corrected_at: dt.datetime
    before: Mapping[str, Any]


def checked_reason(reason: str | None) -> str:
    """The reason for a correction, its white space tidied; refused, naming `reason`, when
    blank or too long."""
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidField("reason", "give the reason for the correction")
    if len(text) > REASON_MAX_LENGTH:
        raise InvalidField(
            "reason", f"the reason is longer than {REASON_MAX_LENGTH} characters", len(text)
        )
    return text


def as_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """The record's values, each as JSON can hold it (dates as ISO text, enums as values)."""
    out: dict[str, Any] = {}
    for column, value in values.items():
        if isinstance(value, dt.date | dt.datetime):
            out[column] = value.isoformat()
        elif isinstance(value, Enum):
            out[column] = value.value
        elif value is None or isinstance(value, bool | int | float | str):
            out[column] = value
        elif isinstance(value, list | tuple):
            out[column] = [getattr(v, "value", v) for v in value]
        else:
            out[column] = str(value)
    return out


def amend_record(
    sessions: sessionmaker[Session],
    kind: RecordType[Row],
    row_id: int,
    changes: Values,
    *,
    reason: str | None,
    user_id: str | None,
    today: dt.date,
    profiles: Profiles,
    confirmed: Collection[str] = (),
) -> Saved[Row]:
    """Amend some values of a record, with the reason; keep the correction and reassess."""
    why = checked_reason(reason)
    if not changes:
        raise InvalidField("changes", "give at least one value to amend")
    with writing(sessions) as session:
        amended = recording.amend_in(
            session, kind, row_id, changes, today=today, confirmed=confirmed, must_change=True
        )
        store.add_correction(
            session,
            patient_id=amended.patient_id,
            record_table=str(kind.table.__tablename__),
            record_id=row_id,
            change=CorrectionChange.AMENDED,
            reason=why,
            corrected_by=user_id,
            before=as_json(amended.values),
        )
        summary = reassess_pregnancy(session, amended.pregnancy_id, today, profiles)
    return Saved(amended.row, summary)


def mark_entered_in_error(
    sessions: sessionmaker[Session],
    kind: RecordType[Row],
    row_id: int,
    *,
    reason: str | None,
    user_id: str | None,
    today: dt.date,
    profiles: Profiles,
) -> AssessmentSummary | None:
    """Mark a record entered in error, with the reason: it is no longer one of her records
    (module docstring); keep the correction and reassess."""
    why = checked_reason(reason)
    with writing(sessions) as session:
        locked = recording.lock_record(session, kind, row_id)
        # Her resources as served now are kept before anything changes (once per write).
        before_change(session, locked.patient_id)
        ended = _resources_of(session, locked.patient_id, kind, locked.row)
        store.add_correction(
            session,
            patient_id=locked.patient_id,
            record_table=str(kind.table.__tablename__),
            record_id=row_id,
            change=CorrectionChange.ENTERED_IN_ERROR,
            reason=why,
            corrected_by=user_id,
            before=as_json(locked.values),
        )
        delete_row(session, locked.row)
        session.flush()
        _keep_entered_in_error(session, locked.patient_id, ended)
        return reassess_pregnancy(session, locked.pregnancy_id, today, profiles)


def keep_removals(
    session: Session,
    patient_id: str,
    removed: Sequence[Removed],
    reason: str,
    corrected_by: str | None,
) -> None:
    """Keep, in the caller's transaction, a correction for each record a feed removed (a
    FHIR DELETE, a record sent again as entered in error, a condition refuted): its values
    before, the reason and who sent it, as a clinician's entered-in-error is kept."""
    for record in removed:
        store.add_correction(
            session,
            patient_id=patient_id,
            record_table=record.table,
            record_id=record.row_id,
            change=CorrectionChange.ENTERED_IN_ERROR,
            reason=reason,
            corrected_by=corrected_by,
            before=as_json(record.values),
        )


def _resources_of(
    session: Session, patient_id: str, kind: RecordType[Any], row: Any
) -> list[dict[str, Any]]:
    """The FHIR resources the record is served as (an exam: one per finding; a symptom
    report: with the Tasks of its reviews, which go with it)."""
    mine = {(str(kind.table.__tablename__), int(row.id))}
    if isinstance(row, SymptomReportRow):
        mine |= {("symptom_reviews", int(review.id)) for review in row.reviews}
    out = []
    for (_, resource_id), resource in served_resources(session, patient_id).items():
        named = parse_resource_id(resource_id)
        if named is not None and (named.table, named.row_id) in mine:
            out.append(resource)
    return out


def entered_in_error(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The resource as entered in error: its status says so (a Condition: its verification
    status, with no clinical status, as FHIR requires)."""
    out = bare(resource)
    if out.get("resourceType") == "Condition":
        out.pop("clinicalStatus", None)
        out["verificationStatus"] = {
            "coding": [{"system": _CONDITION_VERIFICATION, "code": "entered-in-error"}]
        }
    else:
        out["status"] = "entered-in-error"
    return out


def _keep_entered_in_error(
    session: Session, patient_id: str, resources: list[dict[str, Any]]
) -> None:
    """Keep each resource, as entered in error, as its last version: a marker of its end
    (`deleted`) that holds the resource, dated by this write."""
    keys = [(str(r["resourceType"]), str(r["id"])) for r in resources]
    latest = latest_versions(session, keys)
    now = written_at(session, [patient_id])[patient_id]
    rows = []
    for key, resource in zip(keys, resources, strict=True):
        kept = latest.get(key)
        marked = entered_in_error(resource)
        rows.append(
            {
                "resource_type": key[0],
                "resource_id": key[1],
                "version_id": (kept.version_id if kept is not None else 0) + 1,
                "patient_id": patient_id,
                "last_updated": now,
                "deleted": True,
                "content_hash": content_hash(marked),
                "resource": marked,
            }
        )
    add_versions(session, rows)


def corrections_of(sessions: sessionmaker[Session], patient_id: str) -> list[Correction]:
    """Her records' corrections, newest first."""
    with sessions() as session:
        return [_correction(r) for r in store.corrections_of_patient(session, patient_id)]


def corrections_of_record(
    sessions: sessionmaker[Session], kind: RecordType[Any], record_id: int
) -> list[Correction]:
    """The corrections of one record, newest first."""
    with sessions() as session:
        return [
            _correction(r)
            for r in store.corrections_of_record(session, str(kind.table.__tablename__), record_id)
        ]


def _correction(r: Any) -> Correction:
    return Correction(
        r.id,
        r.record_table,
        r.record_id if r.record_id is not None else r.record_key,
        r.change,
        r.reason,
        r.corrected_by,
        r.corrected_at,
        r.before,
    )


def entered_in_error_version(
    sessions: sessionmaker[Session], resource_type: str, resource_id: str
) -> dict[str, Any] | None:
    """The resource as entered in error (with its version), if its last version says so: a
    read of it answers that version rather than 410 Gone. None otherwise."""
    key = (resource_type, resource_id)
    with sessions() as session:
        latest = latest_versions(session, [key]).get(key)
        if latest is None or not latest.deleted:
            return None
        kept = history(session, resource_type, resource_id, latest.patient_id)
    if not kept or kept[0].resource is None:
        return None
    resource = dict(kept[0].resource)
    with_version(resource, Version(kept[0].version_id, kept[0].last_updated))
    return resource

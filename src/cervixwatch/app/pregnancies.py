"""Starting a pregnancy, re-dating it, and ending it.

A woman has one active pregnancy at a time: starting another while one is active, or making
an ended one active again while another is, is a `Conflict`. Re-dating (a new EDD) must keep
every record of the pregnancy inside it, or the records would silently stop counting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Scope
from cervixwatch.app import checks, recording
from cervixwatch.app.assessing import reassess_pregnancy
from cervixwatch.app.corrections import as_json, checked_reason
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.app.reassessing import Profiles
from cervixwatch.app.recording import PREGNANCY_RECORDS
from cervixwatch.app.writing import Saved, writing
from cervixwatch.clinical.gestation import gestational_age_on
from cervixwatch.clinical.records import Onset, PriorOutcome
from cervixwatch.store import corrections as corrections_store
from cervixwatch.store import crud, pregnancy_lists
from cervixwatch.store.models import (
    CorrectionChange,
    PregnancyRow,
    PregnancyStatus,
    PriorPregnancyRow,
    RecordSource,
)
from cervixwatch.store.records import lock_patient


def _no_other_active(session: Session, patient_id: str, pregnancy_id: str | None) -> None:
    active = crud.active_pregnancy_id(session, patient_id, other_than=pregnancy_id)
    if active is not None:
        raise Conflict(
            f"patient {patient_id} has an active pregnancy ({active}): end it first (status ended)"
        )


def _records_inside(session: Session, pregnancy_id: str, edd: dt.date) -> None:
    """Every dated record of the pregnancy lies inside the pregnancy due on `edd`."""
    first, last = checks.pregnancy_span(edd)
    for kind in PREGNANCY_RECORDS:
        for column in kind.dates:
            earliest, latest = crud.date_span(session, kind.table, pregnancy_id, column)
            outside = next(
                (d for d in (earliest, latest) if d is not None and not first <= d <= last), None
            )
            if outside is not None:
                raise InvalidField(
                    "edd",
                    f"with EDD {edd.isoformat()} the pregnancy runs from {first.isoformat()} to"
                    f" {last.isoformat()}, but a {kind.name} of it is dated"
                    f" {outside.isoformat()} ({column}); correct or delete that record first",
                    edd,
                )


def start_pregnancy(
    sessions: sessionmaker[Session],
    patient_id: str,
    values: Mapping[str, Any],
    *,
    today: dt.date,
    profiles: Profiles,
) -> Saved[PregnancyRow]:
    """Start her active pregnancy (`edd` and its `dating_method`, `fetuses`,
    `chorionicity`) and assess it."""
    with writing(sessions) as session:
        patient = crud.get_patient(session, patient_id)
        if patient is None:
            raise NotFound(f"no patient {patient_id}")
        lock_patient(session, patient.id)
        _no_other_active(session, patient.id, None)
        checks.due_date("edd", values.get("edd"), today, active=True)
        checks.chorionicity_of_twins(values.get("chorionicity"), values.get("fetuses"))
        row = crud.add_row(
            session,
            PregnancyRow,
            {**values, "patient_id": patient.id, "status": PregnancyStatus.ACTIVE, "notes": []},
        )
        summary = reassess_pregnancy(session, row.id, today, profiles)
        return Saved(row, summary)


def get_pregnancy(sessions: sessionmaker[Session], pregnancy_id: str) -> PregnancyRow:
    with sessions() as session:
        row = crud.get_pregnancy(session, pregnancy_id)
    if row is None:
        raise NotFound(f"no pregnancy {pregnancy_id}")
    return row


def pregnancies_of(sessions: sessionmaker[Session], patient_id: str) -> list[PregnancyRow]:
    """Her pregnancies, the earliest recorded first."""
    with sessions() as session:
        if crud.get_patient(session, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        return crud.pregnancies_of(session, patient_id)


def _merged(row: PregnancyRow, changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = {
        "edd": row.edd,
        "fetuses": row.fetuses,
        "chorionicity": row.chorionicity,
        "dating_method": row.dating_method,
        "status": row.status,
        "ended_on": row.ended_on,
        **changes,
    }
    if merged["status"] == PregnancyStatus.ACTIVE and merged["ended_on"] is not None:
        if "ended_on" in changes:
            raise InvalidField(
                "ended_on", "an active pregnancy has not ended: set status ended, or no date"
            )
        merged["ended_on"] = None  # made active again: the end recorded before no longer holds
    if "dating_method" not in changes and merged["edd"] != row.edd:
        # A new EDD without its method: the method of the old one does not date it.
        merged["dating_method"] = None
    return merged


def update_pregnancy(
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    changes: Mapping[str, Any],
    *,
    today: dt.date,
    profiles: Profiles,
    reason: str | None = None,
    user_id: str | None = None,
) -> Saved[PregnancyRow]:
    """Re-date her pregnancy, record the number of fetuses, or end it; and reassess.

    Changing an EDD or a fetus count already recorded is an amendment (issue 13, part 2): it
    needs the `reason` (refused, naming `reason`, without one), and the values before are kept
    as a correction (who, `user_id`; when; why: `record_corrections`, named by the pregnancy's
    id), beside the FHIR resources as they were (every write keeps them as a version,
    `app.writing`). Recording one that was not recorded is not an amendment."""
    with writing(sessions) as session:
        row = _locked(session, pregnancy_id)
        before = {k: getattr(row, k) for k in AMENDABLE}
        amended = [
            k
            for k in AMENDABLE
            if k in changes and before[k] is not None and changes[k] != before[k]
        ]
        # The values are checked first, so a wrong EDD is named before a missing reason; the
        # transaction rolls back whatever fails.
        _update_in(session, row, changes, today)
        if amended and not (reason or "").strip():
            named = " and ".join(_AMENDED_WORDS[k] for k in amended)
            raise InvalidField("reason", f"give the reason for amending the recorded {named}")
        why = checked_reason(reason) if amended else None
        if why is not None:
            corrections_store.add_correction(
                session,
                patient_id=row.patient_id,
                record_table=str(PregnancyRow.__tablename__),
                record_id=None,
                record_key=row.id,
                change=CorrectionChange.AMENDED,
                reason=why,
                corrected_by=user_id,
                before=as_json(before),
            )
        summary = reassess_pregnancy(session, row.id, today, profiles)
        return Saved(row, summary)


#: What is amended, with a reason, once recorded: the details a pregnancy is dated and
#: counted by.
AMENDABLE: Final = ("edd", "dating_method", "fetuses", "chorionicity")
_AMENDED_WORDS: Final = {
    "edd": "EDD",
    "dating_method": "dating method",
    "fetuses": "number of fetuses",
    "chorionicity": "chorionicity",
}


def _locked(session: Session, pregnancy_id: str) -> PregnancyRow:
    row = crud.get_pregnancy(session, pregnancy_id)
    if row is None:
        raise NotFound(f"no pregnancy {pregnancy_id}")
    lock_patient(session, row.patient_id)
    session.refresh(row)
    return row


def _update_in(
    session: Session, row: PregnancyRow, changes: Mapping[str, Any], today: dt.date
) -> None:
    """Apply `changes` to the pregnancy, checked, in the session's transaction."""
    merged = _merged(row, changes)
    active = merged["status"] == PregnancyStatus.ACTIVE
    if "edd" in changes or ("status" in changes and active):
        checks.due_date("edd", merged["edd"], today, active=active)
    if "edd" in changes and merged["edd"] is not None:
        _records_inside(session, row.id, merged["edd"])
    if "chorionicity" in changes or "fetuses" in changes:
        checks.chorionicity_of_twins(merged["chorionicity"], merged["fetuses"])
    if merged["ended_on"] is not None:
        checks.not_in_future("ended_on", merged["ended_on"], today)
        checks.inside_pregnancy("ended_on", merged["ended_on"], merged["edd"])
    if active:
        _no_other_active(session, row.patient_id, row.id)
    crud.update_row(session, row, merged)


def close_pregnancy(
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    *,
    ended_on: dt.date,
    outcome: PriorOutcome,
    onset: Onset | None,
    today: dt.date,
    profiles: Profiles,
) -> Saved[PregnancyRow]:
    """End her active pregnancy with its outcome (a birth, or a loss) on `ended_on`: the
    pregnancy is ended, and the same transaction records it as a previous pregnancy of hers
    (outcome, the gestational age on that day from its EDD, how it started, the fetus count),
    so the guidelines' history rules read it in her next pregnancy (a spontaneous birth
    before 37+0 is an sPTB there: `clinical.history`). Checked as any previous pregnancy
    (`recording._check`: at most 44+0 ...); a day before the pregnancy began or in the future
    is refused, naming `ended_on`."""
    with writing(sessions) as session:
        row = crud.get_pregnancy(session, pregnancy_id)
        if row is None:
            raise NotFound(f"no pregnancy {pregnancy_id}")
        lock_patient(session, row.patient_id)
        session.refresh(row)
        if row.status != PregnancyStatus.ACTIVE:
            raise Conflict(f"pregnancy {pregnancy_id} has ended already")
        checks.not_in_future("ended_on", ended_on, today)
        checks.inside_pregnancy("ended_on", ended_on, row.edd)
        values = {
            "ended_year": ended_on.year,
            "ended_month": ended_on.month,
            "ended_day": ended_on.day,
            "outcome": outcome,
            "gestation_days": (
                gestational_age_on(row.edd, ended_on).total_days if row.edd else None
            ),
            "onset": onset,
            "cerclage": None,
            "fetuses": row.fetuses,
        }
        recording.check_record(session, recording.PRIOR_PREGNANCY, row.patient_id, values, today)
        crud.update_row(session, row, {"status": PregnancyStatus.ENDED, "ended_on": ended_on})
        crud.add_row(
            session,
            PriorPregnancyRow,
            {**values, "patient_id": row.patient_id, "source": RecordSource.FORM},
        )
        summary = reassess_pregnancy(session, row.id, today, profiles)
        return Saved(row, summary)


@dataclass(frozen=True, slots=True)
class Listed:
    """A pregnancy in a list of pregnancies, with whose it is."""

    pregnancy_id: str
    patient_id: str
    family_name: str | None
    given_name: str | None
    hospital_number: str | None
    edd: dt.date | None
    ended_on: dt.date | None


def pregnancies_listed(
    sessions: sessionmaker[Session],
    status: PregnancyStatus,
    scope: Scope,
    *,
    page: int = 1,
    page_size: int = 50,
) -> list[Listed]:
    """One page of the pregnancies of `status` among the women `scope` may see."""
    with sessions() as session:
        rows = pregnancy_lists.pregnancies_by_status(
            session, status, scope, limit=page_size, offset=(page - 1) * page_size
        )
        return [
            Listed(p.id, w.id, w.family_name, w.given_name, w.hospital_number, p.edd, p.ended_on)
            for p, w in rows
        ]

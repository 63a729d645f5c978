"""Registering a batch of women seen for the first time in one transaction: a bulk import's
way through the one import (`app.importing`) for the women most of an export holds.

Each Bundle is read and checked exactly as `import_bundle` reads and checks a new woman's
(`importing.new_woman_records`: the same reader, date and plausibility checks); what differs
is only how the rows reach the database. One query asks which of the batch's identifiers and
ids name a stored woman (`store.identity.stored_among`, instead of one per woman); the new
women's rows go in one INSERT per table (`store.records.save_first_records`), their care
teams in one, their assessments in one (`reassessing.assess_stored`), and all in one
transaction: a round trip per table and batch instead of per table and woman.

A Bundle this path cannot be sure of is left to `import_bundle`, one woman at a time, after
the batch is stored (`Registered.one_by_one`): one whose Patient names a stored woman; one
that names a woman only by reference, or deletes something; one whose identifiers or id an
earlier Bundle of the batch gives too (the same woman twice: the later one then finds the
first, as one-by-one imports in order would). Should another writer register one of the
women meanwhile (her identifiers' unique constraints refuse the transaction), nothing of the
batch is kept and every woman of it is left to `import_bundle`, which finds her; so too when
two batches imported at once wait on each other's new identifiers and PostgreSQL breaks the
deadlock by refusing one. A woman the reader or the checks refuse is refused alone, with the
same message `import_bundle` gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.importing import (
    FramedBundle,
    InvalidBundle,
    RejectedBundle,
    framed_bundle,
    may_be_new,
    new_woman_records,
)
from cervixwatch.app.notifications import queue_red_flag_notifications
from cervixwatch.app.patient_identity import OWN_ID, Sender
from cervixwatch.app.reassessing import Profiles, assess_stored
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.store import transaction
from cervixwatch.store.accounts import add_new_patients_to_teams
from cervixwatch.store.identity import IdentifierKey, StoredAmong, identifier_key, stored_among
from cervixwatch.store.models import RecordSource
from cervixwatch.store.records import PatientFields, save_first_records

__all__ = ["Registered", "register_new_women"]


@dataclass(slots=True)
class Registered:
    """What became of each woman of a batch (by the key the caller gave her)."""

    registered: list[str] = field(default_factory=list)
    #: (woman, why): read or checked and refused, as `import_bundle` would refuse her.
    refused: list[tuple[str, InvalidBundle | RejectedBundle]] = field(default_factory=list)
    #: Left to `import_bundle`, in the batch's order (see the module's docstring).
    one_by_one: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Candidate:
    woman: str
    framed: FramedBundle
    keys: tuple[IdentifierKey, ...]
    resource_id: str | None


def register_new_women(
    sessions: sessionmaker[Session],
    bundles: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    today: dt.date,
    profiles: Profiles,
    sender: Sender,
    new_patient_teams: Collection[str],
) -> Registered:
    """Register the new women among `bundles` ((woman, Bundle) in the batch's order), each
    assessed on `today` and put under `new_patient_teams`, in one transaction; the others
    refused or left to `import_bundle` (`Registered`)."""
    done = Registered()
    candidates = list(_candidates(bundles, sender, done))
    if not candidates:
        return done
    try:
        with transaction(sessions) as session:
            stored = _stored_among(session, candidates, sender)
            new: list[tuple[str, PatientFields, PregnancyRecords]] = []
            for candidate in candidates:
                if _names_a_stored_woman(candidate, stored):
                    done.one_by_one.append(candidate.woman)
                    continue
                try:
                    fields, records = new_woman_records(candidate.framed, sender, today)
                except RejectedBundle as error:
                    done.refused.append((candidate.woman, error))
                    continue
                new.append((candidate.woman, fields, records))
            _store(session, new, today, profiles, new_patient_teams)
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, OperationalError) and not _deadlocked(error):
            raise
        # Registered meanwhile by another writer (or two batches waited on each other's
        # unique keys and the database chose this one to give way): nothing of it was kept.
        refused = {woman for woman, _ in done.refused}
        done.one_by_one.extend(c.woman for c in candidates if c.woman not in refused)
        place = {woman: i for i, (woman, _) in enumerate(bundles)}
        done.one_by_one.sort(key=place.__getitem__)
        return done
    done.registered.extend(woman for woman, _, _ in new)
    return done


#: PostgreSQL's SQLSTATE for a deadlock it broke by refusing one transaction.
_DEADLOCK_DETECTED: Final = "40P01"


def _deadlocked(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) == _DEADLOCK_DETECTED


def _candidates(
    bundles: Sequence[tuple[str, Mapping[str, Any]]], sender: Sender, done: Registered
) -> Iterator[_Candidate]:
    """The Bundles that may be of new women; the others refused or left one by one."""
    seen: set[object] = set()  # identifier keys and Patient ids an earlier Bundle gave
    for woman, bundle in bundles:
        try:
            framed = framed_bundle(bundle)
        except (InvalidBundle, RejectedBundle) as error:
            done.refused.append((woman, error))
            continue
        frame = framed.frame
        identity = frame.patient
        keys = (
            tuple(identifier_key(i, sender.source) for i in identity.identifiers)
            if identity
            else ()
        )
        rid = identity.resource_id if identity else None
        given: set[object] = {*keys, ("id", rid)} if rid is not None else set(keys)
        given.update(("id", r.target.rstrip("/").split("/")[-1]) for r in frame.references)
        again = not given.isdisjoint(seen)
        seen.update(given)
        if again or not may_be_new(framed):
            done.one_by_one.append(woman)
            continue
        yield _Candidate(woman, framed, keys, rid)


def _stored_among(session: Session, candidates: list[_Candidate], sender: Sender) -> StoredAmong:
    ids = [c.resource_id for c in candidates if c.resource_id is not None]
    return stored_among(
        session,
        (key for c in candidates for key in c.keys),
        sender.source,
        ids,
        # CervixWatch's ids are uuid4s: other ids are never asked about (`find_woman`).
        [rid for rid in ids if OWN_ID.match(rid)],
    )


def _names_a_stored_woman(candidate: _Candidate, stored: StoredAmong) -> bool:
    rid = candidate.resource_id
    return (
        any(key in stored.keys for key in candidate.keys)
        or rid in stored.source_ids
        or rid in stored.own_ids
    )


def _store(
    session: Session,
    new: list[tuple[str, PatientFields, PregnancyRecords]],
    today: dt.date,
    profiles: Profiles,
    teams: Collection[str],
) -> None:
    """Her rows, care teams, assessment and red-flag notifications, for every woman of `new`
    (as `importing._import_once` stores a new woman's)."""
    saved = save_first_records(
        session, [(fields, records) for _, fields, records in new], RecordSource.FHIR
    )
    add_new_patients_to_teams(session, [s.patient_id for s in saved], teams)
    stored = [(s.pregnancy_id, s.records) for s in saved if s.records is not None]
    assert len(stored) == len(saved), "a new woman's records are given back as stored"
    assess_stored(session, stored, today, profiles, new_pregnancies=True)
    for (_, _, records), s in zip(new, saved, strict=True):
        if records.symptom_reports:
            # Her care team told of a red-flag report, in this transaction (an outbox).
            queue_red_flag_notifications(session, s.pregnancy_id)

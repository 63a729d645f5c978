"""Which stored woman an incoming Patient is, or that she is new, or that the Patient
contradicts the woman it names and must be refused (docs/fhir-api.md, "Patient identity").

- A woman is found by any of her identifiers: (system, value), never a value alone. An
  identifier sent without a system is matched only among those the same source sent.
- A Patient's id finds the woman the same source sent under that id before (two sources that
  both send `Patient/123` are two women), or the woman whose CervixWatch id it is.
- A Patient that names two stored women (by two identifiers, or an identifier and an id), or
  names one but gives another birth date, or another value of an identifier system she has
  (neither marked old), is refused: nothing is merged, nothing is changed. A different name
  is a name change (as on marriage): it is stored, the former name kept as an old name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cervixwatch.app.errors import Conflict
from cervixwatch.clinical.records import PartialDate
from cervixwatch.interop.fhir_patient import PatientIdentity
from cervixwatch.knowledge import codes as c
from cervixwatch.store.crud import plausible_id
from cervixwatch.store.identity import (
    identifier_key,
    identifiers_of,
    woman_by_source_id,
    women_named,
)
from cervixwatch.store.models import PatientRow

__all__ = [
    "OWN_ID",
    "IdentityConflict",
    "Sender",
    "birth_date_to_keep",
    "check_contradictions",
    "find_woman",
    "women_by_reference",
]

#: CervixWatch's own ids for women (`store.models.new_id`).
OWN_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sends a Patient: `source` names the sending system (`user:<id>`, the account of the
    integration or clinician whose token or sign-in made the request); `local_system` is the
    installation's hospital-number system."""

    source: str
    local_system: str = c.DEFAULT_HOSPITAL_NUMBER_SYSTEM


class IdentityConflict(Conflict):
    """An incoming Patient contradicts what is stored of the woman it names (answered 409, the
    element named by `expression`). The message names the Patient's own elements, never a
    stored value."""

    def __init__(self, message: str, expression: str | None = None) -> None:
        super().__init__(message)
        self.expression = expression


#: Names an element of the incoming Patient in messages and expressions:
#: (label, e.g. "Patient (entry 0)", path of an element).
Path = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Found:
    """The stored woman a Patient names (None: none), and how, for messages; `by_source`:
    the same source sent her under the Patient's id before."""

    patient_id: str | None
    by: str = ""
    by_source: bool = False


def _refused(label: str, problem: str, path: Path, element: str) -> IdentityConflict:
    return IdentityConflict(
        f"{label}: {problem}: the Bundle is refused and nothing was changed. If she is the "
        "same woman, correct what is stored first; if not, one of the two records carries a "
        "wrong identifier.",
        expression=path(element),
    )


def find_woman(
    session: Session, identity: PatientIdentity, sender: Sender, label: str, path: Path
) -> Found:
    """The stored woman the Patient names by her identifiers or id; refused (`IdentityConflict`)
    if it names two."""
    keys = {i: identifier_key(x, sender.source) for i, x in enumerate(identity.identifiers)}
    rid = identity.resource_id
    stored, by_source = women_named(session, list(keys.values()), sender.source, rid)
    named: dict[str, list[str]] = {}
    for i, key in keys.items():
        if key in stored:
            shown = identity.identifiers[i].label()
            named.setdefault(stored[key], []).append(f"identifier[{i}] ({shown})")
    if rid is not None:
        if by_source is not None:
            named.setdefault(by_source, []).append(f"id {rid} (as this source sent her before)")
        # CervixWatch's ids are uuid4s: other ids are never asked about.
        if OWN_ID.match(rid) and session.get(PatientRow, rid) is not None:
            named.setdefault(rid, []).append(f"id {rid} (CervixWatch's id for her)")
    if len(named) > 1:
        first, second = (ways[0] for ways in named.values())
        raise _refused(
            label,
            f"{first} names one woman stored here and {second} another",
            path,
            "identifier",
        )
    if not named:
        return Found(None)
    [(patient_id, ways)] = named.items()
    return Found(patient_id, ways[0], by_source=by_source == patient_id)


def _within(stored: dt.date, sent: PartialDate) -> bool:
    if sent.year != stored.year:
        return False
    if sent.month is not None and sent.month != stored.month:
        return False
    return sent.day is None or sent.day == stored.day


def check_contradictions(
    session: Session,
    found: Found,
    identity: PatientIdentity,
    sender: Sender,
    label: str,
    path: Path,
) -> None:
    """Refuse (`IdentityConflict`) a Patient that names a stored woman but gives another birth
    date, or another value of one of her identifier systems (neither marked old)."""
    if found.patient_id is None:
        return
    woman = session.get(PatientRow, found.patient_id)
    assert woman is not None, "a woman just found exists"
    if (
        identity.birth_date is not None
        and woman.birth_date is not None
        and not _within(woman.birth_date, identity.birth_date)
    ):
        raise _refused(
            label,
            f"birthDate differs from the birth date stored for the woman {found.by} names",
            path,
            "birthDate",
        )
    hers = identifiers_of(session, [woman.id]).get(woman.id, [])
    by_scope: dict[tuple[str | None, str | None], set[str]] = {}
    for row in hers:
        if row.use != "old":
            scope = (row.system, row.source if row.system is None else None)
            by_scope.setdefault(scope, set()).add(row.value)
    for i, sent in enumerate(identity.identifiers):
        system, source, value = identifier_key(sent, sender.source)
        values = by_scope.get((system, source), set())
        if sent.use != "old" and values and value not in values:
            which = f"system {system}" if system is not None else "no system, from this source"
            raise _refused(
                label,
                f"identifier[{i}] ({which}) differs from her identifier of that system stored "
                f"for the woman {found.by} names",
                path,
                f"identifier[{i}]",
            )


def birth_date_to_keep(
    session: Session | None, found: Found, sent: PartialDate | None
) -> dt.date | None:
    """Her birth date after the Patient: a full date sent; a year or month sent keeps the
    stored date it agrees with (`check_contradictions` refused any other). `session`: to
    read the stored date of a woman found (None for one seen for the first time)."""
    if sent is None:
        return None
    if (
        session is not None
        and found.patient_id is not None
        and (sent.month is None or sent.day is None)
    ):
        woman = session.get(PatientRow, found.patient_id)
        if woman is not None and woman.birth_date is not None:
            return woman.birth_date
    return sent.earliest()


def women_by_reference(session: Session, reference: str, source: str) -> set[str]:
    """The women a reference names for the source `source`: `Patient/<id>` (or a URL ending so)
    with CervixWatch's id for her, else the id this source sent her under."""
    target = reference.split("/_history/")[0]
    parts = target.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != "Patient":
        return set()
    value = parts[-1]
    if not value:
        return set()
    if plausible_id(value) and session.get(PatientRow, value) is not None:
        return {value}
    found = woman_by_source_id(session, source, value)
    return {found} if found is not None else set()

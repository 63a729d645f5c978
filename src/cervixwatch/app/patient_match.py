"""`Patient/$match` (FHIR R4): the stored women an incoming Patient may be, each with a score
and a match grade, so an integration (or a person) can pick the woman before sending records.

Scoring (docs/fhir-api.md, "Patient/$match"), the highest that applies:

| what agrees | grade | score |
| --- | --- | --- |
| an identifier (system and value), nothing contradicting it | certain | 1.0 |
| family name, a given name and birth date | probable | 0.8 |
| an identifier, contradicted (birth date, another value of a system) | possible | 0.5 |
| family name and birth date | possible | 0.5 |

Identifiers that name two women make neither certain (possible, 0.5).

Names are compared case-insensitively against every name she has (her former ones too); an
identifier sent without a system matches only those the same source sent. Women who agree on
less are not answered. Only the women the caller may see are candidates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Scope
from cervixwatch.app.exporting import patients_as_fhir
from cervixwatch.app.patient_identity import (
    Found,
    IdentityConflict,
    Sender,
    check_contradictions,
)
from cervixwatch.interop.fhir_patient import PatientIdentity, read_patient
from cervixwatch.interop.fhir_values import BundleError, Where
from cervixwatch.knowledge import codes as c
from cervixwatch.store.accounts import visible_among
from cervixwatch.store.identity import identifier_key, women_by_identifiers
from cervixwatch.store.models import PatientRow

__all__ = ["DEFAULT_COUNT", "InvalidParameters", "Match", "match_bundle", "match_patients"]

#: Candidates answered when the request does not say (`count`).
DEFAULT_COUNT: Final = 10
CERTAIN: Final = ("certain", 1.0)
PROBABLE: Final = ("probable", 0.8)
POSSIBLE: Final = ("possible", 0.5)


class InvalidParameters(ValueError):
    """The request is not a `$match` this server can answer (answered 400)."""

    def __init__(self, message: str, expression: str | None = None) -> None:
        super().__init__(message)
        self.expression = expression


@dataclass(frozen=True, slots=True)
class Match:
    """A candidate: the woman's id, the grade (certain, probable, possible) and the score."""

    patient_id: str
    grade: str
    score: float


@dataclass(frozen=True, slots=True)
class _Request:
    patient: PatientIdentity
    only_certain: bool
    count: int


def _parameters(body: Mapping[str, Any], max_count: int) -> _Request:
    """The Patient, `onlyCertainMatches` and `count` of a Parameters resource (or a Patient
    sent alone)."""
    if body.get("resourceType") == "Patient":
        return _Request(_patient(body, "Patient"), False, DEFAULT_COUNT)
    if body.get("resourceType") != "Parameters":
        raise InvalidParameters(
            f"resourceType: expected 'Parameters' (or a Patient), got {body.get('resourceType')!r}",
            "resourceType",
        )
    parameters = body.get("parameter")
    if not isinstance(parameters, list):
        raise InvalidParameters("Parameters.parameter: expected a list", "Parameters.parameter")
    patient: PatientIdentity | None = None
    only_certain = False
    count = DEFAULT_COUNT
    for i, item in enumerate(parameters):
        where = f"Parameters.parameter[{i}]"
        if not isinstance(item, dict):
            raise InvalidParameters(f"{where}: expected a parameter", where)
        name = item.get("name")
        if name == "resource":
            resource = item.get("resource")
            if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
                raise InvalidParameters(f"{where}.resource: expected a Patient", where)
            patient = _patient(resource, f"{where}.resource")
        elif name == "onlyCertainMatches":
            value = item.get("valueBoolean")
            if not isinstance(value, bool):
                raise InvalidParameters(f"{where}.valueBoolean: expected true or false", where)
            only_certain = value
        elif name == "count":
            value = item.get("valueInteger")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidParameters(
                    f"{where}.valueInteger: expected a whole number >= 1", where
                )
            count = min(value, max_count)
        else:
            raise InvalidParameters(f"{where}: unknown parameter {name!r}", where)
    if patient is None:
        raise InvalidParameters(
            "Parameters: the 'resource' parameter (the Patient to match) is required",
            "Parameters.parameter",
        )
    return _Request(patient, only_certain, count)


def _patient(resource: Mapping[str, Any], label: str) -> PatientIdentity:
    try:
        return read_patient(resource, Where.named(label))
    except BundleError as error:
        raise InvalidParameters(str(error), label) from None


def _names(row: PatientRow) -> list[tuple[str | None, set[str]]]:
    """(family, given names) of every name she has, case-folded."""
    out = [
        (
            (n.get("family") or "").casefold() or None,
            {g.casefold() for g in n.get("given") or ()},
        )
        for n in row.names or ()
    ]
    given = {g.casefold() for g in (row.given_name or "").split()}
    out.append(((row.family_name or "").casefold() or None, given))
    return out


def _by_demographics(sent: PatientIdentity, row: PatientRow) -> tuple[str, float] | None:
    if sent.birth_date is None or row.birth_date is None or sent.birth_date.day is None:
        return None
    if sent.birth_date.earliest() != row.birth_date:
        return None
    wanted = [
        ((n.get("family") or "").casefold() or None, {g.casefold() for g in n.get("given") or ()})
        for n in sent.names
    ]
    best: tuple[str, float] | None = None
    for family, given in wanted:
        for stored_family, stored_given in _names(row):
            if family is None or family != stored_family:
                continue
            if given & stored_given:
                return PROBABLE
            best = POSSIBLE
    return best


def _candidates(
    session: Session, sent: PatientIdentity, sender: Sender
) -> tuple[set[str], set[str]]:
    """(women named by an identifier, women born on the birth date sent)."""
    keys = [identifier_key(i, sender.source) for i in sent.identifiers]
    by_identifier = set(women_by_identifiers(session, keys).values())
    born: set[str] = set()
    if sent.birth_date is not None and sent.birth_date.day is not None:
        day: dt.date = sent.birth_date.earliest()
        born = set(session.scalars(select(PatientRow.id).where(PatientRow.birth_date == day)))
    return by_identifier, born


def match_patients(
    session: Session,
    sent: PatientIdentity,
    sender: Sender,
    *,
    scope: Scope | None = None,
) -> list[Match]:
    """The candidates for `sent`, the best first (then by CervixWatch id)."""
    by_identifier, born = _candidates(session, sent, sender)
    candidates = by_identifier | born
    if scope is not None:
        candidates &= visible_among(session, candidates, scope)
    matches: list[Match] = []
    for patient_id in sorted(candidates):
        row = session.get(PatientRow, patient_id)
        assert row is not None
        grade: tuple[str, float] | None = None
        if patient_id in by_identifier:
            try:
                check_contradictions(
                    session, Found(patient_id, "an identifier"), sent, sender, "", str
                )
                # Identifiers that name two women make neither certain.
                grade = CERTAIN if len(by_identifier) == 1 else POSSIBLE
            except IdentityConflict:
                grade = POSSIBLE
        demographic = _by_demographics(sent, row)
        if demographic is not None and (grade is None or demographic[1] > grade[1]):
            grade = demographic
        if grade is not None:
            matches.append(Match(patient_id, *grade))
    return sorted(matches, key=lambda m: -m.score)


def match_bundle(
    sessions: sessionmaker[Session],
    body: Mapping[str, Any],
    *,
    sender: Sender,
    scope: Scope | None = None,
    base: str = "",
    max_count: int = 500,
) -> dict[str, Any]:
    """`Patient/$match`: a searchset Bundle of the candidates, each entry with search mode
    `match`, its score and its match grade (extension)."""
    request = _parameters(body, max_count)
    with sessions() as session:
        found = match_patients(session, request.patient, sender, scope=scope)
        if request.only_certain:
            found = [m for m in found if m.grade == CERTAIN[0]]
        found = found[: request.count]
        rows = [session.get(PatientRow, m.patient_id) for m in found]
        resources = patients_as_fhir(session, [r for r in rows if r is not None])
    return _bundle(found, resources, base)


def _bundle(
    found: Sequence[Match], resources: Iterable[Mapping[str, Any]], base: str
) -> dict[str, Any]:
    prefix = f"{base.rstrip('/')}/" if base else ""
    entries = [
        {
            "fullUrl": f"{prefix}Patient/{resource['id']}",
            "resource": resource,
            "search": {
                "extension": [{"url": c.MATCH_GRADE_EXTENSION, "valueCode": match.grade}],
                "mode": "match",
                "score": match.score,
            },
        }
        for match, resource in zip(found, resources, strict=True)
    ]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(entries)}
    if entries:
        bundle["entry"] = entries
    return bundle

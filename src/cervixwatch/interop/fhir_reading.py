"""What the bundle reader gathers while it walks the entries, and what every resource reader
shares: the day the records are read as of, the Patient's keys, the notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from cervixwatch.clinical.records import (
    CerclagePlacement,
    CerclageRemoval,
    CervicalExam,
    CervicalExcision,
    CervicalLengthMeasurement,
    Chorionicity,
    ComplicationRecord,
    DatingMethod,
    DeclinedDecision,
    FetalFibronectin,
    LengthMethod,
    MaternalCondition,
    MedicationOrder,
    PriorPregnancy,
    SymptomReport,
    SymptomReview,
)
from cervixwatch.interop.fhir_values import Where
from cervixwatch.interop.history_counts import Count
from cervixwatch.knowledge import codes as c


@dataclass(frozen=True, slots=True)
class PendingReview:
    """A review read from a Task, waiting to be attached to the report its `focus` names."""

    focus: str
    review: SymptomReview
    label: str


class Reading:
    """The context of one bundle's reading and the records gathered, before they are frozen.

    (A plain class, not a dataclass: made once a bundle, its `__init__` is compiled by mypyc
    in the compiled build, where a dataclass's generated one would run as Python.)"""

    def __init__(self, as_of: dt.date, patient_keys: set[str]) -> None:
        self.as_of = as_of
        self.patient_keys = patient_keys
        #: Medication resources by every key a `medicationReference` may use.
        self.medications: Mapping[str, dict[str, Any]] = {}
        #: Each EDD: (when it was made, its order, the day, how it was worked out).
        self.edd: list[tuple[dt.date, int, dt.date, DatingMethod | None]] = []
        self.fetus_counts: list[tuple[dt.date, int, int]] = []
        self.history_counts: dict[c.Code, list[tuple[dt.date, int, Count]]] = {}
        self.multiple_condition = False
        #: Each chorionicity a current twin-pregnancy Condition stated.
        self.chorionicity: set[Chorionicity] = set()
        self.priors: list[PriorPregnancy] = []
        self.excisions: list[CervicalExcision] = []
        self.maternal: set[MaternalCondition] = set()
        self.lengths: list[tuple[str, LengthMethod, bool, str, CervicalLengthMeasurement]] = []
        self.exams: list[CervicalExam] = []
        self.fibronectin: list[FetalFibronectin] = []
        self.complications: list[ComplicationRecord] = []
        self.placements: list[CerclagePlacement] = []
        self.removals: list[CerclageRemoval] = []
        self.medication_orders: list[MedicationOrder] = []
        self.declined: list[DeclinedDecision] = []
        #: Each report read, with the keys (id, fullUrl) a Task's `focus` may name it by.
        self.reports: list[tuple[frozenset[str], SymptomReport]] = []
        self.reviews: list[PendingReview] = []
        self.notes: list[str] = []


def name_of(resource: dict[str, Any], where: Where) -> str:
    """A resource as a note names it: its id, else `Kind (entry n)`."""
    rid = resource.get("id")
    return rid if isinstance(rid, str) and rid else where.label


def keys_of(resource: dict[str, Any], full_url: str | None) -> set[str]:
    """Every reference that names `resource` inside the bundle: `Kind/id` and its fullUrl."""
    keys = set()
    if isinstance(resource.get("id"), str):
        keys.add(f"{resource['resourceType']}/{resource['id']}")
    if full_url:
        keys.add(full_url)
    return keys


def names(reference: str, keys: AbstractSet[str]) -> bool:
    """Whether a reference names the resource with `keys`: exactly, or as an absolute URL
    ending in its `Kind/id` (https://host/fhir/Patient/p1)."""
    if reference in keys:
        return True
    return any(reference.endswith("/" + k) for k in keys if "/" in k and ":" not in k)


def who(reference: object, patient_keys: AbstractSet[str]) -> str | None:
    """A Reference as the person it names: "the woman" when it is the Patient, else its
    display, else the reference itself."""
    if not isinstance(reference, dict):
        return None
    target = reference.get("reference")
    if isinstance(target, str) and names(target, patient_keys):
        return "the woman"
    display = reference.get("display")
    if isinstance(display, str) and display.strip():
        return display.strip()
    return target if isinstance(target, str) and target else None


def has_value(resource: dict[str, Any]) -> bool:
    """Whether an Observation (or component) carries a value[x]."""
    return any(key.startswith("value") for key in resource)


def absent_reason(resource: dict[str, Any]) -> str | None:
    """Why a value is absent (`dataAbsentReason`'s code, else its text) when there is no value;
    None when a value is given or no reason is."""
    reason = resource.get("dataAbsentReason")
    if reason is None or has_value(resource):
        return None
    if isinstance(reason, dict):
        codings = reason.get("coding")
        for coding in codings if isinstance(codings, list) else ():
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return str(coding["code"])
        if isinstance(reason.get("text"), str):
            return str(reason["text"])
    return "no reason given"

"""Reading FHIR R4 datatypes from parsed JSON: codings, dates, quantities, with errors that name
the resource and the field.

FHIR JSON arrives as plain dicts (orjson); walking them directly is many times faster than
building full model objects, and the checks here are the ones the assessment depends on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cervixwatch.clinical.plausible import plausible_day
from cervixwatch.clinical.records import PartialDate
from cervixwatch.interop.intake import IntakeError, IssueCode
from cervixwatch.knowledge.codes import Code

_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


class BundleError(IntakeError):
    """An invalid bundle; the message is one line naming the resource and the field, and
    `resource`, `path` and `problem` say the same for a program (`interop.intake`)."""


class Where:
    """Names a resource in error messages: `Observation/cl-1 (entry 3)`, and its place as a
    FHIRPath (`Bundle.entry[3].resource`)."""

    __slots__ = ("_base", "_index", "_label", "_resource")

    def __init__(
        self,
        resource: dict[str, Any] | None,
        index: int,
        label: str | None = None,
        base: str | None = None,
    ) -> None:
        # Named when an error or a note first asks: most resources are read without either.
        self._resource = resource
        self._index = index
        self._label = label
        self._base = base

    @property
    def label(self) -> str:
        if self._label is None:
            resource = self._resource or {}
            rid = resource.get("id")
            kind = resource.get("resourceType", "resource")
            entry = f"(entry {self._index})"
            self._label = f"{kind}/{rid} {entry}" if rid else f"{kind} {entry}"
        return self._label

    @property
    def base(self) -> str:
        if self._base is None:
            self._base = f"Bundle.entry[{self._index}].resource"
        return self._base

    @classmethod
    def named(cls, label: str, base: str | None = None) -> Where:
        """A resource named by `label` ("Parameters.parameter[0].resource"), not by an entry;
        `base`: its FHIRPath, when not the label itself."""
        return cls(None, -1, label, base if base is not None else label)

    def path(self, field: str) -> str:
        return f"{self.base}.{field}"

    def error(self, field: str, problem: str, code: IssueCode = "invalid") -> BundleError:
        return BundleError(
            f"{self.label}: {field}: {problem}",
            resource=self.label,
            path=self.path(field),
            problem=problem,
            code=code,
        )


def listed(value: object, where: Where, field: str) -> list[Any]:
    """An element FHIR JSON holds as an array (`item`, `answer`, `component`): the list, [] when
    absent; anything else is refused, naming the element (never read as no items: a report's
    symptoms would be lost without a word)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(field, f"expected a list (a JSON array), got {type(value).__name__}")
    return value


def codes_of(concept: object) -> set[Code]:
    """The (system, code) pairs of a CodeableConcept (or a list of them); junk is tolerated."""
    if isinstance(concept, list):
        out: set[Code] = set()
        for item in concept:
            if isinstance(item, dict):
                out |= codes_of(item)
        return out
    if not isinstance(concept, dict):
        return set()
    codings = concept.get("coding")
    if not isinstance(codings, list):
        return set()
    # One CodeableConcept (nearly every call): its codings read in one comprehension.
    return {
        (system, code)
        for coding in codings
        if isinstance(coding, dict)
        and isinstance(system := coding.get("system"), str)
        and isinstance(code := coding.get("code"), str)
    }


def parse_partial_date(text: object, where: Where, field: str) -> PartialDate:
    """A FHIR date or dateTime to the precision given. A dateTime keeps the calendar date as
    written in its own offset: the clinic's local day, which is the day that was meant."""
    if not isinstance(text, str):
        raise where.error(field, f"expected a date string, got {text!r}")
    read = _read_date(text)
    if isinstance(read, str):
        raise where.error(field, read)
    return read


@lru_cache(maxsize=1 << 14)
def _read_date(text: str) -> PartialDate | str:
    """`text` read as a FHIR date or dateTime, or what is wrong with it. Kept for the next
    time: a registry's records are dated on the same few thousand days (a PartialDate is
    immutable, so one can be shared), and a text's reading depends on nothing else."""
    match = _DATE.match(text)
    if match is None:
        return f"{text!r} is not a FHIR date or dateTime"
    year = int(match["y"])
    month = int(match["m"]) if match["m"] else None
    day = int(match["d"]) if match["d"] else None
    if match["time"] and not match["tz"]:
        return f"{text!r}: a dateTime with a time needs a time zone"
    try:
        dt.date(year, month or 1, day or 1)
        if match["time"]:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        return f"{text!r} is not a real date and time ({error})"
    try:
        plausible_day(dt.date(year, month or 1, day or 1))
    except ValueError as error:
        return f"{text!r} {error}"
    return PartialDate(year, month, day)


def instant_key(text: str) -> str:
    """A dateTime as a comparable instant (UTC), a date as itself: for matching revisions."""
    if "T" not in text:
        return text
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC).isoformat()


def parse_date(text: object, where: Where, field: str) -> dt.date:
    """A date precise to the day (a year or month alone is an error here)."""
    partial = parse_partial_date(text, where, field)
    if partial.day is None:
        raise where.error(field, f"{text!r} needs a full date (year, month and day)")
    return partial.earliest()


def effective_date(
    resource: dict[str, Any], where: Where, *, precise: bool = True
) -> dt.date | None:
    """The clinically relevant date of an Observation: effective[x], else issued. A
    measurement must be dated to the day (`precise`); a year or month alone is an error."""
    name, value = "effectiveDateTime", resource.get("effectiveDateTime")
    if value is None:  # the others, in their order, only when the usual one is absent
        period = resource.get("effectivePeriod")
        others = (
            ("effectivePeriod.start", period.get("start") if isinstance(period, dict) else None),
            ("effectiveInstant", resource.get("effectiveInstant")),
            ("issued", resource.get("issued")),
        )
        name, value = next(((n, v) for n, v in others if v is not None), (name, None))
        if value is None:
            return None
    partial = parse_partial_date(value, where, name)
    if precise and partial.day is None:
        raise where.error(name, f"{value!r} needs a full date (year, month and day)")
    return partial.earliest()


def quantity(
    value: object, where: Where, field: str, units: Mapping[str, float], unit_kind: str
) -> float:
    """A Quantity's value converted by `units` (UCUM code, else unit text, to a factor)."""
    if not isinstance(value, dict):
        raise where.error(field, "expected a Quantity")
    number = value.get("value")
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise where.error(f"{field}.value", f"{number!r} is not a number")
    unit = value.get("code") if value.get("code") is not None else value.get("unit")
    if not isinstance(unit, str) or unit not in units:
        raise where.error(
            f"{field}.code", f"{unit!r} is not {unit_kind} (expected {' or '.join(units)})"
        )
    return float(number) * units[unit]


def boolean(value: object, where: Where, field: str) -> bool:
    if not isinstance(value, bool):
        raise where.error(field, f"{value!r} is not a boolean")
    return value

"""Who a FHIR R4 Patient is: her identifiers (each with its system, use and type), her names
(each HumanName with its use), her administrative gender and birth date, read from parsed JSON
with errors that name the resource and the field.

What identifies her, and what contradicts a stored woman, is decided by `app.patient_identity`;
this module only reads what the Patient says. Identifiers without a value (an empty one, or one
carrying only an extension) are skipped: they can identify no one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cervixwatch.clinical.identity_text import identifier_text, name_text
from cervixwatch.clinical.records import PartialDate
from cervixwatch.interop.fhir_values import Where, parse_partial_date
from cervixwatch.knowledge import codes as c

__all__ = [
    "GENDERS",
    "IDENTIFIER_USES",
    "NAME_USES",
    "Identifier",
    "PatientIdentity",
    "human_name",
    "identifier_json",
    "read_patient",
]

GENDERS: Final = frozenset({"male", "female", "other", "unknown"})
IDENTIFIER_USES: Final = frozenset({"usual", "official", "temp", "secondary", "old"})
NAME_USES: Final = frozenset(
    {"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"}
)
#: The longest identifier system or value, and name part, kept (the columns' widths).
MAX_IDENTIFIER: Final = 255
MAX_NAME: Final = 200
#: The HumanName elements kept: the rest (period, extensions) is not.
_NAME_LISTS: Final = ("given", "prefix", "suffix")


@dataclass(frozen=True, slots=True)
class Identifier:
    """One identifier of a woman: `value` under `system` (None: sent without one, so it means
    something only to the source that sent it). The type is its first coding and its text."""

    value: str
    system: str | None = None
    use: str | None = None
    type_system: str | None = None
    type_code: str | None = None
    type_text: str | None = None

    @property
    def is_medical_record_number(self) -> bool:
        return (self.type_system, self.type_code) == c.MEDICAL_RECORD_NUMBER or (
            self.type_system is None and self.type_code == "MR"
        )

    def label(self) -> str:
        """`system|value`, or `value` for one without a system (as a token search writes it)."""
        return f"{self.system}|{self.value}" if self.system is not None else self.value


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """What a Patient says of who she is. `names` are HumanName JSON objects (use, text,
    family, given, prefix, suffix) as sent, trimmed; `birth_date` to the precision given."""

    resource_id: str | None
    identifiers: tuple[Identifier, ...] = ()
    names: tuple[dict[str, Any], ...] = ()
    gender: str | None = None
    birth_date: PartialDate | None = None


def _text(
    value: object,
    where: Where,
    field: str,
    limit: int,
    rule: Callable[[str], str] = name_text,
) -> str | None:
    """Trimmed text, checked and normalised by `rule` (clinical.identity_text: the rule the
    JSON API applies to the same fields); None when empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise where.error(field, f"{value!r} is not a string")
    if len(value) > limit:
        raise where.error(field, f"longer than {limit} characters")
    try:
        return rule(value.strip()) or None
    except ValueError as error:
        raise where.error(field, str(error)) from None


def _code(value: object, where: Where, field: str, allowed: frozenset[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise where.error(field, f"{value!r} is not one of {', '.join(sorted(allowed))}")
    return value


def _identifier(item: object, where: Where, field: str) -> Identifier | None:
    if not isinstance(item, dict):
        raise where.error(field, "expected an Identifier")
    value = _text(item.get("value"), where, f"{field}.value", MAX_IDENTIFIER, identifier_text)
    if value is None:
        return None
    system = _text(item.get("system"), where, f"{field}.system", MAX_IDENTIFIER, identifier_text)
    use = _code(item.get("use"), where, f"{field}.use", IDENTIFIER_USES)
    kind = item.get("type")
    type_system = type_code = type_text = None
    if kind is not None:
        if not isinstance(kind, dict):
            raise where.error(f"{field}.type", "expected a CodeableConcept")
        codings = kind.get("coding") or []
        if not isinstance(codings, list):
            raise where.error(f"{field}.type.coding", "expected a list of Coding")
        first = next((x for x in codings if isinstance(x, dict) and x.get("code")), None)
        if first is not None:
            type_system = _text(first.get("system"), where, f"{field}.type.coding", MAX_IDENTIFIER)
            type_code = _text(first.get("code"), where, f"{field}.type.coding", 64)
        type_text = _text(kind.get("text"), where, f"{field}.type.text", MAX_NAME)
    return Identifier(value, system, use, type_system, type_code, type_text)


def human_name(item: object, where: Where, field: str) -> dict[str, Any]:
    """A HumanName as kept: its use, text, family and lists of parts, trimmed (empty parts
    left out)."""
    if not isinstance(item, dict):
        raise where.error(field, "expected a HumanName")
    name: dict[str, Any] = {}
    use = _code(item.get("use"), where, f"{field}.use", NAME_USES)
    if use is not None:
        name["use"] = use
    for part in ("text", "family"):
        value = _text(item.get(part), where, f"{field}.{part}", MAX_NAME)
        if value is not None:
            name[part] = value
    for part in _NAME_LISTS:
        values = item.get(part)
        if values is None:
            continue
        if not isinstance(values, list):
            raise where.error(f"{field}.{part}", "expected a list of strings")
        kept = [
            text
            for i, v in enumerate(values)
            if (text := _text(v, where, f"{field}.{part}[{i}]", MAX_NAME)) is not None
        ]
        if kept:
            name[part] = kept
    return name


def read_patient(resource: Mapping[str, Any], where: Where) -> PatientIdentity:
    """Her identifiers (each once, in the order sent), names, gender and birth date."""
    raw = resource.get("identifier")
    identifiers: list[Identifier] = []
    if raw is not None:
        if not isinstance(raw, list):
            raise where.error("identifier", "expected a list")
        for i, item in enumerate(raw):
            found = _identifier(item, where, f"identifier[{i}]")
            if found is not None and all(
                (found.system, found.value) != (k.system, k.value) for k in identifiers
            ):
                identifiers.append(found)
    names_raw = resource.get("name")
    names: list[dict[str, Any]] = []
    if names_raw is not None:
        if not isinstance(names_raw, list):
            raise where.error("name", "expected a list of HumanName")
        for i, item in enumerate(names_raw):
            name = human_name(item, where, f"name[{i}]")
            if name and name.keys() != {"use"}:
                names.append(name)
    gender = _code(resource.get("gender"), where, "gender", GENDERS)
    birth_date = None
    if resource.get("birthDate") is not None:
        birth_date = parse_partial_date(resource["birthDate"], where, "birthDate")
    rid = resource.get("id")
    return PatientIdentity(
        rid if isinstance(rid, str) and rid else None,
        tuple(identifiers),
        tuple(names),
        gender,
        birth_date,
    )


def identifier_json(identifier: Identifier) -> dict[str, Any]:
    """An Identifier as FHIR JSON."""
    out: dict[str, Any] = {}
    if identifier.use is not None:
        out["use"] = identifier.use
    kind: dict[str, Any] = {}
    if identifier.type_code is not None:
        coding = {"code": identifier.type_code}
        if identifier.type_system is not None:
            coding = {"system": identifier.type_system, **coding}
        kind["coding"] = [coding]
    if identifier.type_text is not None:
        kind["text"] = identifier.type_text
    if kind:
        out["type"] = kind
    if identifier.system is not None:
        out["system"] = identifier.system
    out["value"] = identifier.value
    return out

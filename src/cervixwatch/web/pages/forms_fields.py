"""How a form asks for a field, and what the JSON API's pydantic model lets that field hold:
read off the model (its type, whether it is required, its default, its bounds and length), so
the browser's constraints (required, min, max, maxlength) and the words beside a field ("from
0 to 10 cm") never disagree with what the server accepts. Any form built on an API model
(a record, a pregnancy's registration, a booking) draws its fields from here.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic.fields import FieldInfo

from cervixwatch.clinical.gestation import GestationalAge

Widget = Literal["date", "time", "number", "text", "select", "yes-no", "partial-date", "gestation"]


@dataclass(frozen=True, slots=True)
class Input:
    """One field of a form: how it is asked. What it may hold comes from the API's model."""

    name: str
    label: str
    widget: Widget
    hint: str = ""
    unit: str = ""
    #: The HTML step of a number (None: any number).
    step: str | None = None
    #: The model's field when the form asks for it otherwise (weeks+days for days).
    field: str | None = None
    #: Words for the values of a choice (the values themselves are the model's).
    words: tuple[tuple[str, str], ...] = ()

    @property
    def model_field(self) -> str:
        return self.field or self.name


#: How the forms name each chorionicity (the values are `clinical.records.Chorionicity`'s).
CHORIONICITY_WORDS: tuple[tuple[str, str], ...] = (
    ("dichorionic-diamniotic", "Dichorionic diamniotic (DCDA)"),
    ("monochorionic", "Monochorionic (MC)"),
)
CHORIONICITY_WORDS_OF: dict[str, str] = dict(CHORIONICITY_WORDS)
#: How the forms name each way of dating a pregnancy (`clinical.records.DatingMethod`).
DATING_WORDS: tuple[tuple[str, str], ...] = (
    ("ultrasound", "Ultrasound (dating scan)"),
    ("last-menstrual-period", "Last menstrual period"),
    ("ovulation-date", "Ovulation date (e.g. embryo transfer)"),
)
DATING_WORDS_OF: dict[str, str] = dict(DATING_WORDS)


@dataclass(frozen=True, slots=True)
class Allowed:
    """What a model's field allows: its type, whether it is required, its bounds."""

    base: Any
    required: bool
    default: Any
    low: float | None = None
    low_inclusive: bool = True
    high: float | None = None
    high_inclusive: bool = True
    max_length: int | None = None


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type inside `X | None` and `Annotated[X, ...]`, and the metadata found on the way."""
    metadata: list[Any] = []
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        for item in extra:
            metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, metadata


def allowed(model: type[Any], name: str) -> Allowed:
    info: FieldInfo = model.model_fields[name]
    base, metadata = _unwrap(info.annotation)
    found: dict[str, Any] = {}
    for item in [*info.metadata, *metadata]:
        if isinstance(item, at.Gt):
            found.update(low=item.gt, low_inclusive=False)
        elif isinstance(item, at.Ge):
            found.update(low=item.ge, low_inclusive=True)
        elif isinstance(item, at.Lt):
            found.update(high=item.lt, high_inclusive=False)
        elif isinstance(item, at.Le):
            found.update(high=item.le, high_inclusive=True)
        elif getattr(item, "max_length", None) is not None:
            found["max_length"] = item.max_length
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    return Allowed(base=base, required=info.is_required(), default=default, **found)


def _number(value: float) -> str:
    return f"{value:g}"


def range_words(inp: Input, rule: Allowed) -> str:
    """ "more than 0 and less than 100 mm", "from 0+0 to 45+0"."""

    def show(value: float) -> str:
        return str(GestationalAge(int(value))) if inp.widget == "gestation" else _number(value)

    unit = f" {inp.unit}" if inp.unit else ""
    if rule.low is not None and rule.high is not None:
        if rule.low_inclusive and rule.high_inclusive:
            return f"from {show(rule.low)} to {show(rule.high)}{unit}"
        low = "at least" if rule.low_inclusive else "more than"
        high = "at most" if rule.high_inclusive else "less than"
        return f"{low} {show(rule.low)} and {high} {show(rule.high)}{unit}"
    if rule.low is not None:
        return f"{'at least' if rule.low_inclusive else 'more than'} {show(rule.low)}{unit}"
    if rule.high is not None:
        return f"{'at most' if rule.high_inclusive else 'less than'} {show(rule.high)}{unit}"
    return ""


def _html_bound(value: float, inclusive: bool, step: str | None, direction: int) -> str:
    """An HTML min or max (always inclusive) for a bound that may be exclusive: one step in."""
    if inclusive or step is None:
        return _number(value)
    return str(Decimal(str(value)) + direction * Decimal(step))


def _choices(inp: Input, rule: Allowed) -> list[tuple[str, str]]:
    if inp.widget == "yes-no":
        return [("yes", "Yes"), ("no", "No")]
    words = dict(inp.words)
    members = list(rule.base) if isinstance(rule.base, type) and issubclass(rule.base, Enum) else []
    return [(m.value, words.get(m.value, m.value.replace("-", " ").capitalize())) for m in members]


@dataclass(frozen=True, slots=True)
class DateBounds:
    """The days a date field may hold (drawn as its min and max), and the words the field
    shows beside a date as typed ("22+3 weeks on that day")."""

    latest: dt.date
    earliest: dt.date | None = None
    words: Callable[[str], str] | None = None


def draw(
    inputs: tuple[Input, ...],
    model: type[Any],
    typed: dict[str, str],
    errors: dict[str, str],
    dates: DateBounds,
) -> list[dict[str, Any]]:
    """What the template (`form_fields.html`) needs to draw each field: its value as typed
    (or the model's default), its error, and the model's constraints as HTML attributes."""
    fields = []
    for inp in inputs:
        rule = allowed(model, inp.model_field)
        value = typed.get(inp.name, "")
        if not value and rule.default is not None:  # left empty: the model's default applies
            value = str(getattr(rule.default, "value", rule.default))
        field: dict[str, Any] = {
            "input": inp,
            "id": f"f-{inp.name}",
            "value": value,
            "error": errors.get(inp.name),
            "required": rule.required,
            # Neither required nor answered by a default: it may stay empty (unknown).
            "optional": not rule.required and rule.default is None,
            "range": range_words(inp, rule),
        }
        if inp.widget == "number":
            if rule.low is not None:
                field["min"] = _html_bound(rule.low, rule.low_inclusive, inp.step, 1)
            if rule.high is not None:
                field["max"] = _html_bound(rule.high, rule.high_inclusive, inp.step, -1)
            field["step"] = inp.step or "any"
            field["inputmode"] = "numeric" if inp.step == "1" else "decimal"
        elif inp.widget == "date":
            field["max"] = dates.latest.isoformat()
            if dates.earliest is not None:
                field["min"] = dates.earliest.isoformat()
            field["ga"] = dates.words(value) if dates.words is not None else ""
        elif inp.widget in ("select", "yes-no"):
            field["choices"] = _choices(inp, rule)
            field["blank"] = (
                None
                if rule.default is not None
                else ("Choose…" if rule.required else "Not recorded")
            )
        if rule.max_length is not None:
            field["maxlength"] = rule.max_length
        fields.append(field)
    return fields

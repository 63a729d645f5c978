"""Reading what was typed into a form: each field's text turned into the value the JSON API's
model is given (a number, yes or no, weeks+days as days), the model's verdict, and every
error worded for the person at the form and kept beside its field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from cervixwatch.app.errors import InvalidField
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.clinical.plausible import Problem
from cervixwatch.web.pages.forms_fields import Allowed, Input, allowed, range_words


class _Unreadable(ValueError):
    pass


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _read(inp: Input, rule: Allowed, raw: str) -> Any:
    """The value the model is given for what was typed (raises `_Unreadable` with why)."""
    if inp.widget == "number":
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise _Unreadable(f"Enter {inp.label.lower()} as a number") from None
        if rule.base is int and number.is_finite() and number == number.to_integral_value():
            return int(number)
        return float(number)
    if inp.widget == "yes-no":
        if raw not in ("yes", "no"):
            raise _Unreadable("Choose yes, no or not recorded")
        return raw == "yes"
    if inp.widget == "gestation":
        text = raw if "+" in raw else f"{raw}+0"
        try:
            return GestationalAge.parse(text).total_days
        except ValueError:
            raise _Unreadable("Write the gestation as weeks+days, e.g. 30+2") from None
    return raw


def _message(inp: Input, rule: Allowed, error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        verb = "Choose" if inp.widget in ("select", "yes-no") else "Enter"
        return f"{verb} the {inp.label.lower()}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{inp.label} must be {range_words(inp, rule)}"
    if kind == "enum":
        return "Choose one of the options"
    if kind == "finite_number":
        return f"Enter {inp.label.lower()} as a number"
    if kind in ("int_from_float", "int_parsing"):
        return f"{inp.label} must be a whole number"
    message = str(error["msg"]).removeprefix("Value error, ").replace("Input should be", "Must be")
    return sentence(message)


@dataclass(slots=True)
class Submission:
    """What was typed (as typed), what the model was given, and what is wrong with it; and
    the plausibility warnings the use case asks to confirm (`app.checks.NeedsConfirmation`)
    and the codes of those confirmed (the form's `confirm` boxes)."""

    typed: dict[str, str]
    errors: dict[str, str]
    body: Any = None
    warnings: tuple[Problem, ...] = ()
    confirmed: tuple[str, ...] = ()


#: A check of one field's text beyond the model (the use case's own, e.g. a date outside the
#: pregnancy): raises `InvalidField`; anything else it raises is left to the model to name.
FieldCheck = Callable[[str, str], None]


def read_form(
    inputs: tuple[Input, ...],
    model: type[Any],
    typed: Mapping[str, str],
    also: FieldCheck | None = None,
) -> Submission:
    """The form's values checked by the API's `model` and by `also` (model field, text), so
    that every error is shown at once; the use case checks again as it saves."""
    result = Submission(dict(typed), {})
    data: dict[str, Any] = {}
    for inp in inputs:
        raw = typed.get(inp.name, "").strip()
        if not raw:
            continue  # empty: the model's default, or "required"
        try:
            data[inp.model_field] = _read(inp, allowed(model, inp.model_field), raw)
        except _Unreadable as error:
            result.errors[inp.name] = str(error)
        if also is not None:
            try:
                also(inp.model_field, raw)
            except InvalidField as error:
                result.errors[inp.name] = sentence(error.message)
            except ValueError:
                pass  # not a value at all: the model says so
    by_field = {inp.model_field: inp for inp in inputs}
    try:
        result.body = model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            named = by_field.get(str(detail["loc"][0])) if detail["loc"] else None
            if named is None:
                result.errors.setdefault("", sentence(str(detail["msg"])))
            else:
                rule = allowed(model, named.model_field)
                result.errors.setdefault(named.name, _message(named, rule, detail))
    if result.errors:
        result.body = None
    return result


def typed_values(inputs: tuple[Input, ...], sent: Mapping[str, Any]) -> dict[str, str]:
    """The text of each field as sent (a field not sent, or a file, is empty)."""
    typed = {}
    for inp in inputs:
        value = sent.get(inp.name)
        typed[inp.name] = value if isinstance(value, str) else ""
    return typed


def confirmed_codes(sent: Any) -> tuple[str, ...]:
    """The codes of the warnings the form's `confirm` boxes confirm (a starlette form)."""
    return tuple(v for v in sent.getlist("confirm") if isinstance(v, str))[:10]


def field_warnings(
    inputs: tuple[Input, ...], fields: list[dict[str, Any]], warnings: tuple[Problem, ...]
) -> list[dict[str, str]]:
    """Each warning beside its field (the field's `warning`), and the list of them for the
    confirming boxes: code, message and the field's id."""
    by_model = {inp.model_field: f for inp, f in zip(inputs, fields, strict=True)}
    listed = []
    for w in warnings:
        field = by_model.get(w.field)
        if field is not None:
            field["warning"] = sentence(w.message)
        listed.append(
            {
                "code": w.code,
                "message": sentence(w.message),
                "href": f"#{field['id']}" if field is not None else "",
            }
        )
    return listed

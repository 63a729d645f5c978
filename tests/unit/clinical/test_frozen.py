"""`quick_init` (clinical/frozen.py) gives a frozen dataclass the `__init__` that `dataclass` wrote,
only quicker: the same parameters, order and defaults; each field set to what was given; the
object as frozen, equal, replaceable and picklable as before. And it refuses what it cannot
copy."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import re
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import pytest

from cervixwatch.clinical.assessment import Assessment
from cervixwatch.clinical.frozen import quick_init
from cervixwatch.clinical.recommendation import CurrentTreatment, Recommendation, Withheld
from cervixwatch.clinical.risk import EvidenceItem, RiskSummary
from cervixwatch.clinical.surveillance import ScanPlan, ScheduledScan

QUICK = [
    Assessment,
    CurrentTreatment,
    EvidenceItem,
    Recommendation,
    RiskSummary,
    ScanPlan,
    ScheduledScan,
    Withheld,
]


class _Value:
    """A value no default equals, told apart by `n`."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"_Value({self.n})"


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_the_parameters_are_the_fields_in_order_with_their_defaults(cls: type) -> None:
    init = cls.__dict__["__init__"]  # the class's own, as quick_init set it
    assert init.__code__.co_filename.startswith("<quick_init ")  # the quick one is in place
    parameters = list(inspect.signature(init).parameters.values())[1:]
    assert [p.name for p in parameters] == [f.name for f in _fields(cls)]
    for parameter, f in zip(parameters, _fields(cls), strict=True):
        expected = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert parameter.default == expected
        assert parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_each_field_is_what_was_given_and_the_object_stays_frozen(cls: type) -> None:
    values = {f.name: _Value(i) for i, f in enumerate(_fields(cls))}
    by_name = cls(**values)
    by_position = cls(*values.values())
    for name, value in values.items():
        assert getattr(by_name, name) is value
        assert getattr(by_position, name) is value
    assert by_name == by_position
    with pytest.raises(FrozenInstanceError):
        setattr(by_name, next(iter(values)), 0)
    first = next(iter(values))
    replaced = dataclasses.replace(by_name, **{first: _Value(-1)})
    assert getattr(replaced, first).n == -1
    assert getattr(by_name, first) is values[first]


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_a_field_left_out_takes_its_default(cls: type) -> None:
    required = {
        f.name: _Value(i) for i, f in enumerate(_fields(cls)) if f.default is dataclasses.MISSING
    }
    made = cls(**required)
    for f in _fields(cls):
        if f.default is not dataclasses.MISSING:
            assert getattr(made, f.name) == f.default
    with pytest.raises(TypeError):
        cls()


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_an_object_pickles_as_before(cls: type) -> None:
    values = {f.name: f"value {i}" for i, f in enumerate(_fields(cls))}
    made = cls(**values)
    assert pickle.loads(pickle.dumps(made)) == made


def test_what_it_cannot_copy_is_refused() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class NotInInit:
        a: int = field(default=0, init=False)

    @dataclass(frozen=True, slots=True)
    class KeywordOnly:
        a: int = field(kw_only=True)

    @dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    refused = {
        NoSlots: "frozen dataclasses with slots",
        NotFrozen: "frozen dataclasses with slots",
        Factory: "plain fields only",
        NotInInit: "plain fields only",
        KeywordOnly: "plain fields only",
        PostInit: "__post_init__",
    }
    for cls, message in refused.items():
        with pytest.raises(TypeError, match=re.escape(message)):
            quick_init(cls)


def test_a_class_without_fields() -> None:
    @quick_init
    @dataclass(frozen=True, slots=True)
    class Empty:
        pass

    assert Empty() == Empty()


def test_quick_init_made_while_the_test_runs() -> None:
    """The class is made and given its `__init__` here, not at import (so a change to
    quick_init is seen by this test): by position and by name it sets every field, defaults
    included, and `__init__` is named as the class's own."""

    @quick_init
    @dataclass(frozen=True, slots=True)
    class Local:
        first: int
        second: str = "two"
        third: tuple[int, ...] = ()

    for made in (Local(1, "b", (3,)), Local(first=1, second="b", third=(3,))):
        assert (made.first, made.second, made.third) == (1, "b", (3,))
        with pytest.raises(FrozenInstanceError):
            made.first = 2  # type: ignore[misc]
    assert Local(5) == Local(5, "two", ())
    assert Local.__init__.__qualname__.endswith("Local.__init__")
    assert Local.__init__.__module__ == __name__
    assert Local.__init__.__annotations__ == {
        "first": "int",
        "second": "str",
        "third": "tuple[int, ...]",
        "return": None,
    }


def test_quick_init_refuses_what_is_no_frozen_slotted_dataclass() -> None:
    class Plain:
        a: int

    with pytest.raises(
        TypeError, match=r"^Plain: quick_init is for frozen dataclasses with slots$"
    ):
        quick_init(Plain)

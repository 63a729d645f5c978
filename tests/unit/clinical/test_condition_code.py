"""A condition compiled to one generated function gives exactly what its tree's `value` gives,
reading the same facts in the same order (so it stops where `value` stops); its source can be
read, and nothing in a fact name or a code can turn into code."""

from __future__ import annotations

import inspect
import math
import traceback
from collections.abc import Callable, Mapping
from types import FunctionType
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cervixwatch.clinical.condition_code import (
    MAX_DEPTH,
    compile_code,
    compile_condition,
    condition_source,
)
from cervixwatch.clinical.conditions import (
    All,
    Any_,
    Assume,
    Between,
    Compare,
    Condition,
    ConditionError,
    FiredAny,
    IsTrue,
    Not,
    Recorded,
    parse_condition,
)
from cervixwatch.clinical.facts import FactValue
from cervixwatch.clinical.guidelines import COMPILE_AFTER
from cervixwatch.knowledge import BUNDLED_PROFILES, load_profile
from tests.strategies import (
    CONDITION_CODES,
    CONDITION_FACTS,
    PROPERTY_SETTINGS,
    condition_facts,
    condition_trees,
)

Check = Callable[[Mapping[str, FactValue], frozenset[str]], "bool | None"]


class _ReadLog(dict[str, FactValue]):
    """Facts that note each name read."""

    def __init__(self, facts: Mapping[str, FactValue]) -> None:
        super().__init__(facts)
        self.read: list[str] = []

    def __getitem__(self, name: str) -> FactValue:
        self.read.append(name)
        return super().__getitem__(name)


def _function(check: Check) -> FunctionType:
    assert isinstance(check, FunctionType)
    return check


def _outcome(
    check: Check, facts: Mapping[str, FactValue], fired: frozenset[str]
) -> tuple[object, list[str]]:
    """What `check` gives (or the kind of error it raises), and the facts it read in order."""
    log = _ReadLog(facts)
    try:
        result: object = check(log, fired)
    except (KeyError, TypeError) as error:
        result = type(error)
    return result, log.read


def _assert_same(
    check: Check, condition: Condition, facts: Mapping[str, FactValue], fired: frozenset[str]
) -> None:
    got, read = _outcome(check, facts, fired)
    expected, expected_read = _outcome(condition.value, facts, fired)
    # `is`, not `==`: True, False and None exactly, never 1 or 0.
    assert got is expected, (facts, fired, condition_source(condition))
    assert read == expected_read, (facts, fired, condition_source(condition))


@PROPERTY_SETTINGS
@given(
    condition_trees(),
    st.lists(
        st.tuples(condition_facts(), st.frozensets(st.sampled_from(CONDITION_CODES))),
        min_size=4,
        max_size=12,
    ),
)
def test_the_generated_function_gives_what_the_tree_gives(
    condition: Condition, inputs: list[tuple[dict[str, FactValue], frozenset[str]]]
) -> None:
    compiled = compile_condition(condition, "drawn")
    for facts, fired in inputs:
        _assert_same(compiled, condition, facts, fired)


def _reported(
    report: Callable[..., None], out: list[str] | dict[str, object], *args: object
) -> tuple[object, list[str]]:
    """What `report` (an `unknowns` or `explain`) leaves in `out`, in order, or the kind of error
    it raises; and the facts it read in order."""
    facts = args[0]
    assert isinstance(facts, Mapping)
    log = _ReadLog(facts)
    try:
        report(log, *args[1:], out)
    except (KeyError, TypeError) as error:
        return type(error), log.read
    return (list(out.items()) if isinstance(out, dict) else list(out)), log.read


def _assert_same_reports(
    condition: Condition, facts: Mapping[str, FactValue], fired: frozenset[str], before: list[str]
) -> None:
    """The generated `unknowns` and `explain` add what the tree's own methods add, to the same
    `out` (some names already in it), reading the same facts in the same order."""
    code = compile_code(condition, "drawn")
    where = (facts, fired, before, condition_source(condition))
    assert _reported(code.unknowns, list(before), facts, fired) == _reported(
        condition.unknowns, list(before), facts, fired
    ), where
    explained = dict.fromkeys(before, "before")
    assert _reported(code.explain, dict(explained), facts, fired) == _reported(
        condition.explain, dict(explained), facts, fired
    ), where


@PROPERTY_SETTINGS
@given(
    condition_trees(),
    st.lists(
        st.tuples(
            condition_facts(),
            st.frozensets(st.sampled_from(CONDITION_CODES)),
            st.lists(st.sampled_from(CONDITION_FACTS), max_size=2),
        ),
        min_size=4,
        max_size=12,
    ),
)
def test_the_generated_reports_give_what_the_tree_gives(
    condition: Condition, inputs: list[tuple[dict[str, FactValue], frozenset[str], list[str]]]
) -> None:
    for facts, fired, before in inputs:
        _assert_same_reports(condition, facts, fired, before)


_LEAVES = [
    IsTrue("x"),
    *(
        Compare("x", op, bound)
        for op in ("lt", "le", "gt", "ge", "eq", "ne")
        for bound in (0.0, 1.0)
    ),
    Between("x", 0.0, 1.0),
    Between("x", 1.0, 1.0),
    Between("x", -math.inf, math.nan),
]
_PLACES: list[Callable[[Condition], Condition]] = [
    lambda c: c,
    Not,
    Recorded,
    lambda c: Assume(c, "assumed"),
    lambda c: All((c, IsTrue("y"))),
    lambda c: All((IsTrue("y"), Not(c))),
    lambda c: Any_((IsTrue("y"), c)),
    lambda c: Any_((Recorded(c), IsTrue("y"))),
    lambda c: All((IsTrue("y"), Any_((c, FiredAny(frozenset({"a"})))))),
    lambda c: Any_((All((Assume(c, "assumed"), IsTrue("y"))), IsTrue("y"))),
]
_VALUES: list[FactValue] = [None, True, False, -1, 0, 1, 2, 0.0, 0.5, 1.0, math.nan, math.inf]


@pytest.mark.parametrize("place", range(len(_PLACES)))
def test_every_leaf_in_every_place_for_every_value(place: int) -> None:
    # Every comparison on and either side of its bound: what random trees meet only rarely.
    for leaf in _LEAVES:
        condition = _PLACES[place](leaf)
        check = compile_condition(condition)
        for x in _VALUES:
            for y in (True, False, None):
                for fired in (frozenset(), frozenset({"a"})):
                    _assert_same(check, condition, {"x": x, "y": y}, fired)
                    for before in ([], ["x"], ["y"]):
                        _assert_same_reports(condition, {"x": x, "y": y}, fired, before)


def test_the_generated_source_can_be_read() -> None:
    condition = parse_condition(
        {"all": ["singleton", {"fact": "ga_days", "lt": "24+0"}, {"fired": ["urgent-evaluation"]}]}
    )
    source = condition_source(condition)
    assert "    def check(facts, fired):\n" in source
    assert "v = facts['singleton']" in source
    assert "v < 168.0" in source
    assert "urgent-evaluation" not in source  # the code set is passed in, not written
    check = condition.compiled("SMFM70-02 vaginal-progesterone")
    assert _function(check).__code__.co_filename.startswith(
        "<condition SMFM70-02 vaginal-progesterone"
    )
    assert inspect.getsource(check) in source
    assert inspect.getsource(check).startswith("    def check(facts, fired):")


def test_a_traceback_shows_the_generated_line() -> None:
    check = parse_condition({"all": ["singleton", {"fact": "ga_days", "lt": 1}]}).compiled("T")
    with pytest.raises(KeyError) as raised:
        check({"singleton": True}, frozenset())
    frame = traceback.extract_tb(raised.value.__traceback__)[-1]
    assert frame.filename.startswith("<condition T")
    assert frame.line == "v = facts['ga_days']"


def test_the_parser_refuses_a_fact_name_with_quotes() -> None:
    with pytest.raises(ConditionError, match="unknown fact"):
        parse_condition(CONDITION_FACTS[-1])
    with pytest.raises(ConditionError, match="unknown fact"):
        parse_condition({"fact": "ga_days'] or facts['x", "lt": 3})


def test_a_fact_name_or_code_with_quotes_stays_a_string() -> None:
    # Built directly, past the parser's check: the name is still read as the name, whole.
    name = CONDITION_FACTS[-1]
    condition = All((IsTrue(name), FiredAny(frozenset({CONDITION_CODES[-1]}))))
    source = condition_source(condition)
    assert f"facts[{name!r}]" in source
    assert CONDITION_CODES[-1] not in source
    check = compile_condition(condition)
    assert check({name: True}, frozenset({CONDITION_CODES[-1]})) is True
    assert check({name: True}, frozenset({"it's"})) is False
    assert check({name: None}, frozenset({CONDITION_CODES[-1]})) is None
    with pytest.raises(KeyError, match="os"):
        check({}, frozenset())
    # The generated function has no builtins to call.
    assert _function(check).__globals__["__builtins__"] == {}


def test_the_words_of_an_assumption_are_never_written() -> None:
    words = "'''\nimport os  # the usual"
    condition = Assume(Not(IsTrue("dilated")), words)
    assert words not in condition_source(condition)
    assert "import" not in condition_source(condition)
    assert compile_condition(condition)({"dilated": None}, frozenset()) is True


@pytest.mark.parametrize("operand", [math.inf, -math.inf, math.nan, -0.0, 1e300, 5e-324])
def test_any_operand_reads_back_exactly(operand: float) -> None:
    for op in ("lt", "ge", "eq", "ne"):
        condition = Compare("ga_days", op, operand)
        check = compile_condition(condition)
        for value in (0, -0.0, 1e300, math.inf, -math.inf, math.nan, None):
            assert check({"ga_days": value}, frozenset()) is condition.value(
                {"ga_days": value}, frozenset()
            )


def _nested(depth: int) -> Condition:
    condition: Condition = IsTrue("singleton")
    for level in range(depth - 1):
        if level % 3 == 0:
            condition = Not(condition)
        elif level % 3 == 1:
            condition = All((IsTrue("dilated"), condition))
        else:
            condition = Any_((condition, IsTrue("dilated")))
    return condition


@pytest.mark.parametrize("depth", [MAX_DEPTH, MAX_DEPTH + 1])
def test_a_deep_tree_is_compiled_up_to_the_limit_and_walked_past_it(depth: int) -> None:
    condition = _nested(depth)
    check = compile_condition(condition)
    assert (check == condition.value) is (depth > MAX_DEPTH)
    for singleton in (True, False, None):
        for dilated in (True, False, None):
            facts = {"singleton": singleton, "dilated": dilated}
            assert check(facts, frozenset()) is condition.value(facts, frozenset())


def test_a_profile_walks_its_trees_until_asked_often_then_compiles() -> None:
    # A one-shot `cervixwatch assess` never pays for compiling (guidelines.COMPILE_AFTER).
    profile = load_profile(BUNDLED_PROFILES / "nice-2026.12.yaml")
    for _ in range(COMPILE_AFTER - 1):
        for rules in profile.passes:
            for entry in rules:
                assert (
                    entry.check,
                    entry.unknowns,
                    entry.explain,
                ) == entry.rule.when.walking_code()
    passes = profile.passes
    for entry in (entry for rules in passes for entry in rules):
        assert (entry.check, entry.unknowns, entry.explain) == entry.rule.compiled_code
        for function in entry.rule.compiled_code:
            generated = cast(Check, function)  # each of the three is a generated function
            assert _function(generated).__code__.co_filename.startswith("<condition ")
    assert profile.passes is profile.passes  # made once

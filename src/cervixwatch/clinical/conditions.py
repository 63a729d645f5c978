"""The condition language of guideline rules, with three-valued logic.

A rule's `when` is a tree written in the knowledge files (YAML) and parsed here:

    singleton                              the fact is true
    {recorded: <condition>}                known to hold (unknown counts as no, and is not missing)
    {fact: ga_days, lt: "24+0"}            compare with lt, le, gt, ge, eq, ne ("W+D" = days)
    {fact: ga_days, between: ["16+0", "24+0"]}   inclusive at both ends
    {all: [...]}, {any: [...]}, {not: ...}
    {fired: [code, ...]}                   another rule of the same profile gave one of these
    {assume: <condition>, words: "..."}    the usual value: holds when the inner condition is
                                           unknown, and says so in `words` (CD-01)

Every condition answers True, False or None (unknown: a fact it needs is None). A rule is given
only when its condition is True; an unknown result names the facts that were missing.
`recorded` is for findings that trigger action (exposed membranes, dilation): no record of a
finding is no reason to act on it, while a rule that needs the finding to be absent must use
the plain or `not` form so that an unrecorded exam stays unknown.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from cervixwatch.clinical.facts import FACT_CATALOGUE, FACT_FAMILIES, FactValue, WindowedFact
from cervixwatch.clinical.gestation import ga

Fired = frozenset[str]
Check = Callable[[Mapping[str, FactValue], Fired], "bool | None"]
Unknowns = Callable[[Mapping[str, FactValue], Fired, list[str]], None]
Explain = Callable[[Mapping[str, FactValue], Fired, dict[str, Any]], None]
_COMPARATORS: Mapping[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
}
_SYMBOLS = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "=", "ne": "≠"}


class ConditionError(ValueError):
    """A knowledge file's condition is malformed; the message names where."""


class ConditionCode(NamedTuple):
    """What `assess` asks of a condition, as three functions: the tree's own methods
    (`Condition.walking_code`) or generated code that gives the same (`Condition.compiled_code`)."""

    check: Check  # `value`
    unknowns: Unknowns
    explain: Explain


class Condition:
    """Base of the condition tree."""

    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        raise NotImplementedError

    def explain(self, facts: Mapping[str, FactValue], fired: Fired, out: dict[str, Any]) -> None:
        """Add to `out` the facts (name: value) that make this condition hold."""
        raise NotImplementedError

    def unknowns(self, facts: Mapping[str, FactValue], fired: Fired, out: list[str]) -> None:
        """Add to `out` the facts whose absence makes this condition unknown."""
        raise NotImplementedError

    def fact_names(self) -> set[str]:
        raise NotImplementedError

    def uses_fired(self) -> bool:
        return False

    def assumptions(
        self, facts: Mapping[str, FactValue], fired: Fired, words: list[str], needs: list[str]
    ) -> None:
        """Add the assumptions this condition made to hold (their words, and the facts whose
        absence they stood in for). Only the parts that decided the outcome are visited."""
        return None

    def assumes(self) -> bool:
        """Whether an `assume` node is anywhere in this condition."""
        return False

    def compiled(self, name: str = "condition") -> Check:
        """`value` as one generated Python function (`condition_code.py` says why and how):
        `assess` evaluates every rule for every pregnancy. `name` (a rule's id and code) names
        the generated source in tracebacks."""
        return self.compiled_code(name).check

    def compiled_code(self, name: str = "condition") -> ConditionCode:
        """`value`, `unknowns` and `explain` as generated functions, as `compiled` does."""
        # Imported here: condition_code builds on the node classes of this module.
        from cervixwatch.clinical.condition_code import compile_code

        return compile_code(self, name)

    def walking_code(self) -> ConditionCode:
        """`value`, `unknowns` and `explain`: the reference the generated code is held to."""
        return ConditionCode(self.value, self.unknowns, self.explain)


@dataclass(frozen=True, slots=True)
class _OneFact(Condition):
    """A condition on one fact: it names that fact, and is unknown when the fact is.

    (A base class rather than methods borrowed by assignment: mypyc, which compiles this module
    for production, dispatches an assigned method to the base's `NotImplementedError`.)"""

    fact: str

    def explain(self, facts: Mapping[str, FactValue], fired: Fired, out: dict[str, Any]) -> None:
        out[self.fact] = facts[self.fact]

    def unknowns(self, facts: Mapping[str, FactValue], fired: Fired, out: list[str]) -> None:
        if facts[self.fact] is None and self.fact not in out:
            out.append(self.fact)

    def fact_names(self) -> set[str]:
        return {self.fact}


@dataclass(frozen=True, slots=True)
class IsTrue(_OneFact):
    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        v = facts[self.fact]
        return None if v is None else bool(v)


@dataclass(frozen=True, slots=True)
class Recorded(Condition):
    """Holds only when the inner condition is known to hold: an unrecorded finding is no
    trigger, and its absence is not reported as missing."""

    inner: Condition

    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        return self.inner.value(facts, fired) is True

    def explain(self, facts: Mapping[str, FactValue], fired: Fired, out: dict[str, Any]) -> None:
        self.inner.explain(facts, fired, out)

    def unknowns(self, facts: Mapping[str, FactValue], fired: Fired, out: list[str]) -> None:
        return None

    def fact_names(self) -> set[str]:
        return self.inner.fact_names()

    def uses_fired(self) -> bool:
        return self.inner.uses_fired()


@dataclass(frozen=True, slots=True)
class Compare(_OneFact):
    op: str
    operand: float

    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        v = facts[self.fact]
        if v is None:
            return None
        return _COMPARATORS[self.op](v, self.operand)

    def __str__(self) -> str:
        return f"{self.fact} {_SYMBOLS[self.op]} {self.operand:g}"


@dataclass(frozen=True, slots=True)
class Between(_OneFact):
    low: float
    high: float

    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        v = facts[self.fact]
        if v is None:
            return None
        return bool(self.low <= v <= self.high)  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class Not(Condition):
    inner: Condition

    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        v = self.inner.value(facts, fired)
        return None if v is None else not v

    def explain(self, facts: Mapping[str, FactValue], fired: Fired, out: dict[str, Any]) -> None:
        for name in sorted(self.inner.fact_names()):
            out[name] = facts[name]

    def unknowns(self, facts: Mapping[str, FactValue], fired: Fired, out: list[str]) -> None:
        self.inner.unknowns(facts, fired, out)

    def fact_names(self) -> set[str]:
        return self.inner.fact_names()

    def uses_fired(self) -> bool:
        return self.inner.uses_fired()


@dataclass(frozen=True, slots=True)
class _Parts(Condition):
    """A condition made of parts (`all`, `any`): their facts, fired codes and assumptions.

    (A base class, as `_OneFact` says why.)"""

    parts: tuple[Condition, ...]

    def fact_names(self) -> set[str]:
        return set().union(*(p.fact_names() for p in self.parts))

    def uses_fired(self) -> bool:
        return any(p.uses_fired() for p in self.parts)

    def assumes(self) -> bool:
        return any(p.assumes() for p in self.parts)


@dataclass(frozen=True, slots=True)
class All(_Parts):
    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        unknown = False
        for part in self.parts:
            v = part.value(facts, fired)
            if v is False:
                return False
            if v is None:
                unknown = True
        return None if unknown else True

    def explain(self, facts: Mapping[str, FactValue], fired: Fired, out: dict[str, Any]) -> None:
        for part in self.parts:
            part.explain(facts, fired, out)

    def unknowns(self, facts: Mapping[str, FactValue], fired: Fired, out: list[str]) -> None:
        # Only the first undecided part is reported: once it is known it may settle the rule
        # (a length above 25 mm makes the exam irrelevant), so the list stays what would
        # change the answer next. Knowledge files list the more basic facts first.
        for part in self.parts:
            if part.value(facts, fired) is None:
                part.unknowns(facts, fired, out)
                return

    def assumptions(
        self, facts: Mapping[str, FactValue], fired: Fired, words: list[str], needs: list[str]
    ) -> None:
        for part in self.parts:
            part.assumptions(facts, fired, words, needs)


@dataclass(frozen=True, slots=True)
class Any_(_Parts):
    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        unknown = False
        for part in self.parts:
            v = part.value(facts, fired)
            if v is True:
                return True
            if v is None:
                unknown = True
        return None if unknown else False

    def explain(self, facts: Mapping[str, FactValue], fired: Fired, out: dict[str, Any]) -> None:
        for part in self.parts:
            if part.value(facts, fired) is True:
                part.explain(facts, fired, out)
                return

    def unknowns(self, facts: Mapping[str, FactValue], fired: Fired, out: list[str]) -> None:
        # Any undecided alternative could make this hold: report each.
        for part in self.parts:
            if part.value(facts, fired) is None:
                part.unknowns(facts, fired, out)

    def assumptions(
        self, facts: Mapping[str, FactValue], fired: Fired, words: list[str], needs: list[str]
    ) -> None:
        # The alternative that made this hold is the one `explain` names: a part that holds
        # without assuming is preferred, so an assumption is listed only when it was needed.
        holding = [p for p in self.parts if p.value(facts, fired) is True]
        for part in holding:
            probe: list[str] = []
            part.assumptions(facts, fired, probe, [])
            if not probe:
                return
        if holding:
            holding[0].assumptions(facts, fired, words, needs)


@dataclass(frozen=True, slots=True)
class FiredAny(Condition):
    codes: frozenset[str]

    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        return not self.codes.isdisjoint(fired)

    def explain(self, facts: Mapping[str, FactValue], fired: Fired, out: dict[str, Any]) -> None:
        out["indicated"] = sorted(self.codes & fired)

    def unknowns(self, facts: Mapping[str, FactValue], fired: Fired, out: list[str]) -> None:
        return None

    def fact_names(self) -> set[str]:
        return set()

    def uses_fired(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Assume(Condition):
    """The usual value of an unknown fact (CD-01): holds when `inner` holds or is unknown.

    Only allowed where it leads away from an intervention (checked when a profile is loaded,
    `guidelines.py`); the recommendation then lists `words`, and `missing` still asks for the
    facts that were assumed.
    """

    inner: Condition
    words: str

    def value(self, facts: Mapping[str, FactValue], fired: Fired) -> bool | None:
        v = self.inner.value(facts, fired)
        return True if v is None else v

    def explain(self, facts: Mapping[str, FactValue], fired: Fired, out: dict[str, Any]) -> None:
        for name in sorted(self.inner.fact_names()):
            out[name] = facts[name]

    def unknowns(self, facts: Mapping[str, FactValue], fired: Fired, out: list[str]) -> None:
        return None

    def fact_names(self) -> set[str]:
        return self.inner.fact_names()

    def uses_fired(self) -> bool:
        return self.inner.uses_fired()

    def assumptions(
        self, facts: Mapping[str, FactValue], fired: Fired, words: list[str], needs: list[str]
    ) -> None:
        if self.inner.value(facts, fired) is None:
            if self.words not in words:
                words.append(self.words)
            self.inner.unknowns(facts, fired, needs)

    def assumes(self) -> bool:
        return True


def _operand(raw: object, where: str) -> float:
    if isinstance(raw, bool):
        raise ConditionError(f"{where}: a comparison needs a number, not {raw!r}")
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(ga(raw))  # the one weeks+days grammar
        except ValueError:
            pass
    raise ConditionError(f"{where}: {raw!r} is neither a number nor a gestational age like 24+0")


def _fact_name(raw: object, where: str) -> str:
    if not isinstance(raw, str) or raw not in FACT_CATALOGUE:
        raise ConditionError(f"{where}: unknown fact {raw!r}")
    return raw


_WINDOW_PARAMETERS = ("ga", "measured", "reported")
_WINDOW_BOUNDS = ("from", "upto", "before")


def _windowed_fact(
    family: object, windows: list[str], raw: Mapping[str, Any], where: str
) -> tuple[str, bool]:
    """A fact whose gestational-age window the profile sets: its key among the facts, and
    whether it is a number (to be compared) rather than true or false."""
    if not isinstance(family, str) or family not in FACT_FAMILIES:
        raise ConditionError(
            f"{where}.fact: {family!r} takes no window (known: {sorted(FACT_FAMILIES)})"
        )
    spec = FACT_FAMILIES[family]
    if windows != [spec.parameter]:
        raise ConditionError(f"{where}: {family} takes its window as '{spec.parameter}'")
    bounds = raw[spec.parameter]
    if not isinstance(bounds, dict) or not bounds or set(bounds) - set(_WINDOW_BOUNDS):
        raise ConditionError(
            f"{where}.{spec.parameter}: expected some of from, upto, before (gestational ages)"
        )
    if "upto" in bounds and "before" in bounds:
        raise ConditionError(f"{where}.{spec.parameter}: 'upto' or 'before', not both")
    here = f"{where}.{spec.parameter}"
    low = int(_operand(bounds["from"], f"{here}.from")) if "from" in bounds else None
    high = None
    if "upto" in bounds:
        high = int(_operand(bounds["upto"], f"{here}.upto"))
    elif "before" in bounds:
        high = int(_operand(bounds["before"], f"{here}.before")) - 1
    if low is not None and high is not None and low > high:
        raise ConditionError(f"{here}: the window ends before it starts")
    return WindowedFact(family, low, high).key, family.endswith("_mm")


def parse_condition(raw: object, where: str = "when") -> Condition:
    """Build a condition tree from its data form; errors name the path inside the rule."""
    if isinstance(raw, str):
        return IsTrue(_fact_name(raw, where))
    if not isinstance(raw, dict) or not raw:
        raise ConditionError(f"{where}: expected a fact name or a mapping, got {raw!r}")
    if "all" in raw or "any" in raw:
        key = "all" if "all" in raw else "any"
        items = raw[key]
        if len(raw) != 1 or not isinstance(items, list) or not items:
            raise ConditionError(f"{where}.{key}: expected a non-empty list and nothing else")
        parts = tuple(parse_condition(item, f"{where}.{key}[{i}]") for i, item in enumerate(items))
        return All(parts) if key == "all" else Any_(parts)
    if "not" in raw:
        if len(raw) != 1:
            raise ConditionError(f"{where}.not: 'not' takes one condition and nothing else")
        inner = parse_condition(raw["not"], f"{where}.not")
        if inner.assumes():
            # Negating an assumption would turn "assume the usual" into "assume the unusual".
            raise ConditionError(f"{where}.not: an 'assume' may not be negated")
        return Not(inner)
    if "assume" in raw:
        words = raw.get("words")
        if set(raw) != {"assume", "words"} or not isinstance(words, str) or not words.strip():
            raise ConditionError(
                f"{where}.assume: takes one condition and 'words' (the assumption in plain words)"
            )
        inner = parse_condition(raw["assume"], f"{where}.assume")
        if inner.assumes() or inner.uses_fired():
            raise ConditionError(f"{where}.assume: assumes facts only, once")
        return Assume(inner, " ".join(words.split()))
    if "recorded" in raw:
        if len(raw) != 1:
            raise ConditionError(f"{where}.recorded: takes one condition and nothing else")
        inner = parse_condition(raw["recorded"], f"{where}.recorded")
        if inner.assumes():
            raise ConditionError(f"{where}.recorded: an 'assume' is never a recorded finding")
        return Recorded(inner)
    if "fired" in raw:
        codes = raw["fired"]
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConditionError(f"{where}.fired: expected a list of recommendation codes")
        return FiredAny(frozenset(codes))
    if "fact" in raw:
        windows = [k for k in raw if k in _WINDOW_PARAMETERS]
        if windows:
            name, numeric = _windowed_fact(raw["fact"], windows, raw, where)
        else:
            name, numeric = _fact_name(raw["fact"], f"{where}.fact"), True
        ops = [k for k in raw if k != "fact" and k not in _WINDOW_PARAMETERS]
        if not ops and not numeric:
            return IsTrue(name)
        if len(ops) != 1:
            raise ConditionError(f"{where}: a fact comparison takes exactly one operator")
        op = ops[0]
        if op == "between":
            bounds = raw[op]
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise ConditionError(f"{where}.between: expected [low, high]")
            low, high = (_operand(b, f"{where}.between") for b in bounds)
            return Between(name, low, high)
        if op not in _COMPARATORS:
            raise ConditionError(f"{where}: unknown operator {op!r}")
        return Compare(name, op, _operand(raw[op], f"{where}.{op}"))
    raise ConditionError(f"{where}: unknown condition keys {sorted(raw)}")


def unknown_facts(
    condition: Condition, facts: Mapping[str, FactValue], fired: Fired
) -> Sequence[str]:
    out: list[str] = []
    condition.unknowns(facts, fired, out)
    return out

"""A condition tree compiled to Python source: `check(facts, fired)`, and beside it `unknowns`
(what an undecided condition lacks) and `explain` (the facts that made it hold).

Why generated code (speed, measured): `assess` evaluates every rule of every profile for every
pregnancy, and the tree of closures this replaced spent most of its time calling closures
(All -> parts -> leaves). For the 37 rules of the two bundled profiles over 5,000 synthetic
pregnancies (CPU, best of 5), the checks alone went from 31-33 us to 11-12 us per assessment,
and `assessment._fire` from 41-45 us to 22-25 us. `Condition.value` stays the reference
semantics: `tests/unit/clinical/test_condition_code.py` holds the two equal on drawn trees and
facts, down to which facts are read and in what order (each stops where `value` stops). The
same holds for `unknowns` and `explain` against the tree's own methods: walking the tree again
to say what an undecided rule lacks (`unknowns` asks `value` of each part) cost about 7 us per
assessment, and `explain` (which sorts the fact names under a `not`) about 6 us; generated,
about 1 us each.

As the standard library's `dataclasses` makes `__init__`, the source is compiled into a fresh
namespace and the function returned by a factory whose parameters are the values not written
as literals (the `fired` code sets, a non-finite operand), so that they are closure cells.
Nothing from a knowledge file is written into the source but the `repr()` of a fact name
(already checked against the catalogue by the parser) or of a finite number; codes are passed
in, a rule's `words` never appear, and the generated code runs without builtins. The source is
kept (`condition_source`; `inspect.getsource` of the function) so that it can be printed, and
tracebacks show its lines.

Compiling the three functions costs about 1 ms a rule, so a profile compiles its rules only
once it is used often (`guidelines.COMPILE_AFTER`).
"""

from __future__ import annotations

import linecache
import math
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeAlias, cast

from cervixwatch.clinical.conditions import (
    All,
    Any_,
    Assume,
    Between,
    Check,
    Compare,
    Condition,
    ConditionCode,
    FiredAny,
    IsTrue,
    Not,
    Recorded,
)

_OPERATORS: Mapping[str, str] = {
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
}

#: Trees nested deeper than this keep the tree-walking `value`: each level may indent the
#: source, and CPython refuses more than 100 levels. Knowledge files nest 4 at most.
MAX_DEPTH = 40

#: What to do on each outcome of a condition (True, False, None = unknown): one statement;
#: an outcome that is not listed falls through to the code after.
_Cases: TypeAlias = Mapping[bool | None, str]


class _Writer:
    """The source of one function being written, and the values it takes as parameters."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.parameters: dict[str, Hashable] = {}
        self.results = 0
        self.flags = 0

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def parameter(self, prefix: str, value: Hashable) -> str:
        name = f"{prefix}_{len(self.parameters) + 1}"
        self.parameters[name] = value
        return name

    def number(self, value: float) -> str:
        # A finite int or float reads back from its repr exactly; anything else (inf, nan) is
        # passed in.
        if type(value) in (int, float) and math.isfinite(value):
            return repr(value)
        return self.parameter("operand", value)

    def branch(
        self, depth: int, value: str | None, holds: str, cases: _Cases, fails: str = ""
    ) -> None:
        """Run `cases` on an outcome that is unknown when the variable `value` is None (never,
        if no variable is given) and otherwise holds when the expression `holds` is true (and
        fails when `fails` is true, if given: the negation read more easily)."""
        on_true, on_false, on_none = cases.get(True), cases.get(False), cases.get(None)
        fails = fails or (f"not {holds}" if holds.isidentifier() else f"not ({holds})")
        # The unknown outcome is tested first (a test on None would fail), alone or with the
        # known outcome whose statement it shares; a statement of None does nothing.
        guard: tuple[str, str | None] | None = None
        known = [(holds, on_true), (fails, on_false)]
        if value is None:
            pass
        elif on_none is not None and on_none == on_true:
            guard, known = (f"{value} is None or {holds}", on_true), [(fails, on_false)]
        elif on_none is not None and on_none == on_false:
            guard, known = (f"{value} is None or {fails}", on_false), [(holds, on_true)]
        else:
            guard = (f"{value} is None", on_none)
        complete = all(statement is not None for _, statement in known)
        written = [(test, statement) for test, statement in known if statement is not None]
        if guard is not None and guard[1] is None:
            if len(written) == 1 and written[0][0] == value:
                guard = None  # `if v:` is false when v is None too
            elif len(written) == 1:
                guard, written = None, [(f"{value} is not None and {written[0][0]}", written[0][1])]
            elif written:
                guard = (guard[0], "pass")
            else:
                guard = None
        if guard is not None:
            written.insert(0, (guard[0], guard[1] or "pass"))
        for i, (test, statement) in enumerate(written):
            if i == 0:
                self.line(depth, f"if {test}:")
            elif complete and i == len(written) - 1:
                self.line(depth, "else:")
            else:
                self.line(depth, f"elif {test}:")
            self.line(depth + 1, statement)

    def dispatch(self, condition: Condition, depth: int, cases: _Cases) -> None:
        """Evaluate `condition` exactly as its `value` does and run `cases` on the outcome."""
        match condition:
            case IsTrue(fact):
                self.line(depth, f"v = facts[{fact!r}]")
                self.branch(depth, "v", "v", cases)
            case Compare(fact, op, operand):
                self.line(depth, f"v = facts[{fact!r}]")
                self.branch(depth, "v", f"v {_OPERATORS[op]} {self.number(operand)}", cases)
            case Between(fact, low, high):
                self.line(depth, f"v = facts[{fact!r}]")
                test = f"{self.number(low)} <= v <= {self.number(high)}"
                self.branch(depth, "v", test, cases)
            case Not(inner):
                swapped = {True: cases.get(False), False: cases.get(True), None: cases.get(None)}
                self.dispatch(inner, depth, _present(swapped))
            case Recorded(inner):
                # Holds only when known to hold: unknown is no.
                recorded = {True: cases.get(True), False: cases.get(False), None: cases.get(False)}
                self.dispatch(inner, depth, _present(recorded))
            case Assume(inner, _):
                assumed = {True: cases.get(True), False: cases.get(False), None: cases.get(True)}
                self.dispatch(inner, depth, _present(assumed))
            case FiredAny(codes):
                codes_name = self.parameter("fired_codes", codes)
                disjoint = f"{codes_name}.isdisjoint(fired)"
                self.branch(depth, None, f"not {disjoint}", cases, fails=disjoint)
            case All() | Any_():
                self.results += 1
                result = f"r{self.results}"
                self.assign(condition, depth, result)
                self.branch(depth, result, result, cases)
            case _:
                raise TypeError(f"no code for a {type(condition).__name__} condition")

    def assign(self, condition: All | Any_, depth: int, result: str) -> None:
        """Set `result` to the value of an `all` or `any`, stopping at the first part that
        decides it, as `value` does."""
        decides = isinstance(condition, Any_)  # the outcome of a part that settles it
        self.line(depth, f"{result} = {not decides}")
        for i, part in enumerate(condition.parts):
            inner = depth
            if i:
                self.line(depth, f"if {result} is not {decides}:")
                inner = depth + 1
            self.dispatch(part, inner, {decides: f"{result} = {decides}", None: f"{result} = None"})

    def flag(self, depth: int) -> str:
        """A new variable, set False here, for "a part has been found that ..."."""
        self.flags += 1
        name = f"found{self.flags}"
        self.line(depth, f"{name} = False")
        return name

    @contextmanager
    def block(self, depth: int) -> Iterator[None]:
        """The lines written inside, or `pass` at `depth` if none are."""
        start = len(self.lines)
        yield
        if len(self.lines) == start:
            self.line(depth, "pass")

    def unknowns(self, condition: Condition, depth: int) -> None:
        """Add to `out` what `condition.unknowns` adds, reading the facts it reads."""
        match condition:
            case IsTrue(fact) | Compare(fact) | Between(fact):
                self.line(depth, f"if facts[{fact!r}] is None and {fact!r} not in out:")
                self.line(depth + 1, f"out.append({fact!r})")
            case Not(inner):
                self.unknowns(inner, depth)
            case Recorded() | Assume() | FiredAny():
                pass  # never reported: unknown is no, unknown holds, never unknown
            case All(parts):
                # Only the first undecided part is reported (conditions.All.unknowns says why).
                found = self.flag(depth)
                self.until_found(parts, depth, found, self.if_undecided)
            case Any_(parts):
                for part in parts:
                    self.if_undecided(part, depth, self.flag(depth))
            case _:
                raise TypeError(f"no code for a {type(condition).__name__} condition")

    def if_undecided(self, part: Condition, depth: int, found: str) -> None:
        """If `part` is unknown, set `found` and report what it lacks."""
        start = len(self.lines)
        # The known outcomes do nothing, but are tested as `value` tests them (a value of the
        # wrong kind raises the same error).
        self.dispatch(part, depth, {None: f"{found} = True", True: "pass", False: "pass"})
        if all(line.strip() != f"{found} = True" for line in self.lines[start:]):
            return  # never unknown
        self.line(depth, f"if {found}:")
        with self.block(depth + 1):
            self.unknowns(part, depth + 1)

    def explain(self, condition: Condition, depth: int) -> None:
        """Set in `out` what `condition.explain` sets, in the same order."""
        match condition:
            case IsTrue(fact) | Compare(fact) | Between(fact):
                self.line(depth, f"out[{fact!r}] = facts[{fact!r}]")
            case Recorded(inner):
                self.explain(inner, depth)
            case Not(inner) | Assume(inner):
                for name in sorted(inner.fact_names()):
                    self.line(depth, f"out[{name!r}] = facts[{name!r}]")
            case All(parts):
                for part in parts:
                    self.explain(part, depth)
            case Any_(parts):
                # The first alternative that holds is the one named.
                found = self.flag(depth)
                self.until_found(parts, depth, found, self.if_holds)
            case FiredAny(codes):
                codes_name = self.parameter("fired_codes", codes)
                sort = self.parameter("sorted", sorted)  # no builtins in the generated code
                self.line(depth, f"out['indicated'] = {sort}({codes_name} & fired)")
            case _:
                raise TypeError(f"no code for a {type(condition).__name__} condition")

    def if_holds(self, part: Condition, depth: int, found: str) -> None:
        """If `part` holds, set `found` and explain it."""
        self.dispatch(part, depth, {True: f"{found} = True"})
        self.line(depth, f"if {found}:")
        with self.block(depth + 1):
            self.explain(part, depth + 1)

    def until_found(
        self,
        parts: tuple[Condition, ...],
        depth: int,
        found: str,
        write: Callable[[Condition, int, str], None],
    ) -> None:
        """`write` each part, the first at `depth` and the others under `if not found:`, so
        that none after the part that sets `found` is looked at."""
        for i, part in enumerate(parts):
            if i == 0:
                write(part, depth, found)
            else:
                self.line(depth, f"if not {found}:")
                with self.block(depth + 1):
                    write(part, depth + 1, found)

    def check_function(self, condition: Condition) -> None:
        self.line(1, "def check(facts, fired):")
        if isinstance(condition, All | Any_):
            # At the top an `all` or `any` returns as soon as a part decides it.
            decides = isinstance(condition, Any_)
            start = len(self.lines)
            self.line(2, "unknown = False")
            for part in condition.parts:
                self.dispatch(part, 2, {decides: f"return {decides}", None: "unknown = True"})
            if any(line.strip() == "unknown = True" for line in self.lines[start:]):
                self.line(2, f"return None if unknown else {not decides}")
            else:  # no part can be unknown
                del self.lines[start]
                self.line(2, f"return {not decides}")
        else:
            self.dispatch(
                condition, 2, {True: "return True", False: "return False", None: "return None"}
            )

    def functions(self, condition: Condition) -> None:
        self.check_function(condition)
        self.line(1, "def unknowns(facts, fired, out):")
        with self.block(2):
            self.unknowns(condition, 2)
        self.line(1, "def explain(facts, fired, out):")
        with self.block(2):
            self.explain(condition, 2)
        self.line(1, "return check, unknowns, explain")


def _present(cases: Mapping[bool | None, str | None]) -> _Cases:
    return {outcome: statement for outcome, statement in cases.items() if statement is not None}


def _depth(condition: Condition) -> int:
    match condition:
        case All(parts) | Any_(parts):
            return 1 + max(_depth(p) for p in parts)
        case Not(inner) | Recorded(inner) | Assume(inner, _):
            return 1 + _depth(inner)
        case _:
            return 1


def _write(condition: Condition) -> _Writer:
    writer = _Writer()
    writer.functions(condition)
    header = f"def __create_condition__({', '.join(writer.parameters)}):"
    writer.lines.insert(0, header)
    return writer


def condition_source(condition: Condition) -> str:
    """The Python source that `compile_code` compiles for `condition`: a factory whose
    parameters are the `fired` code sets (and any operand with no literal), returning
    `check(facts, fired)`, `unknowns(facts, fired, out)` and `explain(facts, fired, out)`."""
    return "\n".join(_write(condition).lines) + "\n"


def compile_condition(condition: Condition, name: str = "condition") -> Check:
    """`condition.value` as one generated function; `name` (a rule's id and code) names its
    source in tracebacks ("<condition SMFM70-02 vaginal-progesterone>")."""
    return compile_code(condition, name).check


def compile_code(condition: Condition, name: str = "condition") -> ConditionCode:
    """`condition.value`, `.unknowns` and `.explain` as generated functions (the tree's own
    methods for a tree too deep to write out); `name` as for `compile_condition`."""
    if _depth(condition) > MAX_DEPTH:
        return condition.walking_code()
    writer = _write(condition)
    source = "\n".join(writer.lines) + "\n"
    return _compiled(source, tuple(writer.parameters.items()), name)


@lru_cache(maxsize=1024)
def _compiled(
    source: str, parameters: tuple[tuple[str, Hashable], ...], name: str
) -> ConditionCode:
    # The same rule in two versions of a profile is compiled once.
    filename = _register(source, f"<condition {name}>")
    namespace: dict[str, object] = {"__builtins__": {}}
    exec(compile(source, filename, "exec"), namespace)
    factory = cast(Callable[..., ConditionCode], namespace["__create_condition__"])
    return ConditionCode(*factory(**dict(parameters)))


def _register(source: str, filename: str) -> str:
    """Keep `source` in `linecache` under `filename` (made unique if another source has it)
    so that tracebacks and `inspect.getsource` show the generated lines."""
    entry = (len(source), None, source.splitlines(True), filename)
    base, count = filename, 1
    while linecache.cache.setdefault(filename, entry) != entry:
        filename = f"{base[:-1]} #{count}>"
        entry = (len(source), None, source.splitlines(True), filename)
        count += 1
    return filename

"""All Hypothesis strategies of the test suite.

`pregnancy_records()` draws one woman's records and the day she is assessed: an EDD, 0-3
previous pregnancies of every outcome, onset and gestation (some parts unknown, some typical
preterm histories), excisions and maternal conditions, 0-4 cervical lengths of every approach
(mostly in the ten weeks before `as_of`, some anywhere from 8+0 to 36+0), optional exams,
complications (some undated, some noted or resolved before or after `as_of`), a cerclage (some
from before this pregnancy, some removed), medications (some stopped), symptom reports from
weeks before `as_of` to the day after (some reviewed, before or after `as_of`), declined
offers, a fetus count of None/1/2/3, and records dated after `as_of` that must be ignored.
Lengths are held to 0.1 mm as the FHIR reader holds them. The draws lean towards 12+0-28+6 and
recorded values so that cerclage and progesterone rules fire often enough for the properties
about them to bite; `clinic_visits()` leans further.

`condition_trees()` draws guideline conditions of every node kind, nested, and
`condition_facts()` the facts they read (unknown, true, false, numbers, text, now and then one
missing), for the compiled conditions to be held equal to the trees.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection
from typing import Any, NamedTuple, TypeVar

from hypothesis import settings
from hypothesis import strategies as st

from cervixwatch.clinical.conditions import (
    All,
    Any_,
    Assume,
    Between,
    Compare,
    Condition,
    FiredAny,
    IsTrue,
    Not,
    Recorded,
)
from cervixwatch.clinical.facts import FactValue
from cervixwatch.clinical.gestation import GestationalAge, date_at
from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclagePlacement,
    CerclageRemoval,
    CerclageRoute,
    CervicalExam,
    CervicalExcision,
    CervicalLengthMeasurement,
    Complication,
    ComplicationRecord,
    DeclinableCode,
    DeclinedDecision,
    ExcisionKind,
    LengthMethod,
    MaternalCondition,
    Medication,
    MedicationOrder,
    Onset,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
    ReviewOutcome,
    Symptom,
    SymptomReport,
    SymptomReview,
)

T = TypeVar("T")

#: Settings for every property test: enough examples to find boundaries, fast enough for CI.
#: 200 examples per property; `make mutate` runs each of thousands of mutants against them, so it
#: asks for fewer (CERVIXWATCH_PROPERTY_EXAMPLES) and the fixed seed keeps them repeatable.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("CERVIXWATCH_PROPERTY_EXAMPLES", "200")), deadline=None
)

#: Gestational ages (days) at which a woman may be assessed: 6+0 to 42+0.
AS_OF_DAYS = (42, 294)


class RecordsOnDate(NamedTuple):
    """A pregnancy's records and the day they are assessed on."""

    records: PregnancyRecords
    as_of: dt.date


def mostly(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    """`strategy`, or None (unrecorded) about one time in four."""
    return st.one_of(strategy, strategy, strategy, st.none())


def gestational_ages(min_days: int = 0, max_days: int = 699) -> st.SearchStrategy[GestationalAge]:
    return st.builds(GestationalAge, st.integers(min_days, max_days))


def dates(
    min_value: dt.date = dt.date(2000, 1, 1), max_value: dt.date = dt.date(2040, 12, 31)
) -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=min_value, max_value=max_value)


def lengths_mm(min_mm: float = 0.2, max_mm: float = 60.0) -> st.SearchStrategy[float]:
    """A cervical length in mm to 0.1 mm."""
    return st.integers(round(min_mm * 10), round(max_mm * 10)).map(lambda tenths: tenths / 10)


def partial_dates() -> st.SearchStrategy[PartialDate]:
    return st.one_of(
        st.builds(PartialDate, st.integers(2010, 2026)),
        st.builds(PartialDate, st.integers(2010, 2026), st.integers(1, 12)),
        dates(dt.date(2010, 1, 1), dt.date(2026, 12, 31)).map(
            lambda d: PartialDate(d.year, d.month, d.day)
        ),
    )


def prior_pregnancies() -> st.SearchStrategy[PriorPregnancy]:
    """A previous pregnancy of any outcome, onset and gestation; any part may be unknown."""
    return st.builds(
        PriorPregnancy,
        ended=mostly(partial_dates()),
        outcome=mostly(st.sampled_from(PriorOutcome)),
        gestation_days=mostly(st.integers(5 * 7, 42 * 7 + 6)),
        onset=mostly(st.sampled_from(Onset)),
        cerclage=st.none() | st.none() | st.sampled_from(CerclageIndication),
        fetuses=mostly(st.integers(1, 3)),
    )


def preterm_histories() -> st.SearchStrategy[PriorPregnancy]:
    """The previous pregnancies the rules turn on: births at 14+0-36+6 begun spontaneously (or
    otherwise) and losses at 12+0-25+6, all fully recorded."""
    return st.builds(
        PriorPregnancy,
        ended=partial_dates(),
        outcome=st.sampled_from(PriorOutcome),
        gestation_days=st.integers(12 * 7, 36 * 7 + 6),
        onset=st.sampled_from(Onset),
        cerclage=st.none() | st.none() | st.sampled_from(CerclageIndication),
        fetuses=st.just(1),
    )


def excisions() -> st.SearchStrategy[CervicalExcision]:
    return st.builds(
        CervicalExcision,
        kind=st.sampled_from(ExcisionKind),
        depth_mm=st.none() | st.integers(2, 25).map(float),
        performed=st.none() | partial_dates(),
    )


# Parts of a pregnancy, drawn with dates as gestational ages in days (or days from `as_of`)
# and turned into dates once the EDD and `as_of` are known. Built once: strategies built inside
# a composite are validated again on every draw, which is most of the cost.
_EDDS = dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31))
# Most women are assessed in the weeks where the rules differ (12+0-28+6); some at any time.
_AS_OF = st.integers(12 * 7, 28 * 7 + 6) | st.integers(*AS_OF_DAYS)
_FETUSES: st.SearchStrategy[int | None] = st.sampled_from([None, 1, 1, 1, 2, 3])
_LENGTHS = st.lists(
    st.tuples(
        # Mostly in the ten weeks up to `as_of` (a few after it, to be ignored) ...
        st.tuples(st.just("from as_of"), st.integers(-70, 14))
        # ... or at any gestation from 8+0 to 36+0.
        | st.tuples(st.just("at ga"), st.integers(8 * 7, 36 * 7)),
        lengths_mm(5, 40) | lengths_mm(),
        st.sampled_from(LengthMethod),
    ),
    max_size=4,
)
_EXAMS = st.lists(
    st.tuples(
        st.integers(12 * 7, 38 * 7),
        st.none() | st.integers(0, 20).map(lambda half: half / 2),
        st.none() | st.integers(0, 100).map(float),
        st.none() | st.booleans(),
    ),
    max_size=2,
)
_PLACEMENTS: st.SearchStrategy[list[tuple[int, CerclageRoute, CerclageIndication | None]]] = (
    st.just([])
    | st.lists(
        st.tuples(
            # From before this pregnancy began (a previous pregnancy's cerclage) to 30+0.
            st.integers(-60, 30 * 7),
            st.sampled_from(CerclageRoute),
            st.none() | st.sampled_from(CerclageIndication),
        ),
        max_size=1,
    )
)
_REMOVALS = st.lists(st.integers(10 * 7, 40 * 7), max_size=1)
_MEDICATIONS = st.lists(
    st.tuples(
        st.sampled_from(Medication),
        st.none() | st.integers(8 * 7, 36 * 7),
        # Stopped some days after it started (or after 8+0 when the start is unknown).
        st.none() | st.none() | st.integers(0, 10 * 7),
    ),
    max_size=2,
)
_REVIEWS = st.lists(
    st.tuples(
        # Days after the report; some after `as_of`, which an assessment must not know yet.
        st.integers(0, 10),
        st.sampled_from(ReviewOutcome),
        st.none() | st.sampled_from(["Dr A Obstetrician", "Midwife B"]),
    ),
    max_size=2,
)
_REPORTS = st.lists(
    st.tuples(
        # Mostly in the last days (the urgent ones), some weeks ago (open until reviewed).
        st.integers(-3, 1) | st.integers(-42, -4),
        st.frozensets(st.sampled_from(Symptom)),
        st.none() | _REVIEWS,
    ),
    max_size=2,
)
_DECLINED: st.SearchStrategy[list[tuple[DeclinableCode, int]]] = st.just([]) | st.lists(
    # Declined some days before (or after) `as_of`.
    st.tuples(st.sampled_from(DeclinableCode), st.integers(-60, 7)),
    max_size=2,
)
_PRIORS = st.lists(prior_pregnancies() | preterm_histories(), max_size=3)
_EXCISIONS = st.lists(excisions(), max_size=2)
_MATERNAL = st.frozensets(st.sampled_from(MaternalCondition))
#: Complications with the days they were noted and resolved, counted from `as_of` (None:
#: unknown, or not resolved): some before `as_of`, some after it (not yet known then).
_COMPLICATIONS: st.SearchStrategy[list[tuple[Complication, int | None, int | None]]] = st.just(
    []
) | st.lists(
    st.tuples(
        st.sampled_from(Complication),
        st.none() | st.integers(-60, 7),
        st.none() | st.none() | st.integers(-30, 30),
    ),
    max_size=2,
)
Complications = Collection[Complication | ComplicationRecord]


def _complication_records(drawn: Collection[Any], as_of: dt.date) -> tuple[ComplicationRecord, ...]:
    """Complication records from what a strategy drew: a bare code is noted on no known day
    and never resolved (active throughout); a drawn (code, noted, resolved) has its days
    counted from `as_of`, resolved no earlier than noted."""
    out: list[ComplicationRecord] = []
    for item in sorted(drawn, key=repr) if isinstance(drawn, frozenset | set) else drawn:
        if isinstance(item, Complication):
            out.append(ComplicationRecord(item))
        elif isinstance(item, ComplicationRecord):
            out.append(item)
        else:
            code, noted, resolved = item
            noted_on = None if noted is None else as_of + dt.timedelta(days=noted)
            resolved_on = None
            if resolved is not None:
                resolved_on = as_of + dt.timedelta(days=resolved)
                if noted_on is not None and resolved_on < noted_on:
                    resolved_on = noted_on
            out.append(ComplicationRecord(code, noted_on, resolved_on))
    return tuple(out)


@st.composite
def pregnancy_records(
    draw: st.DrawFn,
    *,
    fetuses: st.SearchStrategy[int | None] | None = None,
    edd: st.SearchStrategy[dt.date] | None = None,
    as_of_days: st.SearchStrategy[int] | None = None,
    complications: st.SearchStrategy[Complications] | None = None,
) -> RecordsOnDate:
    """One woman's records and the day she is assessed (see the module docstring).

    Each keyword narrows one part: `fetuses` (e.g. `st.just(1)`), `edd`, `as_of_days` (her
    gestational age in days on `as_of`) and `complications` (codes, active throughout, or
    dated `ComplicationRecord`s)."""
    due = draw(edd if edd is not None else _EDDS)

    def day_at(ga_days: int) -> dt.date:
        return date_at(due, GestationalAge(ga_days))

    as_of = day_at(draw(as_of_days if as_of_days is not None else _AS_OF))
    lengths = [
        CervicalLengthMeasurement(
            as_of + dt.timedelta(days=when) if anchor == "from as_of" else day_at(when), mm, method
        )
        for (anchor, when), mm, method in draw(_LENGTHS)
    ]
    exams = [
        CervicalExam(day_at(when), dilation, effacement, exposed)
        for when, dilation, effacement, exposed in draw(_EXAMS)
    ]
    placements = [
        CerclagePlacement(day_at(when), route, indication)
        for when, route, indication in draw(_PLACEMENTS)
    ]
    removals = [CerclageRemoval(day_at(when)) for when in draw(_REMOVALS)]
    medications = [
        MedicationOrder(
            medication,
            None if when is None else day_at(when),
            stopped_on=None if lasted is None else day_at((when or 8 * 7) + lasted),
        )
        for medication, when, lasted in draw(_MEDICATIONS)
    ]
    reports = []
    for offset, present, reviews in draw(_REPORTS):
        reported_on = as_of + dt.timedelta(days=offset)
        reports.append(
            SymptomReport(
                reported_on,
                present,
                reviews=tuple(
                    SymptomReview(reported_on + dt.timedelta(days=after), outcome, reviewer)
                    for after, outcome, reviewer in reviews or ()
                ),
            )
        )
    declined = [
        DeclinedDecision(code, as_of + dt.timedelta(days=offset))
        for code, offset in draw(_DECLINED)
    ]
    records = PregnancyRecords(
        patient_id="generated",
        edd=due,
        fetuses=draw(fetuses if fetuses is not None else _FETUSES),
        prior_pregnancies=tuple(draw(_PRIORS)),
        excisions=tuple(draw(_EXCISIONS)),
        maternal_conditions=draw(_MATERNAL),
        cervical_lengths=tuple(lengths),
        exams=tuple(exams),
        complications=_complication_records(
            draw(complications if complications is not None else _COMPLICATIONS), as_of
        ),
        cerclage_placements=tuple(placements),
        cerclage_removals=tuple(removals),
        medications=tuple(medications),
        symptom_reports=tuple(reports),
        declined=tuple(declined),
    )
    return RecordsOnDate(records, as_of)


def clinic_visits() -> st.SearchStrategy[RecordsOnDate]:
    """A singleton without complications seen at 14+0-24+0: where cerclage and progesterone
    rules fire, so that properties about them are exercised often."""
    return pregnancy_records(
        fetuses=st.just(1),
        as_of_days=st.integers(14 * 7, 24 * 7),
        complications=st.just(()),
    )


#: Fact names of drawn conditions: plain, windowed, and one that would close its string literal
#: and run code if it were ever written into generated source unquoted.
CONDITION_FACTS = (
    "singleton",
    "ga_days",
    "prior_sptb[..223]",
    "shortest_tv_length_mm[112..168]",
    "x'] or __import__('os') or facts['\"\\\n#",
)
#: Recommendation codes of drawn `fired` conditions, one of them with quotes.
CONDITION_CODES = ("urgent-evaluation", "vaginal-progesterone", "it's \"quoted\"')")

_CONDITION_NAMES = st.sampled_from(CONDITION_FACTS)
#: A few whole numbers, as the facts' values are (so that a value often equals its bound and
#: `lt` is told from `le`), and any float: inf and nan too.
_BOUNDS = st.sampled_from([-1.0, 0.0, 1.0, 2.0])
_OPERANDS = _BOUNDS | _BOUNDS | _BOUNDS | st.floats()


def condition_trees(max_leaves: int = 12) -> st.SearchStrategy[Condition]:
    """A condition of any node kind, nested, including trees the parser would refuse (a negated
    `assume`): the compiled form must give what `value` gives for every tree."""
    leaves = st.one_of(
        st.builds(IsTrue, _CONDITION_NAMES),
        st.builds(
            Compare,
            _CONDITION_NAMES,
            st.sampled_from(["lt", "le", "gt", "ge", "eq", "ne"]),
            _OPERANDS,
        ),
        st.builds(Between, _CONDITION_NAMES, _OPERANDS, _OPERANDS),
        st.builds(FiredAny, st.frozensets(st.sampled_from(CONDITION_CODES), max_size=2)),
    )

    def extend(inner: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
        parts = st.lists(inner, min_size=1, max_size=4).map(tuple)
        return st.one_of(
            st.builds(Not, inner),
            st.builds(Recorded, inner),
            st.builds(Assume, inner, st.just("the usual value is assumed")),
            st.builds(All, parts),
            st.builds(Any_, parts),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


_NUMBERS = st.sampled_from([-1, 0, 1, 2, 0.0, 1.0, 2.0])
_FACT_VALUES: st.SearchStrategy[FactValue] = st.one_of(
    st.none(),
    st.booleans(),
    _NUMBERS,
    _NUMBERS,
    _NUMBERS,
    st.floats(),
    st.sampled_from(["", "text"]),
)


@st.composite
def condition_facts(draw: st.DrawFn) -> dict[str, FactValue]:
    """A value for each of CONDITION_FACTS, and now and then one of them missing."""
    facts = {name: draw(_FACT_VALUES) for name in CONDITION_FACTS}
    missing = draw(st.none() | st.none() | st.none() | _CONDITION_NAMES)
    if missing is not None:
        del facts[missing]
    return facts

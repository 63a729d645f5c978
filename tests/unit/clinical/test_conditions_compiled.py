"""The condition language's compiled form gives exactly what the tree gives (guidelines.py runs
the compiled form for speed; the tree explains and reports what is missing), and windows set in
a profile are read exactly as written."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given

from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.conditions import ConditionError, parse_condition
from cervixwatch.clinical.facts import WindowedFact, derive_facts, fact_spec
from cervixwatch.clinical.records import Onset, PriorOutcome, Symptom
from cervixwatch.knowledge import BUNDLED_PROFILES, bundled_profiles, load_profile
from tests.builders import Woman, woman
from tests.strategies import PROPERTY_SETTINGS, RecordsOnDate, pregnancy_records

PROFILES = [
    *bundled_profiles().values(),
    *(load_profile(BUNDLED_PROFILES / f"{p}-2026.11.yaml") for p in ("acog", "nice")),
]
WINDOWED = frozenset().union(*(p.windowed_facts for p in PROFILES))


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_the_compiled_condition_gives_what_the_tree_gives(case: RecordsOnDate) -> None:
    facts = derive_facts(case.records, case.as_of, WINDOWED)
    for profile in PROFILES:
        fired = frozenset(
            r.code for r in assess(case.records, case.as_of, [profile]).recommendations
        )
        for rule in profile.rules:
            assert rule.check is not None
            assert rule.check(facts, fired) == rule.when.value(facts, fired), rule.rule
            # Compiled here too, not only when the profile was loaded (before this test ran).
            assert rule.when.compiled()(facts, fired) == rule.when.value(facts, fired), rule.rule


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"fact": "prior_sptb", "ga": {"before": "32+0"}}, "prior_sptb[..223]"),
        ({"fact": "prior_sptb", "ga": {"upto": "32+0"}}, "prior_sptb[..224]"),
        ({"fact": "prior_loss", "ga": {"from": "16+0", "upto": "23+6"}}, "prior_loss[112..167]"),
        ({"fact": "tv_length_measured", "measured": {"from": "18+0"}}, "tv_length_measured[126..]"),
        (
            {"fact": "open_symptom_report", "reported": {"from": "14+0", "upto": "36+6"}},
            "open_symptom_report[98..258]",
        ),
    ],
)
def test_a_window_is_read_as_written(raw: dict[str, object], key: str) -> None:
    condition = parse_condition(raw)
    assert condition.fact_names() == {key}
    assert WindowedFact.from_key(key).key == key


def test_a_windowed_number_is_compared() -> None:
    raw = {"fact": "shortest_tv_length_mm", "measured": {"before": "24+0"}, "le": 25}
    condition = parse_condition(raw)
    key = "shortest_tv_length_mm[..167]"
    assert condition.value({key: 25.0}, frozenset()) is True
    assert condition.value({key: 25.1}, frozenset()) is False
    assert condition.value({key: None}, frozenset()) is None
    assert fact_spec(key).meaning == "shortest transvaginal length measured at or before 23+6, mm"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"fact": "singleton", "ga": {"before": "32+0"}}, "takes no window"),
        ({"fact": "prior_sptb", "measured": {"before": "32+0"}}, "takes its window as 'ga'"),
        ({"fact": "prior_sptb", "ga": {}}, "expected some of from, upto, before"),
        ({"fact": "prior_sptb", "ga": {"after": "32+0"}}, "expected some of from, upto, before"),
        ({"fact": "prior_sptb", "ga": "32+0"}, "expected some of from, upto, before"),
        ({"fact": "prior_sptb", "ga": {"upto": "32+0", "before": "32+0"}}, "not both"),
        ({"fact": "prior_sptb", "ga": {"from": "34+0", "upto": "32+0"}}, "ends before it starts"),
        ({"fact": "shortest_tv_length_mm", "measured": {"before": "24+0"}}, "exactly one operator"),
        ({"fact": "prior_sptb", "ga": {"before": "32+9"}}, "gestational age"),
    ],
)
def test_a_malformed_window_names_the_problem(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        parse_condition(raw, "when")


def test_fact_words_for_windows() -> None:
    assert fact_spec("prior_sptb[..223]").meaning == (
        "a previous spontaneous preterm birth ending at or before 31+6"
    )
    assert fact_spec("prior_loss[112..167]").meaning == (
        "a previous miscarriage or stillbirth at 16+0-23+6"
    )
    assert fact_spec("tv_length_measured[126..]").meaning == (
        "a transvaginal length measured at or after 18+0"
    )
    assert fact_spec("tv_length_measured[..]").meaning == (
        "a transvaginal length measured at any gestation"
    )


def _windowed(w: Woman, key: str) -> object:
    return derive_facts(w.records, w.as_of, {key})[key]


def test_windowed_history_facts() -> None:
    pprom = woman("20+0").with_prior(PriorOutcome.LIVE_BIRTH, "33+0", Onset.PPROM)
    assert _windowed(pprom, "prior_pprom[..237]") is True  # before 34+0
    assert _windowed(pprom, "prior_pprom[..230]") is False  # before 33+0
    assert _windowed(pprom, "prior_pprom[..]") is True
    loss = woman("20+0").with_prior_loss("20+0")
    assert _windowed(loss, "prior_loss[112..167]") is True
    assert _windowed(loss, "prior_loss[141..]") is False
    assert _windowed(loss, "prior_loss[..139]") is False
    sptb = woman("20+0").with_prior_sptb("31+6")
    assert _windowed(sptb, "prior_sptb[..223]") is True
    assert _windowed(sptb, "prior_sptb[..222]") is False
    assert _windowed(sptb, "prior_sptb[224..]") is False
    unknown = woman("20+0").with_prior(PriorOutcome.LIVE_BIRTH, "30+0", Onset.UNKNOWN)
    assert _windowed(unknown, "prior_sptb[..223]") is None


def test_windowed_length_facts() -> None:
    w = woman("22+0").with_length(24.0, at="17+0").with_length(20.0, at="21+0")
    assert _windowed(w, "shortest_tv_length_mm[..167]") == 20.0
    assert _windowed(w, "shortest_tv_length_mm[..146]") == 24.0
    assert _windowed(w, "shortest_tv_length_mm[126..]") == 20.0
    assert _windowed(w, "shortest_tv_length_mm[150..160]") is None
    assert _windowed(w, "tv_length_measured[126..]") is True
    assert _windowed(w, "tv_length_measured[150..160]") is False
    no_edd = w.without_edd()
    assert _windowed(no_edd, "shortest_tv_length_mm[..167]") is None
    assert _windowed(no_edd, "tv_length_measured[126..]") is None
    assert _windowed(woman("22+0").without_edd(), "tv_length_measured[126..]") is False


def test_windowed_report_facts() -> None:
    w = woman("30+0")
    early = w.with_symptoms(Symptom.CRAMPING, reported_on=w.day("20+0"))
    assert _windowed(early, "open_symptom_report[98..258]") is True
    assert _windowed(early, "open_symptom_report[210..]") is False
    late = w.with_symptoms(Symptom.CRAMPING, reported_on=w.day("37+0") - dt.timedelta(days=60))
    assert _windowed(late, "open_symptom_report[..100]") is False
    assert _windowed(w, "open_symptom_report[98..258]") is False
    assert _windowed(early.without_edd(), "open_symptom_report[98..258]") is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "r: expected a fact name or a mapping, got None"),
        ({}, "r: expected a fact name or a mapping, got {}"),
        ({"all": []}, "r.all: expected a non-empty list and nothing else"),
        ({"any": "singleton"}, "r.any: expected a non-empty list and nothing else"),
        ({"all": ["singleton"], "any": ["singleton"]}, "r.all: expected a non-empty list"),
        ({"not": "singleton", "all": ["singleton"]}, "r.all: expected a non-empty list"),
        ({"not": "singleton", "x": 1}, "r.not: 'not' takes one condition and nothing else"),
        ({"recorded": "singleton", "x": 1}, "r.recorded: takes one condition and nothing else"),
        ({"fired": "urgent-evaluation"}, "r.fired: expected a list of recommendation codes"),
        ({"fired": [1]}, "r.fired: expected a list of recommendation codes"),
        ({"fact": "ga_days"}, "r: a fact comparison takes exactly one operator"),
        ({"fact": "ga_days", "lt": 1, "gt": 0}, "r: a fact comparison takes exactly one operator"),
        ({"fact": "ga_days", "between": [1]}, r"r.between: expected \[low, high\]"),
        ({"fact": "ga_days", "between": "1"}, r"r.between: expected \[low, high\]"),
        ({"fact": "ga_days", "about": 3}, "r: unknown operator 'about'"),
        ({"fact": "ga_days", "lt": True}, "r.lt: a comparison needs a number, not True"),
        ({"fact": "ga_days", "lt": "soon"}, "neither a number nor a gestational age"),
        ({"fact": "no_such_fact", "lt": 3}, "r.fact: unknown fact 'no_such_fact'"),
        ("no_such_fact", "r: unknown fact 'no_such_fact'"),
        ({"whenever": 1}, r"r: unknown condition keys \['whenever'\]"),
        (
            {"assume": {"not": "dilated"}, "words": " "},
            "r.assume: takes one condition and 'words'",
        ),
        ({"assume": {"assume": "dilated", "words": "x"}, "words": "y"}, "assumes facts only, once"),
    ],
)
def test_a_malformed_condition_names_where_and_what(raw: object, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        parse_condition(raw, "r")


def test_parsed_conditions_evaluate_as_written() -> None:
    facts = {"ga_days": 150, "singleton": True, "dilated": None}
    assert parse_condition({"fact": "ga_days", "between": ["21+3", "21+3"]}).value(
        facts, frozenset()
    )
    assert parse_condition({"fact": "ga_days", "eq": 150}).value(facts, frozenset()) is True
    assert parse_condition({"fact": "ga_days", "ne": 150}).value(facts, frozenset()) is False
    assert parse_condition({"not": "dilated"}).value(facts, frozenset()) is None
    assert parse_condition({"recorded": "dilated"}).value(facts, frozenset()) is False
    assumed = parse_condition({"assume": {"not": "dilated"}, "words": "  no   dilation "})
    assert assumed.value(facts, frozenset()) is True
    words: list[str] = []
    needs: list[str] = []
    assumed.assumptions(facts, frozenset(), words, needs)
    assert (words, needs) == (["no dilation"], ["dilated"])
    fired = parse_condition({"fired": ["urgent-evaluation"]})
    assert fired.value(facts, frozenset({"urgent-evaluation"})) is True
    explained: dict[str, object] = {}
    fired.explain(facts, frozenset({"urgent-evaluation", "x"}), explained)
    assert explained == {"indicated": ["urgent-evaluation"]}

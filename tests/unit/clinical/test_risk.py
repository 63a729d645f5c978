"""The published figures the risk summary shows, each checked against the source that was read.

Every figure CervixWatch can show (Kazemier 2014, Iams 1996, Hassan 2000, Conde-Agudelo 2010) is
asserted here against `shared/clinical/risk-evidence.md`, whose line is cited beside it, by
driving records that select its row. The assertions read what the assessment shows (each
evidence item's figure, statement, population and citation), never the module's tables, so
they hold when the tables move into the knowledge files (issue 10, item 12); a changed figure,
threshold or window fails here (issue 10, "How it is checked").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pytest

from cervixwatch.clinical.records import LengthMethod, PartialDate, PriorOutcome
from cervixwatch.clinical.risk import EvidenceItem
from tests.builders import Woman, woman

#: Labels a figure may carry beside its numbers ("95% CI", "RR", "PPV", "LR+").
FIGURE_LABELS = re.compile(r"95% CI|\bCI\b|\bRR\b|\bPPV\b|\bLR\+|\bLR\b|\bOR\b")
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?")


def numbers(text: str) -> list[float]:
    """The numbers written in `text`, in order ("2,915" is one number)."""
    return [float(n.replace(",", "")) for n in NUMBER.findall(text)]


def evidence(w: Woman, author: str) -> list[EvidenceItem]:
    """The evidence items shown to this woman whose citation names `author`."""
    return [item for item in w.assess().risk.evidence if author in item.citation]


def shown(w: Woman, author: str) -> EvidenceItem:
    [item] = evidence(w, author)
    return item


def assert_figure(item: EvidenceItem, *expected: float) -> None:
    """The figure is these numbers, in this order, and nothing but labels beside them."""
    assert numbers(FIGURE_LABELS.sub(" ", item.figure)) == list(expected), item.figure
    assert not re.search(r"[A-Za-z]", FIGURE_LABELS.sub(" ", item.figure)), item.figure


def assert_states(item: EvidenceItem, *expected: float) -> None:
    """Each of these numbers is written in the statement."""
    written = numbers(item.statement)
    missing = [n for n in expected if n not in written]
    assert not missing, f"{missing} not in {item.statement!r}"


# --- Kazemier 2014: absolute recurrence risk by the previous pregnancy ----------------------------
# risk-evidence.md lines 331-340: "Kazemier BM et al., BJOG 2014 ... 13 pooled studies".


@dataclass(frozen=True)
class KazemierRow:
    line: int
    w: Woman
    current: str
    previous: str
    risk: float
    low: float
    high: float


SINGLETON, TWINS = woman(), woman(fetuses=2)
KAZEMIER_ROWS = [
    # risk-evidence.md:336 "| Singleton | Preterm singleton | 20% (19.9-20.6) |"
    KazemierRow(
        336, SINGLETON.with_prior_sptb("30+0"), "singleton", "preterm singleton", 20, 19.9, 20.6
    ),
    # risk-evidence.md:337 "| Singleton | Preterm twins | 10% (8.2-12.3) |"
    KazemierRow(
        337, SINGLETON.with_prior(at="30+0", fetuses=2), "singleton", "preterm twins", 10, 8.2, 12.3
    ),
    # risk-evidence.md:338 "| Singleton | Term twins | 1.3% (0.8-2.2) |"
    KazemierRow(338, SINGLETON.with_prior(fetuses=2), "singleton", "term twins", 1.3, 0.8, 2.2),
    # risk-evidence.md:339 "| Twins | Preterm singleton | 57.0% (51.9-61.9) |"
    KazemierRow(339, TWINS.with_prior_sptb("30+0"), "twins", "preterm singleton", 57.0, 51.9, 61.9),
    # risk-evidence.md:340 "| Twins | Term singleton | 25% (24.3-26.5) |"
    KazemierRow(340, TWINS.with_prior(), "twins", "term singleton", 25, 24.3, 26.5),
]


@pytest.mark.parametrize("row", KAZEMIER_ROWS, ids=lambda r: f"line{r.line}")
def test_each_kazemier_row_shows_its_published_risk_and_interval(row: KazemierRow) -> None:
    item = shown(row.w, "Kazemier")
    assert_figure(item, row.risk, row.low, row.high)
    assert row.current in item.statement
    assert row.previous in item.statement
    assert "2014" in item.citation
    assert numbers(item.population)[0] == 13  # "13 pooled studies" (line 332)


def test_the_most_recent_previous_pregnancy_selects_the_row() -> None:
    # Whatever order they were recorded in, the latest previous pregnancy decides the row.
    sptb_2020 = woman().with_prior(at="30+0", ended=PartialDate(2020))
    w = sptb_2020.with_prior(fetuses=2, ended=PartialDate(2023))
    assert_figure(shown(w, "Kazemier"), 1.3, 0.8, 2.2)
    w = woman().with_prior(fetuses=2, ended=PartialDate(2021)).with_prior(at="30+0")
    assert_figure(shown(w, "Kazemier"), 20, 19.9, 20.6)


def test_an_undated_previous_pregnancy_counts_as_the_oldest() -> None:
    w = woman().with_prior(at="30+0").with_prior(fetuses=2, ended=PartialDate(2021))
    first, second = w.records.prior_pregnancies
    w = w.with_records(prior_pregnancies=(replace(first, ended=None), second))
    assert_figure(shown(w, "Kazemier"), 1.3, 0.8, 2.2)
    only_undated = woman().with_prior(at="30+0")
    [prior] = only_undated.records.prior_pregnancies
    w = only_undated.with_records(prior_pregnancies=(replace(prior, ended=None),))
    assert_figure(shown(w, "Kazemier"), 20, 19.9, 20.6)


def test_a_previous_pregnancy_ended_after_the_assessment_day_is_not_yet_known() -> None:
    w = woman().with_prior_sptb("30+0").with_prior(fetuses=2, ended=PartialDate(2027))
    assert_figure(shown(w, "Kazemier"), 20, 19.9, 20.6)
    assert evidence(woman().with_prior(fetuses=2, ended=PartialDate(2027)), "Kazemier") == []


def test_a_previous_pregnancy_ended_on_the_assessment_day_counts() -> None:
    w = woman()
    today = PartialDate(w.as_of.year, w.as_of.month, w.as_of.day)
    assert_figure(shown(w.with_prior(at="30+0", ended=today), "Kazemier"), 20, 19.9, 20.6)


def test_a_fetus_count_not_recorded_is_taken_as_one_now_and_before() -> None:
    w = woman(fetuses=None).with_prior(at="30+0", fetuses=None)
    assert_figure(shown(w, "Kazemier"), 20, 19.9, 20.6)


def test_term_begins_at_37_0_and_a_spontaneous_birth_at_36_6_is_preterm() -> None:
    term = woman().with_prior(at="37+0", fetuses=2)
    assert_figure(shown(term, "Kazemier"), 1.3, 0.8, 2.2)
    preterm = woman().with_prior(at="36+6", fetuses=2)
    assert_figure(shown(preterm, "Kazemier"), 10, 8.2, 12.3)


@pytest.mark.parametrize(
    "w",
    [
        pytest.param(woman().with_prior(), id="singleton after a term singleton: no row"),
        pytest.param(woman(fetuses=2).with_prior(at="30+0", fetuses=2), id="twins after twins"),
        pytest.param(woman(fetuses=3).with_prior_sptb("30+0"), id="triplets now"),
        pytest.param(woman().with_prior(at="30+0", fetuses=3), id="triplets before"),
        pytest.param(woman().with_prior_loss("20+0"), id="a miscarriage"),
        pytest.param(woman().with_prior(at="34+0", onset=None), id="preterm, onset unknown"),
        pytest.param(TWINS.with_prior(outcome=None), id="outcome unknown: not a term birth"),
        pytest.param(
            TWINS.with_prior(PriorOutcome.TERMINATION, onset=None), id="a termination at 39+0"
        ),
        pytest.param(woman(), id="no previous pregnancy"),
    ],
)
def test_no_kazemier_figure_outside_its_table(w: Woman) -> None:
    assert evidence(w, "Kazemier") == []


# --- Iams 1996: relative risk by cervical length at 24 weeks --------------------------------------
# risk-evidence.md lines 188-202: 2,915 singletons scanned at about 24 weeks; spontaneous delivery
# before 35 weeks; each row against women above the 75th percentile.

#: (risk-evidence.md line, cut-off at 24 weeks in mm, percentile, relative risk at 24 weeks)
IAMS_ROWS = [
    (202, 13.0, "1st", 13.99),  # "| ≤1st (13 mm) | 13.99 |"
    (201, 22.0, "5th", 9.49),  # "| ≤5th (22 mm) | 9.49 |"
    (200, 26.0, "10th", 6.19),  # "| ≤10th (26 mm) | 6.19 |"
    (199, 30.0, "25th", 3.79),  # "| ≤25th (30 mm) | 3.79 |"
    (198, 35.0, "50th", 2.35),  # "| ≤50th (35 mm) | 2.35 |"
    (197, 40.0, "75th", 1.98),  # "| ≤75th pct (40 mm) | 1.98 |"
]
IAMS_CASES = [
    pytest.param(length, cut_off, pct, rr, id=f"line{line}-{length:g}mm")
    for i, (line, cut_off, pct, rr) in enumerate(IAMS_ROWS)
    # At the cut-off, and just above the next shorter cut-off (5 mm below the 1st): both this row.
    for length in (cut_off, IAMS_ROWS[i - 1][1] + 0.1 if i else 5.0)
]


def at_24_weeks(mm: float, at: str = "24+3", *, fetuses: int = 1) -> Woman:
    return woman("25+0", fetuses=fetuses).with_length(mm, at=at)


@pytest.mark.parametrize(("length", "cut_off", "pct", "rr"), IAMS_CASES)
def test_each_iams_row_shows_its_published_relative_risk(
    length: float, cut_off: float, pct: str, rr: float
) -> None:
    item = shown(at_24_weeks(length), "Iams")
    assert_figure(item, rr)
    assert_states(item, length, cut_off, rr, 35, 75)
    assert f"{pct} percentile" in item.statement
    assert "before 35 weeks" in item.statement  # the outcome (line 190)
    assert "75th percentile" in item.statement  # the reference group (line 192)
    assert numbers(item.population)[0] == 2915  # n=2 915 at 24 weeks (line 189)
    assert "1996" in item.citation


def test_a_length_above_the_75th_percentile_cut_off_has_no_iams_figure() -> None:
    assert evidence(at_24_weeks(40.1), "Iams") == []


@pytest.mark.parametrize("at", ["24+0", "24+6"])
def test_the_24th_week_runs_from_24_0_to_24_6(at: str) -> None:
    assert_figure(shown(at_24_weeks(22.0, at=at), "Iams"), 9.49)


def test_a_length_measured_on_the_assessment_day_counts() -> None:
    w = woman("24+3").with_length(12.0, at="24+3")
    assert_figure(shown(w, "Iams"), 13.99)
    assert_figure(shown(w, "Hassan"), 47.6)


def test_the_shortest_length_of_the_24th_week_decides() -> None:
    w = at_24_weeks(30.0, at="24+0").with_length(21.0, at="24+6").with_length(10.0, at="23+6")
    item = shown(w, "Iams")
    assert_figure(item, 9.49)  # 21 mm: at or below the 5th percentile (22 mm)
    assert_states(item, 21)


@pytest.mark.parametrize(
    "w",
    [
        pytest.param(at_24_weeks(10.0, at="23+6"), id="at 23+6"),
        pytest.param(at_24_weeks(10.0, at="25+0").at("25+1"), id="at 25+0"),
        pytest.param(at_24_weeks(10.0, fetuses=2), id="twins"),
        pytest.param(
            woman("25+0").with_length(10.0, "24+3", LengthMethod.TRANSABDOMINAL), id="abdominal"
        ),
        pytest.param(at_24_weeks(10.0, at="24+5").at("24+4"), id="measured after as_of"),
        pytest.param(at_24_weeks(10.0).without_edd(), id="no EDD"),
    ],
)
def test_no_iams_figure_outside_a_singletons_24th_week(w: Woman) -> None:
    assert evidence(w, "Iams") == []


# --- Hassan 2000: a length of 15 mm or less at 14-24 weeks ----------------------------------------
# risk-evidence.md:293 "6 877 women, CL at 14-24 weeks"; :294 "spontaneous delivery ≤32 weeks";
# :304 "For CL ≤15 mm: PPV **47.6%**".


@pytest.mark.parametrize("at", ["14+0", "19+0", "24+6"])
def test_hassan_shows_its_ppv_for_15_mm_or_less_at_14_to_24_weeks(at: str) -> None:
    item = shown(woman("25+0").with_length(15.0, at=at), "Hassan")
    assert_figure(item, 47.6)
    assert_states(item, 15, 14, 24, 47.6, 32)
    assert numbers(item.population)[0] == 6877
    assert "2000" in item.citation


@pytest.mark.parametrize(
    "w",
    [
        pytest.param(woman("25+0").with_length(15.1, at="19+0"), id="15.1 mm"),
        pytest.param(woman("25+0").with_length(10.0, at="13+6"), id="at 13+6"),
        pytest.param(woman("26+0").with_length(10.0, at="25+0"), id="at 25+0"),
        pytest.param(woman("25+0", fetuses=2).with_length(10.0, at="19+0"), id="twins"),
    ],
)
def test_no_hassan_figure_outside_its_population(w: Woman) -> None:
    assert evidence(w, "Hassan") == []


# --- Conde-Agudelo 2010: twins, length at 20-24 weeks ---------------------------------------------
# risk-evidence.md:354 "21 studies, 3 523 women"; :355-360 "CL ≤20 mm at 20-24 weeks": LR+ 10.1
# for PTB <32 wk, 9.0 for PTB <34 wk; :362 "CL ≤25 mm at 20-24 weeks: LR+ 9.6 for PTB <28 weeks".


def twins(mm: float, at: str = "22+0") -> Woman:
    return woman("25+0", fetuses=2).with_length(mm, at=at)


@pytest.mark.parametrize(("mm", "at"), [(20.0, "20+0"), (12.0, "22+0"), (20.0, "24+6")])
def test_twins_at_20_mm_or_less_show_the_lr_for_birth_before_32_and_34_weeks(
    mm: float, at: str
) -> None:
    item = shown(twins(mm, at), "Conde-Agudelo")
    assert_figure(item, 10.1)
    assert_states(item, 20, 24, 10.1, 32, 9.0, 34)
    assert numbers(item.population)[:2] == [21, 3523]
    assert "2010" in item.citation


@pytest.mark.parametrize("mm", [20.1, 25.0])
def test_twins_at_21_to_25_mm_show_the_lr_for_birth_before_28_weeks(mm: float) -> None:
    item = shown(twins(mm), "Conde-Agudelo")
    assert_figure(item, 9.6)
    assert_states(item, 25, 20, 24, 9.6, 28)
    assert numbers(item.population)[:2] == [21, 3523]


@pytest.mark.parametrize(
    "w",
    [
        pytest.param(twins(25.1), id="25.1 mm"),
        pytest.param(twins(15.0, at="19+6"), id="at 19+6"),
        pytest.param(twins(15.0, at="25+0").at("25+1"), id="at 25+0"),
        pytest.param(woman("25+0").with_length(15.0, at="22+0"), id="singleton"),
    ],
)
def test_no_conde_agudelo_figure_outside_twins_at_20_to_24_weeks(w: Woman) -> None:
    assert evidence(w, "Conde-Agudelo") == []


def test_figures_are_shown_side_by_side_never_combined() -> None:
    # risk-evidence.md (a) 4: each figure labelled with its own population, none combined.
    w = woman("25+0").with_prior_sptb("30+0").with_length(12.0, at="24+1")
    items = w.assess().risk.evidence
    assert [numbers(FIGURE_LABELS.sub(" ", i.figure)) for i in items] == [
        [20, 19.9, 20.6],
        [13.99],
        [47.6],
    ]
    assert len({i.population for i in items}) == 3
    assert all(item.id for item in items)
    assert len({item.id for item in items}) == 3

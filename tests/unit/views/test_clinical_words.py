"""Facts in a clinician's words and units (issue 10, item 10): no fact name, no days, no bare
float reaches the clinician; a length keeps its comparator and the date of the scan it came
from."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from cervixwatch.clinical.facts import FACT_CATALOGUE, FACT_FAMILIES, WindowedFact, derive_facts
from cervixwatch.clinical.gestation import ga
from cervixwatch.clinical.records import CervicalLengthMeasurement, LengthComparator
from cervixwatch.views.clinical_words import fact_label, fact_words, length_line, window_words
from tests.builders import Woman, woman

BEFORE_24 = WindowedFact("shortest_tv_length_mm", None, ga("24+0") - 1).key
AT_16_24 = WindowedFact("shortest_tv_length_mm", ga("16+0"), ga("24+0")).key


def words(w: Woman, name: str) -> str:
    return fact_words(name, w.facts().get(name), w.records, w.as_of)


def windowed_words(w: Woman, key: str) -> str:
    value = derive_facts(w.records, w.as_of, [key])[key]
    return fact_words(key, value, w.records, w.as_of)


@pytest.mark.parametrize(
    "name",
    [*FACT_CATALOGUE, *(WindowedFact(f, ga("16+0"), None).key for f in FACT_FAMILIES)],
)
def test_every_fact_has_words_without_its_name_units_or_rule_ids(name: str) -> None:
    label = fact_label(name)
    assert "_" not in label
    assert "[" not in label
    assert not re.search(r", (mm|cm|in days)$", label)
    assert not re.search(r"\([A-Z]+[0-9]*-[0-9A-Z]+\)", label), label
    assert "sPTB" not in label


def test_gestational_age_is_weeks_and_days() -> None:
    w = woman("18+2")
    assert words(w, "ga_days") == "GA 18+2"
    reported = w.with_symptoms(reported_on=w.day("17+6"))
    assert "17+6" in fact_words("open_report_ga_days", ga("17+6"), reported.records, w.as_of)


def test_booleans_are_yes_no_or_unknown() -> None:
    w = woman("20+0").with_prior_sptb("30+0")
    assert words(w, "prior_sptb") == "previous spontaneous preterm birth: yes"
    assert words(w, "cerclage_in_situ") == "cerclage in situ: no"
    assert words(woman("20+0"), "dilated") == "dilation of 1 cm or more on the latest exam: unknown"
    key = WindowedFact("prior_sptb", None, ga("34+0") - 1).key
    assert windowed_words(w, key) == "previous spontaneous preterm birth before 34+0: yes"


def test_a_fact_named_for_an_absence_is_turned_round() -> None:
    assert words(woman("20+0"), "no_risk_factor") == "any preterm-birth risk factor: no"
    assert words(woman("20+0").with_prior_sptb("30+0"), "no_risk_factor").endswith(": yes")


def test_a_length_is_dated_by_the_scan_in_its_window() -> None:
    w = woman("25+0").with_length(22, at="18+0").with_length(20, at="24+3")
    assert windowed_words(w, BEFORE_24) == (
        "shortest transvaginal length measured before 24+0: 22 mm on 2026-01-31 (18+0)"
    )
    assert words(w, "shortest_tv_length_mm") == (
        f"shortest transvaginal length this pregnancy: 20 mm on {w.day('24+3')} (24+3)"
    )
    assert words(w, "latest_tv_length_mm").endswith(f"20 mm on {w.day('24+3')} (24+3)")


def test_a_length_with_a_comparator_keeps_it() -> None:
    w = woman("20+0")
    below = CervicalLengthMeasurement(w.day("19+0"), 10.0, comparator=LengthComparator.BELOW)
    w = w.with_records(cervical_lengths=(below,))
    assert windowed_words(w, AT_16_24) == (
        f"shortest transvaginal length measured at 16+0-24+0: <10 mm on {w.day('19+0')} (19+0)"
    )
    assert length_line(below, w.edd) == f"{w.day('19+0')} (19+0) <10 mm transvaginal"
    at_most = replace(below, comparator=LengthComparator.AT_MOST)
    assert length_line(at_most, w.edd).endswith("≤10 mm transvaginal")


def test_a_number_without_a_record_to_date_it_keeps_its_unit() -> None:
    w = woman("20+0")
    assert fact_words("dilation_cm", 2.0, w.records, w.as_of) == (
        "cervical dilation on the latest exam: 2 cm"
    )
    assert fact_words("ffn_since_report_ng_per_ml", 60.0, w.records, w.as_of).endswith(": 60 ng/mL")


def test_the_dilation_is_dated_by_its_exam() -> None:
    w = woman("21+0").with_exam("20+5", dilation_cm=2.0)
    assert words(w, "dilation_cm") == (
        f"cervical dilation on the latest exam: 2 cm on {w.day('20+5')} (20+5)"
    )


def test_the_codes_another_rule_gave_are_named() -> None:
    w = woman("20+0")
    assert (
        fact_words("indicated", ["exam-indicated-cerclage"], w.records, w.as_of)
        == "given by this guideline: exam-indicated-cerclage"
    )


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (None, "23+6", "before 24+0"),
        (None, "34+0", "at or before 34+0"),
        ("16+0", "24+0", "at 16+0-24+0"),
        ("18+0", None, "from 18+0"),
        (None, None, "at any gestation"),
    ],
)
def test_windows_read_as_the_guidelines_write_them(
    low: str | None, high: str | None, expected: str
) -> None:
    fact = WindowedFact(
        "tv_length_measured", None if low is None else ga(low), None if high is None else ga(high)
    )
    assert window_words(fact) == expected

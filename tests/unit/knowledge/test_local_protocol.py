"""A hospital's local protocol is one YAML file (issue 10, item 12): its own thresholds (sPTB
before 32+0) and its own scan interval (every 3 weeks) work with no code change."""

from __future__ import annotations

from pathlib import Path

import pytest

from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.knowledge import load_profiles
from tests.builders import Woman, woman

LOCAL = load_profiles(Path(__file__).parent / "local_protocol")["local"]


def assessed(w: Woman) -> Assessment:
    return assess(w.records, w.as_of, [LOCAL])


@pytest.mark.parametrize(("prior_at", "given"), [("31+6", True), ("32+0", False)])
def test_the_local_32_week_history_threshold(prior_at: str, given: bool) -> None:
    w = woman("17+0").with_prior_sptb(prior_at)
    assert ("serial-cervical-length" in assessed(w).codes("local")) is given


def test_the_local_scans_are_every_3_weeks() -> None:
    w = woman("17+0").with_prior_sptb("30+0").with_length(35.0, at="16+0")
    (plan,) = assessed(w).scan_plans
    assert plan.interval_days == 21
    assert plan.next_scan is not None
    assert plan.next_scan.due == w.day("19+0")
    assert list(plan.planned) == [w.day("19+0"), w.day("22+0")]


def test_the_local_progesterone_window_and_course() -> None:
    w = woman("20+0").with_prior_sptb("31+0").with_length(24.0, at="20+0")
    (progesterone,) = [r for r in assessed(w).recommendations if r.code == "vaginal-progesterone"]
    assert (progesterone.rule, progesterone.state) == ("SEM-02", "due")
    assert "vaginal-progesterone" not in assessed(w.at("24+1")).codes("local")


def test_missing_names_the_windowed_fact_in_words() -> None:
    # Without an EDD the window of a length cannot be placed: missing asks for what is needed.
    w = woman("20+0").with_prior_sptb("31+0").with_length(24.0, at="20+0").without_edd()
    assert assessed(w).missing

"""The scan plan: when the next transvaginal cervical length is due, and whether it is upcoming,
due or overdue (docs/clinical-interpretations.md I-40 to I-43).

ACOG serial scans run 16+0-23+6, every 14 days after the latest length, every 7 days after a
latest length of 25-29 mm (25 <= L < 30), and stop below 25 mm. NICE leaves the interval to the
clinic. Single screens: ACOG 18+0-22+6, NICE 18+0-22+0."""

from __future__ import annotations

import datetime as dt

import pytest

from cervixwatch.clinical.guidelines import ScanSchedule
from cervixwatch.clinical.records import ExcisionKind, LengthMethod
from cervixwatch.clinical.surveillance import ScanPlan, plan_scans
from cervixwatch.knowledge import bundled_profiles
from tests.builders import Woman, woman

PRIOR_SPTB = woman("15+0").with_prior_sptb("30+0")


def plan(w: Woman, guideline: str, rule_code: str) -> ScanPlan:
    [found] = [
        p
        for p in w.assess(guideline).scan_plans
        if p.guideline == guideline and p.kind == rule_code
    ]
    return found


def schedule(guideline: str, code: str) -> ScanSchedule:
    [rule] = [r for r in bundled_profiles()[guideline].rules if r.code == code]
    assert rule.scan is not None
    return rule.scan


def test_acog_serial_window_is_16_0_to_23_6() -> None:
    p = plan(PRIOR_SPTB, "acog", "serial")
    assert (p.window_from, p.window_to) == (PRIOR_SPTB.day("16+0"), PRIOR_SPTB.day("23+6"))
    assert (str(p.window_from_ga), str(p.window_to_ga)) == ("16+0", "23+6")


def test_acog_serial_scans_every_two_weeks_from_16_0_before_any_length() -> None:
    p = plan(PRIOR_SPTB, "acog", "serial")
    assert p.next_scan is not None
    assert p.next_scan.due == PRIOR_SPTB.day("16+0")
    assert p.planned == tuple(PRIOR_SPTB.day(g) for g in ("16+0", "18+0", "20+0", "22+0"))


@pytest.mark.parametrize(
    ("today", "status"), [("15+6", "upcoming"), ("16+0", "due"), ("16+1", "overdue")]
)
def test_the_first_serial_scan_is_upcoming_due_then_overdue(today: str, status: str) -> None:
    p = plan(PRIOR_SPTB.at(today), "acog", "serial")
    assert p.next_scan is not None
    assert p.next_scan.status == status


@pytest.mark.parametrize(
    ("length_mm", "interval", "next_at"),
    [
        (35.0, 14, "18+0"),
        (30.0, 14, "18+0"),
        (29.9, 7, "17+0"),
        (27.0, 7, "17+0"),
        (25.0, 7, "17+0"),
    ],
)
def test_acog_serial_interval_is_weekly_after_a_length_of_25_to_29_mm(
    length_mm: float, interval: int, next_at: str
) -> None:
    w = PRIOR_SPTB.with_length(length_mm, at="16+0").at("16+0")
    p = plan(w, "acog", "serial")
    assert p.interval_days == interval
    assert p.next_scan is not None
    assert p.next_scan.due == w.day(next_at)
    assert w.assess("acog").next_scan_due == w.day(next_at)


def test_acog_serial_schedule_gives_way_to_treatment_below_25_mm() -> None:
    w = PRIOR_SPTB.with_length(24.9, at="16+0").at("16+0")
    p = plan(w, "acog", "serial")
    assert p.next_scan is None
    assert "below 25 mm" in p.note
    assert "ultrasound-indicated-cerclage" in w.codes("acog")


def test_the_latest_length_sets_the_interval() -> None:
    w = PRIOR_SPTB.with_length(26.0, at="16+0").with_length(32.0, at="17+0").at("17+0")
    p = plan(w, "acog", "serial")
    assert p.next_scan is not None
    assert p.next_scan.due == w.day("19+0")


def test_a_length_before_16_0_does_not_start_the_serial_schedule() -> None:
    w = PRIOR_SPTB.with_length(35.0, at="15+6").at("15+6")
    p = plan(w, "acog", "serial")
    assert p.next_scan is not None
    assert p.next_scan.due == w.day("16+0")


def test_a_transabdominal_length_does_not_count_as_a_serial_scan() -> None:
    w = PRIOR_SPTB.with_length(35.0, at="16+0", method=LengthMethod.TRANSABDOMINAL).at("16+1")
    p = plan(w, "acog", "serial")
    assert p.next_scan is not None
    assert (p.next_scan.due, p.next_scan.status) == (w.day("16+0"), "overdue")


@pytest.mark.parametrize(
    ("today", "status"), [("17+6", "upcoming"), ("18+0", "due"), ("18+1", "overdue")]
)
def test_a_serial_scan_is_due_on_its_day_only(today: str, status: str) -> None:
    w = PRIOR_SPTB.with_length(30.0, at="16+0").at(today)
    p = plan(w, "acog", "serial")
    assert p.next_scan is not None
    assert (p.next_scan.due, p.next_scan.latest) == (w.day("18+0"), w.day("18+0"))
    assert p.next_scan.status == status


def test_no_serial_scan_is_planned_after_the_window_closes() -> None:
    w = PRIOR_SPTB.with_length(30.0, at="23+0").at("23+0")
    p = plan(w, "acog", "serial")
    assert p.next_scan is None
    assert p.interval_days == 14


def test_nice_serial_scans_every_2_to_4_weeks() -> None:
    # SBL v3.1 (CD-08): the next scan is due 2 weeks after the last and overdue 4 weeks after.
    before = plan(PRIOR_SPTB, "nice", "serial")
    assert before.next_scan is not None
    assert before.next_scan.due == PRIOR_SPTB.day("16+0")
    assert (str(before.window_from_ga), str(before.window_to_ga)) == ("16+0", "24+0")
    scanned = PRIOR_SPTB.with_length(35.0, at="16+0")
    for today, status in [
        ("17+6", "upcoming"),
        ("18+0", "due"),
        ("20+0", "due"),
        ("20+1", "overdue"),
    ]:
        after = plan(scanned.at(today), "nice", "serial")
        assert after.interval_days == 14
        assert after.next_scan is not None
        assert (after.next_scan.due, after.next_scan.latest) == (
            scanned.day("18+0"),
            scanned.day("20+0"),
        )
        assert after.next_scan.status == status, today
    assert PRIOR_SPTB.with_length(35.0, at="16+0").at("20+1").assess("nice").next_scan_due


def test_a_nice_high_risk_woman_is_due_and_then_overdue() -> None:
    # Issue 10: "never gives a NICE high-risk woman a next scan date, so she is never due or
    # overdue".
    w = PRIOR_SPTB.with_length(30.0, at="17+0").at("21+2")
    (serial,) = [r for r in w.assess("nice").recommendations if r.code == "serial-cervical-length"]
    assert serial.state == "overdue"
    assert "Overdue" in serial.state_note


@pytest.mark.parametrize(
    ("today", "status"),
    [("14+0", "upcoming"), ("17+6", "upcoming"), ("18+0", "due"), ("22+6", "due")],
)
def test_acog_single_screen_at_18_0_to_22_6(today: str, status: str) -> None:
    w = woman(today)
    p = plan(w, "acog", "single")
    assert p.next_scan is not None
    assert (p.next_scan.due, p.next_scan.latest) == (w.day("18+0"), w.day("22+6"))
    assert p.next_scan.status == status


def test_acog_single_screen_is_done_once_a_length_is_measured_in_the_window() -> None:
    w = woman("22+0").with_length(35.0, at="17+6").with_length(30.0, at="22+0").at("22+1")
    # The 22+0 length makes the rule itself not fire; the plan, asked directly, says done.
    p = plan_scans(schedule("acog", "single-cervical-length-screen"), w.records, w.as_of, "", "")
    assert p is not None
    assert p.next_scan is None
    assert "Done" in p.note


@pytest.mark.parametrize(("today", "status"), [("22+6", "due"), ("23+0", "overdue")])
def test_a_single_screen_not_done_by_the_end_of_its_window_is_overdue(
    today: str, status: str
) -> None:
    w = woman(today)
    p = plan_scans(schedule("acog", "single-cervical-length-screen"), w.records, w.as_of, "", "")
    assert p is not None
    assert p.next_scan is not None
    assert p.next_scan.status == status


@pytest.mark.parametrize(("today", "status"), [("17+6", "upcoming"), ("21+6", "due")])
def test_nice_single_screen_at_18_0_to_22_0(today: str, status: str) -> None:
    w = woman(today).with_excision(ExcisionKind.CONE_BIOPSY)
    p = plan(w, "nice", "single")
    assert p.next_scan is not None
    assert (p.next_scan.due, p.next_scan.latest) == (w.day("18+0"), w.day("22+0"))
    assert p.next_scan.status == status


def test_no_scan_plan_without_an_edd() -> None:
    w = PRIOR_SPTB.without_edd()
    assert (
        plan_scans(schedule("acog", "serial-cervical-length"), w.records, w.as_of, "", "") is None
    )
    assert w.assess().next_scan_due is None


def test_next_scan_due_is_the_soonest_of_all_plans() -> None:
    w = PRIOR_SPTB.with_length(30.0, at="16+0").at("16+0")
    # acog: 18+0; nice: no date after the first scan.
    assert w.assess().next_scan_due == w.day("18+0")
    assert w.assess().next_scan_due == min(
        p.next_scan.due for p in w.assess().scan_plans if p.next_scan is not None
    )
    assert isinstance(w.assess().next_scan_due, dt.date)


# --- the words and dates of a plan (issue 10: plan and text from the same facts) -----------------


def test_a_missed_screen_gives_its_window_and_last_useful_day() -> None:
    p = plan(woman("24+0"), "acog", "single")
    assert p.missed
    assert p.next_scan is None
    assert p.planned == ()
    assert p.note == (
        "Missed: no transvaginal length in 18+0-22+6 (2026-01-31 to 2026-03-06), nor by 23+6"
        " (2026-03-13), the last day on which it would have changed management."
    )


def test_an_overdue_screen_keeps_its_window() -> None:
    w = woman("23+6")
    p = plan(w, "acog", "single")
    assert not p.missed
    assert p.next_scan is not None
    assert (p.next_scan.due, p.next_scan.latest, p.next_scan.status) == (
        w.day("18+0"),
        w.day("22+6"),
        "overdue",
    )
    assert p.planned == (w.day("18+0"),)


def test_the_serial_plan_lists_every_planned_date_in_the_window() -> None:
    p = plan(PRIOR_SPTB.with_length(32.0, at="16+0").at("16+1"), "acog", "serial")
    assert p.interval_days == 14
    assert [str(d) for d in p.planned] == ["2026-01-31", "2026-02-14", "2026-02-28", "2026-03-14"][
        : len(p.planned)
    ]
    assert p.planned[0] == PRIOR_SPTB.day("18+0")
    assert all(d <= p.window_to for d in p.planned)


def test_the_nice_grace_never_runs_past_the_window() -> None:
    w = PRIOR_SPTB.with_length(32.0, at="21+0").at("21+1")
    p = plan(w, "nice", "serial")
    assert p.next_scan is not None
    assert (p.next_scan.due, p.next_scan.latest) == (w.day("23+0"), w.day("24+0"))


def test_the_stop_note_names_the_length_and_its_day() -> None:
    p = plan(PRIOR_SPTB.with_length(22.0, at="18+0").at("18+1"), "acog", "serial")
    assert p.note == (
        "No further surveillance scan planned: the latest length, 22 mm on 2026-01-31, is below"
        " 25 mm, so the schedule gives way to a treatment decision (see the recommendations)."
    )
    assert p.next_scan is None


def test_the_last_serial_date_past_the_window_says_so() -> None:
    p = plan(PRIOR_SPTB.with_length(32.0, at="22+3").at("22+4"), "acog", "serial")
    assert p.next_scan is None
    assert p.note == "No further scan falls in 16+0-23+6."

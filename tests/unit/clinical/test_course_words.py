"""The words of the course of care, exactly: what a clinician reads about why a woman is urgent,
since when a treatment runs, and where a scan stands (clinical/course.py). The words are the
product here, so each is pinned."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from cervixwatch.clinical import course
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclageRoute,
    CervicalExam,
    Medication,
    Symptom,
    SymptomReport,
)
from cervixwatch.clinical.surveillance import ScanPlan, ScheduledScan
from tests.builders import EDD, woman


def test_at_and_ga_date() -> None:
    day = dt.date(2026, 2, 2)
    assert course.at(day, EDD) == "18+2 (2026-02-02)"
    assert course.at(day, None) == "2026-02-02"
    assert course.at(None, EDD) == "an unrecorded date"
    assert course.ga_date(EDD, 34 * 7) == "34+0 (2026-05-23)"
    assert course.ga_date(None, 34 * 7) == "34+0"


def _reason(*reports: SymptomReport, exams: tuple[CervicalExam, ...] = (), days: int = 0) -> str:
    w = woman("24+0")
    records = dataclasses.replace(w.records, symptom_reports=reports, exams=exams)
    return course.urgent_reason(records, w.as_of + dt.timedelta(days=days), reports)


def test_the_reason_names_symptoms_who_when_and_how_long() -> None:
    day = woman("24+0").as_of
    report = SymptomReport(day, frozenset({Symptom.PELVIC_PRESSURE, Symptom.BACKACHE}))
    assert _reason(report) == (
        "lower backache, pelvic pressure: reported by the woman on 24+0 (2026-03-14), today;"
        " not yet reviewed"
    )
    assert _reason(report, days=1).endswith("1 day ago; not yet reviewed")
    assert _reason(report, days=9).endswith("9 days ago; not yet reviewed")
    by_midwife = dataclasses.replace(report, reported_by="Midwife Jones")
    assert "reported by Midwife Jones on" in _reason(by_midwife)


def test_the_reason_lists_reports_oldest_first_and_skips_reports_with_no_symptom() -> None:
    day = woman("24+0").as_of
    older = SymptomReport(day - dt.timedelta(days=3), frozenset({Symptom.CRAMPING}))
    newer = SymptomReport(day, frozenset({Symptom.FEVER}))
    nothing = SymptomReport(day, frozenset(), frozenset({Symptom.BLEEDING}))
    reason = _reason(newer, nothing, older)
    assert reason.index("cramping") < reason.index("fever")
    assert reason.count("reported by") == 2


@pytest.mark.parametrize(
    ("exams", "words"),
    [
        ((CervicalExam(dt.date(2026, 3, 14), 3.0, None, True),), "dilation 3 cm on 24+0"),
        ((CervicalExam(dt.date(2026, 3, 14), 2.0, None, None),), "on exam: dilation 2 cm on"),
        ((CervicalExam(dt.date(2026, 3, 14), None, None, True),), "on exam: membranes exposed on"),
        (
            (
                CervicalExam(dt.date(2026, 3, 13), 3.0),
                CervicalExam(dt.date(2026, 3, 14), None, None, True),
            ),
            "dilation 3 cm on 23+6 (2026-03-13) and membranes exposed on 24+0 (2026-03-14)",
        ),
    ],
)
def test_the_reason_names_exam_findings(exams: tuple[CervicalExam, ...], words: str) -> None:
    assert words in _reason(exams=exams)


@pytest.mark.parametrize(
    "exams",
    [
        (CervicalExam(dt.date(2026, 3, 14), 1.5, None, False),),
        (CervicalExam(dt.date(2026, 3, 15), 4.0, None, True),),  # after as_of
        (
            CervicalExam(dt.date(2026, 3, 12), 3.0, None, True),
            CervicalExam(dt.date(2026, 3, 14), 0.0, None, False),
        ),
    ],
)
def test_the_reason_leaves_out_findings_not_urgent_or_not_current(
    exams: tuple[CervicalExam, ...],
) -> None:
    assert _reason(exams=exams) == ""


def test_current_treatments_in_words() -> None:
    w = (
        woman("20+0")
        .with_cerclage("14+0", CerclageRoute.TRANSVAGINAL, CerclageIndication.ULTRASOUND)
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="16+0")
    )
    treatments = course.current_treatments(w.records, w.as_of)
    assert [t.treatment for t in treatments] == ["cerclage", "vaginal-progesterone"]
    assert treatments[0].detail == (
        "cerclage (transvaginal, ultrasound-indicated) in situ since 14+0 (2026-01-03)"
    )
    assert treatments[0].since == w.day("14+0")
    assert str(treatments[0].since_ga) == "14+0"
    assert treatments[1].detail == "vaginal progesterone since 16+0 (2026-01-17)"
    assert str(treatments[1].since_ga) == "16+0"


@pytest.mark.parametrize(
    ("route", "indication", "words"),
    [
        (CerclageRoute.TRANSABDOMINAL, None, "cerclage (transabdominal) in situ"),
        (
            CerclageRoute.UNKNOWN,
            CerclageIndication.HISTORY,
            "(route not recorded, history-indicated)",
        ),
        (
            CerclageRoute.TRANSABDOMINAL,
            CerclageIndication.ABDOMINAL,
            "cerclage (transabdominal) in",
        ),
    ],
)
def test_a_cerclage_in_words(
    route: CerclageRoute, indication: CerclageIndication | None, words: str
) -> None:
    w = woman("20+0").with_cerclage("14+0", route, indication)
    [(day, text)] = course.cerclage_in_situ_text(w.records, w.as_of)
    assert day == w.day("14+0")
    assert words in text


def test_no_cerclage_in_words_once_removed_or_not_yet_placed_or_before_this_pregnancy() -> None:
    removed = woman("20+0").with_cerclage("14+0", removed_at="19+0")
    assert course.cerclage_in_situ_text(removed.records, removed.as_of) == []
    later = woman("20+0").with_cerclage("21+0")
    assert course.cerclage_in_situ_text(later.records, later.as_of) == []
    before = woman("20+0").with_cerclage(placed_on=EDD - dt.timedelta(days=300))
    assert course.cerclage_in_situ_text(before.records, before.as_of) == []


def test_medication_without_a_start_date_says_so() -> None:
    w = woman("20+0").with_medication(Medication.VAGINAL_PROGESTERONE)
    assert course.medication_text(w.records, Medication.VAGINAL_PROGESTERONE, w.as_of) == (
        "vaginal progesterone since a start date not recorded"
    )
    assert course.medication_text(w.records, Medication.HYDROXYPROGESTERONE_CAPROATE, w.as_of) == ""


def _plan(next_scan: ScheduledScan | None, note: str = "", missed: bool = False) -> ScanPlan:
    return ScanPlan(
        guideline="nice",
        rule="SBL-04",
        kind="serial",
        window_from=dt.date(2026, 1, 17),
        window_to=dt.date(2026, 3, 14),
        window_from_ga=GestationalAge(112),
        window_to_ga=GestationalAge(168),
        interval_days=14,
        next_scan=next_scan,
        note=note,
        missed=missed,
    )


def test_plan_state_words() -> None:
    day, later = dt.date(2026, 2, 2), dt.date(2026, 2, 16)
    assert course.plan_state(None, EDD) == (
        "due",
        "No scan date can be set without an estimated due date.",
    )
    assert course.plan_state(_plan(None, "Missed: x", missed=True), EDD) == ("missed", "Missed: x")
    assert course.plan_state(_plan(None, "A note."), EDD) == ("due", "A note.")
    assert course.plan_state(_plan(None), EDD) == ("due", "No further scan falls in 16+0-24+0.")
    assert course.plan_state(_plan(ScheduledScan(day, later, "overdue")), EDD) == (
        "overdue",
        "Overdue: the next scan was due by 20+2 (2026-02-16).",
    )
    assert course.plan_state(_plan(ScheduledScan(day, day, "due")), EDD) == (
        "due",
        "Next scan 18+2 (2026-02-02).",
    )
    assert course.plan_state(_plan(ScheduledScan(day, later, "upcoming")), EDD) == (
        "due",
        "Next scan from 18+2 (2026-02-02), at the latest by 20+2 (2026-02-16).",
    )


def test_window_state_words() -> None:
    window = (dt.date(2026, 1, 3), dt.date(2026, 1, 16))
    assert course.window_state(None, dt.date(2026, 2, 2), EDD) is None
    assert course.window_state(window, dt.date(2026, 1, 16), EDD) is None
    assert course.window_state(window, dt.date(2026, 1, 17), EDD) == (
        "overdue",
        "Overdue: planned for 14+0 (2026-01-03) to 15+6 (2026-01-16), not yet recorded.",
    )


def test_a_missed_serial_scan_in_words_and_plan() -> None:
    w = woman("24+1").with_prior_sptb("30+0")
    assessment = w.assess("acog")
    [serial] = [r for r in assessment.recommendations if r.code == "serial-cervical-length"]
    assert (serial.state, serial.rule, serial.guideline) == ("missed", "SMFM40-01", "acog")
    assert serial.state_note == (
        "Missed: a scan was due from 16+0 (2026-01-17) and none was recorded by the end of the"
        " surveillance window, 23+6 (2026-03-13) (CD-05)."
    )
    [plan] = [p for p in assessment.scan_plans if p.kind == "serial"]
    assert (plan.guideline, plan.rule, plan.missed, plan.next_scan) == (
        "acog",
        "SMFM40-01",
        True,
        None,
    )
    assert plan.note == serial.state_note
    assert assessment.next_scan_due is None


def test_an_acog_scan_due_on_the_windows_last_day_and_not_done_is_missed() -> None:
    # ACOG: overdue from the day after it was due (CD-05), so due on 23+6 and not done: missed.
    w = woman("16+0").with_prior_sptb("30+0").with_length(32.0, at="21+6").at("24+1")
    [serial] = [r for r in w.assess("acog").recommendations if r.code == "serial-cervical-length"]
    assert serial.state == "missed"
    assert "due from 23+6 (2026-03-13)" in serial.state_note

"""Details of an assessment a clinician reads: what is missing and why, the findings beside the
history tier, and the state notes of a course (clinical/assessment.py, risk.py, course.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from cervixwatch.clinical.records import (
    CerclageRemoval,
    CervicalLengthMeasurement,
    LengthComparator,
    Medication,
    PriorOutcome,
    PriorPregnancy,
    Symptom,
)
from tests.builders import EDD, woman


def counted(what: str) -> PriorPregnancy:
    return PriorPregnancy(None, None, None, None, counted_as=what)


@pytest.mark.parametrize(
    ("priors", "words"),
    [
        ((counted("preterm birth"),), "details of 1 previous preterm birth (gestation"),
        (
            (counted("preterm birth"), counted("preterm birth")),
            "details of 2 previous preterm births (gestation",
        ),
        (
            (counted("preterm birth"), counted("miscarriage")),
            "details of 1 previous preterm birth and 1 previous miscarriage (gestation at the end,"
            " outcome and how it started)",
        ),
    ],
)
def test_counted_history_asks_for_its_details(
    priors: tuple[PriorPregnancy, ...], words: str
) -> None:
    missing = woman("12+0").with_records(prior_pregnancies=priors).assess().missing
    assert any(need.startswith(words) for need in missing), missing
    assert "outcome, gestation and onset of each previous pregnancy" not in missing
    assert "the depth of each LLETZ" not in missing


def test_an_unknown_history_without_counts_asks_in_general_words() -> None:
    unknown = PriorPregnancy(None, PriorOutcome.LIVE_BIRTH, None, None)
    missing = woman("12+0").with_records(prior_pregnancies=(unknown,)).assess().missing
    assert "outcome, gestation and onset of each previous pregnancy" in missing
    assert "the depth of each LLETZ" not in missing


def test_an_unknown_lletz_depth_is_asked_for() -> None:
    missing = woman("12+0").with_excision().assess().missing
    assert "the depth of each LLETZ" in missing


PLACEMENT = "the cerclage's placement (date and type)"


def test_a_removal_without_a_placement_asks_for_it() -> None:
    w = woman("37+0")
    w = w.with_records(cerclage_removals=(CerclageRemoval(w.day("36+3")),))
    assert PLACEMENT in w.assess().missing


@pytest.mark.parametrize(
    "removed_on",
    [
        dt.date(2026, 7, 1),  # after as_of: not yet known
        EDD - dt.timedelta(days=300),  # before this pregnancy began
    ],
)
def test_a_removal_not_of_this_pregnancy_or_not_yet_known_asks_nothing(
    removed_on: dt.date,
) -> None:
    w = woman("30+0").with_records(cerclage_removals=(CerclageRemoval(removed_on),))
    assert PLACEMENT not in w.assess().missing


def test_a_removal_after_its_placement_asks_nothing() -> None:
    w = woman("37+0").with_cerclage("14+0", removed_at="36+3")
    assert PLACEMENT not in w.assess().missing


@pytest.mark.parametrize(
    ("length", "comparator", "finding"),
    [
        (25.0, None, "short cervix: shortest transvaginal length 25 mm"),
        (10.0, LengthComparator.BELOW, "short cervix: shortest transvaginal length <10 mm"),
        (9.0, LengthComparator.AT_MOST, "short cervix: shortest transvaginal length 9 mm"),
    ],
)
def test_current_findings_words(
    length: float, comparator: LengthComparator | None, finding: str
) -> None:
    w = woman("20+0")
    m = CervicalLengthMeasurement(w.day("19+0"), length, comparator=comparator)
    assert w.with_records(cervical_lengths=(m,)).assess().risk.current_findings == (finding,)


def test_no_finding_for_a_normal_length_one_fetus_and_a_closed_cervix() -> None:
    w = woman("20+0").with_length(25.1, at="19+0").with_closed_cervix("19+0")
    assert w.assess().risk.current_findings == ()


def test_current_findings_for_triplets_and_an_open_cervix() -> None:
    w = woman("20+0", fetuses=3).with_exam("20+0", dilation_cm=1.0, membranes_exposed=True)
    assert w.assess().risk.current_findings == (
        "3 fetuses",
        "cervix dilated 1 cm on the latest exam",
        "membranes exposed at the os",
    )


def test_the_tier_is_shown_with_its_rule() -> None:
    risk = woman("12+0").with_prior_sptb("30+0").assess().risk
    assert (risk.tier, risk.tier_rule) == ("high", "SBL-02, SBL-03")
    assert risk.tier_label == "Saving Babies' Lives v3.1 history tier"


@pytest.mark.parametrize(
    ("guideline", "today", "note"),
    [
        (
            "nice",
            "30+0",
            "Vaginal progesterone since 20+1 (2026-02-15): the current treatment, not an offer;"
            " continue until 34+0 - for one baby at least until then, for twins until then or"
            " birth (NG137 1.5.3) (NICE-04; 34+0 (2026-05-23)).",
        ),
        (
            "acog",
            "30+0",
            "Vaginal progesterone since 20+1 (2026-02-15): the current treatment, not an offer;"
            " continue until 34+0 (AFP22-VP; 34+0 (2026-05-23)).",
        ),
        (
            "acog",
            "34+0",
            "Vaginal progesterone since 20+1 (2026-02-15). May stop now: 34+0 (2026-05-23) is"
            " reached (AFP22-VP: continue until 34+0).",
        ),
        (
            "nice",
            "37+0",
            "Vaginal progesterone since 20+1 (2026-02-15). Review stopping: the preterm period"
            " is over (CW-TERM).",
        ),
    ],
)
def test_the_state_note_of_a_treatment_in_place(guideline: str, today: str, note: str) -> None:
    w = (
        woman("20+0")
        .with_length(18.0, at="20+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+1")
        .at(today)
    )
    [progesterone] = [
        r for r in w.assess(guideline).recommendations if r.code == "vaginal-progesterone"
    ]
    assert (progesterone.state, progesterone.state_note) == ("in-place", note)


def test_without_an_edd_progesterone_waits_for_the_gestation_unless_in_place() -> None:
    # Whether it may still be started depends on the gestation (the start window).
    short = woman("20+0").with_length(18.0, at="20+0").without_edd()
    assessment = short.assess("nice")
    assert "vaginal-progesterone" not in assessment.codes("nice")
    assert "estimated due date (EDD), for gestational age" in assessment.missing
    on_it = short.with_medication(Medication.VAGINAL_PROGESTERONE)
    [progesterone] = [
        r for r in on_it.assess("nice").recommendations if r.code == "vaginal-progesterone"
    ]
    assert progesterone.state == "in-place"


def test_an_order_with_no_start_date_past_the_window_says_so() -> None:
    w = woman("28+0").with_prior_sptb("30+0").with_medication(Medication.VAGINAL_PROGESTERONE)
    for guideline, rule in (("nice", "NICE-03"), ("acog", "SMFM23-03")):
        [progesterone] = [
            r for r in w.assess(guideline).recommendations if r.code == "vaginal-progesterone"
        ]
        assert progesterone.state == "in-place"
        assert progesterone.rule == rule or progesterone.state_note.endswith(
            "Its start date is not recorded: whether it was indicated then is unknown."
        )


def test_only_urgent_evaluation_carries_a_reason() -> None:
    w = woman("24+0").with_prior_sptb("30+0").with_symptoms(Symptom.CRAMPING)
    for r in w.assess().recommendations:
        assert bool(r.reason) is (r.code == "urgent-evaluation"), r.code


def test_both_guidelines_mark_a_missed_serial_scan() -> None:
    w = woman("24+1").with_prior_sptb("30+0")
    for guideline in ("acog", "nice"):
        states = {
            r.state
            for r in w.assess(guideline).recommendations
            if r.code == "serial-cervical-length"
        }
        assert states == {"missed"}, guideline

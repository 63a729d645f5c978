"""Classifying previous pregnancies (fhir-mapping.md, "Previous pregnancies"): each answer is
True, False or None when the record cannot tell, so an unknown is never read as reassuring."""

from __future__ import annotations

import pytest

from cervixwatch.clinical import history as h
from cervixwatch.clinical.gestation import ga
from cervixwatch.clinical.records import (
    CerclageIndication,
    Onset,
    PartialDate,
    PriorOutcome,
    PriorPregnancy,
)

LIVE = PriorOutcome.LIVE_BIRTH
STILL = PriorOutcome.STILLBIRTH
MISC = PriorOutcome.MISCARRIAGE
TOP = PriorOutcome.TERMINATION
ECTOPIC = PriorOutcome.ECTOPIC
SPONT = Onset.SPONTANEOUS_LABOUR
PPROM = Onset.PPROM
PAINLESS = Onset.PAINLESS_CERVICAL_DILATION
INDICATED = Onset.MEDICALLY_INDICATED
UNKNOWN = Onset.UNKNOWN


def prior(
    outcome: PriorOutcome | None,
    at: str | None,
    onset: Onset | None,
    cerclage: CerclageIndication | None = None,
) -> PriorPregnancy:
    return PriorPregnancy(
        PartialDate(2023), outcome, None if at is None else ga(at), onset, cerclage
    )


@pytest.mark.parametrize(
    ("outcome", "at", "onset", "expected"),
    [
        (LIVE, "30+0", SPONT, True),
        (LIVE, "30+0", PPROM, True),
        (LIVE, "30+0", PAINLESS, True),
        (STILL, "30+0", SPONT, True),
        (LIVE, "36+6", SPONT, True),
        (LIVE, "37+0", SPONT, False),
        (LIVE, "30+0", INDICATED, False),
        (STILL, "30+0", INDICATED, False),
        (LIVE, "30+0", UNKNOWN, None),
        (LIVE, "30+0", None, None),
        (LIVE, None, SPONT, None),
        # A term birth is not preterm whatever its onset.
        (LIVE, "39+0", UNKNOWN, False),
        (LIVE, "39+0", None, False),
        (MISC, "20+0", SPONT, False),
        (TOP, "20+0", SPONT, False),
        (ECTOPIC, "8+0", None, False),
        (None, "30+0", SPONT, None),
    ],
)
def test_spontaneous_preterm_birth(
    outcome: PriorOutcome | None, at: str | None, onset: Onset | None, expected: bool | None
) -> None:
    assert h.is_spontaneous_preterm_birth(prior(outcome, at, onset)) is expected


@pytest.mark.parametrize(
    ("at", "max_days", "min_days", "expected"),
    [
        ("33+6", ga("34+0") - 1, None, True),
        ("34+0", ga("34+0") - 1, None, False),
        ("34+0", ga("34+0"), None, True),
        ("15+6", ga("34+0"), ga("16+0"), False),
        ("16+0", ga("34+0"), ga("16+0"), True),
    ],
)
def test_spontaneous_preterm_birth_in_a_gestation_range(
    at: str, max_days: int, min_days: int | None, expected: bool
) -> None:
    p = prior(LIVE, at, SPONT)
    assert h.is_spontaneous_preterm_birth(p, min_days=min_days, max_days=max_days) is expected


@pytest.mark.parametrize(
    ("outcome", "at", "expected"),
    [
        (MISC, "13+6", False),
        (MISC, "14+0", True),
        (MISC, "23+6", True),
        (MISC, "24+0", False),
        (STILL, "20+0", True),
        # A live birth in the window is a birth (an sPTB when spontaneous), not a loss.
        (LIVE, "20+0", False),
        (TOP, "20+0", False),
        (MISC, None, None),
        (None, "20+0", None),
    ],
)
def test_mid_trimester_loss_is_14_0_to_23_6(
    outcome: PriorOutcome | None, at: str | None, expected: bool | None
) -> None:
    assert h.is_mid_trimester_loss(prior(outcome, at, PAINLESS)) is expected


@pytest.mark.parametrize(("at", "expected"), [("15+6", False), ("16+0", True), ("23+6", True)])
def test_nice_counts_losses_from_16_0(at: str, expected: bool) -> None:
    assert h.is_loss(prior(MISC, at, None), ga("16+0"), ga("23+6")) is expected


@pytest.mark.parametrize(
    ("onset", "expected"),
    [(PAINLESS, True), (SPONT, False), (INDICATED, False), (UNKNOWN, None), (None, None)],
)
def test_painless_mid_trimester_loss_needs_painless_dilation(
    onset: Onset | None, expected: bool | None
) -> None:
    assert h.is_painless_mid_trimester_loss(prior(MISC, "20+0", onset)) is expected


def test_a_painless_loss_outside_the_window_is_not_a_painless_mid_trimester_loss() -> None:
    assert h.is_painless_mid_trimester_loss(prior(MISC, "12+0", PAINLESS)) is False


@pytest.mark.parametrize(
    ("outcome", "at", "onset", "before", "expected"),
    [
        (LIVE, "33+6", PPROM, ga("34+0"), True),
        (LIVE, "34+0", PPROM, ga("34+0"), False),
        (LIVE, "39+0", PPROM, None, True),
        (LIVE, "30+0", SPONT, None, False),
        (LIVE, "30+0", UNKNOWN, None, None),
        (LIVE, "30+0", None, None, None),
        (TOP, "12+0", None, None, False),
        (ECTOPIC, "8+0", UNKNOWN, None, False),
    ],
)
def test_prior_pprom(
    outcome: PriorOutcome,
    at: str,
    onset: Onset | None,
    before: int | None,
    expected: bool | None,
) -> None:
    assert h.is_pprom_before(prior(outcome, at, onset), before) is expected


@pytest.mark.parametrize(
    ("cerclage", "at", "expected"),
    [
        (CerclageIndication.HISTORY, "27+6", True),
        (CerclageIndication.ULTRASOUND, "27+6", True),
        (CerclageIndication.EXAM, "27+6", True),
        (CerclageIndication.HISTORY, "28+0", False),
        (CerclageIndication.ABDOMINAL, "20+0", False),
        (None, "20+0", False),
        (CerclageIndication.HISTORY, None, None),
    ],
)
def test_failed_transvaginal_cerclage_is_one_that_still_ended_before_28_0(
    cerclage: CerclageIndication | None, at: str | None, expected: bool | None
) -> None:
    p = prior(LIVE, at, SPONT, cerclage)
    assert h.is_failed_transvaginal_cerclage(p) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], False),
        ([False, False], False),
        ([False, None], None),
        ([None, True], True),
        ([True], True),
    ],
)
def test_any_of_is_three_valued(values: list[bool | None], expected: bool | None) -> None:
    assert h.any_of(values) is expected


@pytest.mark.parametrize(
    ("values", "expected"), [([], 0), ([True, False, True], 2), ([True, None], None)]
)
def test_count_of_is_unknown_when_an_unknown_could_change_it(
    values: list[bool | None], expected: int | None
) -> None:
    assert h.count_of(values) == expected

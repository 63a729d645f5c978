"""The one-line descriptions a clinician reads on screens and letters (clinical/summary.py):
each word checked, since a wrong label ("term" for a preterm birth) misleads as much as a wrong
rule."""

from __future__ import annotations

import datetime as dt

import pytest

from cervixwatch.clinical.records import (
    CerclageIndication,
    CervicalExcision,
    CervicalLengthMeasurement,
    ExcisionKind,
    LengthMethod,
    MaternalCondition,
    Onset,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
)
from cervixwatch.clinical.summary import describe_history, describe_length, describe_prior

AS_OF = dt.date(2026, 2, 2)


def prior(
    outcome: PriorOutcome | None = PriorOutcome.LIVE_BIRTH,
    days: int | None = 210,
    onset: Onset | None = Onset.SPONTANEOUS_LABOUR,
    *,
    ended: PartialDate | None = None,
    cerclage: CerclageIndication | None = None,
    fetuses: int | None = None,
) -> PriorPregnancy:
    return PriorPregnancy(ended, outcome, days, onset, cerclage, fetuses)


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (prior(), "sPTB 30+0 (spontaneous labour)"),
        (prior(onset=Onset.PPROM), "sPTB 30+0 (PPROM)"),
        (prior(onset=Onset.PAINLESS_CERVICAL_DILATION), "sPTB 30+0 (painless dilation)"),
        (prior(onset=Onset.MEDICALLY_INDICATED), "live birth 30+0 (medically indicated)"),
        (prior(onset=Onset.UNKNOWN), "live birth 30+0 (onset unknown)"),
        (prior(days=280, onset=None), "live birth 40+0"),
        (prior(PriorOutcome.MISCARRIAGE, 140, None), "mid-trimester loss 20+0"),
        (prior(PriorOutcome.MISCARRIAGE, 70, None), "miscarriage 10+0"),
        (prior(PriorOutcome.ECTOPIC, None, None), "ectopic"),
        (prior(PriorOutcome.TERMINATION, 63, None), "termination 9+0"),
        (prior(None, None, None), "outcome unknown"),
        (
            prior(ended=PartialDate(2022, 5, 1), cerclage=CerclageIndication.HISTORY, fetuses=2),
            "sPTB 30+0 (2022, spontaneous labour, history-indicated cerclage, 2 fetuses)",
        ),
        (prior(fetuses=1, ended=PartialDate(2021)), "sPTB 30+0 (2021, spontaneous labour)"),
    ],
)
def test_describe_prior(p: PriorPregnancy, text: str) -> None:
    assert describe_prior(p) == text


def test_describe_history_orders_and_counts_and_leaves_out_what_ended_later() -> None:
    records = PregnancyRecords(
        patient_id="p",
        prior_pregnancies=(
            prior(ended=PartialDate(2023)),
            prior(PriorOutcome.MISCARRIAGE, 140, None, ended=PartialDate(2020, 3)),
            prior(PriorOutcome.LIVE_BIRTH, 280, None, ended=PartialDate(2027)),  # after as_of
        ),
        excisions=(
            CervicalExcision(ExcisionKind.LLETZ, 12.5),
            CervicalExcision(ExcisionKind.CONE_BIOPSY),
            CervicalExcision(ExcisionKind.TRACHELECTOMY),
        ),
        maternal_conditions=frozenset(
            {MaternalCondition.UTERINE_ANOMALY, MaternalCondition.CAESAREAN_AT_FULL_DILATATION}
        ),
    )
    assert describe_history(records, AS_OF) == (
        "2 previous pregnancies: mid-trimester loss 20+0 (2020); "
        "sPTB 30+0 (2023, spontaneous labour); LLETZ 12.5 mm deep; cone biopsy; trachelectomy; "
        "caesarean at full dilatation; uterine anomaly"
    )


def test_describe_history_one_pregnancy_and_undated_first() -> None:
    records = PregnancyRecords(
        patient_id="p",
        prior_pregnancies=(prior(ended=PartialDate(2023)), prior(PriorOutcome.ECTOPIC, None, None)),
    )
    assert describe_history(records, AS_OF) == (
        "2 previous pregnancies: ectopic; sPTB 30+0 (2023, spontaneous labour)"
    )
    one = PregnancyRecords(patient_id="p", prior_pregnancies=(prior(),))
    assert describe_history(one, AS_OF) == "1 previous pregnancy: sPTB 30+0 (spontaneous labour)"


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        (MaternalCondition.INTRAUTERINE_ADHESIONS, "intrauterine adhesions"),
        (MaternalCondition.CERVICAL_INSUFFICIENCY, "diagnosed cervical insufficiency"),
    ],
)
def test_describe_history_conditions_alone(condition: MaternalCondition, words: str) -> None:
    records = PregnancyRecords(patient_id="p", maternal_conditions=frozenset({condition}))
    assert describe_history(records, AS_OF) == words


def test_describe_history_with_nothing_recorded() -> None:
    records = PregnancyRecords(patient_id="p")
    assert describe_history(records, AS_OF) == "no previous pregnancy or cervical history recorded"


def test_describe_length() -> None:
    m = CervicalLengthMeasurement(dt.date(2026, 2, 2), 22.5, LengthMethod.TRANSABDOMINAL)
    assert describe_length(m, dt.date(2026, 7, 4)) == "2026-02-02 (18+2) 22.5 mm transabdominal"
    assert describe_length(m, None) == "2026-02-02 22.5 mm transabdominal"

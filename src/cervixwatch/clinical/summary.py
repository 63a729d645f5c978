"""Plain one-line descriptions of a woman's records, for clinicians' screens and letters."""

from __future__ import annotations

import datetime as dt

from cervixwatch.clinical import history as h
from cervixwatch.clinical.gestation import GestationalAge, gestational_age_on
from cervixwatch.clinical.records import (
    CervicalLengthMeasurement,
    ExcisionKind,
    MaternalCondition,
    PregnancyRecords,
    PriorPregnancy,
)

_ONSET_WORDS = {
    "spontaneous-labour": "spontaneous labour",
    "pprom": "PPROM",
    "painless-cervical-dilation": "painless dilation",
    "medically-indicated": "medically indicated",
    "unknown": "onset unknown",
}


def describe_prior(p: PriorPregnancy) -> str:
    """ "sPTB 30+0 (2022, spontaneous labour)" and the like."""
    if h.is_spontaneous_preterm_birth(p) is True:
        label = "sPTB"
    elif h.is_mid_trimester_loss(p) is True:
        label = "mid-trimester loss"
    elif p.outcome is None:
        label = "outcome unknown"
    else:
        label = p.outcome.value.replace("-", " ")
    parts = []
    if p.ended is not None:
        parts.append(str(p.ended)[:4])
    if p.onset is not None:
        parts.append(_ONSET_WORDS[p.onset.value])
    if p.cerclage is not None:
        parts.append(f"{p.cerclage.value} cerclage")
    if p.fetuses and p.fetuses > 1:
        parts.append(f"{p.fetuses} fetuses")
    at = f" {GestationalAge(p.gestation_days)}" if p.gestation_days is not None else ""
    return f"{label}{at}" + (f" ({', '.join(parts)})" if parts else "")


def describe_history(records: PregnancyRecords, as_of: dt.date) -> str:
    """The obstetric and cervical history in one line."""
    priors = sorted(
        (p for p in records.prior_pregnancies if p.ended is None or p.ended.earliest() <= as_of),
        key=lambda p: p.ended.earliest() if p.ended else dt.date.min,
    )
    items = [describe_prior(p) for p in priors]
    for e in records.excisions:
        depth = f" {e.depth_mm:g} mm deep" if e.depth_mm is not None else ""
        name = {ExcisionKind.LLETZ: "LLETZ", ExcisionKind.CONE_BIOPSY: "cone biopsy"}.get(
            e.kind, "trachelectomy"
        )
        items.append(name + depth)
    words = {
        MaternalCondition.UTERINE_ANOMALY: "uterine anomaly",
        MaternalCondition.INTRAUTERINE_ADHESIONS: "intrauterine adhesions",
        MaternalCondition.CERVICAL_INSUFFICIENCY: "diagnosed cervical insufficiency",
        MaternalCondition.CAESAREAN_AT_FULL_DILATATION: "caesarean at full dilatation",
    }
    items += [words[m] for m in sorted(records.maternal_conditions)]
    if not items:
        return "no previous pregnancy or cervical history recorded"
    count = len(priors)
    lead = f"{count} previous pregnanc{'y' if count == 1 else 'ies'}: " if count else ""
    return lead + "; ".join(items)


def describe_length(m: CervicalLengthMeasurement, edd: dt.date | None) -> str:
    at = f" ({gestational_age_on(edd, m.measured_on)})" if edd is not None else ""
    return f"{m.measured_on.isoformat()}{at} {m.length_mm:g} mm {m.method.value}"

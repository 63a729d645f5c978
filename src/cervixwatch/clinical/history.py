"""Classifying previous pregnancies: spontaneous preterm birth, mid-trimester loss, failed cerclage.

Definitions are those of fhir-mapping.md ("Previous pregnancies") and profiles.md
("Definitions used below"). Each classifier answers True, False or None (cannot tell from what
was recorded), so that an unknown onset or gestation is never read as reassuring.
"""

from __future__ import annotations

from collections.abc import Iterable

from cervixwatch.clinical.gestation import ga
from cervixwatch.clinical.records import CerclageIndication, Onset, PriorOutcome, PriorPregnancy

#: Gestational-age bounds in days, parsed once.
GA_14_0 = ga("14+0")
GA_23_6 = ga("23+6")
GA_28_0 = ga("28+0")
GA_37_0 = ga("37+0")

TERM = GA_37_0
#: Onsets that make a preterm birth spontaneous (fhir-mapping.md: sPTB definition).
SPONTANEOUS_ONSETS = frozenset(
    {Onset.SPONTANEOUS_LABOUR, Onset.PPROM, Onset.PAINLESS_CERVICAL_DILATION}
)
BIRTHS = frozenset({PriorOutcome.LIVE_BIRTH, PriorOutcome.STILLBIRTH})
#: A loss is a miscarriage or a birth not surviving; survival is not recorded, so a stillbirth
#: stands for "not surviving" and a live birth in the window counts as a birth (sPTB), not a loss.
LOSSES = frozenset({PriorOutcome.MISCARRIAGE, PriorOutcome.STILLBIRTH})
TRANSVAGINAL_CERCLAGES = frozenset(
    {CerclageIndication.HISTORY, CerclageIndication.ULTRASOUND, CerclageIndication.EXAM}
)
#: An onset not recorded, or recorded as unknown: it cannot say how a pregnancy ended.
UNKNOWN_ONSETS = frozenset({None, Onset.UNKNOWN})
#: Outcomes that may have started with PPROM (a termination or an ectopic cannot).
MAY_START_WITH_PPROM = BIRTHS | LOSSES
# Enum members the classifiers compare with, bound once: on Python 3.11 `Onset.PPROM` goes
# through EnumType's attribute hook (~180 ns a read, measured), a module name ~10 ns, and every
# previous pregnancy is classified a dozen times per assessment.
_PPROM = Onset.PPROM
_PAINLESS_DILATION = Onset.PAINLESS_CERVICAL_DILATION


def _in_range(days: int | None, low: int | None, high: int | None) -> bool | None:
    if days is None:
        return None
    return (low is None or days >= low) and (high is None or days <= high)


def is_spontaneous_preterm_birth(
    p: PriorPregnancy, *, min_days: int | None = None, max_days: int | None = None
) -> bool | None:
    """A live birth or stillbirth before 37+0 whose onset was spontaneous labour, PPROM or
    painless dilation; optionally restricted to an inclusive gestation range in days."""
    if p.outcome is None:
        return None
    if p.outcome not in BIRTHS:
        return False
    upper = TERM - 1 if max_days is None else min(max_days, TERM - 1)
    in_window = _in_range(p.gestation_days, min_days, upper)
    if in_window is False:
        return False
    if p.onset in UNKNOWN_ONSETS:
        return None
    if p.onset not in SPONTANEOUS_ONSETS:
        return False
    return in_window


def is_loss(p: PriorPregnancy, min_days: int, max_days: int) -> bool | None:
    """A miscarriage or stillbirth that ended in the inclusive gestation range."""
    if p.outcome is None:
        return None
    if p.outcome not in LOSSES:
        return False
    return _in_range(p.gestation_days, min_days, max_days)


def is_mid_trimester_loss(p: PriorPregnancy) -> bool | None:
    """Mid-trimester loss as profiles.md defines it: 14+0 to 23+6."""
    return is_loss(p, GA_14_0, GA_23_6)


def is_painless_mid_trimester_loss(p: PriorPregnancy) -> bool | None:
    """ACOG142-03: a second-trimester loss whose onset was painless cervical dilation."""
    loss = is_mid_trimester_loss(p)
    if loss is not True:
        return loss
    if p.onset in UNKNOWN_ONSETS:
        return None
    return p.onset is _PAINLESS_DILATION


def is_pprom_before(p: PriorPregnancy, before_days: int | None) -> bool | None:
    """A previous pregnancy whose onset was PPROM, ending before the given gestation (None:
    at any gestation)."""
    if p.onset is _PPROM:
        if before_days is None:
            return True
        return _in_range(p.gestation_days, None, before_days - 1)
    if p.onset in UNKNOWN_ONSETS:
        return None if p.outcome in MAY_START_WITH_PPROM or p.outcome is None else False
    return False


def is_failed_transvaginal_cerclage(p: PriorPregnancy) -> bool | None:
    """A transvaginal cerclage in that pregnancy, which still ended before 28+0 (profiles.md,
    consider-abdominal-cerclage; FIGO-C5 defines failure as delivery before 28 weeks)."""
    if p.cerclage not in TRANSVAGINAL_CERCLAGES:
        return False
    return _in_range(p.gestation_days, None, GA_28_0 - 1)


def any_of(values: Iterable[bool | None]) -> bool | None:
    """Three-valued OR: True if any is True, else None if any is unknown, else False."""
    unknown = False
    for value in values:
        if value is True:
            return True
        if value is None:
            unknown = True
    return None if unknown else False


def count_of(values: Iterable[bool | None]) -> int | None:
    """How many are True; None when an unknown could change the count."""
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total

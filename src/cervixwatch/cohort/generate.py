"""The demo clinic's cohort: seeded women, each with her history and this pregnancy's care.

Woman number `i` is drawn from her own generator, seeded by (seed, i): the same seed and
reference date always give the same cohort, and a smaller cohort is the start of a larger one.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence

from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import (
    CervicalExcision,
    ExcisionKind,
    MaternalCondition,
    PartialDate,
)
from cervixwatch.cohort import history, people
from cervixwatch.cohort import parameters as p
from cervixwatch.cohort.draws import clip, days, pick_weighted
from cervixwatch.cohort.model import CohortPatient, Outcome, Referral
from cervixwatch.cohort.pregnancy import PregnancyCare, Woman
from cervixwatch.knowledge import bundled_profiles

DEFAULT_SEED = 2026


def _profiles(profiles: Sequence[GuidelineProfile] | None) -> Sequence[GuidelineProfile]:
    return list(bundled_profiles().values()) if profiles is None else profiles


def _excisions(rng: random.Random, start: dt.date) -> tuple[CervicalExcision, ...]:
    def performed() -> PartialDate:
        day = start - days(rng.randint(300, 4000))
        return PartialDate(day.year, day.month, day.day)

    if rng.random() < p.CONE_BIOPSY:
        return (CervicalExcision(ExcisionKind.CONE_BIOPSY, None, performed(), "excision-0"),)
    out = []
    for i in range(2 if rng.random() < p.SECOND_LLETZ else 1):
        depth: float | None = round(
            clip(rng.gauss(p.LLETZ_DEPTH_MEAN_MM, p.LLETZ_DEPTH_SD_MM), *p.LLETZ_DEPTH_RANGE_MM)
        )
        if rng.random() < p.LLETZ_DEPTH_UNRECORDED:
            depth = None
        out.append(CervicalExcision(ExcisionKind.LLETZ, depth, performed(), f"excision-{i}"))
    return tuple(out)


def woman_rng(seed: int, index: int) -> random.Random:
    """Her own generator: seeded by text, which Python hashes the same way on every run."""
    return random.Random(f"cervixwatch-cohort:{seed}:{index}")


def cohort_patient(
    index: int,
    seed: int,
    reference: dt.date,
    *,
    active: bool = True,
    profiles: Sequence[GuidelineProfile] | None = None,
) -> CohortPatient:
    """Woman number `index`: active on `reference`, or (active=False) a past patient whose
    pregnancy ended before it."""
    rng = woman_rng(seed, index)
    chosen = _profiles(profiles)
    referral = pick_weighted(rng, p.REFERRAL_MIX)
    twins = referral is Referral.TWINS
    given, family = people.draw_name(rng)
    pid = people.patient_id(index)
    past = history.draw_history(rng, referral)
    outcome: Outcome | None = None
    if active:
        end = reference
        start = end - days(rng.randint(*p.ACTIVE_GA_DAYS))
    else:
        # Her history gives this pregnancy's chance of ending in a spontaneous preterm birth.
        end = reference - days(rng.randint(*p.PAST_DELIVERY_DAYS_AGO))
        birth = history.draw_birth(rng, past.last_birth, twins)
        start = end - days(birth.gestation_days)
        outcome = Outcome(end, birth.gestation_days, birth.onset, birth.spontaneous_preterm)
    priors = history.date_history(rng, past, start)
    edd = start + days(280)

    excisions = _excisions(rng, start) if referral is Referral.CERVICAL_EXCISION else ()
    maternal = (
        frozenset({MaternalCondition.UTERINE_ANOMALY})
        if referral is Referral.UTERINE_ANOMALY
        else frozenset()
    )
    woman = Woman(
        patient_id=pid,
        edd=None if rng.random() < p.EDD_UNRECORDED else edd,
        fetuses=None if rng.random() < p.FETUS_COUNT_UNRECORDED else (2 if twins else 1),
        twins=twins,
        birth_date=people.draw_birth_date(rng, start),
        priors=priors,
        excisions=excisions,
        maternal=maternal,
        high_risk_history=past.any_sptb or referral is Referral.PRIOR_MID_TRIMESTER_LOSS,
        prior_sptb=past.any_sptb,
    )
    care = PregnancyCare(
        rng,
        woman,
        end,
        chosen,
        booking_ga_days=rng.randint(*p.BOOKING_GA_DAYS),
        delivered=not active,
    )
    records = care.run()
    return CohortPatient(
        index=index,
        hospital_number=people.hospital_number(index),
        given_name=given,
        family_name=family,
        referral=referral,
        records=records,
        as_of=end,
        outcome=outcome,
    )


def iter_cohort(
    patients: int,
    seed: int = DEFAULT_SEED,
    reference: dt.date | None = None,
    *,
    active: int | None = None,
    profiles: Sequence[GuidelineProfile] | None = None,
    first: int = 0,
) -> Iterator[CohortPatient]:
    """Women number `first` to `patients - 1`; the first `active` of them (default all) have an
    active pregnancy on `reference` (default today), the rest are past patients."""
    day = reference or dt.date.today()  # noqa: DTZ011 - the clinic's local calendar day
    chosen = _profiles(profiles)
    active_count = patients if active is None else active
    for index in range(first, patients):
        yield cohort_patient(index, seed, day, active=index < active_count, profiles=chosen)


def generate_cohort(
    patients: int,
    seed: int = DEFAULT_SEED,
    reference: dt.date | None = None,
    *,
    active: int | None = None,
    profiles: Sequence[GuidelineProfile] | None = None,
) -> list[CohortPatient]:
    """The cohort as a list (see `iter_cohort`)."""
    return list(iter_cohort(patients, seed, reference, active=active, profiles=profiles))

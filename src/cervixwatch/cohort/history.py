"""A woman's obstetric history: previous births as a chain in which each birth's chance of being
a spontaneous preterm birth (sPTB) depends on the birth before it (Kazemier 2014), with early
losses, terminations and (for women referred for one) a mid-trimester loss between them.

A referral that implies a history (a previous sPTB; none for the routine screen) is met by
drawing whole histories until one fits. The chance of sPTB after a preterm birth is unchanged
by that conditioning: "at least one sPTB" is already true once a preterm birth has happened.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from cervixwatch.clinical.records import Onset, PartialDate, PriorOutcome, PriorPregnancy
from cervixwatch.cohort import parameters as p
from cervixwatch.cohort.draws import days, pick, pick_weighted
from cervixwatch.cohort.model import Referral

#: How many whole histories to draw before giving up on matching the referral (then the last
#: birth is made to fit); with P(sPTB) of at least 5% per birth this is never reached in
#: practice.
_MAX_TRIES = 500


@dataclass(frozen=True, slots=True)
class Birth:
    """A birth in the chain: its gestation (days), onset, plurality and whether it was sPTB."""

    gestation_days: int
    onset: Onset
    twins: bool
    spontaneous_preterm: bool


def sptb_risk(previous: Birth | None, twins: bool) -> float:
    """The chance that a birth is a spontaneous preterm birth, given the birth before it.

    Kazemier 2014 where its table has the pair; otherwise the stand-ins in `parameters`
    (nuMoM2b for a first singleton, the P5 twins rate, a demo figure after a term singleton)."""
    current = "twins" if twins else "singleton"
    if previous is None:
        return p.TWIN_SPTB_RISK if twins else p.FIRST_SINGLETON_SPTB_RISK
    term = "preterm" if previous.spontaneous_preterm else "term"
    plural = "twins" if previous.twins else "singleton"
    known = p.KAZEMIER_SPTB_RISK.get((current, f"{term} {plural}"))
    if known is not None:
        return known
    if twins:
        return p.TWIN_SPTB_RISK
    return p.SINGLETON_AFTER_TERM_SINGLETON_SPTB_RISK


def draw_birth(rng: random.Random, previous: Birth | None, twins: bool) -> Birth:
    """One birth following `previous` (None for her first)."""
    if rng.random() < sptb_risk(previous, twins):
        return Birth(ga_days_sptb(rng), pick_weighted(rng, p.SPTB_ONSETS), twins, True)
    return Birth(
        rng.randint(*p.TERM_GESTATION_DAYS), pick_weighted(rng, p.TERM_ONSETS), twins, False
    )


def draw_births(rng: random.Random, count: int) -> list[Birth]:
    """`count` births, oldest first, each drawn given the one before."""
    births: list[Birth] = []
    for _ in range(count):
        twins = rng.random() < p.PREVIOUS_TWIN_BIRTH
        births.append(draw_birth(rng, births[-1] if births else None, twins))
    return births


def _fits(referral: Referral, births: list[Birth]) -> bool:
    any_sptb = any(b.spontaneous_preterm for b in births)
    if referral is Referral.PRIOR_SPTB:
        return any_sptb
    if referral is Referral.ROUTINE:
        return not any_sptb
    return True


def births_for(rng: random.Random, referral: Referral) -> list[Birth]:
    """Previous births of a woman with this referral (a history that fits it)."""
    count = pick(rng, [0, 1, 2, 3], p.PREVIOUS_BIRTHS_WEIGHTS[referral])
    births: list[Birth] = []
    for _ in range(_MAX_TRIES):
        births = draw_births(rng, count)
        if _fits(referral, births):
            return births
    last = births[-1]
    return [*births[:-1], Birth(ga_days_sptb(rng), Onset.SPONTANEOUS_LABOUR, last.twins, True)]


def ga_days_sptb(rng: random.Random) -> int:
    """The gestation (days) of a spontaneous preterm birth."""
    bands = p.SPTB_GESTATION_BANDS
    low, high = pick(rng, [band for band, _ in bands], [w for _, w in bands])
    return rng.randint(low, high)


@dataclass(frozen=True, slots=True)
class _Event:
    outcome: PriorOutcome
    gestation_days: int
    onset: Onset | None
    fetuses: int | None


def _ended(rng: random.Random, day: dt.date) -> PartialDate:
    if rng.random() < p.YEAR_ONLY_HISTORY_DATE:
        return PartialDate(day.year)
    return PartialDate(day.year, day.month, day.day)


@dataclass(frozen=True, slots=True)
class History:
    """A woman's previous pregnancies, not yet dated: births and losses, oldest first."""

    events: tuple[_Event, ...]
    births: tuple[Birth, ...]

    @property
    def last_birth(self) -> Birth | None:
        return self.births[-1] if self.births else None

    @property
    def any_sptb(self) -> bool:
        return any(b.spontaneous_preterm for b in self.births)


def draw_history(rng: random.Random, referral: Referral) -> History:
    """Her previous pregnancies, oldest first: births fitting her referral, a mid-trimester
    loss if she was referred for one, early losses and terminations between them."""
    births = births_for(rng, referral)
    events = [
        _Event(PriorOutcome.LIVE_BIRTH, b.gestation_days, b.onset, 2 if b.twins else 1)
        for b in births
    ]
    if referral is Referral.PRIOR_MID_TRIMESTER_LOSS:
        loss = _Event(
            PriorOutcome.MISCARRIAGE,
            rng.randint(*p.MID_TRIMESTER_LOSS_DAYS),
            pick_weighted(rng, p.MID_TRIMESTER_LOSS_ONSETS),
            1,
        )
        events.insert(rng.randint(0, len(events)), loss)
    with_losses: list[_Event] = []
    for event in events:
        if rng.random() < p.EARLY_MISCARRIAGE:
            # Recorded as a spontaneous loss: without an onset the clinical core cannot rule
            # out PPROM in that pregnancy and would list it as missing.
            early = rng.randint(*p.EARLY_MISCARRIAGE_DAYS)
            with_losses.append(
                _Event(PriorOutcome.MISCARRIAGE, early, Onset.SPONTANEOUS_LABOUR, None)
            )
        if rng.random() < p.TERMINATION:
            with_losses.append(
                _Event(PriorOutcome.TERMINATION, rng.randint(*p.TERMINATION_DAYS), None, None)
            )
        with_losses.append(event)
    return History(tuple(with_losses), tuple(births))


def date_history(
    rng: random.Random, history: History, pregnancy_start: dt.date
) -> tuple[PriorPregnancy, ...]:
    """The history as records, dated back from this pregnancy's first day: each pregnancy
    ended some months before the next began."""
    dated: list[tuple[dt.date, _Event]] = []
    start = pregnancy_start
    for event in reversed(history.events):
        ended = start - days(rng.randint(*p.INTERPREGNANCY_DAYS))
        dated.append((ended, event))
        start = ended - days(event.gestation_days)
    return tuple(
        PriorPregnancy(
            ended=_ended(rng, ended),
            outcome=event.outcome,
            gestation_days=event.gestation_days,
            onset=event.onset,
            fetuses=event.fetuses,
            source_id=f"prior-{i}",
        )
        for i, (ended, event) in enumerate(reversed(dated))
    )

"""Obstetric-history counts (IPS "preterm births: 1") as previous pregnancies known only from the
count, and back: issue 10, item 8.

A summary may say how many preterm births or miscarriages a woman has had without one
`CW#prior-pregnancy` Observation per pregnancy. Ignoring the count would read her history as
empty, so she would silently get no recommendation; instead each pregnancy the detail does not
account for becomes a `PriorPregnancy` with only what the count tells and `counted_as` naming
it, so the assessment can ask for its details. Choices (docs/clinical-interpretations.md,
"Issue 10: FHIR inputs"):

- LOINC 11637-6 preterm births: `counted_as="preterm birth"`, outcome None (live birth or
  stillbirth is not said), gestation and onset None (spontaneous or indicated is not said).
- LOINC 11614-5 spontaneous abortions: `counted_as="miscarriage"`, outcome miscarriage,
  gestation None (it may have been a mid-trimester loss).
- LOINC 11612-9 abortions (all), read only without 11614-5: less the induced ones (11613-7)
  when given, the rest are miscarriages; without 11613-7 they are
  `counted_as="miscarriage or termination"` with outcome None.
- LOINC 11640-0 births total, read only without 11637-6: less the term births (11639-2) when
  given, the rest are preterm births; without 11639-2 they are `counted_as="birth"` with
  outcome None (term or preterm is not said).
- Term births (11639-2) and induced abortions (11613-7) carry no preterm-birth risk in the
  profiles and add no records; they only narrow the totals above. Live births (11636-8) and
  stillbirths (57062-2) overlap the term and preterm counts (and live births count children,
  not births) and ectopic pregnancies (33065-4), gravida and parity add nothing the counts
  above do not: none of them is read.
- A count is matched first against the detailed pregnancies: with k detailed preterm births
  (a live birth or stillbirth with a known gestation before 37+0) and "preterm births: N",
  max(0, N - k) are added. A detailed birth whose gestation is not recorded does not account
  for a preterm count (it may have been at term): both then ask for details.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from cervixwatch.clinical.records import PriorOutcome, PriorPregnancy
from cervixwatch.knowledge import codes as c

#: Term is 37+0 (259 days); a birth ending before it is preterm.
TERM_DAYS: Final = 259

PRETERM_BIRTH: Final = "preterm birth"
MISCARRIAGE: Final = "miscarriage"
MISCARRIAGE_OR_TERMINATION: Final = "miscarriage or termination"
BIRTH: Final = "birth"
#: The words `counted_as` can hold, each with the count a writer gives it back as.
COUNTED_AS: Final = {
    PRETERM_BIRTH: c.PRETERM_BIRTHS_COUNT,
    MISCARRIAGE: c.SPONTANEOUS_ABORTIONS_COUNT,
    MISCARRIAGE_OR_TERMINATION: c.ABORTIONS_COUNT,
    BIRTH: c.BIRTHS_TOTAL_COUNT,
}
_BIRTHS = frozenset({PriorOutcome.LIVE_BIRTH, PriorOutcome.STILLBIRTH})


@dataclass(frozen=True, slots=True)
class Count:
    """One count as read: how many, and the id of the Observation that said so."""

    number: int
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Detail:
    """How many detailed previous pregnancies there are of each kind a count can cover."""

    preterm_births: int
    term_births: int
    births_of_unknown_gestation: int
    miscarriages: int
    terminations: int

    @classmethod
    def of(cls, priors: Iterable[PriorPregnancy]) -> _Detail:
        detailed = [p for p in priors if p.counted_as is None]
        births = [p for p in detailed if p.outcome in _BIRTHS]
        return cls(
            preterm_births=sum(
                1 for p in births if p.gestation_days is not None and p.gestation_days < TERM_DAYS
            ),
            term_births=sum(
                1 for p in births if p.gestation_days is not None and p.gestation_days >= TERM_DAYS
            ),
            births_of_unknown_gestation=sum(1 for p in births if p.gestation_days is None),
            miscarriages=sum(1 for p in detailed if p.outcome is PriorOutcome.MISCARRIAGE),
            terminations=sum(1 for p in detailed if p.outcome is PriorOutcome.TERMINATION),
        )


def counted_pregnancies(
    counts: Mapping[c.Code, Count], detailed: Sequence[PriorPregnancy]
) -> list[PriorPregnancy]:
    """The previous pregnancies `counts` tell of that `detailed` does not account for."""
    if not counts:
        return []
    have = _Detail.of(detailed)
    out: list[PriorPregnancy] = []

    def add(n: int, words: str, outcome: PriorOutcome | None, source: Count) -> None:
        out.extend(
            PriorPregnancy(None, outcome, None, None, source_id=source.source_id, counted_as=words)
            for _ in range(max(0, n))
        )

    preterm = counts.get(c.PRETERM_BIRTHS_COUNT)
    births = counts.get(c.BIRTHS_TOTAL_COUNT)
    term = counts.get(c.TERM_BIRTHS_COUNT)
    if preterm is not None:
        add(preterm.number - have.preterm_births, PRETERM_BIRTH, None, preterm)
    elif births is not None and term is not None:
        add(births.number - term.number - have.preterm_births, PRETERM_BIRTH, None, births)
    elif births is not None:
        detailed_births = have.preterm_births + have.term_births + have.births_of_unknown_gestation
        add(births.number - detailed_births, BIRTH, None, births)

    spontaneous = counts.get(c.SPONTANEOUS_ABORTIONS_COUNT)
    abortions = counts.get(c.ABORTIONS_COUNT)
    induced = counts.get(c.INDUCED_ABORTIONS_COUNT)
    if spontaneous is not None:
        add(
            spontaneous.number - have.miscarriages,
            MISCARRIAGE,
            PriorOutcome.MISCARRIAGE,
            spontaneous,
        )
    elif abortions is not None and induced is not None:
        n = abortions.number - induced.number - have.miscarriages
        add(n, MISCARRIAGE, PriorOutcome.MISCARRIAGE, abortions)
    elif abortions is not None:
        n = abortions.number - have.miscarriages - have.terminations
        add(n, MISCARRIAGE_OR_TERMINATION, None, abortions)
    return out


def counts_of(priors: Sequence[PriorPregnancy]) -> dict[c.Code, Count]:
    """The counts that `counted_pregnancies` reads back as the counted pregnancies of `priors`
    (the inverse, for the writer): each count covers the detailed pregnancies of its kind too.

    A `counted_as` the reader never gives raises ValueError: it has no count to be written as.
    """
    have = _Detail.of(priors)
    covered = {
        PRETERM_BIRTH: have.preterm_births,
        MISCARRIAGE: have.miscarriages,
        MISCARRIAGE_OR_TERMINATION: have.miscarriages + have.terminations,
        BIRTH: have.preterm_births + have.term_births + have.births_of_unknown_gestation,
    }
    counted: dict[str, list[PriorPregnancy]] = {}
    for p in priors:
        if p.counted_as is not None:
            if p.counted_as not in COUNTED_AS:
                raise ValueError(f"no obstetric-history count for {p.counted_as!r}")
            counted.setdefault(p.counted_as, []).append(p)
    return {
        COUNTED_AS[words]: Count(len(group) + covered[words], group[0].source_id)
        for words, group in counted.items()
    }

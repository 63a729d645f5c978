"""Risk: the preterm-birth risk tier and the published figures that apply to this woman.

No individual risk model has coefficients that could be verified (risk-evidence.md, "Bottom
line"): a "% risk" labelled Celik, To or QUiPP is not shipped. What is shown instead is each
published figure whose population matches her, labelled with its population and outcome, and
never combined with another (risk-evidence.md (a) 4).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from cervixwatch.clinical import history as h
from cervixwatch.clinical.facts import FactValue
from cervixwatch.clinical.gestation import ga, gestational_age_on
from cervixwatch.clinical.records import LengthMethod, PregnancyRecords

#: Gestational-age bounds in days, parsed once.
GA_14_0 = ga("14+0")
GA_20_0 = ga("20+0")
GA_24_0 = ga("24+0")
GA_24_6 = ga("24+6")
GA_37_0 = ga("37+0")

KAZEMIER_2014 = (
    "Kazemier BM et al. Impact of obstetric history on the risk of spontaneous preterm birth "
    "in singleton and multiple pregnancies: a systematic review. BJOG 2014;121:1197-208."
)
IAMS_1996 = (
    "Iams JD et al. The length of the cervix and the risk of spontaneous premature delivery. "
    "N Engl J Med 1996;334:567-572."
)
HASSAN_2000 = "Hassan SS et al. Am J Obstet Gynecol 2000;182:1458-67."
CONDE_AGUDELO_2010 = (
    "Conde-Agudelo A, Romero R, Hassan SS, Yeo L. Transvaginal sonographic cervical length for "
    "the prediction of spontaneous preterm birth in twin pregnancies. AJOG 2010;203(2):128.e1-12."
)

#: Kazemier 2014: absolute risk of sPTB by (current pregnancy, previous pregnancy).
KAZEMIER_RECURRENCE: Mapping[tuple[str, str], tuple[str, str]] = {
    ("singleton", "preterm singleton"): ("20%", "95% CI 19.9-20.6"),
    ("singleton", "preterm twins"): ("10%", "95% CI 8.2-12.3"),
    ("singleton", "term twins"): ("1.3%", "95% CI 0.8-2.2"),
    ("twins", "preterm singleton"): ("57.0%", "95% CI 51.9-61.9"),
    ("twins", "term singleton"): ("25%", "95% CI 24.3-26.5"),
}
#: Iams 1996, relative risk of spontaneous delivery <35 weeks for a length at or below each
#: cut-off at 24 weeks, against lengths above the 75th percentile. (cut-off mm, percentile, RR)
IAMS_24_WEEKS: tuple[tuple[float, str, float], ...] = (
    (13, "1st", 13.99),
    (22, "5th", 9.49),
    (26, "10th", 6.19),
    (30, "25th", 3.79),
    (35, "50th", 2.35),
    (40, "75th", 1.98),
)


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """A published figure that applies to this woman, with its population and source."""

    id: str
    figure: str
    statement: str
    population: str
    citation: str


#: What the tier is: a pathway from the history at booking, not a risk of this pregnancy now.
TIER_LABEL = "Saving Babies' Lives v3.1 history tier"


@dataclass(frozen=True, slots=True)
class RiskSummary:
    """The Saving Babies' Lives history tier, shown beside the current findings that raise the
    risk whatever the tier (a short cervix, twins, dilation), and the published figures."""

    tier: str | None  # Saving Babies' Lives pathway: high, intermediate, low; None if unknown
    tier_rule: str
    evidence: tuple[EvidenceItem, ...]
    tier_label: str = TIER_LABEL
    current_findings: tuple[str, ...] = ()


def current_findings(records: PregnancyRecords, facts: Mapping[str, FactValue]) -> tuple[str, ...]:
    """This pregnancy's findings that bear on preterm birth, in words, beside the history tier
    ("short cervix: shortest transvaginal length 20.1 mm", "twins", "dilation 3 cm")."""
    out = []
    shortest = facts["shortest_tv_length_mm"]
    if isinstance(shortest, float | int) and shortest <= 25:
        out.append(f"short cervix: shortest transvaginal length {_mm(records, shortest)}")
    if records.fetuses is not None and records.fetuses > 1:
        out.append("twins" if records.fetuses == 2 else f"{records.fetuses} fetuses")
    dilation = facts["dilation_cm"]
    if isinstance(dilation, float | int) and dilation >= 1:
        out.append(f"cervix dilated {dilation:g} cm on the latest exam")
    if facts["membranes_exposed"] is True:
        out.append("membranes exposed at the os")
    return tuple(out)


def _mm(records: PregnancyRecords, value: float) -> str:
    """The shortest length as recorded: "<10 mm" keeps its comparator."""
    for m in records.cervical_lengths:
        if (
            m.comparator is not None
            and m.comparator.value == "<"
            and value == math.nextafter(m.length_mm, 0.0)
        ):
            return f"<{m.length_mm:g} mm"
    return f"{value:g} mm"


def _tier(facts: Mapping[str, FactValue]) -> str | None:
    if facts["nice_high_risk"] is True:
        return "high"
    if facts["nice_high_risk"] is None or facts["nice_intermediate_risk"] is None:
        return None
    return "intermediate" if facts["nice_intermediate_risk"] else "low"


def _kazemier(
    records: PregnancyRecords, facts: Mapping[str, FactValue], as_of: dt.date
) -> list[EvidenceItem]:
    """Kazemier's figure for the most recent previous pregnancy (undated ones count as oldest)."""
    priors = [
        p for p in records.prior_pregnancies if p.ended is None or p.ended.earliest() <= as_of
    ]
    if not priors:
        return []
    latest = max(priors, key=lambda p: p.ended.earliest() if p.ended else dt.date.min)
    current = "singleton" if facts["singleton"] else "twins"
    if records.fetuses is not None and records.fetuses > 2:
        return []  # Kazemier's table covers singletons and twins only.
    previous_plural = "twins" if (latest.fetuses or 1) == 2 else "singleton"
    if (latest.fetuses or 1) > 2:
        return []
    sptb = h.is_spontaneous_preterm_birth(latest)
    term = (
        latest.outcome in h.BIRTHS
        and latest.gestation_days is not None
        and (latest.gestation_days >= GA_37_0)
    )
    if sptb is True:
        previous = f"preterm {previous_plural}"
    elif term:
        previous = f"term {previous_plural}"
    else:
        return []
    figure = KAZEMIER_RECURRENCE.get((current, previous))
    if figure is None:
        return []
    return [
        EvidenceItem(
            id="kazemier-2014-recurrence",
            figure=f"{figure[0]} ({figure[1]})",
            statement=(
                f"Absolute risk of spontaneous preterm birth in a {current} pregnancy after a "
                f"{previous} birth (previous pregnancy's fetus count taken as recorded, "
                "one when not recorded)."
            ),
            population="13 pooled cohort studies of women with a previous pregnancy",
            citation=KAZEMIER_2014,
        )
    ]


def _length_evidence(
    records: PregnancyRecords, singleton: bool, as_of: dt.date
) -> list[EvidenceItem]:
    if records.edd is None:
        return []
    edd = records.edd
    items: list[EvidenceItem] = []
    tv = [
        m
        for m in records.cervical_lengths
        if m.method is LengthMethod.TRANSVAGINAL and m.measured_on <= as_of
    ]
    at_24 = [
        m for m in tv if GA_24_0 <= gestational_age_on(edd, m.measured_on).total_days <= GA_24_6
    ]
    if singleton and at_24:
        shortest = min(m.length_mm for m in at_24)
        band = next(((mm, pct, rr) for mm, pct, rr in IAMS_24_WEEKS if shortest <= mm), None)
        if band is not None:
            mm, pct, rr = band
            items.append(
                EvidenceItem(
                    id="iams-1996-percentile",
                    figure=f"RR {rr:g}",
                    statement=(
                        f"A length of {shortest:g} mm at 24 weeks is at or below the {pct} "
                        f"percentile ({mm:g} mm): relative risk {rr:g} of spontaneous delivery "
                        "before 35 weeks, against women above the 75th percentile."
                    ),
                    population="2,915 singleton pregnancies, 10 US clinics, scanned at 24 weeks",
                    citation=IAMS_1996,
                )
            )
    in_14_24 = [
        m for m in tv if GA_14_0 <= gestational_age_on(edd, m.measured_on).total_days <= GA_24_6
    ]
    if singleton and in_14_24 and min(m.length_mm for m in in_14_24) <= 15:
        items.append(
            EvidenceItem(
                id="hassan-2000-15mm",
                figure="PPV 47.6%",
                statement=(
                    "A length of 15 mm or less at 14-24 weeks: 47.6% of such women delivered "
                    "spontaneously at or before 32 weeks (a high-prevalence population)."
                ),
                population="6,877 women scanned at 14-24 weeks, Detroit",
                citation=HASSAN_2000,
            )
        )
    in_20_24 = [
        m for m in tv if GA_20_0 <= gestational_age_on(edd, m.measured_on).total_days <= GA_24_6
    ]
    if not singleton and in_20_24:
        shortest = min(m.length_mm for m in in_20_24)
        if shortest <= 20:
            items.append(
                EvidenceItem(
                    id="conde-agudelo-2010-twins-20mm",
                    figure="LR+ 10.1",
                    statement=(
                        "Twins, length 20 mm or less at 20-24 weeks: positive likelihood ratio "
                        "10.1 for birth before 32 weeks (9.0 before 34 weeks)."
                    ),
                    population="21 studies, 3,523 asymptomatic women with twins",
                    citation=CONDE_AGUDELO_2010,
                )
            )
        elif shortest <= 25:
            items.append(
                EvidenceItem(
                    id="conde-agudelo-2010-twins-25mm",
                    figure="LR+ 9.6",
                    statement=(
                        "Twins, length 25 mm or less at 20-24 weeks: positive likelihood ratio "
                        "9.6 for birth before 28 weeks."
                    ),
                    population="21 studies, 3,523 asymptomatic women with twins",
                    citation=CONDE_AGUDELO_2010,
                )
            )
    return items


def summarise_risk(
    records: PregnancyRecords, facts: Mapping[str, FactValue], as_of: dt.date
) -> RiskSummary:
    """The tier and the published figures that apply on `as_of`."""
    evidence = _kazemier(records, facts, as_of) + _length_evidence(
        records, bool(facts["singleton"]), as_of
    )
    return RiskSummary(
        tier=_tier(facts),
        tier_rule="SBL-02, SBL-03",
        evidence=tuple(evidence),
        current_findings=current_findings(records, facts),
    )

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
from cervixwatch.clinical.frozen import quick_init
from cervixwatch.clinical.gestation import ga, ga_days_on
from cervixwatch.clinical.records import CervicalLengthMeasurement, LengthMethod, PregnancyRecords

#: Gestational-age bounds in days, parsed once.
GA_37_0 = ga("37+0")
#: Bound once: `LengthMethod.TRANSVAGINAL` costs ~180 ns a read on Python 3.11 (facts.py says why).
_TRANSVAGINAL = LengthMethod.TRANSVAGINAL


@dataclass(frozen=True, slots=True)
class RecurrenceFigure:
    """Kazemier 2014: absolute risk of sPTB, percent with its 95% CI, shown to `decimals`."""

    percent: float
    ci_low: float
    ci_high: float
    decimals: int | None = None

    def text(self) -> str:
        figure = f"{self.percent:.{self.decimals}f}" if self.decimals else f"{self.percent:g}"
        return f"{figure}% (95% CI {self.ci_low:g}-{self.ci_high:g})"


@dataclass(frozen=True, slots=True)
class LengthBand:
    """A published figure for a length at or below `cutoff_mm` (Iams RR, Conde-Agudelo LR+)."""

    cutoff_mm: float
    value: float
    label: str  # the percentile (Iams) or the outcome (Conde-Agudelo)
    also: str = ""


@dataclass(frozen=True, slots=True)
class Study:
    citation: str
    population: str
    window_days: tuple[int, int] = (0, 0)


@dataclass(frozen=True, slots=True)
class RiskEvidence:
    """The published figures, as numbers, from the knowledge files (knowledge/evidence/):
    `clinical/` reads no file, so the caller passes them in."""

    kazemier: Study
    kazemier_recurrence: Mapping[tuple[str, str], RecurrenceFigure]
    iams: Study
    iams_bands: tuple[LengthBand, ...]
    hassan: Study
    hassan_cutoff_mm: float
    hassan_ppv_percent: float
    hassan_before_weeks: int
    conde_agudelo: Study
    conde_agudelo_bands: tuple[LengthBand, ...]


@quick_init
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


@quick_init
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
    records: PregnancyRecords, facts: Mapping[str, FactValue], as_of: dt.date, ev: RiskEvidence
) -> list[EvidenceItem]:
    """Kazemier's figure for the most recent previous pregnancy (undated ones count as oldest)."""
    if not records.prior_pregnancies:
        return []
    if records.fetuses is not None and records.fetuses > 2:
        return []  # Kazemier's table covers singletons and twins only.
    ended = [(p.ended.earliest() if p.ended else dt.date.min, p) for p in records.prior_pregnancies]
    priors = [(day, p) for day, p in ended if day <= as_of]
    if not priors:
        return []
    latest = max(priors, key=lambda dp: dp[0])[1]
    current = "singleton" if facts["singleton"] else "twins"
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
    figure = ev.kazemier_recurrence.get((current, previous))
    if figure is None:
        return []
    return [
        EvidenceItem(
            id="kazemier-2014-recurrence",
            figure=figure.text(),
            statement=(
                f"Absolute risk of spontaneous preterm birth in a {current} pregnancy after a "
                f"{previous} birth (previous pregnancy's fetus count taken as recorded, "
                "one when not recorded)."
            ),
            population=ev.kazemier.population,
            citation=ev.kazemier.citation,
        )
    ]


def _measured(
    records: PregnancyRecords, edd: dt.date, as_of: dt.date
) -> list[tuple[int, CervicalLengthMeasurement]]:
    """Transvaginal lengths measured by `as_of` (with no comparator), each with its gestation in
    days: worked out once for the windows of all the figures."""
    return [
        (ga_days_on(edd, m.measured_on), m)
        for m in records.cervical_lengths
        if m.method is _TRANSVAGINAL and m.measured_on <= as_of and m.comparator is None
    ]


def _in_window(
    measured: list[tuple[int, CervicalLengthMeasurement]], window: tuple[int, int]
) -> list[CervicalLengthMeasurement]:
    """The lengths measured at gestations in the inclusive window."""
    low, high = window
    return [m for days, m in measured if low <= days <= high]


def _band(bands: tuple[LengthBand, ...], length_mm: float) -> LengthBand | None:
    """The band with the lowest cut-off at or above the length (bands are cumulative)."""
    fitting = [b for b in bands if length_mm <= b.cutoff_mm]
    return min(fitting, key=lambda b: b.cutoff_mm) if fitting else None


def _length_evidence(
    records: PregnancyRecords, singleton: bool, as_of: dt.date, ev: RiskEvidence
) -> list[EvidenceItem]:
    items: list[EvidenceItem] = []
    if records.edd is None or not records.cervical_lengths:
        return items
    measured = _measured(records, records.edd, as_of)
    at_24 = _in_window(measured, ev.iams.window_days) if singleton else []
    if at_24:
        shortest = min(m.length_mm for m in at_24)
        band = _band(ev.iams_bands, shortest)
        if band is not None:
            rr, pct, mm = band.value, band.label, band.cutoff_mm
            items.append(
                EvidenceItem(
                    id="iams-1996-percentile",
                    figure=f"RR {rr:g}",
                    statement=(
                        f"A length of {shortest:g} mm at 24 weeks is at or below the {pct} "
                        f"percentile ({mm:g} mm): relative risk {rr:g} of spontaneous delivery "
                        "before 35 weeks, against women above the 75th percentile."
                    ),
                    population=ev.iams.population,
                    citation=ev.iams.citation,
                )
            )
    early = _in_window(measured, ev.hassan.window_days) if singleton else []
    if early and min(m.length_mm for m in early) <= ev.hassan_cutoff_mm:
        cutoff, ppv, weeks = ev.hassan_cutoff_mm, ev.hassan_ppv_percent, ev.hassan_before_weeks
        items.append(
            EvidenceItem(
                id=f"hassan-2000-{cutoff:g}mm",
                figure=f"PPV {ppv:g}%",
                statement=(
                    f"A length of {cutoff:g} mm or less at 14-24 weeks: {ppv:g}% of such women "
                    f"delivered spontaneously at or before {weeks} weeks (a high-prevalence "
                    "population)."
                ),
                population=ev.hassan.population,
                citation=ev.hassan.citation,
            )
        )
    twins_window = _in_window(measured, ev.conde_agudelo.window_days) if not singleton else []
    if twins_window:
        shortest = min(m.length_mm for m in twins_window)
        band = _band(ev.conde_agudelo_bands, shortest)
        if band is not None:
            also = f" ({band.also})" if band.also else ""
            items.append(
                EvidenceItem(
                    id=f"conde-agudelo-2010-twins-{band.cutoff_mm:g}mm",
                    figure=f"LR+ {band.value:g}",
                    statement=(
                        f"Twins, length {band.cutoff_mm:g} mm or less at 20-24 weeks: positive "
                        f"likelihood ratio {band.value:g} for {band.label}{also}."
                    ),
                    population=ev.conde_agudelo.population,
                    citation=ev.conde_agudelo.citation,
                )
            )
    return items


def summarise_risk(
    records: PregnancyRecords,
    facts: Mapping[str, FactValue],
    as_of: dt.date,
    evidence_tables: RiskEvidence | None = None,
) -> RiskSummary:
    """The tier, the current findings and the published figures that apply on `as_of`
    (none without `evidence_tables`, which the caller loads from the knowledge files)."""
    evidence = []
    if evidence_tables is not None:
        evidence = _kazemier(records, facts, as_of, evidence_tables) + _length_evidence(
            records, bool(facts["singleton"]), as_of, evidence_tables
        )
    return RiskSummary(
        tier=_tier(facts),
        tier_rule="SBL-02, SBL-03",
        evidence=tuple(evidence),
        current_findings=current_findings(records, facts),
    )

"""Facts: the named values that guideline rules are written in.

`derive_facts(records, as_of)` turns a pregnancy's records into a flat mapping of fact name to
value (bool, number, text) or None when the records cannot tell. Only records dated on or
before `as_of` count. Every fact a knowledge file may name is in `FACT_CATALOGUE`, with what a
clinician would need to record for it to be known: the words `missing` reports.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import NamedTuple

from cervixwatch.clinical import history as h
from cervixwatch.clinical.gestation import ga, ga_days_on
from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclagePlacement,
    CerclageRoute,
    CervicalExam,
    CervicalExcision,
    CervicalLengthMeasurement,
    Complication,
    ExcisionKind,
    LengthComparator,
    LengthMethod,
    MaternalCondition,
    Medication,
    PregnancyRecords,
    PriorPregnancy,
    Symptom,
    SymptomReport,
)

#: Gestational-age bounds in days, parsed once.
GA_16_0 = ga("16+0")
GA_18_0 = ga("18+0")
GA_23_6 = ga("23+6")
GA_24_0 = ga("24+0")
GA_34_0 = ga("34+0")

FactValue = bool | int | float | str | None
Facts = Mapping[str, FactValue]

# Enum members `derive_facts` compares with, bound once: on Python 3.11 `Complication.FETAL_DEATH`
# goes through EnumType's attribute hook (~180 ns a read, measured), a module name ~10 ns, and
# `derive_facts` reads some twenty of them for every assessment.
_EXAM_CERCLAGE = CerclageIndication.EXAM
_LLETZ = ExcisionKind.LLETZ
_CONE_BIOPSY = ExcisionKind.CONE_BIOPSY
_TRACHELECTOMY = ExcisionKind.TRACHELECTOMY
_CAESAREAN_AT_FULL_DILATATION = MaternalCondition.CAESAREAN_AT_FULL_DILATATION
_UTERINE_ANOMALY = MaternalCondition.UTERINE_ANOMALY
_INTRAUTERINE_ADHESIONS = MaternalCondition.INTRAUTERINE_ADHESIONS
_TRANSVAGINAL = LengthMethod.TRANSVAGINAL
_PRETERM_LABOUR = Complication.PRETERM_LABOUR
_RUPTURED_MEMBRANES = Complication.RUPTURED_MEMBRANES
_CHORIOAMNIONITIS = Complication.CHORIOAMNIONITIS
_VAGINAL_BLEEDING = Complication.VAGINAL_BLEEDING
_FETAL_DEATH = Complication.FETAL_DEATH
_LETHAL_FETAL_ANOMALY = Complication.LETHAL_FETAL_ANOMALY
_PLACENTA_PRAEVIA = Complication.PLACENTA_PRAEVIA
_BLEEDING = Symptom.BLEEDING
_CONTRACTIONS = Symptom.CONTRACTIONS
_ROUTE_UNKNOWN = CerclageRoute.UNKNOWN
_ROUTE_TRANSVAGINAL = CerclageRoute.TRANSVAGINAL
_17OHPC = Medication.HYDROXYPROGESTERONE_CAPROATE
_VAGINAL_PROGESTERONE = Medication.VAGINAL_PROGESTERONE
_AT_MOST = LengthComparator.AT_MOST
_BELOW = LengthComparator.BELOW

#: Symptoms that send a woman to the maternity unit now rather than a same-day call-back
#: (TRI-05, derived: bleeding, fluid leakage, regular contractions, fever).
RED_FLAG_SYMPTOMS = frozenset(
    {Symptom.BLEEDING, Symptom.FLUID_LEAK, Symptom.CONTRACTIONS, Symptom.FEVER}
)


@dataclass(frozen=True, slots=True)
class FactSpec:
    """What a fact means, and what would have to be recorded for it to be known."""

    meaning: str
    needs: str


_EDD = "estimated due date (EDD), for gestational age"
_HISTORY = HISTORY_NEED = "outcome, gestation and onset of each previous pregnancy"
#: One need for every length fact: a clinician reads one line, not three variants of it.
_TV_LENGTH = (
    "a transvaginal cervical length (ACOG rules: measured before 24+0; NICE rules: at 16+0-24+0)"
)
_TV_BEFORE_24 = _TV_16_24 = _TV_LENGTH
_EXAM = "a cervical examination (dilation and whether membranes are exposed)"

FACT_CATALOGUE: Mapping[str, FactSpec] = {
    "ga_days": FactSpec("gestational age today, in days", _EDD),
    "fetus_count_recorded": FactSpec("a fetus count or multiple-pregnancy record exists", ""),
    "singleton": FactSpec("one fetus (taken as one when no count is recorded)", ""),
    "prior_sptb": FactSpec("any previous spontaneous preterm birth", _HISTORY),
    "prior_sptb_before_34w": FactSpec("a previous sPTB before 34+0 (ACOG142-04)", _HISTORY),
    "prior_sptb_upto_34w": FactSpec("a previous sPTB at or before 34+0 (NICE-01)", _HISTORY),
    "prior_mtl": FactSpec("a previous mid-trimester loss, 14+0-23+6", _HISTORY),
    "prior_mtl_from_16w": FactSpec("a previous loss at 16+0-23+6 (NICE-01)", _HISTORY),
    "prior_sptb_or_mtl": FactSpec("a previous sPTB or mid-trimester loss", _HISTORY),
    "prior_sptb_or_mtl_count": FactSpec("previous sPTBs plus mid-trimester losses", _HISTORY),
    "prior_painless_mtl": FactSpec("a mid-trimester loss from painless dilation", _HISTORY),
    "prior_exam_indicated_cerclage": FactSpec("an exam-indicated cerclage before", ""),
    "prior_cerclage": FactSpec("a cerclage in a previous pregnancy", ""),
    "prior_pprom_before_34w": FactSpec("a previous pregnancy begun by PPROM before 34+0", _HISTORY),
    "prior_pprom": FactSpec("a previous pregnancy whose onset was PPROM", _HISTORY),
    "prior_failed_transvaginal_cerclage": FactSpec(
        "a previous transvaginal cerclage that still ended before 28+0", _HISTORY
    ),
    "cervical_excision": FactSpec("any LLETZ, cone biopsy or trachelectomy", ""),
    "trachelectomy": FactSpec("a trachelectomy", ""),
    "significant_excision": FactSpec(
        "LLETZ deeper than 15 mm, more than one LLETZ, or a cone biopsy (SBL-03, SBL v3.1)",
        "the depth of each LLETZ",
    ),
    "caesarean_full_dilatation": FactSpec("a caesarean at full dilatation", ""),
    "uterine_anomaly": FactSpec("a uterine anomaly", ""),
    "intrauterine_adhesions": FactSpec("intrauterine adhesions (Asherman)", ""),
    "nice_high_risk": FactSpec("high risk by Saving Babies' Lives (SBL-02)", _HISTORY),
    "nice_intermediate_risk": FactSpec("intermediate risk (SBL-03)", "the depth of each LLETZ"),
    "no_risk_factor": FactSpec("no preterm-birth risk factor (RCOG75-04)", _HISTORY),
    "tv_length_count": FactSpec("transvaginal lengths this pregnancy", ""),
    "shortest_tv_length_mm": FactSpec(
        "shortest transvaginal length this pregnancy, mm", _TV_LENGTH
    ),
    "shortest_tv_length_before_24w_mm": FactSpec(
        "shortest transvaginal length measured before 24+0, mm", _TV_BEFORE_24
    ),
    "shortest_tv_length_16_to_24w_mm": FactSpec(
        "shortest transvaginal length measured at 16+0-24+0, mm", _TV_16_24
    ),
    "latest_tv_length_mm": FactSpec("latest transvaginal length, mm", _TV_BEFORE_24),
    "tv_length_before_24w_measured": FactSpec("a transvaginal length before 24+0 exists", ""),
    "tv_length_from_18w_measured": FactSpec("a transvaginal length from 18+0 exists", _EDD),
    "tv_length_from_16w_measured": FactSpec("a transvaginal length from 16+0 exists", _EDD),
    "transabdominal_length_only": FactSpec("only transabdominal lengths recorded", _TV_LENGTH),
    "dilation_cm": FactSpec("cervical dilation on the latest exam, cm", _EXAM),
    "dilated": FactSpec("dilation of 1 cm or more on the latest exam", _EXAM),
    "membranes_exposed": FactSpec("membranes visible at or through the os", _EXAM),
    "dilated_or_membranes_exposed": FactSpec("dilation or exposed membranes", _EXAM),
    "preterm_labour": FactSpec("preterm labour", ""),
    "ruptured_membranes": FactSpec("ruptured membranes", ""),
    "chorioamnionitis": FactSpec("clinical chorioamnionitis", ""),
    "active_bleeding": FactSpec(
        "active vaginal bleeding (a complication, or reported on a report not yet reviewed)", ""
    ),
    "fetal_death": FactSpec("fetal death", ""),
    "lethal_fetal_anomaly": FactSpec("lethal fetal anomaly", ""),
    "placenta_praevia": FactSpec("placenta praevia", ""),
    "uterine_contractions": FactSpec(
        "preterm labour, or contractions on a report not yet reviewed", ""
    ),
    "cerclage_in_situ": FactSpec("a cerclage placed this pregnancy and not removed", ""),
    "transvaginal_cerclage_in_situ": FactSpec(
        "a transvaginal cerclage in situ",
        "the route of the cerclage in situ (vaginal or abdominal)",
    ),
    "on_17ohpc": FactSpec("an active 17-OHPC order", ""),
    "on_vaginal_progesterone": FactSpec("an active vaginal progesterone order", ""),
    # A symptom report is current while it is open: until a clinician's review of it is
    # recorded, whatever its age (CD-07). The names are kept from profiles 2026.11.
    "current_symptom_report": FactSpec("a symptom report not yet reviewed (CD-07)", ""),
    "current_symptom": FactSpec("any symptom on a report not yet reviewed", ""),
    "current_red_flag_symptom": FactSpec(
        "bleeding, fluid, contractions or fever on a report not yet reviewed", ""
    ),
    "open_report_ga_days": FactSpec(
        "gestational age, in days, on the day of the latest unreviewed report of a symptom", _EDD
    ),
    "open_report_days_waiting": FactSpec(
        "days since the earliest unreviewed report of a symptom was made", ""
    ),
    "tv_length_since_report_measured": FactSpec(
        "a transvaginal length measured on or after the day of an unreviewed symptom report", ""
    ),
    "shortest_tv_length_since_report_mm": FactSpec(
        "shortest transvaginal length measured since the unreviewed symptom report, mm",
        "a transvaginal cervical length since the symptom report (NICE NG25 1.7.4)",
    ),
    "ffn_since_report_ng_per_ml": FactSpec(
        "quantitative fetal fibronectin taken since the unreviewed symptom report, ng/mL",
        "a transvaginal cervical length or quantitative fetal fibronectin since the report",
    ),
}


def _tri_or(*values: bool | None) -> bool | None:
    return h.any_of(values)


# --- facts whose gestational-age bounds a profile sets -------------------------------------------


@dataclass(frozen=True, slots=True)
class FactFamily:
    """A fact whose gestational-age window is a parameter the profile gives, so that a local
    protocol's "sPTB before 32+0" is data, not code: `{fact: prior_sptb, ga: {before: "32+0"}}`
    for the gestation at which a previous pregnancy ended, `{fact: shortest_tv_length_mm,
    measured: {from: "16+0", upto: "24+0"}, le: 25}` for when a length was measured."""

    meaning: str  # with {window}, e.g. "a previous spontaneous preterm birth ending {window}"
    needs: str
    parameter: str  # "ga" (the gestation a previous pregnancy ended at) or "measured"


FACT_FAMILIES: Mapping[str, FactFamily] = {
    "prior_sptb": FactFamily(
        "a previous spontaneous preterm birth ending {window}", _HISTORY, "ga"
    ),
    "prior_loss": FactFamily("a previous miscarriage or stillbirth {window}", _HISTORY, "ga"),
    "prior_pprom": FactFamily(
        "a previous pregnancy begun by PPROM, ending {window}", _HISTORY, "ga"
    ),
    "shortest_tv_length_mm": FactFamily(
        "shortest transvaginal length measured {window}, mm", _TV_LENGTH, "measured"
    ),
    "tv_length_measured": FactFamily("a transvaginal length measured {window}", "", "measured"),
    # Any unreviewed report of a symptom made in the window (CD-07: a report keeps its urgency
    # until reviewed; a later report outside the window does not hide an earlier one).
    "open_symptom_report": FactFamily(
        "a symptom reported {window}, not yet reviewed", _EDD, "reported"
    ),
}


@dataclass(frozen=True, slots=True, order=True)
class WindowedFact:
    """One member of a fact family: its name and inclusive bounds in days (None: open), and
    the name it has among the facts ("prior_sptb[..223]"), made once."""

    family: str
    low: int | None
    high: int | None
    key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            low = "" if self.low is None else str(self.low)
            high = "" if self.high is None else str(self.high)
            object.__setattr__(self, "key", f"{self.family}[{low}..{high}]")

    @classmethod
    def from_key(cls, key: str) -> WindowedFact:
        family, _, bounds = key.partition("[")
        low, _, high = bounds.rstrip("]").partition("..")
        return cls(family, int(low) if low else None, int(high) if high else None, key)

    @property
    def window_words(self) -> str:
        def ga_text(days: int) -> str:
            return f"{days // 7}+{days % 7}"

        if self.low is not None and self.high is not None:
            return f"at {ga_text(self.low)}-{ga_text(self.high)}"
        if self.high is not None:
            return f"at or before {ga_text(self.high)}"
        if self.low is not None:
            return f"at or after {ga_text(self.low)}"
        return "at any gestation"


_HISTORY_FAMILIES = frozenset({"prior_sptb", "prior_loss", "prior_pprom"})

#: Facts named before their windows were data (profiles 2026.11 name them): each is the windowed
#: fact with the same bounds, computed once.
NAMED_WINDOWS: Mapping[str, WindowedFact] = {
    "prior_sptb_before_34w": WindowedFact("prior_sptb", None, GA_34_0 - 1),
    "prior_sptb_upto_34w": WindowedFact("prior_sptb", None, GA_34_0),
    "prior_mtl_from_16w": WindowedFact("prior_loss", GA_16_0, GA_23_6),
    "shortest_tv_length_before_24w_mm": WindowedFact("shortest_tv_length_mm", None, GA_24_0 - 1),
    "shortest_tv_length_16_to_24w_mm": WindowedFact("shortest_tv_length_mm", GA_16_0, GA_24_0),
    "tv_length_before_24w_measured": WindowedFact("tv_length_measured", None, GA_24_0 - 1),
    "tv_length_from_18w_measured": WindowedFact("tv_length_measured", GA_18_0, None),
    "tv_length_from_16w_measured": WindowedFact("tv_length_measured", GA_16_0, None),
}

#: Facts made of others: when one is unknown, what is missing is what its unknown parts need
#: (an unknown SBL tier because of an unknown history asks for the history, not a LLETZ depth).
COMPOSITE_FACTS: Mapping[str, tuple[str, ...]] = {
    "nice_intermediate_risk": ("nice_high_risk", "significant_excision"),
    "no_risk_factor": ("nice_high_risk", "significant_excision", "prior_sptb", "prior_mtl"),
}


def needs_of(name: str, facts: Mapping[str, FactValue]) -> list[str]:
    """What would have to be recorded for an unknown fact to be known, in words."""
    parts = [part for part in COMPOSITE_FACTS.get(name, ()) if facts.get(part) is None]
    if not parts:
        return [fact_spec(name).needs]
    return [need for part in parts for need in needs_of(part, facts)]


@cache
def fact_spec(name: str) -> FactSpec:
    """What a fact means and needs, for a catalogue name or a windowed fact's key."""
    if name in FACT_CATALOGUE:
        return FACT_CATALOGUE[name]
    windowed = WindowedFact.from_key(name)
    spec = FACT_FAMILIES[windowed.family]
    return FactSpec(spec.meaning.format(window=windowed.window_words), spec.needs)


def _windowed_value(
    fact: WindowedFact,
    priors: list[PriorPregnancy],
    tv: list[tuple[int | None, CervicalLengthMeasurement]],
    edd: dt.date | None,
    reported: list[int | None],
) -> FactValue:
    low, high, family = fact.low, fact.high, fact.family
    if not priors and family in _HISTORY_FAMILIES:
        return False  # no previous pregnancy: none ended in any window
    if family == "open_symptom_report":
        if not reported:
            return False
        inside = [
            d is None or ((low is None or d >= low) and (high is None or d <= high))
            for d in reported
        ]
        if any(d is not None and i for d, i in zip(reported, inside, strict=True)):
            return True
        return None if None in reported else False
    # Lists, not generators, as in `_history_facts`.
    if family == "prior_sptb":
        return h.any_of(
            [h.is_spontaneous_preterm_birth(p, min_days=low, max_days=high) for p in priors]
        )
    if family == "prior_loss":
        return h.any_of(
            [h.is_loss(p, low or 0, high if high is not None else 45 * 7) for p in priors]
        )
    if family == "prior_pprom":
        before = None if high is None else high + 1
        return h.any_of([h.is_pprom_before(p, before) for p in priors])
    if not tv:
        return None if family == "shortest_tv_length_mm" else False
    if edd is None:
        return None
    if family == "shortest_tv_length_mm":
        return _shortest(tv, low, high)
    for d, _ in tv:  # a loop, not any(generator): ~1 us less on the lengths of one pregnancy
        if d is not None and (low is None or d >= low) and (high is None or d <= high):
            return True
    return False


def comparable_length(m: CervicalLengthMeasurement) -> float | None:
    """The length a threshold is compared with: "<10 mm" is just under 10 mm, so it counts as
    short wherever 10 mm would and is never "10 mm or more"; a lower bound (">30 mm", ">=30")
    is never counted as short, so it takes part in no shortest length (None)."""
    if m.comparator is None or m.comparator is _AT_MOST:
        return m.length_mm
    if m.comparator is _BELOW:
        return math.nextafter(m.length_mm, 0.0)
    return None


def _shortest(
    lengths: list[tuple[int | None, CervicalLengthMeasurement]], low: int | None, high: int | None
) -> float | None:
    """Shortest length whose gestation lies in the inclusive window (None bounds: open)."""
    chosen = [
        value
        for days, m in lengths
        if days is not None
        and (low is None or days >= low)
        and (high is None or days <= high)
        and (value := comparable_length(m)) is not None
    ]
    return min(chosen) if chosen else None


def _latest_exam_value(exams: list[CervicalExam], attr: str) -> float | bool | None:
    for exam in sorted(exams, key=lambda e: e.examined_on, reverse=True):
        value: float | bool | None = getattr(exam, attr)
        if value is not None:
            return value
    return None


@cache
def windowed_fact(name: str) -> WindowedFact | None:
    """The windowed fact a name stands for: a key ("prior_sptb[..223]") or a 2026.11 name
    ("prior_sptb_before_34w"); None for any other fact."""
    if name in NAMED_WINDOWS:
        return NAMED_WINDOWS[name]
    family, bracket, _ = name.partition("[")
    if not bracket or family not in FACT_FAMILIES:
        return None
    return WindowedFact.from_key(name)


def open_reports(reports: tuple[SymptomReport, ...], as_of: dt.date) -> list[SymptomReport]:
    """Reports made by `as_of` with no review recorded by then (CD-07): they stay open, and
    urgent, whatever their age."""
    return [r for r in reports if r.reported_on <= as_of and r.review_by(as_of) is None]


class _History(NamedTuple):
    """The facts of the previous pregnancies, and those of them the tiers are made of."""

    facts: dict[str, FactValue]
    prior_sptb: bool | None
    prior_mtl: bool | None
    pprom_before_34: bool | None
    prior_cerclage: bool
    #: Saving Babies' Lives: a spontaneous preterm birth or a loss at 16+0-34+0.
    sbl_history: bool | None


def _history_facts(priors: list[PriorPregnancy]) -> _History:
    """The facts of the previous pregnancies ended by the day, from one pass over them: each
    is classified once per fact, and the facts combine the classes (three-valued: `any_of`).
    A pass per fact cost twice as much (measured: 12.9 us for the average history)."""
    sptb: list[bool | None] = []
    mtl: list[bool | None] = []
    painless: list[bool | None] = []
    pprom_34: list[bool | None] = []
    pprom: list[bool | None] = []
    failed: list[bool | None] = []
    sbl: list[bool | None] = []  # Saving Babies' Lives: an sPTB or a loss at 16+0-34+0
    for p in priors:
        sptb.append(h.is_spontaneous_preterm_birth(p))
        mtl.append(h.is_mid_trimester_loss(p))
        painless.append(h.is_painless_mid_trimester_loss(p))
        pprom_34.append(h.is_pprom_before(p, GA_34_0))
        pprom.append(h.is_pprom_before(p, None))
        failed.append(h.is_failed_transvaginal_cerclage(p))
        sbl.append(
            _tri_or(
                h.is_spontaneous_preterm_birth(p, min_days=GA_16_0, max_days=GA_34_0),
                h.is_loss(p, GA_16_0, GA_34_0),
            )
        )
    prior_sptb = h.any_of(sptb)
    prior_mtl = h.any_of(mtl)
    prior_cerclage = any(p.cerclage is not None for p in priors)
    pprom_before_34 = h.any_of(pprom_34)
    facts: dict[str, FactValue] = {
        "prior_sptb": prior_sptb,
        "prior_mtl": prior_mtl,
        "prior_sptb_or_mtl": _tri_or(prior_sptb, prior_mtl),
        "prior_sptb_or_mtl_count": h.count_of(
            [_tri_or(s, m) for s, m in zip(sptb, mtl, strict=True)]
        ),
        "prior_painless_mtl": h.any_of(painless),
        "prior_exam_indicated_cerclage": any(p.cerclage is _EXAM_CERCLAGE for p in priors),
        "prior_cerclage": prior_cerclage,
        "prior_pprom_before_34w": pprom_before_34,
        "prior_pprom": h.any_of(pprom),
        "prior_failed_transvaginal_cerclage": h.any_of(failed),
    }
    return _History(facts, prior_sptb, prior_mtl, pprom_before_34, prior_cerclage, h.any_of(sbl))


#: What `_history_facts` gives for no previous pregnancy (nothing holds, nothing is unknown),
#: made once: two in five pregnancies assessed have none.
_NO_HISTORY = _history_facts([])

# Most pregnancies have nothing recorded in most sections (no excision, exam, report,
# complication, cerclage or medication): each section below is worked out by one function,
# and for nothing recorded its answer is that function's for nothing, made once like
# `_NO_HISTORY` (tests/unit/clinical/test_facts_sections.py holds the two equal). Measured
# over the 5,000 synthetic pregnancies: the facts of one with only an EDD went from 26 to
# 15 us, of an average one from ~51 to ~37 us (with the enum names and lists above).


class _Excisions(NamedTuple):
    facts: dict[str, FactValue]
    any_excision: bool
    trachelectomy: bool
    significant: bool | None


def _excision_facts(excisions: list[CervicalExcision]) -> _Excisions:
    """The facts of the cervical excisions performed by the day."""
    lletz = [e for e in excisions if e.kind is _LLETZ]
    trachelectomy = any(e.kind is _TRACHELECTOMY for e in excisions)
    # SBL v3.1 (CD-08): a single LLETZ counts when more than 15 mm deep (GTG75's 10 mm is older).
    deep_lletz = h.any_of(None if e.depth_mm is None else e.depth_mm > 15 for e in lletz)
    significant = _tri_or(
        len(lletz) > 1, any(e.kind is _CONE_BIOPSY for e in excisions), deep_lletz
    )
    facts: dict[str, FactValue] = {
        "cervical_excision": bool(excisions),
        "trachelectomy": trachelectomy,
        "significant_excision": significant,
    }
    return _Excisions(facts, bool(excisions), trachelectomy, significant)


_NO_EXCISION = _excision_facts([])


def _length_facts(
    dated: list[tuple[int | None, CervicalLengthMeasurement]],
    tv: list[tuple[int | None, CervicalLengthMeasurement]],
    edd: dt.date | None,
) -> dict[str, FactValue]:
    """The facts of this pregnancy's lengths (`dated`: each with its gestation in days, None
    without an EDD) and of its transvaginal ones (`tv`)."""
    shortest = (
        _shortest(tv, 0, None)
        if edd is not None
        else min((v for _, m in tv if (v := comparable_length(m)) is not None), default=None)
    )
    latest = max(tv, key=lambda dm: dm[1].measured_on, default=None)
    return {
        "tv_length_count": len(tv),
        "transabdominal_length_only": bool(dated) and not tv,
        "shortest_tv_length_mm": shortest,
        "latest_tv_length_mm": comparable_length(latest[1]) if latest else None,
    }


#: With no length the EDD makes no difference (tests hold `_length_facts([], [], edd)` to it).
_NO_LENGTH = _length_facts([], [], None)


def _exam_facts(exams: list[CervicalExam]) -> dict[str, FactValue]:
    """The latest recorded dilation and state of the membranes, of this pregnancy's exams."""
    dilation = _latest_exam_value(exams, "dilation_cm")
    exposed = _latest_exam_value(exams, "membranes_exposed")
    dilated = None if dilation is None else bool(dilation >= 1)
    return {
        "dilation_cm": dilation,
        "membranes_exposed": exposed,
        "dilated": dilated,
        "dilated_or_membranes_exposed": _tri_or(
            dilated, None if exposed is None else bool(exposed)
        ),
    }


_NO_EXAM = _exam_facts([])


def _complication_facts(
    complications: set[Complication], reported: set[Symptom]
) -> dict[str, FactValue]:
    """The facts of the complications active on the day and the symptoms on open reports."""
    return {
        "preterm_labour": _PRETERM_LABOUR in complications,
        "ruptured_membranes": _RUPTURED_MEMBRANES in complications,
        "chorioamnionitis": _CHORIOAMNIONITIS in complications,
        "active_bleeding": _VAGINAL_BLEEDING in complications or _BLEEDING in reported,
        "fetal_death": _FETAL_DEATH in complications,
        "lethal_fetal_anomaly": _LETHAL_FETAL_ANOMALY in complications,
        "placenta_praevia": _PLACENTA_PRAEVIA in complications,
        "uterine_contractions": _PRETERM_LABOUR in complications or _CONTRACTIONS in reported,
    }


_NO_COMPLICATION = _complication_facts(set(), set())


def _cerclage_facts(in_situ: list[CerclagePlacement]) -> dict[str, FactValue]:
    """Whether a cerclage of this pregnancy is in situ, and whether one is transvaginal."""
    return {
        "cerclage_in_situ": bool(in_situ),
        "transvaginal_cerclage_in_situ": h.any_of(
            [None if c.route is _ROUTE_UNKNOWN else c.route is _ROUTE_TRANSVAGINAL for c in in_situ]
        ),
    }


_NO_CERCLAGE = _cerclage_facts([])


def _medication_facts(active: set[Medication]) -> dict[str, FactValue]:
    return {
        "on_17ohpc": _17OHPC in active,
        "on_vaginal_progesterone": _VAGINAL_PROGESTERONE in active,
    }


_NO_MEDICATION = _medication_facts(set())


def _report_facts(
    records: PregnancyRecords,
    as_of: dt.date,
    reports: list[SymptomReport],
    reported: set[Symptom],
    with_symptoms: list[SymptomReport],
    tv: list[tuple[int | None, CervicalLengthMeasurement]],
) -> dict[str, FactValue]:
    """The facts of the open symptom reports (`with_symptoms`: those naming a symptom, oldest
    first), and what was measured since the first of them."""
    edd = records.edd
    facts: dict[str, FactValue] = {
        "current_symptom_report": bool(reports),
        "current_symptom": bool(reported),
        "current_red_flag_symptom": bool(reported & RED_FLAG_SYMPTOMS),
        "open_report_ga_days": (
            ga_days_on(edd, with_symptoms[-1].reported_on)
            if with_symptoms and edd is not None
            else None
        ),
        "open_report_days_waiting": (
            (as_of - with_symptoms[0].reported_on).days if with_symptoms else None
        ),
    }
    # NICE NG25 1.7.4-1.7.7: what was measured since she reported symptoms of preterm labour.
    if with_symptoms:
        since = with_symptoms[0].reported_on
        after = [m for _, m in tv if m.measured_on >= since]
        ffn = [
            f
            for f in records.fibronectin
            if since <= f.tested_on <= as_of and f.ng_per_ml is not None
        ]
        facts["tv_length_since_report_measured"] = bool(after)
        facts["shortest_tv_length_since_report_mm"] = min(
            (v for m in after if (v := comparable_length(m)) is not None), default=None
        )
        facts["ffn_since_report_ng_per_ml"] = (
            max(ffn, key=lambda f: f.tested_on).ng_per_ml if ffn else None
        )
    else:
        facts["tv_length_since_report_measured"] = False
        facts["shortest_tv_length_since_report_mm"] = None
        facts["ffn_since_report_ng_per_ml"] = None
    return facts


_NO_REPORT = _report_facts(PregnancyRecords(""), dt.date.min, [], set(), [], [])


class _WindowedEntry(NamedTuple):
    name: str
    key: str  # `fact.key`: `name` itself, or the window a 2026.11 name stands for
    fact: WindowedFact
    #: Which records it is worked out from, as an index into (previous pregnancies, lengths,
    #: reports), and its value when there are none of them (the general function's, made once).
    source: int
    when_none: FactValue


_SOURCES = ("ga", "measured", "reported")  # FactFamily.parameter of each source, in order


@lru_cache(maxsize=64)
def _windowed_entries(names: tuple[str, ...]) -> tuple[_WindowedEntry, ...]:
    """The entries of the windowed facts of a set of profiles, in the order given, made once:
    it is the same set for every assessment."""
    entries = []
    for name in names:
        fact = windowed_fact(name)
        if fact is None:
            raise KeyError(f"not a windowed fact: {name!r}")
        source = _SOURCES.index(FACT_FAMILIES[fact.family].parameter)
        when_none = _windowed_value(fact, [], [], None, [])
        entries.append(_WindowedEntry(name, fact.key, fact, source, when_none))
    return tuple(entries)


def derive_facts(
    records: PregnancyRecords, as_of: dt.date, windowed: Collection[str] | None = None
) -> dict[str, FactValue]:
    """All facts about `records` on `as_of`, and the `windowed` facts the profiles name (their
    `windowed_facts`; None: every 2026.11 name of one); records dated after `as_of` are
    ignored. Only the named windows are worked out: each costs a pass over the history or the
    lengths, and computing all of them was a third of the time this takes."""
    edd = records.edd
    ga_days = ga_days_on(edd, as_of) if edd is not None else None

    def ga_of(day: dt.date) -> int | None:
        return ga_days_on(edd, day) if edd is not None else None

    facts: dict[str, FactValue] = {"ga_days": ga_days}

    # Fetuses: without a count the pregnancy is taken as singleton (fhir-mapping.md).
    facts["fetus_count_recorded"] = records.fetuses is not None
    facts["singleton"] = records.fetuses is None or records.fetuses == 1

    priors = [
        p for p in records.prior_pregnancies if p.ended is None or p.ended.earliest() <= as_of
    ]
    history = _history_facts(priors) if priors else _NO_HISTORY
    facts.update(history.facts)

    excisions = [
        e for e in records.excisions if e.performed is None or e.performed.earliest() <= as_of
    ]
    excision = _excision_facts(excisions) if excisions else _NO_EXCISION
    facts.update(excision.facts)
    conditions = records.maternal_conditions
    caesarean_full = _CAESAREAN_AT_FULL_DILATATION in conditions
    uterine_anomaly = _UTERINE_ANOMALY in conditions
    adhesions = _INTRAUTERINE_ADHESIONS in conditions
    facts["caesarean_full_dilatation"] = caesarean_full
    facts["uterine_anomaly"] = uterine_anomaly
    facts["intrauterine_adhesions"] = adhesions

    # Saving Babies' Lives tiers (profiles.md, "High risk (nice)").
    high = _tri_or(
        history.sbl_history,
        history.pprom_before_34,
        history.prior_cerclage,
        uterine_anomaly,
        adhesions,
        excision.trachelectomy,
    )
    facts["nice_high_risk"] = high
    intermediate_criteria = _tri_or(excision.significant, caesarean_full)
    facts["nice_intermediate_risk"] = (
        False if high is True else (None if high is None else intermediate_criteria)
    )
    any_factor = _tri_or(
        high, intermediate_criteria, history.prior_sptb, history.prior_mtl, excision.any_excision
    )
    facts["no_risk_factor"] = None if any_factor is None else not any_factor

    # This pregnancy's cervix: transvaginal lengths only (SMFM70-01); a length whose gestation
    # is negative belongs to no part of this pregnancy and is left out.
    tv: list[tuple[int | None, CervicalLengthMeasurement]] = []
    if records.cervical_lengths:
        all_lengths = [m for m in records.cervical_lengths if m.measured_on <= as_of]
        dated = [(ga_of(m.measured_on), m) for m in all_lengths]
        dated = [(d, m) for d, m in dated if d is None or d >= 0]
        tv = [(d, m) for d, m in dated if m.method is _TRANSVAGINAL]
        facts.update(_length_facts(dated, tv, edd))
    else:
        facts.update(_NO_LENGTH)

    # An exam from before this pregnancy began says nothing about today's cervix.
    exams = [
        e
        for e in records.exams
        if e.examined_on <= as_of and (edd is None or (ga_of(e.examined_on) or 0) >= 0)
    ]
    facts.update(_exam_facts(exams) if exams else _NO_EXAM)

    reports = open_reports(records.symptom_reports, as_of) if records.symptom_reports else []
    reported: set[Symptom] = set()
    for report in reports:
        reported |= report.present
    with_symptoms = sorted((r for r in reports if r.present), key=lambda r: r.reported_on)
    # Only complications active on `as_of` count (CD-06): noted by then and not yet resolved.
    complications = {c.complication for c in records.complications if c.active_on(as_of)}
    if complications or reported:
        facts.update(_complication_facts(complications, reported))
    else:
        facts.update(_NO_COMPLICATION)

    removals = [r.removed_on for r in records.cerclage_removals if r.removed_on <= as_of]
    in_situ = [
        c
        for c in records.cerclage_placements
        if c.placed_on <= as_of
        and (ga_of(c.placed_on) or 0) >= 0
        and not any(removed >= c.placed_on for removed in removals)
    ]
    facts.update(_cerclage_facts(in_situ) if in_situ else _NO_CERCLAGE)
    active = {m.medication for m in records.medications if m.active_on(as_of)}
    facts.update(_medication_facts(active) if active else _NO_MEDICATION)

    if reports:
        facts.update(_report_facts(records, as_of, reports, reported, with_symptoms, tv))
    else:
        facts.update(_NO_REPORT)

    report_days = [ga_of(r.reported_on) for r in with_symptoms]
    present = (bool(priors), bool(tv), bool(report_days))
    entries = _windowed_entries(tuple(NAMED_WINDOWS if windowed is None else windowed))
    for name, key, fact, source, when_none in entries:
        if key not in facts:
            facts[key] = (
                _windowed_value(fact, priors, tv, edd, report_days)
                if present[source]
                else when_none
            )
        if name != key:
            facts[name] = facts[key]  # a 2026.11 name stands for the same window
    return facts

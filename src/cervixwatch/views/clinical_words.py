"""Facts and measurements in a clinician's words and units.

The rules are written in fact names (`shortest_tv_length_before_24w_mm`, `ga_days`); the
clinician reads "shortest transvaginal length measured before 24+0: 22 mm on 2026-02-02
(18+2)" and "GA 18+2". The words start from each fact's `meaning` in
`clinical.facts.FACT_CATALOGUE`, so a new fact is readable without a change here; the few
meanings that read badly as a label have an override below. A length keeps its comparator
("<10 mm"), and is dated by the measurement in the records that gave it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cervixwatch.clinical.facts import (
    FACT_CATALOGUE,
    FACT_FAMILIES,
    GA_16_0,
    GA_24_0,
    WindowedFact,
    comparable_length,
    open_reports,
)
from cervixwatch.clinical.gestation import GestationalAge, gestational_age_on
from cervixwatch.clinical.records import (
    CervicalExam,
    CervicalLengthMeasurement,
    LengthComparator,
    LengthMethod,
    PregnancyRecords,
)

#: Labels where the catalogue's meaning does not read well before ": yes" or a value.
LABEL_OVERRIDES: Mapping[str, str] = {
    "ga_days": "GA",
    "fetus_count_recorded": "fetus count recorded",
    "singleton": "singleton",
    "prior_mtl": "previous mid-trimester loss (14+0-23+6)",
    "prior_sptb_or_mtl_count": "previous spontaneous preterm births and mid-trimester losses",
    "prior_exam_indicated_cerclage": "exam-indicated cerclage in a previous pregnancy",
    "nice_intermediate_risk": "intermediate risk by Saving Babies' Lives",
    "cerclage_in_situ": "cerclage in situ",
    "tv_length_before_24w_measured": "transvaginal length measured before 24+0",
    "tv_length_from_18w_measured": "transvaginal length measured from 18+0",
    "tv_length_from_16w_measured": "transvaginal length measured from 16+0",
    "tv_length_since_report_measured": (
        "transvaginal length measured since the unreviewed symptom report"
    ),
    "open_report_ga_days": "GA at the latest unreviewed symptom report",
    "open_report_days_waiting": "days the earliest unreviewed symptom report has waited",
}
#: Facts whose gestational-age window the profile sets ("prior_sptb[..237]"), with {window}.
FAMILY_LABELS: Mapping[str, str] = {
    "prior_sptb": "previous spontaneous preterm birth {window}",
    "prior_loss": "previous miscarriage or stillbirth {window}",
    "prior_pprom": "previous pregnancy begun by PPROM, ending {window}",
    "shortest_tv_length_mm": "shortest transvaginal length measured {window}",
    "tv_length_measured": "transvaginal length measured {window}",
}
#: Facts named for an absence ("no risk factor"): shown as the presence, with the value
#: turned round, so that no line reads "no preterm-birth risk factor: no".
INVERTED: Mapping[str, str] = {"no_risk_factor": "any preterm-birth risk factor"}
#: The name a `fired` condition gives the codes it found (conditions.FiredAny.explain).
_FIRED = "indicated"

# A trailing note naming a rule or decision, "(ACOG142-04)", "(SBL-03, SBL v3.1)", "(CD-07)":
# the rule is beside the recommendation already. "(Asherman)" has no rule id and stays.
_RULE_NOTE = re.compile(r"\s*\((?=[^()]*\b[A-Z][A-Z0-9]*-[A-Z0-9]+\b)[^()]*\)")
_UNIT_SUFFIX = re.compile(r",\s*(?:mm|cm|ng/mL|in days)$")
_ARTICLE = re.compile(r"^(?:a|an|any) ")
_UNITS = (("_mm", "mm"), ("_cm", "cm"), ("_ng_per_ml", "ng/mL"))
_COMPARATOR_WORDS = {
    LengthComparator.BELOW: "<",
    LengthComparator.AT_MOST: "≤",
    LengthComparator.AT_LEAST: "≥",
    LengthComparator.ABOVE: ">",
}


def is_ga_fact(name: str) -> bool:
    """Facts whose value is a gestational age in days, written W+D."""
    return name.endswith("ga_days")


def ga_words(days: int) -> str:
    """ "18+2" for 128 days."""
    return str(GestationalAge(days))


def windowed_fact(name: str) -> WindowedFact | None:
    """The fact a profile gave a window ("prior_sptb[..237]"), or None for a plain fact."""
    if "[" not in name:
        return None
    try:
        fact = WindowedFact.from_key(name)
    except ValueError:
        return None
    return fact if fact.family in FACT_FAMILIES else None


def window_words(fact: WindowedFact) -> str:
    """The window as a guideline writes it: "before 24+0" (up to 23+6), "at or before 34+0",
    "at 16+0-24+0", "from 18+0"; every bound inclusive as evaluated."""
    low, high = fact.low, fact.high
    if low is not None and high is not None:
        return f"at {ga_words(low)}-{ga_words(high)}"
    if high is not None:
        if (high + 1) % 7 == 0:
            return f"before {ga_words(high + 1)}"
        return f"at or before {ga_words(high)}"
    if low is not None:
        return f"from {ga_words(low)}"
    return "at any gestation"


def _family(name: str) -> str:
    """The fact's name without its window: "shortest_tv_length_mm" for "...mm[..167]"."""
    return name.partition("[")[0]


def fact_label(name: str) -> str:
    """The words for a fact, without its value: "previous spontaneous preterm birth before
    34+0" for `prior_sptb_before_34w`."""
    if name in INVERTED:
        return INVERTED[name]
    if name in LABEL_OVERRIDES:
        return LABEL_OVERRIDES[name]
    windowed = windowed_fact(name)
    if windowed is not None:
        template = FAMILY_LABELS.get(windowed.family)
        if template is not None:
            return template.format(window=window_words(windowed))
        meaning = FACT_FAMILIES[windowed.family].meaning.format(window=window_words(windowed))
    elif name in FACT_CATALOGUE:
        meaning = FACT_CATALOGUE[name].meaning
    else:
        return name.replace("_", " ")
    words = _RULE_NOTE.sub("", meaning).strip()
    words = _UNIT_SUFFIX.sub("", words)
    words = _ARTICLE.sub("", words)
    words = words.replace("sPTBs", "spontaneous preterm births")
    return words.replace("sPTB", "spontaneous preterm birth")


def length_value(m: CervicalLengthMeasurement) -> str:
    """ "22 mm", or "<10 mm" for a length reported as a bound."""
    sign = "" if m.comparator is None else _COMPARATOR_WORDS[m.comparator]
    return f"{sign}{m.length_mm:g} mm"


def dated(day: dt.date, edd: dt.date | None) -> str:
    """ "2026-02-02 (18+2)", or the date alone without an EDD."""
    if edd is None:
        return day.isoformat()
    return f"{day.isoformat()} ({gestational_age_on(edd, day)})"


def length_line(m: CervicalLengthMeasurement, edd: dt.date | None) -> str:
    """One measurement as listed under "Cervical lengths": "2026-02-02 (18+2) 22 mm
    transvaginal"."""
    return f"{dated(m.measured_on, edd)} {length_value(m)} {m.method.value}"


def _window_check(
    name: str, records: PregnancyRecords, as_of: dt.date
) -> Callable[[CervicalLengthMeasurement], bool] | None:
    """Which measurements a length fact is taken from (facts.derive_facts), or None for a fact
    that is not a transvaginal length."""
    edd = records.edd

    def ga_in(low: int | None, high: int | None) -> Callable[[CervicalLengthMeasurement], bool]:
        def check(m: CervicalLengthMeasurement) -> bool:
            if edd is None:
                return True
            days = gestational_age_on(edd, m.measured_on).total_days
            return days >= 0 and (low is None or days >= low) and (high is None or days <= high)

        return check

    windowed = windowed_fact(name)
    if windowed is not None and windowed.family == "shortest_tv_length_mm":
        low, high = windowed.low, windowed.high
        # A windowed length needs the gestation of each measurement (facts._shortest).
        return lambda m: (
            edd is not None
            and (low is None or gestational_age_on(edd, m.measured_on).total_days >= low)
            and (high is None or gestational_age_on(edd, m.measured_on).total_days <= high)
        )
    if name in ("shortest_tv_length_mm", "latest_tv_length_mm"):
        return ga_in(None, None)
    if name == "shortest_tv_length_before_24w_mm":
        return ga_in(None, GA_24_0 - 1)
    if name == "shortest_tv_length_16_to_24w_mm":
        return ga_in(GA_16_0, GA_24_0)
    if name == "shortest_tv_length_since_report_mm":
        reports = [r for r in open_reports(records.symptom_reports, as_of) if r.present]
        since = min((r.reported_on for r in reports), default=None)
        return lambda m: since is not None and m.measured_on >= since
    return None


def measurement_for(
    name: str, value: float, records: PregnancyRecords, as_of: dt.date
) -> CervicalLengthMeasurement | None:
    """The transvaginal measurement that gave a length fact its value: the one with that value
    in the fact's window (the latest such, when several share it)."""
    in_window = _window_check(name, records, as_of)
    if in_window is None:
        return None
    matches = [
        m
        for m in records.cervical_lengths
        if m.method is LengthMethod.TRANSVAGINAL
        and m.measured_on <= as_of
        and comparable_length(m) == value
        and in_window(m)
    ]
    return max(matches, key=lambda m: m.measured_on, default=None)


def _latest_exam(records: PregnancyRecords, as_of: dt.date) -> CervicalExam | None:
    exams = [e for e in records.exams if e.examined_on <= as_of and e.dilation_cm is not None]
    return max(exams, key=lambda e: e.examined_on, default=None)


def _number(value: float) -> str:
    return f"{value:g}"


def fact_value(name: str, value: Any, records: PregnancyRecords, as_of: dt.date) -> str:
    """The value of a fact in words and units: "yes", "18+2", "22 mm on 2026-02-02 (18+2)"."""
    if name in INVERTED and isinstance(value, bool):
        value = not value
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == _FIRED and isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if is_ga_fact(name) and isinstance(value, int):
        return ga_words(value)
    if isinstance(value, int | float):
        if _family(name).endswith("_mm"):
            m = measurement_for(name, float(value), records, as_of)
            if m is not None:
                return f"{length_value(m)} on {dated(m.measured_on, records.edd)}"
        if name == "dilation_cm":
            exam = _latest_exam(records, as_of)
            if exam is not None:
                return f"{_number(value)} cm on {dated(exam.examined_on, records.edd)}"
        unit = next((u for suffix, u in _UNITS if _family(name).endswith(suffix)), "")
        return f"{_number(value)} {unit}".strip()
    return str(value)


def fact_words(name: str, value: Any, records: PregnancyRecords, as_of: dt.date) -> str:
    """A fact and its value: "previous spontaneous preterm birth before 34+0: yes", "GA 18+2"."""
    if name == _FIRED:
        return f"given by this guideline: {fact_value(name, value, records, as_of)}"
    words = fact_value(name, value, records, as_of)
    if name == "ga_days":
        return f"GA {words}"
    return f"{fact_label(name)}: {words}"


def facts_words(
    facts: Mapping[str, Any] | Iterable[tuple[str, Any]],
    records: PregnancyRecords,
    as_of: dt.date,
) -> list[str]:
    """Each fact of a recommendation in words, in the order given."""
    items = facts.items() if isinstance(facts, Mapping) else facts
    return [fact_words(name, value, records, as_of) for name, value in items]

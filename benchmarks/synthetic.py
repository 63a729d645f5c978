"""SYNTHETIC pregnancies for the benchmarks: seeded, realistic in shape, about no real person.

Every case is drawn from `random.Random(seed)`, so a seed always gives the same cases. A case is
one woman's current pregnancy on an assessment date (`as_of`), with

* an EDD (dating scan, sometimes preceded by an LMP-based EDD), a fetus count (about 2% twins;
  some counts unrecorded, some twins recorded only as a Condition);
* 0-3 previous pregnancies (live births at term and preterm, miscarriages including some
  mid-trimester losses, terminations, ectopics, the odd stillbirth), with gestation, onset,
  sometimes a cerclage and a fetus count; a few ended dates known only to the year;
* sometimes a LLETZ (with or without its depth), cone biopsy or trachelectomy, a uterine
  anomaly, Asherman, diagnosed cervical insufficiency, a caesarean at full dilatation;
* 0-4 cervical lengths this pregnancy, drawn from a normal distribution of mean 35.2 mm and
  SD 8.3 mm (Iams 1996, lengths at 24 weeks) clipped to 5-60 mm, mostly transvaginal;
* sometimes a cervical exam, a fetal fibronectin, a complication, a cerclage (and its
  removal), vaginal progesterone or 17-OHPC, and a patient's symptom report.

The same case is given two ways: (a) as `PregnancyRecords` (`SyntheticCase.records`), and (b)
as a FHIR R4 Bundle dict coded exactly as shared/clinical/fhir-mapping.md says (`to_bundle`),
with the things real senders add (displays, Patient name and identifier, dateTimes with an
offset, entries CervixWatch does not use such as weight and blood pressure, an LMP-based EDD
that a later scan supersedes, now and then an observation entered in error or a resolved
condition). Reading that bundle with `read_bundle(raw, case.as_of)` gives `case.records`
exactly: the benchmark checks this for every bundle it times.

Frequencies are plausible for an antenatal population with a preterm-birth clinic, not
estimates of any real one. This module is written independently of
`cervixwatch.interop.fhir_write`, so that the check above tests the reader against the mapping
rather than against its own inverse.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclagePlacement,
    CerclageRemoval,
    CerclageRoute,
    CervicalExam,
    CervicalExcision,
    CervicalLengthMeasurement,
    Complication,
    ComplicationRecord,
    ExcisionKind,
    FetalFibronectin,
    LengthMethod,
    MaternalCondition,
    Medication,
    MedicationOrder,
    Onset,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
    Symptom,
    SymptomReport,
)
from cervixwatch.cohort.draws import clip as _clip
from cervixwatch.cohort.draws import days as _days
from cervixwatch.cohort.draws import pick as _pick
from cervixwatch.cohort.parameters import IAMS_24W_MEAN_MM, IAMS_24W_SD_MM

#: Assessment dates are spread over the year from here.
FIRST_AS_OF = dt.date(2026, 1, 5)
DEFAULT_SEED = 20260

#: Cervical length this pregnancy: Iams JD et al., N Engl J Med 1996;334:567-72 (24 weeks).
LENGTH_MEAN_MM = IAMS_24W_MEAN_MM
LENGTH_SD_MM = IAMS_24W_SD_MM
LENGTH_MIN_MM = 5.0
LENGTH_MAX_MM = 60.0

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CW = "https://cervixwatch.org/fhir/CodeSystem/cervixwatch"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
EXCISION_DEPTH = "https://cervixwatch.org/fhir/StructureDefinition/excision-depth"
SYMPTOMS_QUESTIONNAIRE = "https://cervixwatch.org/fhir/Questionnaire/symptoms"
MRN_SYSTEM = "https://hospital.example.org/fhir/sid/mrn"

_GIVEN_NAMES = ("Ada", "Bea", "Cleo", "Dana", "Eve", "Fay", "Gia", "Hana", "Ines", "Jo")
_OFFSETS = ("Z", "+00:00", "+01:00", "+02:00", "-05:00", "+10:00")

_COMPLICATION_CODES: dict[Complication, tuple[str, str, str]] = {
    Complication.PRETERM_LABOUR: (SNOMED, "6383007", "Premature labor (finding)"),
    Complication.RUPTURED_MEMBRANES: (SNOMED, "44223004", "Premature rupture of membranes"),
    Complication.CHORIOAMNIONITIS: (CW, "chorioamnionitis", "Clinical chorioamnionitis"),
    Complication.VAGINAL_BLEEDING: (CW, "vaginal-bleeding", "Active vaginal bleeding"),
    Complication.FETAL_DEATH: (CW, "fetal-death", "Fetal death"),
    Complication.LETHAL_FETAL_ANOMALY: (CW, "lethal-fetal-anomaly", "Lethal fetal anomaly"),
    Complication.PLACENTA_PRAEVIA: (CW, "placenta-praevia", "Placenta praevia"),
}
#: (probability, earliest gestation in days at which it is plausible)
_COMPLICATION_RATES: dict[Complication, tuple[float, int]] = {
    Complication.PRETERM_LABOUR: (0.010, 22 * 7),
    Complication.RUPTURED_MEMBRANES: (0.008, 16 * 7),
    Complication.CHORIOAMNIONITIS: (0.002, 16 * 7),
    Complication.VAGINAL_BLEEDING: (0.010, 8 * 7),
    Complication.FETAL_DEATH: (0.001, 12 * 7),
    Complication.LETHAL_FETAL_ANOMALY: (0.001, 13 * 7),
    Complication.PLACENTA_PRAEVIA: (0.005, 20 * 7),
}
_MATERNAL_CONDITION_CODES: dict[MaternalCondition, tuple[str, str, str]] = {
    MaternalCondition.UTERINE_ANOMALY: (CW, "uterine-anomaly", "Uterine anomaly"),
    MaternalCondition.INTRAUTERINE_ADHESIONS: (CW, "intrauterine-adhesions", "Asherman"),
    MaternalCondition.CERVICAL_INSUFFICIENCY: (SNOMED, "17382005", "Cervical incompetence"),
}
_EXCISION_CODES = {
    ExcisionKind.LLETZ: ("lletz", "LLETZ"),
    ExcisionKind.CONE_BIOPSY: ("cone-biopsy", "Cone biopsy of cervix"),
    ExcisionKind.TRACHELECTOMY: ("trachelectomy", "Trachelectomy"),
}
_CERCLAGE_CODES = {
    CerclageRoute.TRANSVAGINAL: ("90442009", "Cerclage of cervix, vaginal approach"),
    CerclageRoute.TRANSABDOMINAL: ("46681009", "Cerclage of cervix, abdominal approach"),
    CerclageRoute.UNKNOWN: ("265636007", "Cerclage of cervix"),
}
_OUTCOME_DISPLAY = {
    PriorOutcome.LIVE_BIRTH: "Live birth",
    PriorOutcome.STILLBIRTH: "Stillbirth",
    PriorOutcome.MISCARRIAGE: "Miscarriage",
    PriorOutcome.TERMINATION: "Termination of pregnancy",
    PriorOutcome.ECTOPIC: "Ectopic pregnancy",
}
#: Probability that the patient answers "yes" to each symptom on a report.
_SYMPTOM_RATES = {
    Symptom.CRAMPING: 0.20,
    Symptom.BACKACHE: 0.25,
    Symptom.PELVIC_PRESSURE: 0.18,
    Symptom.SPOTTING: 0.08,
    Symptom.BLEEDING: 0.04,
    Symptom.FLUID_LEAK: 0.04,
    Symptom.DISCHARGE_CHANGE: 0.15,
    Symptom.CONTRACTIONS: 0.08,
    Symptom.FEVER: 0.02,
}


@dataclass(frozen=True, slots=True)
class SyntheticCase:
    """One synthetic pregnancy and the date it is assessed on."""

    records: PregnancyRecords
    as_of: dt.date


# --- Drawing records ------------------------------------------------------------------------


def _partial(rng: random.Random, day: dt.date, year_only: float, month_only: float) -> PartialDate:
    """A history date as a clinic might have it: sometimes only the year or year-month."""
    u = rng.random()
    if u < year_only:
        return PartialDate(day.year)
    if u < year_only + month_only:
        return PartialDate(day.year, day.month)
    return PartialDate(day.year, day.month, day.day)


def _prior_pregnancy(rng: random.Random, ended: dt.date, source_id: str) -> PriorPregnancy:
    outcome: PriorOutcome | None = _pick(
        rng,
        [
            PriorOutcome.LIVE_BIRTH,
            PriorOutcome.MISCARRIAGE,
            PriorOutcome.TERMINATION,
            PriorOutcome.ECTOPIC,
            PriorOutcome.STILLBIRTH,
        ],
        [74, 16, 5, 3, 2],
    )
    onset: Onset | None = None
    cerclage: CerclageIndication | None = None
    fetuses: int | None = None
    if outcome is PriorOutcome.LIVE_BIRTH:
        twins = rng.random() < 0.02
        preterm = rng.random() < (0.5 if twins else 0.1)
        if preterm:
            days = rng.randint(24 * 7, 36 * 7 + 6)
            onset = _pick(
                rng,
                [
                    Onset.SPONTANEOUS_LABOUR,
                    Onset.PPROM,
                    Onset.MEDICALLY_INDICATED,
                    Onset.PAINLESS_CERVICAL_DILATION,
                    Onset.UNKNOWN,
                ],
                [45, 28, 20, 3, 4],
            )
        else:
            days = rng.randint(37 * 7, 41 * 7 + 6)
            onset = _pick(rng, [Onset.SPONTANEOUS_LABOUR, Onset.MEDICALLY_INDICATED], [68, 32])
        fetuses = 2 if twins else (1 if rng.random() < 0.3 else None)
    elif outcome is PriorOutcome.STILLBIRTH:
        days = rng.randint(22 * 7, 40 * 7)
        onset = _pick(
            rng, [Onset.SPONTANEOUS_LABOUR, Onset.MEDICALLY_INDICATED, Onset.UNKNOWN], [40, 45, 15]
        )
    elif outcome is PriorOutcome.MISCARRIAGE:
        if rng.random() < 0.15:  # mid-trimester loss
            days = rng.randint(14 * 7, 23 * 7 + 6)
            onset = _pick(
                rng,
                [
                    Onset.PAINLESS_CERVICAL_DILATION,
                    Onset.SPONTANEOUS_LABOUR,
                    Onset.PPROM,
                    Onset.UNKNOWN,
                ],
                [25, 40, 20, 15],
            )
        else:
            days = rng.randint(6 * 7, 13 * 7 + 6)
    elif outcome is PriorOutcome.TERMINATION:
        days = rng.randint(6 * 7, 22 * 7)
    else:
        days = rng.randint(5 * 7, 10 * 7)
    if outcome in (PriorOutcome.LIVE_BIRTH, PriorOutcome.STILLBIRTH, PriorOutcome.MISCARRIAGE):
        early_end = 14 * 7 <= days < 34 * 7 and onset is not Onset.MEDICALLY_INDICATED
        if early_end and rng.random() < 0.08:
            cerclage = _pick(
                rng,
                [
                    CerclageIndication.HISTORY,
                    CerclageIndication.ULTRASOUND,
                    CerclageIndication.EXAM,
                    CerclageIndication.ABDOMINAL,
                ],
                [40, 35, 20, 5],
            )
    gestation: int | None = days
    if rng.random() < 0.03:
        gestation = None  # gestation at the end not recorded
    if rng.random() < 0.01:
        outcome = None  # outcome not recorded
    return PriorPregnancy(
        ended=None if rng.random() < 0.01 else _partial(rng, ended, 0.12, 0.04),
        outcome=outcome,
        gestation_days=gestation,
        onset=onset,
        cerclage=cerclage,
        fetuses=fetuses,
        source_id=source_id,
    )


def _is_sptb_or_mtl(p: PriorPregnancy) -> bool:
    if p.gestation_days is None or p.onset in (None, Onset.MEDICALLY_INDICATED, Onset.UNKNOWN):
        return False
    if p.outcome in (PriorOutcome.LIVE_BIRTH, PriorOutcome.STILLBIRTH):
        return p.gestation_days < 37 * 7
    return p.outcome is PriorOutcome.MISCARRIAGE and 14 * 7 <= p.gestation_days < 24 * 7


def synthetic_case(rng: random.Random, index: int) -> SyntheticCase:
    """Draw one synthetic pregnancy; `index` makes its identifiers unique."""
    pid = f"syn-{index:06d}"
    as_of = FIRST_AS_OF + _days(rng.randrange(365))
    ga_today = _pick(
        rng,
        [(8 * 7, 13 * 7 + 6), (14 * 7, 23 * 7 + 6), (24 * 7, 33 * 7 + 6), (34 * 7, 40 * 7)],
        [20, 45, 25, 10],
    )
    ga_days = rng.randint(*ga_today)
    edd = as_of + _days(280 - ga_days)
    start = edd - _days(280)

    def on_ga(days: int) -> dt.date:
        return start + _days(days)

    age_years = round(_clip(rng.gauss(31.0, 5.5), 16, 48))
    birth_date = as_of - _days(int(age_years * 365.25) + rng.randrange(365))

    r = rng.random()
    fetuses: int | None = 2 if r < 0.02 else (None if r < 0.06 else 1)

    # Previous pregnancies: end dates drawn back from this one, then listed oldest first.
    n_prior = _pick(rng, [0, 1, 2, 3], [40, 33, 18, 9])
    ends: list[dt.date] = []
    end = start - _days(rng.randint(120, 1500))
    for _ in range(n_prior):
        ends.append(end)
        end -= _days(rng.randint(200, 1400))
    priors = tuple(
        _prior_pregnancy(rng, ended, f"{pid}-prior-{i}") for i, ended in enumerate(reversed(ends))
    )
    high_risk_history = any(_is_sptb_or_mtl(p) for p in priors)

    excisions: list[CervicalExcision] = []
    u = rng.random()
    if u < 0.06:
        for _ in range(2 if rng.random() < 0.12 else 1):
            depth = round(_clip(rng.gauss(9.0, 3.0), 4.0, 25.0) * 2) / 2
            done = start - _days(rng.randint(300, 5000))
            excisions.append(
                CervicalExcision(
                    ExcisionKind.LLETZ,
                    depth if rng.random() < 0.75 else None,
                    _partial(rng, done, 0.1, 0.0),
                    f"{pid}-excision-{len(excisions)}",
                )
            )
    elif u < 0.068:
        done = start - _days(rng.randint(300, 7000))
        excisions.append(
            CervicalExcision(
                ExcisionKind.CONE_BIOPSY, None, PartialDate(done.year), f"{pid}-excision-0"
            )
        )
    elif u < 0.069:
        done = start - _days(rng.randint(300, 3000))
        excisions.append(
            CervicalExcision(
                ExcisionKind.TRACHELECTOMY,
                None,
                PartialDate(done.year, done.month, done.day),
                f"{pid}-excision-0",
            )
        )

    maternal: set[MaternalCondition] = set()
    if rng.random() < 0.015:
        maternal.add(MaternalCondition.UTERINE_ANOMALY)
    if rng.random() < 0.005:
        maternal.add(MaternalCondition.INTRAUTERINE_ADHESIONS)
    if rng.random() < (0.04 if high_risk_history else 0.003):
        maternal.add(MaternalCondition.CERVICAL_INSUFFICIENCY)
    term_birth = any(
        p.outcome is PriorOutcome.LIVE_BIRTH and (p.gestation_days or 0) >= 37 * 7 for p in priors
    )
    if term_birth and rng.random() < 0.02:
        maternal.add(MaternalCondition.CAESAREAN_AT_FULL_DILATATION)

    # This pregnancy's cervical lengths, 14+0 to 34+0 and on or before today.
    at_risk = high_risk_history or bool(excisions) or bool(maternal)
    lengths: list[CervicalLengthMeasurement] = []
    low, high = 14 * 7, min(ga_days, 34 * 7)
    if high >= low:
        count = _pick(rng, [0, 1, 2, 3, 4], [10, 25, 30, 20, 15] if at_risk else [45, 40, 10, 4, 1])
        count = min(count, high - low + 1)
        measured_at = sorted(rng.sample(range(low, high + 1), count))
        if measured_at and rng.random() < 0.4:
            measured_at[-1] = ga_days if ga_days <= high else measured_at[-1]
            measured_at = sorted(set(measured_at))
        length = _clip(rng.gauss(LENGTH_MEAN_MM, LENGTH_SD_MM), LENGTH_MIN_MM, LENGTH_MAX_MM)
        for i, days in enumerate(measured_at):
            if i:  # serial lengths of one cervix: close to the last one, shortening a little
                length = _clip(length + rng.gauss(-0.8, 3.0), LENGTH_MIN_MM, LENGTH_MAX_MM)
            method = (
                LengthMethod.TRANSABDOMINAL if rng.random() < 0.1 else LengthMethod.TRANSVAGINAL
            )
            lengths.append(
                CervicalLengthMeasurement(on_ga(days), round(length, 1), method, f"{pid}-cl-{i}")
            )
    tv_lengths = [m for m in lengths if m.method is LengthMethod.TRANSVAGINAL]
    short_before_24 = [
        m for m in tv_lengths if m.length_mm < 25 and (m.measured_on - start).days < 24 * 7
    ]

    # An exam: one Observation (and one CervicalExam) per finding, as a clinic records it.
    exams: list[CervicalExam] = []
    if ga_days >= 16 * 7 and rng.random() < (0.25 if short_before_24 else 0.06):
        day = as_of if rng.random() < 0.6 else as_of - _days(rng.randint(1, 14))
        dilation = 0.0 if rng.random() < 0.8 else rng.randint(1, 8) / 2
        exams.append(CervicalExam(day, dilation_cm=dilation, source_id=f"{pid}-dilation"))
        if rng.random() < 0.4:
            effacement = float(rng.randrange(0, 100, 10))
            exams.append(
                CervicalExam(day, effacement_percent=effacement, source_id=f"{pid}-effacement")
            )
        if rng.random() < 0.85:
            exposed = dilation >= 2 and rng.random() < 0.3
            exams.append(CervicalExam(day, membranes_exposed=exposed, source_id=f"{pid}-membranes"))

    fibronectin: list[FetalFibronectin] = []
    if 22 * 7 <= ga_days <= 34 * 7 and rng.random() < 0.03:
        day = as_of - _days(rng.randint(0, 3))
        if rng.random() < 0.5:
            ng = float(
                _pick(rng, [5, 10, 25, 40, 60, 120, 250, 500], [20, 20, 15, 10, 10, 10, 10, 5])
            )
            fibronectin.append(FetalFibronectin(day, ng_per_ml=ng, source_id=f"{pid}-ffn"))
        else:
            fibronectin.append(
                FetalFibronectin(day, positive=rng.random() < 0.15, source_id=f"{pid}-ffn")
            )

    complications = [
        ComplicationRecord(c, as_of - _days(rng.randint(0, 2)), None, f"{pid}-{c.value}")
        for c, (rate, from_days) in _COMPLICATION_RATES.items()
        if ga_days >= from_days and rng.random() < rate
    ]

    # Cerclage this pregnancy: history-, ultrasound- or exam-indicated, or now and then any.
    placements: list[CerclagePlacement] = []
    removals: list[CerclageRemoval] = []
    placed: tuple[int, CerclageIndication] | None = None
    if high_risk_history and ga_days >= 14 * 7 and rng.random() < 0.25:
        placed = (rng.randint(12 * 7, 14 * 7), CerclageIndication.HISTORY)
    elif short_before_24 and rng.random() < 0.3:
        first_short = (short_before_24[0].measured_on - start).days
        when = first_short + rng.randint(1, 7)
        if when <= min(ga_days, 24 * 7 - 1):
            placed = (when, CerclageIndication.ULTRASOUND)
    elif exams and (exams[0].dilation_cm or 0) >= 1 and ga_days < 24 * 7 and rng.random() < 0.3:
        placed = ((exams[0].examined_on - start).days, CerclageIndication.EXAM)
    elif ga_days >= 14 * 7 and rng.random() < 0.002:
        placed = (rng.randint(12 * 7, 14 * 7), CerclageIndication.HISTORY)
    if placed is not None:
        route = _pick(
            rng,
            [CerclageRoute.TRANSVAGINAL, CerclageRoute.TRANSABDOMINAL, CerclageRoute.UNKNOWN],
            [93, 3, 4],
        )
        indication = None if rng.random() < 0.05 else placed[1]
        placements.append(CerclagePlacement(on_ga(placed[0]), route, indication, f"{pid}-cerclage"))
        removal_ga = rng.randint(36 * 7, 37 * 7)
        if any(c.complication is Complication.PRETERM_LABOUR for c in complications):
            removal_ga = max(placed[0] + 1, ga_days - rng.randint(0, 2))
        if route is not CerclageRoute.TRANSABDOMINAL and removal_ga <= ga_days:
            removals.append(CerclageRemoval(on_ga(removal_ga), f"{pid}-cerclage-removal"))

    medications: list[MedicationOrder] = []
    wants_progesterone = high_risk_history or bool(short_before_24)
    if ga_days >= 16 * 7 and rng.random() < (0.5 if wants_progesterone else 0.015):
        started = None if rng.random() < 0.1 else on_ga(rng.randint(16 * 7, ga_days))
        medications.append(
            MedicationOrder(Medication.VAGINAL_PROGESTERONE, started, f"{pid}-progesterone")
        )
    if high_risk_history and ga_days >= 16 * 7 and rng.random() < 0.02:
        medications.append(
            MedicationOrder(
                Medication.HYDROXYPROGESTERONE_CAPROATE,
                on_ga(rng.randint(16 * 7, min(ga_days, 20 * 7))),
                f"{pid}-17ohpc",
            )
        )

    reports: list[SymptomReport] = []
    n_reports = _pick(rng, [0, 1, 2], [88, 10, 2])
    for i in range(n_reports):
        back = _pick(rng, [0, 1, rng.randint(2, 30)], [50, 20, 30])
        present: set[Symptom] = set()
        absent: set[Symptom] = set()
        for symptom, rate in _SYMPTOM_RATES.items():
            if rng.random() < 0.1:
                continue  # left unanswered
            (present if rng.random() < rate else absent).add(symptom)
        reports.append(
            SymptomReport(
                as_of - _days(back), frozenset(present), frozenset(absent), f"{pid}-symptoms-{i}"
            )
        )

    no_edd = rng.random() < 0.005
    records = PregnancyRecords(
        patient_id=pid,
        edd=None if no_edd else edd,
        fetuses=fetuses,
        birth_date=birth_date,
        prior_pregnancies=priors,
        excisions=tuple(excisions),
        maternal_conditions=frozenset(maternal),
        cervical_lengths=tuple(lengths),
        exams=tuple(exams),
        fibronectin=tuple(fibronectin),
        complications=tuple(complications),
        cerclage_placements=tuple(placements),
        cerclage_removals=tuple(removals),
        medications=tuple(medications),
        symptom_reports=tuple(reports),
    )
    return SyntheticCase(records, as_of)


def synthetic_cases(n: int, seed: int = DEFAULT_SEED) -> list[SyntheticCase]:
    """`n` synthetic pregnancies, the same for the same seed."""
    rng = random.Random(seed)
    return [synthetic_case(rng, i) for i in range(n)]


# --- Writing them as FHIR R4 --------------------------------------------------------------


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [_coding(system, code, display)]}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _number(value: float) -> float | int:
    """Whole numbers as JSON integers ("22", not "22.0"), as most senders write them."""
    return int(value) if float(value).is_integer() else value


class _BundleWriter:
    """Builds one synthetic Bundle; rendering choices come from `rng`."""

    def __init__(self, rng: random.Random, case: SyntheticCase) -> None:
        self.rng = rng
        self.case = case
        self.pid = case.records.patient_id
        self.entries: list[dict[str, Any]] = []
        self.patient_url = self._uuid()

    def _uuid(self) -> str:
        return f"urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def subject(self) -> dict[str, Any]:
        # Mostly a relative reference; sometimes the Patient's fullUrl (both are in the contract).
        if self.rng.random() < 0.15:
            return {"reference": self.patient_url}
        return {"reference": f"Patient/{self.pid}"}

    def when(self, day: dt.date) -> str:
        """A date, or a dateTime on that local day with a UTC offset."""
        if self.rng.random() < 0.7:
            return day.isoformat()
        hour, minute = self.rng.randint(8, 17), self.rng.choice((0, 15, 30, 45))
        offset = self.rng.choice(_OFFSETS)
        return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00{offset}"

    def add(self, resource: dict[str, Any], url: str | None = None) -> None:
        self.entries.append({"fullUrl": url or self._uuid(), "resource": resource})

    def observation(
        self, rid: str, code: dict[str, Any], day: dt.date | None, **values: Any
    ) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": code,
            "subject": self.subject(),
        }
        if day is not None:
            resource["effectiveDateTime"] = self.when(day)
        resource.update(values)
        self.add(resource)
        return resource

    def condition(
        self,
        rid: str,
        code: tuple[str, str, str],
        onset: dt.date | None,
        category: str,
        status: str = "active",
    ) -> None:
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": rid,
            "clinicalStatus": _concept(CONDITION_CLINICAL, status),
            "verificationStatus": _concept(CONDITION_VERIFICATION, "confirmed"),
            "category": [_concept(CONDITION_CATEGORY, category)],
            "code": _concept(*code),
            "subject": self.subject(),
        }
        if onset is not None:
            resource["onsetDateTime"] = self.when(onset)
        self.add(resource)

    def procedure(
        self, rid: str, code: dict[str, Any], performed: str | None, **more: Any
    ) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "Procedure",
            "id": rid,
            "status": "completed",
            "code": code,
            "subject": self.subject(),
        }
        if performed is not None:
            resource["performedDateTime"] = performed
        resource.update(more)
        self.add(resource)
        return resource


def _dating(w: _BundleWriter, records: PregnancyRecords, as_of: dt.date) -> dt.date:
    """EDD and fetus count, dated at the dating scan (or booking if she is not there yet)."""
    rng = w.rng
    edd = records.edd
    start = (edd or as_of) - _days(280)
    scan_day = min(as_of, start + _days(rng.randint(77, 97)))
    if edd is not None:
        if rng.random() < 0.3:  # booking EDD from the LMP, superseded by the scan
            booked = scan_day - _days(rng.randint(7, 28))
            w.observation(
                f"{w.pid}-edd-lmp",
                _concept(LOINC, "11779-6", "Delivery date Estimated from last menstrual period"),
                booked,
                valueDateTime=(edd + _days(rng.choice((-9, -6, -4, 3, 5, 8)))).isoformat(),
            )
        w.observation(
            f"{w.pid}-edd",
            _concept(LOINC, "11778-8", "Delivery date Estimated"),
            scan_day,
            valueDateTime=edd.isoformat(),
        )
    fetus_count = _concept(LOINC, "11878-6", "Number of fetuses by US")
    if records.fetuses is not None:
        twin_condition_only = records.fetuses == 2 and rng.random() < 0.3
        if not twin_condition_only:
            if rng.random() < 0.9:
                w.observation(
                    f"{w.pid}-fetuses", fetus_count, scan_day, valueInteger=records.fetuses
                )
            else:
                w.observation(
                    f"{w.pid}-fetuses",
                    fetus_count,
                    scan_day,
                    valueQuantity={"value": records.fetuses, "unit": "{#}", "system": UCUM},
                )
        if records.fetuses == 2 and (twin_condition_only or rng.random() < 0.5):
            w.condition(
                f"{w.pid}-twins",
                (SNOMED, "65147003", "Twin pregnancy"),
                scan_day,
                "problem-list-item",
            )
    return scan_day


def _prior(w: _BundleWriter, p: PriorPregnancy) -> None:
    rng = w.rng
    components: list[dict[str, Any]] = []
    if p.gestation_days is not None:
        if rng.random() < 0.7:
            ga_value = _quantity(round(p.gestation_days / 7, 3), "wk")
        else:
            ga_value = _quantity(p.gestation_days, "d")
        components.append(
            {
                "code": _concept(LOINC, "11884-4", "Gestational age Estimated"),
                "valueQuantity": ga_value,
            }
        )
    if p.onset is not None:
        onset = (
            _concept(SNOMED, "17382005")
            if p.onset is Onset.PAINLESS_CERVICAL_DILATION and rng.random() < 0.2
            else _concept(CW, p.onset.value)
        )
        components.append({"code": _concept(CW, "onset", "Onset"), "valueCodeableConcept": onset})
    if p.cerclage is not None:
        components.append(
            {
                "code": _concept(CW, "cerclage", "Cerclage in that pregnancy"),
                "valueCodeableConcept": _concept(CW, p.cerclage.value),
            }
        )
    if p.fetuses is not None:
        components.append(
            {"code": _concept(LOINC, "11878-6", "Number of fetuses"), "valueInteger": p.fetuses}
        )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": p.source_id,
        "status": "final",
        "code": _concept(CW, "prior-pregnancy", "Previous pregnancy"),
        "subject": w.subject(),
    }
    if p.ended is not None:
        resource["effectiveDateTime"] = str(p.ended)
    if p.outcome is not None:
        resource["valueCodeableConcept"] = _concept(
            CW, p.outcome.value, _OUTCOME_DISPLAY[p.outcome]
        )
    if components:
        resource["component"] = components
    w.add(resource)


def _length(w: _BundleWriter, m: CervicalLengthMeasurement, status: str = "final") -> None:
    rng = w.rng
    if rng.random() < 0.1:
        value = _quantity(_number(round(m.length_mm / 10, 2)), "cm")
    else:
        value = _quantity(_number(m.length_mm), "mm")
    extra: dict[str, Any] = {"valueQuantity": value}
    if m.method is LengthMethod.TRANSABDOMINAL:
        extra["method"] = _concept(CW, "transabdominal", "Transabdominal")
    else:
        u = rng.random()
        if u < 0.85:
            extra["method"] = _concept(SNOMED, "54300008", "Trans-vaginal")
        elif u < 0.95:
            extra["method"] = _concept(SNOMED, "278292003", "Ultrasound")
        # else: no method, read as transvaginal
    resource = w.observation(
        m.source_id or "cl",
        _concept(LOINC, "11961-0", "Cervix [Length] by US"),
        m.measured_on,
        category=[_concept(OBSERVATION_CATEGORY, "imaging")],
        **extra,
    )
    resource["status"] = status


def _exam(w: _BundleWriter, e: CervicalExam) -> None:
    rid = e.source_id or "exam"
    if e.dilation_cm is not None:
        w.observation(
            rid,
            _concept(LOINC, "11786-1", "Cervical canal internal os Diameter palpation"),
            e.examined_on,
            valueQuantity=_quantity(_number(e.dilation_cm), "cm"),
        )
    elif e.effacement_percent is not None:
        w.observation(
            rid,
            _concept(LOINC, "11867-9", "Cervix effacement"),
            e.examined_on,
            valueQuantity=_quantity(_number(e.effacement_percent), "%"),
        )
    elif e.membranes_exposed is not None:
        w.observation(
            rid,
            _concept(CW, "membranes-exposed", "Membranes visible at or through the os"),
            e.examined_on,
            valueBoolean=e.membranes_exposed,
        )


def _fibronectin(w: _BundleWriter, f: FetalFibronectin) -> None:
    rid = f.source_id or "ffn"
    if f.ng_per_ml is not None:
        w.observation(
            rid,
            _concept(LOINC, "20403-2", "Fibronectin.fetal [Mass/volume] in Vaginal fluid"),
            f.tested_on,
            valueQuantity=_quantity(_number(f.ng_per_ml), "ng/mL"),
        )
    else:
        result = (
            _concept(SNOMED, "10828004", "Positive")
            if f.positive
            else _concept(SNOMED, "260385009", "Negative")
        )
        w.observation(
            rid,
            _concept(LOINC, "20404-0", "Fibronectin.fetal [Presence] in Vaginal fluid"),
            f.tested_on,
            valueCodeableConcept=result,
        )


def _noise(w: _BundleWriter, as_of: dt.date, scan_day: dt.date) -> None:
    """Resources a real summary carries that CervixWatch reads past: weight, blood pressure,
    now and then a resolved condition."""
    rng = w.rng
    if rng.random() < 0.6:
        w.observation(
            f"{w.pid}-weight",
            _concept(LOINC, "29463-7", "Body weight"),
            scan_day,
            category=[_concept(OBSERVATION_CATEGORY, "vital-signs")],
            valueQuantity=_quantity(round(_clip(rng.gauss(70, 13), 42, 150), 1), "kg"),
        )
    if rng.random() < 0.6:
        systolic, diastolic = rng.randint(95, 140), rng.randint(55, 90)
        w.observation(
            f"{w.pid}-bp",
            _concept(LOINC, "85354-9", "Blood pressure panel"),
            as_of - _days(rng.randint(0, 28)),
            category=[_concept(OBSERVATION_CATEGORY, "vital-signs")],
            component=[
                {
                    "code": _concept(LOINC, "8480-6", "Systolic blood pressure"),
                    "valueQuantity": _quantity(systolic, "mm[Hg]"),
                },
                {
                    "code": _concept(LOINC, "8462-4", "Diastolic blood pressure"),
                    "valueQuantity": _quantity(diastolic, "mm[Hg]"),
                },
            ],
        )
    if rng.random() < 0.03:
        w.condition(
            f"{w.pid}-resolved-bleeding",
            (CW, "vaginal-bleeding", "Active vaginal bleeding"),
            scan_day,
            "encounter-diagnosis",
            status="resolved",
        )


def to_bundle(case: SyntheticCase, rng: random.Random) -> dict[str, Any]:
    """The case as a FHIR R4 Bundle (dict), coded as shared/clinical/fhir-mapping.md says."""
    records, as_of = case.records, case.as_of
    w = _BundleWriter(rng, case)
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": w.pid,
        "identifier": [{"system": MRN_SYSTEM, "value": f"MRN{w.pid[4:]}"}],
        "name": [{"family": "Synthetic", "given": [rng.choice(_GIVEN_NAMES)]}],
        "gender": "female",
    }
    if records.birth_date is not None:
        patient["birthDate"] = records.birth_date.isoformat()
    w.add(patient, w.patient_url)

    scan_day = _dating(w, records, as_of)
    for p in records.prior_pregnancies:
        _prior(w, p)
    for e in records.excisions:
        code_value, display = _EXCISION_CODES[e.kind]
        code = _concept(CW, code_value, display)
        if e.kind is not ExcisionKind.TRACHELECTOMY and rng.random() < 0.3:
            code["coding"].append(_coding(SNOMED, "19866007", "Excision of cervix"))
        more: dict[str, Any] = {}
        if e.depth_mm is not None:
            more["extension"] = [
                {"url": EXCISION_DEPTH, "valueQuantity": _quantity(_number(e.depth_mm), "mm")}
            ]
        w.procedure(
            e.source_id or "excision", code, str(e.performed) if e.performed else None, **more
        )
    for condition in sorted(records.maternal_conditions):
        if condition is MaternalCondition.CAESAREAN_AT_FULL_DILATATION:
            w.procedure(
                f"{w.pid}-cs-full",
                _concept(CW, "caesarean-full-dilatation", "Caesarean at full dilatation"),
                str(PartialDate(as_of.year - rng.randint(2, 6))),
            )
        else:
            w.condition(
                f"{w.pid}-{condition.value}",
                _MATERNAL_CONDITION_CODES[condition],
                None,
                "problem-list-item",
            )
    for m in records.cervical_lengths:
        if rng.random() < 0.02:  # a mistyped length, entered in error and re-entered
            typo = CervicalLengthMeasurement(m.measured_on, 3.5, m.method, f"{m.source_id}-x")
            _length(w, typo, status="entered-in-error")
        _length(w, m)
    for exam in records.exams:
        _exam(w, exam)
    for f in records.fibronectin:
        _fibronectin(w, f)
    for complication in records.complications:
        w.condition(
            complication.source_id or f"{w.pid}-{complication.complication.value}",
            _COMPLICATION_CODES[complication.complication],
            complication.noted_on,
            "encounter-diagnosis",
        )
    for c in records.cerclage_placements:
        code_value, display = _CERCLAGE_CODES[c.route]
        more = {}
        if c.indication is not None:
            more["reasonCode"] = [_concept(CW, c.indication.value)]
        w.procedure(
            c.source_id or "cerclage",
            _concept(SNOMED, code_value, display),
            w.when(c.placed_on),
            **more,
        )
    for removal in records.cerclage_removals:
        w.procedure(
            removal.source_id or "cerclage-removal",
            _concept(CW, "cerclage-removal", "Removal of cerclage"),
            w.when(removal.removed_on),
        )
    for order in records.medications:
        request: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "id": order.source_id,
            "status": "active",
            "intent": "order",
            "subject": w.subject(),
        }
        if order.medication is Medication.VAGINAL_PROGESTERONE and rng.random() < 0.3:
            request["medicationCodeableConcept"] = _concept(
                RXNORM, "312641", "progesterone 200 MG Oral Capsule"
            )
            dosage: dict[str, Any] = {
                "text": "200 mg vaginally at night",
                "route": _concept(SNOMED, "16857009", "Vaginal route"),
            }
        else:
            request["medicationCodeableConcept"] = _concept(CW, order.medication.value)
            dosage = {"text": "as prescribed"}
        request["dosageInstruction"] = [dosage]
        if order.started_on is not None:
            request["authoredOn"] = order.started_on.isoformat()
        w.add(request)
    for report in records.symptom_reports:
        items = [
            {"linkId": s.value, "answer": [{"valueBoolean": s in report.present}]}
            for s in Symptom
            if s in report.present or s in report.absent
        ]
        questionnaire = SYMPTOMS_QUESTIONNAIRE + ("|1.0" if rng.random() < 0.2 else "")
        response: dict[str, Any] = {
            "resourceType": "QuestionnaireResponse",
            "id": report.source_id,
            "questionnaire": questionnaire,
            "status": "completed",
            "subject": w.subject(),
            "authored": report.reported_on.isoformat(),
        }
        if items:
            response["item"] = items
        w.add(response)
    _noise(w, as_of, scan_day)

    bundle_type = _pick(rng, ["collection", "searchset", "transaction"], [60, 25, 15])
    if bundle_type == "searchset":
        for entry in w.entries:
            entry["search"] = {"mode": "match"}
    elif bundle_type == "transaction":
        for entry in w.entries:
            entry["request"] = {"method": "POST", "url": entry["resource"]["resourceType"]}
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "meta": {"lastUpdated": f"{as_of.isoformat()}T07:00:00Z"},
        "type": bundle_type,
        "timestamp": f"{as_of.isoformat()}T07:00:00Z",
    }
    if bundle_type == "searchset":
        bundle["total"] = len(w.entries)
    bundle["entry"] = w.entries
    return bundle


def synthetic_bundles(
    cases: Sequence[SyntheticCase], seed: int = DEFAULT_SEED
) -> list[dict[str, Any]]:
    """Each case as a FHIR R4 Bundle dict; rendering choices are seeded too."""
    rng = random.Random(seed + 1)
    return [to_bundle(case, rng) for case in cases]

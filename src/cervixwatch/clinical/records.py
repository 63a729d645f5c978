"""The plain clinical records of one pregnancy: what every input becomes.

Pure, typed and immutable. Parsers at the edges (FHIR, forms, DICOM SR, HL7 v2) build these;
`assess` reads them. Dates are `datetime.date` in the clinic's local calendar. A value that was
not recorded is `None` (unknown), never a default that looks normal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class PriorOutcome(StrEnum):
    """How a previous pregnancy ended (`CW#live-birth` ...)."""

    LIVE_BIRTH = "live-birth"
    STILLBIRTH = "stillbirth"
    MISCARRIAGE = "miscarriage"
    TERMINATION = "termination"
    ECTOPIC = "ectopic"


class Onset(StrEnum):
    """How a previous birth or loss started (`CW#onset`)."""

    SPONTANEOUS_LABOUR = "spontaneous-labour"
    PPROM = "pprom"
    PAINLESS_CERVICAL_DILATION = "painless-cervical-dilation"
    MEDICALLY_INDICATED = "medically-indicated"
    UNKNOWN = "unknown"


class CerclageIndication(StrEnum):
    """Why a cerclage was placed; `abdominal` names the route, used in obstetric history."""

    HISTORY = "history-indicated"
    ULTRASOUND = "ultrasound-indicated"
    EXAM = "exam-indicated"
    ABDOMINAL = "abdominal"


class CerclageRoute(StrEnum):
    TRANSVAGINAL = "transvaginal"
    TRANSABDOMINAL = "transabdominal"
    #: Coded only as "cerclage of cervix": the route decides removal at 36 weeks, so it stays
    #: unknown rather than assumed.
    UNKNOWN = "unknown"


class LengthMethod(StrEnum):
    """Approach of a cervical-length scan; guideline decisions use transvaginal only."""

    TRANSVAGINAL = "transvaginal"
    TRANSABDOMINAL = "transabdominal"
    #: Any other approach (e.g. transperineal): recorded, never used for decisions.
    OTHER = "other"


class ExcisionKind(StrEnum):
    LLETZ = "lletz"
    CONE_BIOPSY = "cone-biopsy"
    TRACHELECTOMY = "trachelectomy"


class Complication(StrEnum):
    """Active complications of this pregnancy."""

    PRETERM_LABOUR = "preterm-labour"
    RUPTURED_MEMBRANES = "ruptured-membranes"
    CHORIOAMNIONITIS = "chorioamnionitis"
    VAGINAL_BLEEDING = "vaginal-bleeding"
    FETAL_DEATH = "fetal-death"
    LETHAL_FETAL_ANOMALY = "lethal-fetal-anomaly"
    PLACENTA_PRAEVIA = "placenta-praevia"


class MaternalCondition(StrEnum):
    """Lasting conditions of the mother that bear on preterm-birth risk."""

    UTERINE_ANOMALY = "uterine-anomaly"
    INTRAUTERINE_ADHESIONS = "intrauterine-adhesions"
    CERVICAL_INSUFFICIENCY = "cervical-insufficiency"
    CAESAREAN_AT_FULL_DILATATION = "caesarean-full-dilatation"


class Medication(StrEnum):
    VAGINAL_PROGESTERONE = "vaginal-progesterone"
    HYDROXYPROGESTERONE_CAPROATE = "hydroxyprogesterone-caproate"


class Symptom(StrEnum):
    """Symptoms a patient can report (linkIds of the symptoms questionnaire)."""

    CRAMPING = "cramping"
    BACKACHE = "backache"
    PELVIC_PRESSURE = "pelvic-pressure"
    SPOTTING = "spotting"
    BLEEDING = "bleeding"
    FLUID_LEAK = "fluid-leak"
    DISCHARGE_CHANGE = "discharge-change"
    CONTRACTIONS = "contractions"
    FEVER = "fever"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A history date that may be known only to the year or month ("2021")."""

    year: int
    month: int | None = None
    day: int | None = None

    def earliest(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    def __str__(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True, slots=True)
class PriorPregnancy:
    """One previous pregnancy. `gestation_days` is the gestational age when it ended."""

    ended: PartialDate | None
    outcome: PriorOutcome | None
    gestation_days: int | None
    onset: Onset | None
    cerclage: CerclageIndication | None = None
    fetuses: int | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class CervicalExcision:
    """LLETZ, cone biopsy or trachelectomy; `depth_mm` is the excision depth when known."""

    kind: ExcisionKind
    depth_mm: float | None = None
    performed: PartialDate | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class CervicalLengthMeasurement:
    """A cervical length in mm on ultrasound: the shortest of the acceptable images."""

    measured_on: dt.date
    length_mm: float
    method: LengthMethod = LengthMethod.TRANSVAGINAL
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class CervicalExam:
    """A pelvic (digital or speculum) examination finding; any part may be unrecorded."""

    examined_on: dt.date
    dilation_cm: float | None = None
    effacement_percent: float | None = None
    membranes_exposed: bool | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class FetalFibronectin:
    """Fetal fibronectin: quantitative (ng/mL) or qualitative (positive/negative)."""

    tested_on: dt.date
    ng_per_ml: float | None = None
    positive: bool | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class CerclagePlacement:
    placed_on: dt.date
    route: CerclageRoute
    indication: CerclageIndication | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class CerclageRemoval:
    removed_on: dt.date
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class MedicationOrder:
    """An active medication order of this pregnancy."""

    medication: Medication
    started_on: dt.date | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class SymptomReport:
    """A patient's symptom report: the symptoms she answered yes and no to."""

    reported_on: dt.date
    present: frozenset[Symptom]
    absent: frozenset[Symptom] = frozenset()
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class PregnancyRecords:
    """Everything known about one woman and her current pregnancy, as of some date.

    `edd` is the estimated due date; without it no gestational age can be computed.
    `fetuses` is None when no count was recorded (taken as singleton, reported as missing).
    """

    patient_id: str
    edd: dt.date | None = None
    fetuses: int | None = None
    birth_date: dt.date | None = None
    prior_pregnancies: tuple[PriorPregnancy, ...] = ()
    excisions: tuple[CervicalExcision, ...] = ()
    maternal_conditions: frozenset[MaternalCondition] = frozenset()
    cervical_lengths: tuple[CervicalLengthMeasurement, ...] = ()
    exams: tuple[CervicalExam, ...] = ()
    fibronectin: tuple[FetalFibronectin, ...] = ()
    complications: frozenset[Complication] = frozenset()
    cerclage_placements: tuple[CerclagePlacement, ...] = ()
    cerclage_removals: tuple[CerclageRemoval, ...] = ()
    medications: tuple[MedicationOrder, ...] = ()
    symptom_reports: tuple[SymptomReport, ...] = ()
    notes: tuple[str, ...] = field(default=())

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
    """Complications of this pregnancy (each dated: `ComplicationRecord`)."""

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


class DatingMethod(StrEnum):
    """How the EDD was worked out: each has its own LOINC code for the EDD it gives
    (standards.md: 11779-6 from the last menstrual period, 11780-4 from the ovulation date,
    as after an embryo transfer, 11781-2 from the average ultrasound age). Recorded and shown;
    no rule of the profiles reads it."""

    LAST_MENSTRUAL_PERIOD = "last-menstrual-period"
    ULTRASOUND = "ultrasound"
    OVULATION_DATE = "ovulation-date"


class Chorionicity(StrEnum):
    """How a twin pregnancy's placentas and sacs are shared, as the dating scan reports it.
    Only the two with a verified SNOMED CT code (standards.md) are kept; no rule of the
    profiles uses it (docs/clinical-interpretations.md, V11): it is recorded and shown."""

    DICHORIONIC_DIAMNIOTIC = "dichorionic-diamniotic"
    MONOCHORIONIC = "monochorionic"


class Medication(StrEnum):
    VAGINAL_PROGESTERONE = "vaginal-progesterone"
    HYDROXYPROGESTERONE_CAPROATE = "hydroxyprogesterone-caproate"


class ReviewOutcome(StrEnum):
    """What a clinician's review of a symptom report concluded (CD-07; fhir-mapping.md,
    "A review of a symptom report": Task.businessStatus)."""

    SEEN_IN_TRIAGE = "seen-in-triage"
    ADVISED_BY_PHONE = "advised-by-phone"
    ADMITTED = "admitted"
    NO_ACTION_NEEDED = "no-action-needed"


class DeclinableCode(StrEnum):
    """Recommendations a woman can decline, by their recommendation code (DESIGN.md).

    A declined offer is recorded with its date; the assessment then shows the recommendation as
    `declined` instead of a task, until a rule fires it on newer findings (profiles.md, "The
    course of care")."""

    VAGINAL_PROGESTERONE = "vaginal-progesterone"
    HISTORY_INDICATED_CERCLAGE = "history-indicated-cerclage"
    ULTRASOUND_INDICATED_CERCLAGE = "ultrasound-indicated-cerclage"
    EXAM_INDICATED_CERCLAGE = "exam-indicated-cerclage"
    ABDOMINAL_CERCLAGE = "consider-abdominal-cerclage"
    SERIAL_CERVICAL_LENGTH = "serial-cervical-length"
    SINGLE_CERVICAL_LENGTH_SCREEN = "single-cervical-length-screen"
    REFERRAL = "refer-preterm-birth-clinic"
    CERCLAGE_REMOVAL = "remove-cerclage"


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
    #: Set when the pregnancy is known only from a count in a summary (e.g. IPS LOINC 11637-6
    #: "preterm births: 1"): the words of that count ("preterm birth"), so the assessment can
    #: ask for the details instead of reading the missing outcome, gestation or onset as none.
    counted_as: str | None = None


@dataclass(frozen=True, slots=True)
class CervicalExcision:
    """LLETZ, cone biopsy or trachelectomy; `depth_mm` is the excision depth when known."""

    kind: ExcisionKind
    depth_mm: float | None = None
    performed: PartialDate | None = None
    source_id: str | None = None


class LengthComparator(StrEnum):
    """A length reported as a bound (FHIR `valueQuantity.comparator`): "<10 mm"."""

    BELOW = "<"
    AT_MOST = "<="
    AT_LEAST = ">="
    ABOVE = ">"


@dataclass(frozen=True, slots=True)
class CervicalLengthMeasurement:
    """A cervical length in mm on ultrasound: the shortest of the acceptable images.

    With a `comparator` the length is a bound: "<10 mm" is under 10 mm and counts as short
    wherever 10 mm would; ">30 mm" or ">=30 mm" is never counted as short (facts.py).
    """

    measured_on: dt.date
    length_mm: float
    method: LengthMethod = LengthMethod.TRANSVAGINAL
    source_id: str | None = None
    comparator: LengthComparator | None = None


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
class ComplicationRecord:
    """A complication of this pregnancy with the dates it was noted and resolved.

    It counts on a day D only while active: noted on or before D (an undated one counts from
    the start) and not resolved by D (CD-06). `resolved_on` is None while it lasts.
    """

    complication: Complication
    noted_on: dt.date | None = None
    resolved_on: dt.date | None = None
    source_id: str | None = None

    def active_on(self, day: dt.date) -> bool:
        started = self.noted_on is None or self.noted_on <= day
        return started and (self.resolved_on is None or self.resolved_on > day)


@dataclass(frozen=True, slots=True)
class MedicationOrder:
    """A medication order of this pregnancy: active from `started_on` (unknown: from the start)
    until `stopped_on` (None while it goes on)."""

    medication: Medication
    started_on: dt.date | None = None
    source_id: str | None = None
    stopped_on: dt.date | None = None

    def active_on(self, day: dt.date) -> bool:
        started = self.started_on is None or self.started_on <= day
        return started and (self.stopped_on is None or self.stopped_on > day)


@dataclass(frozen=True, slots=True)
class DeclinedDecision:
    """An offer the woman declined in this pregnancy, on `declined_on` (fhir-mapping.md, "A
    decision: offered and declined")."""

    code: DeclinableCode
    declined_on: dt.date
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class SymptomReview:
    """A clinician's review of a symptom report (CD-07): who, when, and the outcome."""

    reviewed_on: dt.date
    outcome: ReviewOutcome
    reviewer: str | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class SymptomReport:
    """A patient's symptom report: the symptoms she answered yes and no to.

    It stays open, and urgent, until a review dated on or before the assessment's day exists
    (CD-07): it never lapses with the calendar. `reported_by` says who entered it ("the woman",
    or a clinician's name) when the source says.
    """

    reported_on: dt.date
    present: frozenset[Symptom]
    absent: frozenset[Symptom] = frozenset()
    source_id: str | None = None
    reported_by: str | None = None
    reviews: tuple[SymptomReview, ...] = ()

    def review_by(self, day: dt.date) -> SymptomReview | None:
        """The first review recorded on or before `day`, or None: the report is open."""
        if not self.reviews:
            return None
        known = [r for r in self.reviews if r.reviewed_on <= day]
        return min(known, key=lambda r: r.reviewed_on) if known else None


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
    complications: tuple[ComplicationRecord, ...] = ()
    cerclage_placements: tuple[CerclagePlacement, ...] = ()
    cerclage_removals: tuple[CerclageRemoval, ...] = ()
    medications: tuple[MedicationOrder, ...] = ()
    symptom_reports: tuple[SymptomReport, ...] = ()
    declined: tuple[DeclinedDecision, ...] = ()
    notes: tuple[str, ...] = field(default=())
    #: Twins only; None when not recorded.
    chorionicity: Chorionicity | None = None
    #: How `edd` was worked out; None when not recorded.
    dating_method: DatingMethod | None = None

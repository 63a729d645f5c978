"""What is found in this pregnancy: cervical lengths on ultrasound, pelvic examinations, fetal
fibronectin, the woman's symptom reports (with the clinicians' reviews of them) and
complications.

Dates must not be in the future and must fall inside the pregnancy (from its 0+0 to 42 days
after the EDD); the use cases check those, since they depend on the day and the pregnancy.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, StringConstraints
from sqlalchemy import inspect
from sqlalchemy.orm.base import NO_VALUE

from cervixwatch.app.reviewing import NOTE_MAX
from cervixwatch.app.rows import RecordSource
from cervixwatch.clinical.plausible import LONGEST_CERVIX_MM
from cervixwatch.clinical.records import (
    Complication,
    LengthComparator,
    LengthMethod,
    ReviewOutcome,
    Symptom,
)
from cervixwatch.web.api.types import (
    JSON_NUMBER,
    UNSET,
    Day,
    Instant,
    Name,
    PregnancyRecordOut,
    RecordIn,
    RecordOut,
)

LengthMm = Annotated[
    float,
    JSON_NUMBER,
    Field(
        gt=0,
        le=LONGEST_CERVIX_MM,
        description="Cervical length in mm: the shortest of the acceptable images (at most"
        " 80 mm: `clinical.plausible`).",
        examples=[22],
    ),
]
DilationCm = Annotated[
    float, JSON_NUMBER, Field(ge=0, le=10, description="Cervical dilation in cm.")
]
EffacementPercent = Annotated[
    float, JSON_NUMBER, Field(ge=0, le=100, description="Effacement in %.")
]
NgPerMl = Annotated[
    float, JSON_NUMBER, Field(ge=0, description="Quantitative fetal fibronectin, ng/mL.")
]


def _symptom_set(symptoms: list[Symptom]) -> list[Symptom]:
    return sorted(set(symptoms))


Symptoms = Annotated[list[Symptom], AfterValidator(_symptom_set)]


# --- cervical lengths ---------------------------------------------------------------------------


_COMPARATOR = (
    "Set when the length was reported as a bound: '<' with 10 mm is under 10 mm (counted as"
    " short wherever 10 mm would be); '>' or '>=' is never counted as short."
)


class CervicalLengthCreate(RecordIn):
    """A cervical length on ultrasound. Guideline decisions use transvaginal lengths only."""

    measured_on: Day
    length_mm: LengthMm
    method: LengthMethod = LengthMethod.TRANSVAGINAL
    comparator: LengthComparator | None = Field(default=None, description=_COMPARATOR)
    operator: Name | None = Field(default=None, description="Who measured it.")
    device: Name | None = Field(default=None, description="The ultrasound machine.")


class CervicalLengthUpdate(RecordIn):
    is_patch = True

    measured_on: Day = UNSET
    length_mm: LengthMm = UNSET
    method: LengthMethod = UNSET
    comparator: LengthComparator | None = None
    operator: Name | None = None
    device: Name | None = None


class CervicalLengthPublic(PregnancyRecordOut):
    measured_on: dt.date
    length_mm: float
    method: LengthMethod
    comparator: LengthComparator | None
    operator: str | None
    device: str | None


# --- cervical exams -----------------------------------------------------------------------------


class CervicalExamCreate(RecordIn):
    """A pelvic (digital or speculum) examination; any finding may be unrecorded."""

    examined_on: Day
    dilation_cm: DilationCm | None = None
    effacement_percent: EffacementPercent | None = None
    membranes_exposed: StrictBool | None = Field(
        default=None, description="Membranes visible at or through the os."
    )


class CervicalExamUpdate(RecordIn):
    is_patch = True

    examined_on: Day = UNSET
    dilation_cm: DilationCm | None = None
    effacement_percent: EffacementPercent | None = None
    membranes_exposed: StrictBool | None = None


class CervicalExamPublic(PregnancyRecordOut):
    examined_on: dt.date
    dilation_cm: float | None
    effacement_percent: float | None
    membranes_exposed: StrictBool | None


# --- fetal fibronectin --------------------------------------------------------------------------


class FibronectinTestCreate(RecordIn):
    """Fetal fibronectin: quantitative (ng/mL), qualitative (positive), or both."""

    tested_on: Day
    ng_per_ml: NgPerMl | None = None
    positive: StrictBool | None = None


class FibronectinTestUpdate(RecordIn):
    is_patch = True

    tested_on: Day = UNSET
    ng_per_ml: NgPerMl | None = None
    positive: StrictBool | None = None


class FibronectinTestPublic(PregnancyRecordOut):
    tested_on: dt.date
    ng_per_ml: float | None
    positive: bool | None


# --- symptom reports ----------------------------------------------------------------------------


class SymptomReportCreate(RecordIn):
    """The symptoms she answered yes (`present`) and no (`absent`) to. It stays open, and
    urgent, until a clinician's review of it is recorded (CD-07):
    POST /api/symptom-reports/{id}/reviews."""

    reported_on: Day
    reported_at: Instant | None = None
    present: Symptoms = Field(default_factory=list)
    absent: Symptoms = Field(default_factory=list)
    reported_by: Name | None = Field(
        default=None,
        description="Who entered it; by default the signed-in clinician (null when the woman"
        " reports it herself).",
    )

    def columns(self) -> dict[str, Any]:
        values = super().columns()
        for name in ("present", "absent"):
            if name in values:
                values[name] = [str(s) for s in values[name]]
        return values


class SymptomReportUpdate(SymptomReportCreate):
    is_patch = True

    reported_on: Day = UNSET
    present: Symptoms = UNSET
    absent: Symptoms = UNSET


#: A review's note: free text, lines allowed, no other control characters, at most the column's
#: width (`app.reviewing.NOTE_MAX`).
ReviewNote = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=NOTE_MAX,
        pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
    ),
]


class SymptomReviewCreate(RecordIn):
    """A clinician's review of a symptom report (CD-07): the outcome, when, and who."""

    outcome: ReviewOutcome
    reviewed_on: Day | None = Field(default=None, description="Today unless given.")
    reviewer: Name | None = Field(
        default=None, description="Who reviewed it; by default the signed-in clinician."
    )
    note: ReviewNote | None = Field(
        default=None,
        description="What was advised or arranged (free text, kept with the review; never "
        "logged). Blank: none.",
    )


class SymptomReviewPublic(RecordOut):
    id: int
    symptom_report_id: int
    reviewed_on: dt.date
    reviewed_at: dt.datetime | None = Field(
        description="The instant the review was recorded (none: it came without one)."
    )
    outcome: ReviewOutcome
    reviewer: str | None
    note: str | None = Field(description="What was advised or arranged, as written.")
    source: RecordSource = Field(description="Where the review entered CervixWatch.")
    source_ref: str | None = Field(description="Its id in that source, when it gave one.")


class SymptomReportPublic(PregnancyRecordOut):
    reported_on: dt.date
    reported_at: dt.datetime | None
    present: list[Symptom]
    absent: list[Symptom]
    reported_by: str | None
    reviews: list[SymptomReviewPublic] = Field(
        description="The reviews of the report, as recorded; none: it is open (urgent)."
    )

    @classmethod
    def from_row(cls, row: Any) -> Any:
        # The reviews as loaded with the row: a report just recorded has none yet.
        loaded = inspect(row).attrs.reviews.loaded_value
        reviews = [] if loaded is NO_VALUE else loaded
        data = {name: getattr(row, name) for name in cls.model_fields if name != "reviews"}
        data["reviews"] = [SymptomReviewPublic.from_row(review) for review in reviews]
        return cls.model_validate(data)


# --- complications ------------------------------------------------------------------------------


class ComplicationCreate(RecordIn):
    """A complication of this pregnancy; it counts while `resolved_on` is empty."""

    complication: Complication
    noted_on: Day | None = None
    resolved_on: Day | None = None


class ComplicationUpdate(RecordIn):
    is_patch = True

    complication: Complication = UNSET
    noted_on: Day | None = None
    resolved_on: Day | None = None


class ComplicationPublic(PregnancyRecordOut):
    complication: Complication
    noted_on: dt.date | None
    resolved_on: dt.date | None

"""What is found in this pregnancy: cervical lengths on ultrasound, pelvic examinations, fetal
fibronectin, the woman's symptom reports and complications.

Dates must not be in the future and must fall inside the pregnancy (from its 0+0 to 42 days
after the EDD); the use cases check those, since they depend on the day and the pregnancy.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool

from cervixwatch.clinical.records import Complication, LengthMethod, Symptom
from cervixwatch.web.api.types import (
    JSON_NUMBER,
    UNSET,
    Day,
    Instant,
    Name,
    PregnancyRecordOut,
    RecordIn,
)

LengthMm = Annotated[
    float,
    JSON_NUMBER,
    Field(
        gt=0,
        lt=100,
        description="Cervical length in mm: the shortest of the acceptable images.",
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


class CervicalLengthCreate(RecordIn):
    """A cervical length on ultrasound. Guideline decisions use transvaginal lengths only."""

    measured_on: Day
    length_mm: LengthMm
    method: LengthMethod = LengthMethod.TRANSVAGINAL
    operator: Name | None = Field(default=None, description="Who measured it.")
    device: Name | None = Field(default=None, description="The ultrasound machine.")


class CervicalLengthUpdate(RecordIn):
    is_patch = True

    measured_on: Day = UNSET
    length_mm: LengthMm = UNSET
    method: LengthMethod = UNSET
    operator: Name | None = None
    device: Name | None = None


class CervicalLengthPublic(PregnancyRecordOut):
    measured_on: dt.date
    length_mm: float
    method: LengthMethod
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
    """The symptoms she answered yes (`present`) and no (`absent`) to."""

    reported_on: Day
    reported_at: Instant | None = None
    present: Symptoms = Field(default_factory=list)
    absent: Symptoms = Field(default_factory=list)

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


class SymptomReportPublic(PregnancyRecordOut):
    reported_on: dt.date
    reported_at: dt.datetime | None
    present: list[Symptom]
    absent: list[Symptom]


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

"""The woman's own history, kept with her rather than with a pregnancy: previous pregnancies,
cervical excisions and lasting maternal conditions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from cervixwatch.clinical.plausible import LATEST_END_DAYS
from cervixwatch.clinical.records import (
    CerclageIndication,
    ExcisionKind,
    MaternalCondition,
    Onset,
    PriorOutcome,
)
from cervixwatch.web.api.types import (
    JSON_NUMBER,
    UNSET,
    PartialDateText,
    PatientRecordOut,
    RecordIn,
)

GestationDays = Annotated[
    int,
    JSON_NUMBER,
    Field(
        ge=0,
        le=LATEST_END_DAYS,
        description="Gestational age in days when it ended (30+0 is 210; at most 44+0, 308"
        " days: `clinical.plausible`).",
    ),
]
PriorFetuses = Annotated[int, JSON_NUMBER, Field(ge=1, le=9)]
ExcisionDepth = Annotated[
    float, JSON_NUMBER, Field(gt=0, lt=100, description="Depth of the excision, in mm.")
]


# --- previous pregnancies -----------------------------------------------------------------------


class PriorPregnancyCreate(RecordIn):
    """A previous pregnancy: how and when it ended. Unknown parts stay null."""

    partial_dates = ("ended",)

    ended: PartialDateText | None = None
    outcome: PriorOutcome | None = None
    gestation_days: GestationDays | None = None
    onset: Onset | None = None
    cerclage: CerclageIndication | None = Field(
        default=None, description="A cerclage in that pregnancy, and why."
    )
    fetuses: PriorFetuses | None = None


class PriorPregnancyUpdate(PriorPregnancyCreate):
    is_patch = True


class PriorPregnancyPublic(PatientRecordOut):
    partial_dates = ("ended",)

    ended: str | None
    outcome: PriorOutcome | None
    gestation_days: int | None
    onset: Onset | None
    cerclage: CerclageIndication | None
    fetuses: int | None
    counted_as: str | None = Field(
        description="Set when the pregnancy is known only from a count in an imported summary"
        " ('preterm birth'): its details are unknown."
    )


# --- cervical excisions -------------------------------------------------------------------------


class CervicalExcisionCreate(RecordIn):
    """LLETZ, cone biopsy or trachelectomy."""

    partial_dates = ("performed",)

    kind: ExcisionKind
    depth_mm: ExcisionDepth | None = None
    performed: PartialDateText | None = None


class CervicalExcisionUpdate(RecordIn):
    is_patch = True
    partial_dates = ("performed",)

    kind: ExcisionKind = UNSET
    depth_mm: ExcisionDepth | None = None
    performed: PartialDateText | None = None


class CervicalExcisionPublic(PatientRecordOut):
    partial_dates = ("performed",)

    kind: ExcisionKind
    depth_mm: float | None
    performed: str | None


# --- maternal conditions ------------------------------------------------------------------------


class MaternalConditionCreate(RecordIn):
    """A lasting condition of the mother; each is recorded once."""

    condition: MaternalCondition


class MaternalConditionUpdate(RecordIn):
    is_patch = True

    condition: MaternalCondition = UNSET


class MaternalConditionPublic(PatientRecordOut):
    condition: MaternalCondition

"""What is done and decided in this pregnancy: cerclage placed and removed, medication orders,
and offers the woman declined."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from cervixwatch.app.rows import MedicationStatus
from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclageRoute,
    DeclinableCode,
    Medication,
)
from cervixwatch.web.api.types import UNSET, Day, PregnancyRecordOut, RecordIn

# --- cerclage -----------------------------------------------------------------------------------


class CerclagePlacementCreate(RecordIn):
    placed_on: Day
    route: CerclageRoute
    indication: CerclageIndication | None = None


class CerclagePlacementUpdate(RecordIn):
    is_patch = True

    placed_on: Day = UNSET
    route: CerclageRoute = UNSET
    indication: CerclageIndication | None = None


class CerclagePlacementPublic(PregnancyRecordOut):
    placed_on: dt.date
    route: CerclageRoute
    indication: CerclageIndication | None


class CerclageRemovalCreate(RecordIn):
    removed_on: Day


class CerclageRemovalUpdate(RecordIn):
    is_patch = True

    removed_on: Day = UNSET


class CerclageRemovalPublic(PregnancyRecordOut):
    removed_on: dt.date


# --- medications --------------------------------------------------------------------------------


class MedicationCreate(RecordIn):
    """A medication order; the assessment counts the `active` ones."""

    medication: Medication
    started_on: Day | None = None
    stopped_on: Day | None = None
    status: MedicationStatus = Field(default=MedicationStatus.ACTIVE)


class MedicationUpdate(RecordIn):
    is_patch = True

    medication: Medication = UNSET
    started_on: Day | None = None
    stopped_on: Day | None = None
    status: MedicationStatus = UNSET


class MedicationPublic(PregnancyRecordOut):
    medication: Medication
    started_on: dt.date | None
    stopped_on: dt.date | None
    status: MedicationStatus


# --- declined offers ----------------------------------------------------------------------------


class DeclinedDecisionCreate(RecordIn):
    """An offer the woman declined, by its recommendation code: the assessment then shows the
    recommendation as declined rather than as a task (profiles.md, "The course of care")."""

    code: DeclinableCode
    declined_on: Day


class DeclinedDecisionUpdate(RecordIn):
    is_patch = True

    code: DeclinableCode = UNSET
    declined_on: Day = UNSET


class DeclinedDecisionPublic(PregnancyRecordOut):
    code: DeclinableCode
    declined_on: dt.date

"""What the demo cohort is made of: each woman, why she is on the list, and (for a past
patient) how her pregnancy ended."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from cervixwatch.clinical.records import Onset, PregnancyRecords


class Referral(StrEnum):
    """Why the woman is on the demo clinic's list (her main reason; others may coexist)."""

    PRIOR_SPTB = "prior-sptb"
    PRIOR_MID_TRIMESTER_LOSS = "prior-mid-trimester-loss"
    CERVICAL_EXCISION = "cervical-excision"
    TWINS = "twins"
    UTERINE_ANOMALY = "uterine-anomaly"
    ROUTINE = "routine"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a past patient's pregnancy ended: the birth's date and gestational age (days)."""

    delivered_on: dt.date
    gestation_days: int
    onset: Onset
    spontaneous_preterm: bool


@dataclass(frozen=True, slots=True)
class CohortPatient:
    """One synthetic woman. `records` run to `as_of`: the reference date for an active
    pregnancy, the day of birth for a past patient (`outcome` set)."""

    index: int
    hospital_number: str
    given_name: str
    family_name: str
    referral: Referral
    records: PregnancyRecords
    as_of: dt.date
    outcome: Outcome | None = None

    @property
    def active(self) -> bool:
        return self.outcome is None

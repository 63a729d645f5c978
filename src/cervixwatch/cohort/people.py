"""Who the synthetic women are: clearly fake names and hospital numbers, and their ages.

Family names are words no one would take for a real patient's ("Sample", "Example" ...);
hospital numbers start with DEMO, and the Patient resources carry the HL7 security label for
test data (HTEST). None of them is, or is drawn from, a real person.
"""

from __future__ import annotations

import datetime as dt
import random

from cervixwatch.cohort import parameters as p
from cervixwatch.cohort.draws import clip, days

GIVEN_NAMES = (
    "Ada", "Bea", "Cleo", "Dana", "Edith", "Fay", "Gia", "Hana", "Ines", "Joy",
    "Kira", "Lena", "Maya", "Nora", "Olga", "Pia", "Rosa", "Sara", "Tess", "Uma",
    "Vera", "Wren", "Yara", "Zoe",
)  # fmt: skip
FAMILY_NAMES = (
    "Sample", "Example", "Testcase", "Specimen", "Placeholder", "Dummy", "Mockup",
    "Fictive", "Synthetic", "Demo", "Trialrun", "Madeup",
)  # fmt: skip
#: The (fake) hospital's identifier system for hospital numbers: `.invalid` never resolves.
HOSPITAL_NUMBER_SYSTEM = "https://demo-hospital.invalid/fhir/sid/hospital-number"
#: HL7 v3 ActReason HTEST, "test health data": marks every demo Patient as synthetic.
TEST_DATA_TAG = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
    "code": "HTEST",
    "display": "test health data",
}


def patient_id(index: int) -> str:
    """The FHIR Patient id of the demo woman numbered `index` (from 0)."""
    return f"demo-{index + 1:06d}"


def hospital_number(index: int) -> str:
    """Her (fake) hospital number."""
    return f"DEMO{index + 1:06d}"


def draw_name(rng: random.Random) -> tuple[str, str]:
    """(given, family)."""
    return rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)


def draw_birth_date(rng: random.Random, on: dt.date) -> dt.date:
    """A birth date making her of a demo-clinic age on `on`."""
    low, high = p.MATERNAL_AGE_RANGE
    years = int(clip(rng.gauss(p.MATERNAL_AGE_MEAN, p.MATERNAL_AGE_SD), low, high))
    return on - days(int(years * 365.25) + rng.randrange(365))

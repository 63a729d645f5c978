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


#: The (fake) maternity units of the demo network, each with its share of the women: unequal,
#: as a network's units are, so that the audit's funnel plots have small and large units.
UNITS: tuple[tuple[str, float], ...] = (
    ("Demo North Maternity Unit", 0.34),
    ("Demo City Hospital Maternity", 0.26),
    ("Demo Riverside Birth Centre", 0.18),
    ("Demo Valley Maternity Unit", 0.13),
    ("Demo Coast Community Unit", 0.09),
)


def unit_of(index: int) -> str:
    """The demo unit caring for the woman numbered `index`: fixed by her number (a
    multiplicative hash spreads consecutive numbers), so drawing it takes nothing from the
    cohort's random stream and every other draw stays as it was."""
    share = (index * 2654435761 % 2**32) / 2**32
    for name, weight in UNITS:
        if share < weight:
            return name
        share -= weight
    return UNITS[-1][0]


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

"""The women the fault suite imports: each request a new woman, so what became of it can be
read off the database by her hospital number.

A few of the demo cohort's women serve as templates (their records as the cohort generates
them, relative to today); each woman imported is a copy of one under a new Patient id and
hospital number. What a complete import of a template stores (rows per table) is learnt from
a copy imported before any fault, and every later copy must store exactly that or nothing."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from cervixwatch.cohort import DEFAULT_SEED, bundle_bytes, cohort_patient
from cervixwatch.cohort.people import hospital_number, patient_id

#: How many of the cohort's women serve as templates (varied records: scans, histories,
#: treatments, symptom reports).
TEMPLATES = 12


@dataclass(frozen=True, slots=True)
class Template:
    index: int
    raw: bytes
    patient_id: str
    hospital_number: str


@dataclass(frozen=True, slots=True)
class Woman:
    number: int
    template: int
    hospital_number: str
    raw: bytes


def templates(today: dt.date, count: int = TEMPLATES) -> list[Template]:
    return [
        Template(
            index,
            bundle_bytes(cohort_patient(index, DEFAULT_SEED, today), "transaction"),
            patient_id(index),
            hospital_number(index),
        )
        for index in range(count)
    ]


class Women:
    """New women, numbered from 0, under a prefix of this run's own."""

    def __init__(self, templates: list[Template]) -> None:
        self.templates = templates
        self.run = secrets.token_hex(3).upper()

    @property
    def prefix(self) -> str:
        """What every hospital number of this run begins with."""
        return f"FLT{self.run}"

    def number(self, number: int) -> str:
        return f"{self.prefix}{number:07d}"

    def woman(self, number: int) -> Woman:
        template = self.templates[number % len(self.templates)]
        hospital = self.number(number)
        raw = template.raw.replace(
            f'"{template.hospital_number}"'.encode(), f'"{hospital}"'.encode()
        ).replace(template.patient_id.encode(), f"flt-{self.run}-{number}".encode())
        return Woman(number, template.index, hospital, raw)

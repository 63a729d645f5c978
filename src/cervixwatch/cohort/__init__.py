"""A realistic synthetic cohort for demonstrations and benchmarks: a preterm-birth prevention
clinic's women on a reference date, with histories, scans, treatments and symptom reports.

Every distribution is a named constant in `parameters`, either PUBLISHED (with its citation)
or DEMO (the demo clinic's own mix, chosen for demonstration, never a population estimate).
The clinic's care follows the real `assess`: scans are booked when the guidelines' scan plans
say, and treatments appear where the guidelines give them. Same seed, same cohort. No record
is, or is drawn from, a real person.
"""

from cervixwatch.cohort.fhir import (
    bundle_bytes,
    cohort_bundle,
    patient_resource,
    write_bundle_files,
    write_ndjson,
)
from cervixwatch.cohort.generate import DEFAULT_SEED, cohort_patient, generate_cohort, iter_cohort
from cervixwatch.cohort.load import Loaded, load_cohort, patient_count, patient_fields
from cervixwatch.cohort.model import CohortPatient, Outcome, Referral

__all__ = [
    "DEFAULT_SEED",
    "CohortPatient",
    "Loaded",
    "Outcome",
    "Referral",
    "bundle_bytes",
    "cohort_bundle",
    "cohort_patient",
    "generate_cohort",
    "iter_cohort",
    "load_cohort",
    "patient_count",
    "patient_fields",
    "patient_resource",
    "write_bundle_files",
    "write_ndjson",
]

"""Run as a script by tests/compiled: one line per SYNTHETIC woman and day, the digest of what
the build running it says of her, so that two builds' outputs can be compared line by line.

Per woman and day: the assessment as `cervixwatch assess --format json` prints it (every
recommendation with its rule, citation, state and words, the facts, what is missing, the
risk figures), or the reader's refusal; and her population rows (`population run`'s, from
her resources as an export holds them). Usage: digests.py WOMEN SEED
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys

import orjson

from cervixwatch.app.population_rows import rows_of_woman
from cervixwatch.build_info import describe_build
from cervixwatch.clinical.assessment import assess
from cervixwatch.cohort import bundle_bytes, iter_cohort
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.intake import IntakeError
from cervixwatch.knowledge import bundled_evidence, bundled_profiles
from cervixwatch.views.json_view import assessment_json

REFERENCE = dt.date(2026, 12, 1)
DAYS = (dt.date(2026, 6, 1), REFERENCE, dt.date(2027, 3, 1))


def _digest(value: object) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def main(women: int, seed: int) -> None:
    profiles = list(bundled_profiles().values())
    evidence = bundled_evidence()
    print(describe_build())
    for patient in iter_cohort(women, seed, REFERENCE):
        raw = bundle_bytes(patient)
        resources = [entry["resource"] for entry in orjson.loads(raw)["entry"]]
        patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
        for day in DAYS:
            try:
                records = read_bundle(raw, day)
                said: object = assessment_json(
                    assess(records, day, profiles, evidence), records, profiles
                )
            except IntakeError as refused:
                said = f"refused: {refused}"
            rows = rows_of_woman(patient_id, resources, day, profiles, evidence)
            print(patient_id, day, _digest(said), _digest(rows))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))

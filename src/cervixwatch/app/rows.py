"""The store's types that the web names: the stored rows and their enumerations as the use
cases hand them over, and the terms of a FHIR search (`DateTest`).

A use case answers with the row it wrote or read (`Saved[PregnancyRow]`), and the web's
models name these types and values (a pregnancy's status, where a record came from); they
are named here so that the web reaches the store only through `app/`. Reading or writing
them is the use cases' work, never the web's.
"""

from __future__ import annotations

from cervixwatch.store.models import (
    AuditOutcome,
    CerclagePlacementRow,
    CerclageRemovalRow,
    CervicalExamRow,
    CervicalLengthRow,
    ComplicationRow,
    DeclinedDecisionRow,
    FibronectinTestRow,
    MedicationRow,
    MedicationStatus,
    PregnancyRow,
    PregnancyStatus,
    RecordSource,
    SymptomReportRow,
    SymptomReviewRow,
)
from cervixwatch.store.resource_index import DateTest

__all__ = [
    "AuditOutcome",
    "CerclagePlacementRow",
    "CerclageRemovalRow",
    "CervicalExamRow",
    "CervicalLengthRow",
    "ComplicationRow",
    "DateTest",
    "DeclinedDecisionRow",
    "FibronectinTestRow",
    "MedicationRow",
    "MedicationStatus",
    "PregnancyRow",
    "PregnancyStatus",
    "RecordSource",
    "SymptomReportRow",
    "SymptomReviewRow",
]

"""Every kind of record CervixWatch keeps, once, with the names each layer knows it by: its part
of `clinical.records.PregnancyRecords`, the store's table, CervixWatch's FHIR id for it
(`<prefix>-<row>`), the FHIR resource types it is read from and written as, and the FHIR
elements that date it. The store (`store.mapping`), the export (`app.exporting`), the FHIR
readers (`interop.fhir_entries`, `interop.fhir_intake`) and the import's matching
(`app.import_matching`) take their tables from here; `tests/unit/test_record_kinds.py` holds
the store's mapping and `PregnancyRecords` to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

_OBSERVATION_DATES: Final = (
    "effectiveDateTime",
    "effectivePeriod.start",
    "effectiveInstant",
    "issued",
)
_PROCEDURE_DATES: Final = ("performedDateTime", "performedPeriod.start")


@dataclass(frozen=True, slots=True)
class RecordKindName:
    """One kind of record, by the names each layer knows it by."""

    #: The field of `PregnancyRecords` (or, for `holder`'s records, of the record holding it).
    part: str
    #: The store's table.
    table: str
    #: CervixWatch's FHIR id of a record: `<id_prefix>-<row>` (an exam finding:
    #: `exam-<row>-<finding>`).
    id_prefix: str
    #: The FHIR resource types it is read from (the first: the one it is written as).
    fhir_types: tuple[str, ...]
    #: The FHIR elements that date it (the first present is the one read).
    dated_by: tuple[str, ...] = ()
    #: Whose records they are: hers whatever the pregnancy, or one pregnancy's.
    owner: Literal["patient", "pregnancy"] = "pregnancy"
    #: The part of the records that holds these (a report holds its reviews), else None; and
    #: the field of the holding record they are in.
    holder: str | None = None
    held_as: str | None = None
    #: A set of codes (no ids, no dates), not a tuple of dated records.
    is_set: bool = False


RECORD_KINDS: Final[tuple[RecordKindName, ...]] = (
    RecordKindName(
        "prior_pregnancies",
        "prior_pregnancies",
        "prior",
        ("Observation",),
        _OBSERVATION_DATES,
        owner="patient",
    ),
    RecordKindName(
        "excisions",
        "cervical_excisions",
        "excision",
        ("Procedure",),
        _PROCEDURE_DATES,
        owner="patient",
    ),
    RecordKindName(
        "maternal_conditions",
        "maternal_conditions",
        "maternal",
        ("Condition",),
        owner="patient",
        is_set=True,
    ),
    RecordKindName(
        "cervical_lengths", "cervical_lengths", "cl", ("Observation",), _OBSERVATION_DATES
    ),
    RecordKindName("exams", "cervical_exams", "exam", ("Observation",), _OBSERVATION_DATES),
    RecordKindName("fibronectin", "fibronectin_tests", "ffn", ("Observation",), _OBSERVATION_DATES),
    RecordKindName(
        "complications",
        "complications",
        "complication",
        ("Condition",),
        ("onsetDateTime", "recordedDate"),
    ),
    RecordKindName(
        "cerclage_placements",
        "cerclage_placements",
        "cerclage",
        ("Procedure",),
        _PROCEDURE_DATES,
    ),
    RecordKindName(
        "cerclage_removals",
        "cerclage_removals",
        "cerclage-removal",
        ("Procedure",),
        _PROCEDURE_DATES,
    ),
    RecordKindName(
        "medications", "medications", "medication", ("MedicationRequest",), ("authoredOn",)
    ),
    RecordKindName(
        "symptom_reports",
        "symptom_reports",
        "symptoms",
        ("QuestionnaireResponse",),
        ("authored",),
    ),
    RecordKindName(
        "symptom_reviews",
        "symptom_reviews",
        "review",
        ("Task",),
        ("executionPeriod.end", "lastModified"),
        holder="symptom_reports",
        held_as="reviews",
    ),
    RecordKindName(
        "declined",
        "declined_decisions",
        "declined",
        ("Procedure", "MedicationStatement"),
        (*_PROCEDURE_DATES, "effectiveDateTime", "effectivePeriod.start"),
    ),
)
BY_PART: Final[Mapping[str, RecordKindName]] = {k.part: k for k in RECORD_KINDS}
BY_TABLE: Final[Mapping[str, RecordKindName]] = {k.table: k for k in RECORD_KINDS}

#: The parts of her records each FHIR resource type may be read as (sets, which carry no ids,
#: left out: a resource sent again cannot take them back by id).
PARTS_OF_FHIR_TYPE: Final[Mapping[str, tuple[str, ...]]] = {
    fhir_type: tuple(k.part for k in RECORD_KINDS if fhir_type in k.fhir_types and not k.is_set)
    for fhir_type in dict.fromkeys(t for k in RECORD_KINDS for t in k.fhir_types)
}

#: The FHIR resource types her records are served, searched and written as, in the order the
#: facade lists them (`tests/unit/test_record_kinds.py`: exactly the registry's types).
RECORD_RESOURCE_TYPES: Final = (
    "Observation",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "MedicationStatement",
    "QuestionnaireResponse",
    "Task",
)

"""The one registry of record kinds (`knowledge.record_kinds`, issue 11 part 8) holds what the
layers' own tables say: every part of `PregnancyRecords` is a kind, the store keeps each in the
table the registry names with the same owner, and the export's ids, the FHIR readers' sources
and the import's tables are the registry's."""

from __future__ import annotations

import dataclasses

from cervixwatch.app.exporting import INSIDE_PREFIXES, SET_PREFIXES, TUPLE_PREFIXES
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.fhir_intake import PARTS_OF_TYPE
from cervixwatch.knowledge.record_kinds import BY_PART, RECORD_KINDS, RECORD_RESOURCE_TYPES
from cervixwatch.store.mapping import RECORD_KINDS as STORED_KINDS

#: The fields of `PregnancyRecords` that are no kind of record: who and which pregnancy.
_NOT_RECORDS = {
    "patient_id",
    "edd",
    "dating_method",
    "fetuses",
    "chorionicity",
    "birth_date",
    "notes",
}


def test_every_part_of_the_records_is_a_kind() -> None:
    fields = {f.name for f in dataclasses.fields(PregnancyRecords)} - _NOT_RECORDS
    top_level = {k.part for k in RECORD_KINDS if k.holder is None}
    assert fields == top_level


def test_the_store_keeps_each_kind_as_the_registry_says() -> None:
    stored = {k.field: k for k in STORED_KINDS}
    assert set(stored) == {k.part for k in RECORD_KINDS if k.holder is None}
    for part, kind in stored.items():
        named = BY_PART[part]
        assert kind.table_name == named.table, part
        assert kind.owner == named.owner, part
        assert kind.is_set == named.is_set, part
        for child in kind.children:
            held = next(k for k in RECORD_KINDS if k.holder == part and k.held_as == child.field)
            assert child.table_name == held.table


def test_ids_are_unique_and_the_layers_tables_are_the_registrys() -> None:
    prefixes = [k.id_prefix for k in RECORD_KINDS]
    assert len(prefixes) == len(set(prefixes))
    for part, (prefix, table) in {**TUPLE_PREFIXES, **SET_PREFIXES}.items():
        assert (BY_PART[part].id_prefix, BY_PART[part].table) == (prefix, table)
    assert INSIDE_PREFIXES == {"symptom_reports": {"reviews": ("review", "symptom_reviews")}}
    assert PARTS_OF_TYPE["Observation"] == (
        "prior_pregnancies",
        "cervical_lengths",
        "exams",
        "fibronectin",
    )
    assert PARTS_OF_TYPE["MedicationStatement"] == ("declined",)
    assert "maternal_conditions" not in PARTS_OF_TYPE["Condition"]  # a set: no ids to take back


def test_the_record_resource_types_are_the_registrys() -> None:
    named = {t for k in RECORD_KINDS for t in k.fhir_types}
    assert set(RECORD_RESOURCE_TYPES) == named
    assert len(RECORD_RESOURCE_TYPES) == len(named)

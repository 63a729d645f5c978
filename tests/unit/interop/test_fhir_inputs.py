"""Inputs an EHR really sends (issue 10, item 8), read correctly instead of silently misread:
a Condition's verificationStatus, a length's comparator, an Observation not performed, a
modifierExtension we do not understand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cervixwatch.clinical.records import (
    Complication,
    LengthComparator,
    MaternalCondition,
    PregnancyRecords,
)
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.knowledge import codes as c
from tests import fhir_builders as fb

AS_OF = dt.date(2026, 2, 2)
UNKNOWN_MODIFIER = "https://example.org/fhir/StructureDefinition/not-really"


def read(*resources: dict[str, Any], as_of: dt.date = AS_OF) -> PregnancyRecords:
    return read_bundle(fb.dumps(fb.bundle(*resources)), as_of)


def error_of(*resources: dict[str, Any]) -> str:
    with pytest.raises(BundleError) as raised:
        read(*resources)
    return str(raised.value)


# --- Condition.verificationStatus -----------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["provisional", "differential", "unconfirmed", "refuted", "entered-in-error"]
)
def test_a_condition_not_confirmed_is_not_a_complication_and_is_noted(status: str) -> None:
    records = read(
        fb.condition(c.RUPTURED_MEMBRANES, rid="pprom?", verification=status),
        fb.condition(c.UTERINE_ANOMALY, rid="septate?", verification=status),
        fb.condition(c.TWIN_PREGNANCY, rid="twins?", verification=status),
    )
    assert records.complications == ()
    assert records.maternal_conditions == frozenset()
    assert records.fetuses is None
    assert f"Condition pprom? (ruptured membranes) not read: verification status {status}" in (
        records.notes
    )
    assert f"Condition septate? (uterine anomaly) not read: verification status {status}" in (
        records.notes
    )
    assert any(n.startswith("Condition twins? (multiple pregnancy)") for n in records.notes)


@pytest.mark.parametrize("status", ["confirmed", None])
def test_a_confirmed_or_unverified_condition_counts(status: str | None) -> None:
    records = read(
        fb.condition(c.VAGINAL_BLEEDING, rid="bleed", verification=status),
        fb.condition(c.CERVICAL_INSUFFICIENCY, rid="ci", verification=status),
    )
    assert [x.complication for x in records.complications] == [Complication.VAGINAL_BLEEDING]
    assert records.maternal_conditions == {MaternalCondition.CERVICAL_INSUFFICIENCY}
    assert records.notes == ()


def test_an_unconfirmed_condition_we_do_not_read_anyway_is_not_noted() -> None:
    hypertension = fb.condition(("http://snomed.info/sct", "38341003"), verification="provisional")
    assert read(hypertension).notes == ()


# --- valueQuantity.comparator -------------------------------------------------------------


@pytest.mark.parametrize(
    ("comparator", "expected"),
    [
        ("<", LengthComparator.BELOW),
        ("<=", LengthComparator.AT_MOST),
        (">=", LengthComparator.AT_LEAST),
        (">", LengthComparator.ABOVE),
        (None, None),
    ],
)
def test_a_length_given_as_a_bound_keeps_its_number_and_comparator(
    comparator: str | None, expected: LengthComparator | None
) -> None:
    [length] = read(fb.cervical_length(10, comparator=comparator)).cervical_lengths
    assert (length.length_mm, length.comparator) == (10.0, expected)


def test_a_comparator_in_cm_is_kept_with_the_converted_length() -> None:
    [length] = read(fb.cervical_length(1, unit="cm", comparator="<")).cervical_lengths
    assert (length.length_mm, length.comparator) == (10.0, LengthComparator.BELOW)


@pytest.mark.parametrize("comparator", ["ad", "~", "less than", 1])
def test_an_invalid_comparator_is_an_error_naming_the_field(comparator: Any) -> None:
    message = error_of(fb.cervical_length(10, rid="cl-7", comparator=comparator))
    assert message.startswith("Observation/cl-7 (entry 1): valueQuantity.comparator: ")
    assert "\n" not in message


# --- dataAbsentReason ---------------------------------------------------------------------


def test_a_length_not_performed_is_ignored_noted_and_the_rest_read() -> None:
    records = read(
        fb.not_done(c.CERVICAL_LENGTH, "not-performed", rid="cl-missed"),
        fb.cervical_length(24, "2026-01-20", rid="cl-before"),
        fb.edd(),
    )
    assert [m.source_id for m in records.cervical_lengths] == ["cl-before"]
    assert records.edd == dt.date(2026, 7, 4)
    assert "cervical length cl-missed not performed: not-performed" in records.notes


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (c.DILATION, "cervical dilation x not performed: asked-declined"),
        (c.MEMBRANES_EXPOSED, "membranes exposed x not performed: asked-declined"),
        (c.FFN_QUANTITATIVE, "fetal fibronectin x not performed: asked-declined"),
        (c.FETUS_COUNT, "number of fetuses x not recorded: asked-declined"),
        (c.EDD, "estimated due date x not recorded: asked-declined"),
        (c.PRETERM_BIRTHS_COUNT, "preterm births count x not recorded: asked-declined"),
    ],
)
def test_any_observation_we_read_without_a_value_is_noted(code: c.Code, words: str) -> None:
    records = read(fb.not_done(code, "asked-declined", rid="x"))
    assert records.notes == (words,)
    assert (records.exams, records.fibronectin, records.fetuses, records.edd) == (
        (),
        (),
        None,
        None,
    )
    assert records.prior_pregnancies == ()


def test_a_reason_given_only_as_text_is_quoted() -> None:
    length = fb.observation(c.CERVICAL_LENGTH, rid="cl", dataAbsentReason={"text": "no probe"})
    assert read(length).notes == ("cervical length cl not performed: no probe",)


def test_a_length_without_value_or_reason_is_still_an_error() -> None:
    message = error_of(fb.observation(c.CERVICAL_LENGTH, rid="cl"))
    assert message.startswith("Observation/cl (entry 1): valueQuantity: ")


def test_a_value_given_beside_a_data_absent_reason_is_read() -> None:
    length = fb.cervical_length(22, dataAbsentReason=fb.concept((c.DATA_ABSENT_REASON, "error")))
    assert [m.length_mm for m in read(length).cervical_lengths] == [22.0]


def test_a_prior_pregnancy_component_not_recorded_is_unknown() -> None:
    prior = fb.prior_pregnancy(weeks=None)
    prior["component"].insert(
        0,
        {
            "code": fb.concept(c.GESTATIONAL_AGE),
            "dataAbsentReason": fb.concept((c.DATA_ABSENT_REASON, "unknown")),
        },
    )
    [read_prior] = read(prior).prior_pregnancies
    assert read_prior.gestation_days is None
    assert read_prior.onset is not None


# --- modifierExtension --------------------------------------------------------------------


def _with_modifier(resource: dict[str, Any], *path: str | int) -> dict[str, Any]:
    node: Any = resource
    for step in path:
        node = node[step]
    node["modifierExtension"] = [{"url": UNKNOWN_MODIFIER, "valueBoolean": True}]
    return resource


@pytest.mark.parametrize(
    ("resource", "label"),
    [
        (_with_modifier(fb.cervical_length(8, rid="cl-mod")), "Observation/cl-mod (entry 1)"),
        (
            _with_modifier(fb.prior_pregnancy(rid="prior-mod"), "component", 0),
            "Observation/prior-mod (entry 1)",
        ),
        (
            _with_modifier(fb.procedure(c.CERCLAGE_VAGINAL, "2026-01-10", rid="cerclage")),
            "Procedure/cerclage (entry 1)",
        ),
        (
            _with_modifier(fb.condition(c.RUPTURED_MEMBRANES, rid="pprom")),
            "Condition/pprom (entry 1)",
        ),
        (
            _with_modifier(fb.symptom_report("2026-02-01", bleeding=True), "item", 0),
            "QuestionnaireResponse/symptoms (entry 1)",
        ),
    ],
    ids=["observation", "component", "procedure", "condition", "questionnaire-item"],
)
def test_a_resource_with_a_modifier_we_do_not_know_is_refused_alone(
    resource: dict[str, Any], label: str
) -> None:
    records = read(resource, fb.cervical_length(30, rid="good"), fb.edd())
    assert [m.source_id for m in records.cervical_lengths] == ["good"]
    assert records.edd == dt.date(2026, 7, 4)
    assert records.prior_pregnancies == ()
    assert records.cerclage_placements == ()
    assert records.complications == ()
    assert records.symptom_reports == ()
    [note] = records.notes
    assert note.startswith(f"{label} not read: ")
    assert UNKNOWN_MODIFIER in note


def test_a_refused_resource_is_not_even_validated() -> None:
    bad = _with_modifier(fb.cervical_length(8, unit="kg"))
    assert read(bad).cervical_lengths == ()


def test_an_empty_modifier_list_and_ordinary_extensions_are_no_modifier() -> None:
    length = fb.cervical_length(22, modifierExtension=[])
    length["extension"] = [{"url": UNKNOWN_MODIFIER, "valueBoolean": True}]
    assert [m.length_mm for m in read(length).cervical_lengths] == [22.0]


def test_a_medication_with_a_modifier_does_not_code_the_order() -> None:
    medication = _with_modifier(
        {"resourceType": "Medication", "id": "vp", "code": fb.concept(c.VAGINAL_PROGESTERONE)}
    )
    order = fb.medication_request(c.VAGINAL_PROGESTERONE)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/vp"}
    records = read(medication, order)
    assert records.medications == ()
    assert any(n.startswith("Medication/vp (entry 1) not read: ") for n in records.notes)


def test_a_patient_with_a_modifier_is_an_error_naming_her_and_the_url() -> None:
    document = fb.bundle(fb.edd())
    _with_modifier(document["entry"][0]["resource"])
    with pytest.raises(BundleError) as raised:
        read_bundle(fb.dumps(document), AS_OF)
    message = str(raised.value)
    assert message.startswith("Patient/p1 (entry 0): modifierExtension: ")
    assert UNKNOWN_MODIFIER in message


def test_a_parsed_bundle_is_searched_for_modifiers_too() -> None:
    from cervixwatch.interop.fhir_bundle import records_from_bundle

    document = fb.bundle(_with_modifier(fb.cervical_length(8)))
    assert records_from_bundle(document, AS_OF).cervical_lengths == ()

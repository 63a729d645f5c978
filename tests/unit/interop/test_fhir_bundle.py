"""Reading a FHIR R4 Bundle into records (interop/fhir_bundle.py), as fhir-mapping.md's input
contract says: tolerant of what is not used, strict about what is, blind to what is dated after
`as_of`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclageRoute,
    Complication,
    LengthMethod,
    Medication,
    Onset,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    Symptom,
)
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.knowledge import codes as c
from tests import fhir_builders as fb

AS_OF = dt.date(2026, 2, 2)


def read(*resources: dict[str, Any], as_of: dt.date = AS_OF) -> PregnancyRecords:
    return read_bundle(fb.dumps(fb.bundle(*resources)), as_of)


def lengths(records: PregnancyRecords) -> list[tuple[dt.date, float, LengthMethod]]:
    return [(m.measured_on, m.length_mm, m.method) for m in records.cervical_lengths]


def test_vignette_v01_reads_as_its_records() -> None:
    records = read_bundle(fb.dumps(fb.v01_bundle()), AS_OF)
    assert records.patient_id == "p1"
    assert records.edd == dt.date(2026, 7, 4)
    assert records.fetuses == 1
    assert records.birth_date == dt.date(1990, 5, 1)
    [prior] = records.prior_pregnancies
    assert (prior.outcome, prior.gestation_days, prior.onset) == (
        PriorOutcome.LIVE_BIRTH,
        210,
        Onset.SPONTANEOUS_LABOUR,
    )
    assert prior.ended == PartialDate(2023, 6, 14)
    assert lengths(records) == [(AS_OF, 22.0, LengthMethod.TRANSVAGINAL)]
    dilations = [e.dilation_cm for e in records.exams if e.dilation_cm is not None]
    exposed = [e.membranes_exposed for e in records.exams if e.membranes_exposed is not None]
    assert (dilations, exposed) == ([0.0], [False])


# --- units and values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "mm"), [(22, "mm", 22.0), (2.2, "cm", 22.0), (3, "cm", 30.0)]
)
def test_a_cervical_length_in_cm_is_converted_to_mm(value: float, unit: str, mm: float) -> None:
    [(_, length, _)] = lengths(read(fb.cervical_length(value, unit=unit)))
    assert length == mm


def test_a_unit_given_only_as_text_is_read() -> None:
    resource = fb.cervical_length(2.5)
    resource["valueQuantity"] = {"value": 2.5, "unit": "cm"}
    assert lengths(read(resource))[0][1] == 25.0


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (c.TRANSVAGINAL, LengthMethod.TRANSVAGINAL),
        (None, LengthMethod.TRANSVAGINAL),
        (c.ULTRASOUND_NO_APPROACH, LengthMethod.TRANSVAGINAL),
        (c.TRANSABDOMINAL, LengthMethod.TRANSABDOMINAL),
        (("http://snomed.info/sct", "000000"), LengthMethod.OTHER),
    ],
)
def test_the_scan_approach(method: c.Code | None, expected: LengthMethod) -> None:
    assert lengths(read(fb.cervical_length(20, method=method)))[0][2] is expected


@pytest.mark.parametrize(
    ("value", "unit", "days"), [(30.0, "wk", 210), (33.714, "wk", 236), (236, "d", 236)]
)
def test_prior_gestation_in_weeks_or_days(value: float, unit: str, days: int) -> None:
    [prior] = read(fb.prior_pregnancy(weeks=value, unit=unit)).prior_pregnancies
    assert prior.gestation_days == days


def test_a_prior_pregnancy_dated_by_year_alone() -> None:
    [prior] = read(fb.prior_pregnancy(ended="2021")).prior_pregnancies
    assert prior.ended == PartialDate(2021)


def test_a_prior_pregnancy_with_cerclage_and_snomed_painless_dilation() -> None:
    resource = fb.prior_pregnancy("miscarriage", 20, None, cerclage="exam-indicated")
    resource["component"].append(
        {
            "code": fb.concept(c.ONSET),
            "valueCodeableConcept": fb.concept(c.PAINLESS_DILATION_SNOMED),
        }
    )
    [prior] = read(resource).prior_pregnancies
    assert prior.onset is Onset.PAINLESS_CERVICAL_DILATION
    assert prior.cerclage is CerclageIndication.EXAM


def test_twins_by_count_or_by_condition() -> None:
    assert read(fb.fetus_count(2)).fetuses == 2
    assert read(fb.condition(c.TWIN_PREGNANCY)).fetuses == 2
    assert read(fb.condition(c.TWIN_PREGNANCY, status="resolved")).fetuses is None
    assert read().fetuses is None


def test_treatment_complications_and_symptoms() -> None:
    records = read(
        fb.procedure(c.CERCLAGE_VAGINAL, "2025-12-27", reason=c.cw("history-indicated")),
        fb.procedure(c.CERCLAGE_REMOVAL, "2026-01-30", rid="removal"),
        fb.medication_request(c.HYDROXYPROGESTERONE_CAPROATE),
        fb.condition(c.PRETERM_LABOUR),
        fb.symptom_report("2026-02-01", contractions=True, fever=False),
    )
    [placement] = records.cerclage_placements
    assert (placement.placed_on, placement.route, placement.indication) == (
        dt.date(2025, 12, 27),
        CerclageRoute.TRANSVAGINAL,
        CerclageIndication.HISTORY,
    )
    assert [r.removed_on for r in records.cerclage_removals] == [dt.date(2026, 1, 30)]
    assert [m.medication for m in records.medications] == [Medication.HYDROXYPROGESTERONE_CAPROATE]
    assert [x.complication for x in records.complications] == [Complication.PRETERM_LABOUR]
    [report] = records.symptom_reports
    assert report.present == {Symptom.CONTRACTIONS}
    assert report.absent == {Symptom.FEVER}


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "effective",
    [
        "2026-02-02",
        "2026-02-02T23:30:00-05:00",
        "2026-02-02T01:00:00+09:00",
        "2026-02-02T12:00:00Z",
        "2026-02-02T12:00:00.250+00:00",
    ],
)
def test_a_datetime_keeps_the_day_written_in_its_own_offset(effective: str) -> None:
    assert lengths(read(fb.cervical_length(20, effective)))[0][0] == dt.date(2026, 2, 2)


def test_a_datetime_with_a_time_but_no_offset_is_rejected() -> None:
    with pytest.raises(BundleError, match=r"Observation/cl \(entry 1\): effectiveDateTime: "):
        read(fb.cervical_length(20, "2026-02-02T10:00:00"))


def test_resources_dated_after_as_of_are_ignored() -> None:
    records = read(
        fb.edd("2026-07-04", effective="2025-11-22"),
        # A re-dating not yet made on as_of (a record of its own).
        fb.edd("2026-07-11", effective="2026-02-03", rid="edd-redated"),
        fb.cervical_length(30, "2026-02-02", rid="today"),
        fb.cervical_length(10, "2026-02-03", rid="tomorrow"),
        fb.prior_pregnancy(ended="2026-02-03"),
        fb.procedure(c.CERCLAGE_VAGINAL, "2026-02-03"),
        fb.medication_request(c.HYDROXYPROGESTERONE_CAPROATE, authored="2026-02-03"),
        fb.symptom_report("2026-02-03", bleeding=True),
        {**fb.condition(c.RUPTURED_MEMBRANES), "onsetDateTime": "2026-02-03"},
    )
    assert records.edd == dt.date(2026, 7, 4)
    assert lengths(records) == [(AS_OF, 30.0, LengthMethod.TRANSVAGINAL)]
    assert records.prior_pregnancies == ()
    assert records.cerclage_placements == ()
    assert records.medications == ()
    assert records.symptom_reports == ()
    # A complication is kept with its date; the domain decides it is not yet known (CD-06).
    [complication] = records.complications
    assert complication.noted_on == dt.date(2026, 2, 3)
    assert not complication.active_on(AS_OF)


def test_one_resource_sent_twice_under_its_id_is_read_once_the_last_standing() -> None:
    # Issue 10, item 8: as the server stores it once by its id.
    first = fb.prior_pregnancy(rid="prior-1", weeks=30.0)
    again = fb.prior_pregnancy(rid="prior-1", weeks=31.0)
    records = read(first, fb.prior_pregnancy(rid="prior-2", ended="2021-01-01"), again)
    assert sorted(p.gestation_days or 0 for p in records.prior_pregnancies) == [210, 217]


def test_the_latest_edd_stands() -> None:
    records = read(
        fb.edd("2026-07-11", effective="2025-11-01", rid="edd-booking"),
        fb.edd("2026-07-04", effective="2025-12-01", rid="edd-scan"),
    )
    assert records.edd == dt.date(2026, 7, 4)


# --- tolerance -----------------------------------------------------------------------------------


def test_unknown_resources_extra_codings_and_extensions_are_tolerated() -> None:
    length = fb.cervical_length(22)
    length["code"]["coding"].insert(
        0, {"system": "http://snomed.info/sct", "code": "249021000", "display": "anything"}
    )
    length["code"]["text"] = "Cervical length"
    length["extension"] = [{"url": "https://example.org/extension", "valueString": "x"}]
    length["meta"] = {"profile": ["https://example.org/StructureDefinition/x"]}
    records = read(
        {"resourceType": "Encounter", "id": "e1", "status": "finished"},
        {"resourceType": "Immunization", "id": "i1", "patient": fb.subject()},
        fb.observation(("http://loinc.org", "8310-5"), valueQuantity=fb.quantity(38.4, "Cel")),
        length,
    )
    assert lengths(records) == [(AS_OF, 22.0, LengthMethod.TRANSVAGINAL)]


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_an_observation_entered_in_error_or_cancelled_does_not_count(status: str) -> None:
    records = read(
        fb.cervical_length(30, rid="good"),
        fb.cervical_length(8, rid="wrong", status=status),
    )
    assert [m.length_mm for m in records.cervical_lengths] == [30.0]


def test_an_entered_in_error_observation_is_not_even_validated() -> None:
    bad = fb.cervical_length(8, unit="kg", status="entered-in-error")
    assert read(bad).cervical_lengths == ()


@pytest.mark.parametrize("status", ["amended", "corrected"])
def test_an_amended_length_replaces_the_final_one_of_the_same_moment(status: str) -> None:
    records = read(
        fb.cervical_length(23, "2026-01-20T09:00:00Z", rid="first"),
        fb.cervical_length(21, "2026-01-20T09:00:00Z", rid="fixed", status=status),
        fb.cervical_length(30, "2026-01-27T09:00:00Z", rid="later"),
    )
    assert [(m.source_id, m.length_mm) for m in records.cervical_lengths] == [
        ("fixed", 21.0),
        ("later", 30.0),
    ]


def test_of_two_amendments_the_latest_issued_stands() -> None:
    records = read(
        fb.cervical_length(23, "2026-01-20", rid="final"),
        fb.cervical_length(19, "2026-01-20", rid="second", status="amended", issued="2026-01-22"),
        fb.cervical_length(21, "2026-01-20", rid="first", status="amended", issued="2026-01-21"),
    )
    assert [m.source_id for m in records.cervical_lengths] == ["second"]


def test_references_by_full_url_and_absolute_url_count() -> None:
    document = fb.bundle(fb.cervical_length(20, rid="a"), fb.cervical_length(21, rid="b"))
    patient_url = document["entry"][0]["fullUrl"]
    document["entry"][1]["resource"]["subject"] = {"reference": patient_url}
    document["entry"][2]["resource"]["subject"] = {
        "reference": "https://fhir.example.org/r4/Patient/p1"
    }
    records = read_bundle(fb.dumps(document), AS_OF)
    assert sorted(m.length_mm for m in records.cervical_lengths) == [20.0, 21.0]


def test_resources_about_someone_else_are_ignored_and_noted() -> None:
    other = fb.cervical_length(5, rid="not-hers")
    other["subject"] = {"reference": "Patient/someone-else"}
    records = read(other, fb.cervical_length(30))
    assert [m.length_mm for m in records.cervical_lengths] == [30.0]
    assert any("not about this patient" in note for note in records.notes)


@pytest.mark.parametrize("bundle_type", ["collection", "transaction", "searchset", "document"])
def test_every_summary_bundle_type_is_accepted(bundle_type: str) -> None:
    document = fb.bundle(fb.edd(), bundle_type=bundle_type)
    assert read_bundle(fb.dumps(document), AS_OF).edd == dt.date(2026, 7, 4)


# --- invalid input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        (fb.cervical_length(22, unit="kg"), "valueQuantity.code"),
        (fb.cervical_length("22"), "valueQuantity.value"),
        (fb.cervical_length(True), "valueQuantity.value"),
        (fb.cervical_length(0), "valueQuantity.value"),
        (fb.cervical_length(22, "2026-02-31"), "effectiveDateTime"),
        (fb.cervical_length(22, "02/02/2026"), "effectiveDateTime"),
        (fb.cervical_length(22, effective=None), "effectiveDateTime"),
        (fb.dilation(-1), "valueQuantity.value"),
        (fb.membranes_exposed("yes"), "valueBoolean"),  # type: ignore[arg-type]
        (fb.prior_pregnancy(weeks=30, unit="kg"), "component[0].valueQuantity.code"),
        (fb.prior_pregnancy(weeks=60), "component[0].valueQuantity.value"),
        (fb.fetus_count(0), "valueInteger"),
        (fb.edd("2026-07"), "valueDateTime"),
        (fb.procedure(c.CERCLAGE_VAGINAL, "2026"), "performedDateTime"),
    ],
)
def test_an_invalid_value_is_an_error_naming_the_resource_and_field(
    resource: dict[str, Any], field: str
) -> None:
    with pytest.raises(BundleError) as raised:
        read(resource)
    message = str(raised.value)
    assert f"(entry 1): {field}: " in message
    assert message.startswith(resource["resourceType"])
    assert "\n" not in message


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"resourceType": "Patient", "id": "p1"}', "resourceType: expected 'Bundle'"),
        (b'{"resourceType": "Bundle", "type": "history", "entry": []}', "Bundle.type"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": []}', "no Patient"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": [{}]}', "Bundle.entry[0]"),
    ],
)
def test_an_unreadable_bundle_is_an_error(raw: bytes, words: str) -> None:
    with pytest.raises(BundleError, match=words.replace("[", r"\[").replace("]", r"\]")):
        read_bundle(raw, AS_OF)


def test_two_patients_are_refused() -> None:
    document = fb.bundle(fb.patient("p2"))
    with pytest.raises(BundleError, match="2 Patient resources"):
        read_bundle(fb.dumps(document), AS_OF)


# --- regressions: bugs found by these tests and fixed ------------------------------------------


def test_an_amendment_of_the_same_instant_in_another_offset_replaces_the_final_one() -> None:
    records = read(
        fb.cervical_length(23, "2026-01-20T09:00:00Z", rid="final"),
        fb.cervical_length(27, "2026-01-20T04:00:00-05:00", rid="amended", status="amended"),
    )
    assert [m.source_id for m in records.cervical_lengths] == ["amended"]


@pytest.mark.parametrize(
    "resource", [fb.cervical_length(22, "2026-02"), fb.dilation(2, "2026")], ids=["length", "exam"]
)
def test_a_measurement_dated_to_the_month_or_year_alone_is_rejected(
    resource: dict[str, Any],
) -> None:
    with pytest.raises(BundleError, match="effectiveDateTime"):
        read(resource)


def test_an_impossible_time_of_day_is_rejected() -> None:
    with pytest.raises(BundleError, match="effectiveDateTime"):
        read(fb.cervical_length(22, "2026-02-02T25:61:00Z"))


def test_an_error_in_the_patient_names_her_real_entry() -> None:
    document = fb.bundle(fb.edd(), with_patient=False)
    document["entry"].append({"resource": {**fb.patient(), "birthDate": "1990-02-31"}})
    with pytest.raises(BundleError, match=r"^Patient/p1 \(entry 1\): birthDate: "):
        read_bundle(fb.dumps(document), AS_OF)

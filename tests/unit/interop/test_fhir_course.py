"""The course of care in FHIR (issue 10; fhir-mapping.md): complications with their dates
(CD-06), decisions offered and declined, reviews of symptom reports (CD-07) and who reported
them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cervixwatch.clinical.records import (
    Complication,
    ComplicationRecord,
    DeclinableCode,
    PregnancyRecords,
    ReviewOutcome,
    SymptomReview,
)
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.knowledge import codes as c
from tests import fhir_builders as fb

AS_OF = dt.date(2026, 2, 2)
D = dt.date.fromisoformat


def read(*resources: dict[str, Any], as_of: dt.date = AS_OF) -> PregnancyRecords:
    return read_bundle(fb.dumps(fb.bundle(*resources)), as_of)


def error_of(*resources: dict[str, Any]) -> str:
    with pytest.raises(BundleError) as raised:
        read(*resources)
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- complications and their dates (CD-06) ------------------------------------------------


@pytest.mark.parametrize(
    ("status", "dates", "noted", "resolved"),
    [
        ("active", {}, None, None),
        ("active", {"onsetDateTime": "2026-01-10"}, "2026-01-10", None),
        ("active", {"recordedDate": "2026-01-12"}, "2026-01-12", None),
        (
            "active",
            {"onsetDateTime": "2026-01-10", "recordedDate": "2026-01-12"},
            "2026-01-10",
            None,
        ),
        (
            "resolved",
            {"onsetDateTime": "2026-01-10", "abatementDateTime": "2026-01-20"},
            "2026-01-10",
            "2026-01-20",
        ),
        ("inactive", {"abatementDateTime": "2026-01-20T08:00:00+01:00"}, None, "2026-01-20"),
        (
            "remission",
            {"onsetDateTime": "2026-01", "abatementDateTime": "2026-01-20"},
            "2026-01-01",
            "2026-01-20",
        ),
        # Resolved with no abatement date: resolved on the latest date given.
        (
            "resolved",
            {"onsetDateTime": "2026-01-10", "recordedDate": "2026-01-15"},
            "2026-01-10",
            "2026-01-15",
        ),
        ("resolved", {"recordedDate": "2026-01-15"}, "2026-01-15", "2026-01-15"),
        # No clinicalStatus: the abatement date ends it.
        (
            None,
            {"onsetDateTime": "2026-01-10", "abatementDateTime": "2026-01-20"},
            "2026-01-10",
            "2026-01-20",
        ),
    ],
)
def test_a_complication_keeps_its_dates(
    status: str | None, dates: dict[str, str], noted: str | None, resolved: str | None
) -> None:
    resource = fb.condition(c.VAGINAL_BLEEDING, status=status, rid="bleed", **dates)
    [record] = read(resource).complications
    assert record == ComplicationRecord(
        Complication.VAGINAL_BLEEDING,
        D(noted) if noted else None,
        D(resolved) if resolved else None,
        "bleed",
    )


def test_a_resolved_complication_with_no_date_at_all_is_not_kept() -> None:
    assert read(fb.condition(c.VAGINAL_BLEEDING, status="resolved")).complications == ()


def test_complications_are_kept_whatever_as_of_the_domain_cuts() -> None:
    records = read(
        fb.condition(c.CHORIOAMNIONITIS, rid="later", onsetDateTime="2026-03-02"),
        fb.condition(
            c.VAGINAL_BLEEDING,
            status="resolved",
            rid="over",
            onsetDateTime="2026-01-02",
            abatementDateTime="2026-01-05",
        ),
        as_of=D("2026-03-01"),
    )
    assert [x.source_id for x in records.complications] == ["later", "over"]
    assert not any(x.active_on(D("2026-03-01")) for x in records.complications)
    assert records.complications[0].active_on(D("2026-03-02"))
    assert records.complications[1].active_on(D("2026-01-04"))


def test_an_abatement_beside_an_active_status_is_not_used_and_is_noted() -> None:
    resource = fb.condition(
        c.PRETERM_LABOUR, rid="ptl", onsetDateTime="2026-01-10", abatementDateTime="2026-01-20"
    )
    records = read(resource)
    [record] = records.complications
    assert record.resolved_on is None
    assert records.notes == ("Condition ptl: abatementDateTime not used: clinicalStatus is active",)


def test_a_complication_resolved_before_it_was_noted_is_an_error() -> None:
    resource = fb.condition(
        c.PRETERM_LABOUR,
        status="resolved",
        rid="ptl",
        onsetDateTime="2026-01-20",
        abatementDateTime="2026-01-10",
    )
    assert error_of(resource).startswith("Condition/ptl (entry 1): abatementDateTime: ")


def test_maternal_conditions_keep_the_as_of_cut() -> None:
    records = read(
        fb.condition(c.UTERINE_ANOMALY, rid="later", onsetDateTime="2026-02-03"),
        fb.condition(c.INTRAUTERINE_ADHESIONS, rid="gone", status="resolved"),
    )
    assert records.maternal_conditions == frozenset()


# --- decisions offered and declined ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason", "declined"),
    [
        (
            c.CERCLAGE_VAGINAL,
            c.cw("history-indicated"),
            [DeclinableCode.HISTORY_INDICATED_CERCLAGE],
        ),
        (
            c.CERCLAGE_UNSPECIFIED,
            c.cw("ultrasound-indicated"),
            [DeclinableCode.ULTRASOUND_INDICATED_CERCLAGE],
        ),
        (c.CERCLAGE_VAGINAL, c.cw("exam-indicated"), [DeclinableCode.EXAM_INDICATED_CERCLAGE]),
        (c.CERCLAGE_ABDOMINAL, None, [DeclinableCode.ABDOMINAL_CERCLAGE]),
        (c.CERCLAGE_ABDOMINAL, c.cw("history-indicated"), [DeclinableCode.ABDOMINAL_CERCLAGE]),
        # "She declined a cerclage": every transvaginal cerclage.
        (
            c.CERCLAGE_VAGINAL,
            None,
            [
                DeclinableCode.EXAM_INDICATED_CERCLAGE,
                DeclinableCode.HISTORY_INDICATED_CERCLAGE,
                DeclinableCode.ULTRASOUND_INDICATED_CERCLAGE,
            ],
        ),
        (c.cw("serial-cervical-length"), None, [DeclinableCode.SERIAL_CERVICAL_LENGTH]),
        (c.cw("remove-cerclage"), None, [DeclinableCode.CERCLAGE_REMOVAL]),
    ],
)
def test_a_declined_procedure_is_a_declined_decision(
    code: c.Code, reason: c.Code | None, declined: list[DeclinableCode]
) -> None:
    records = read(fb.declined_procedure(code, "2026-01-20T10:00:00+00:00", reason=reason))
    assert sorted((d.code, d.declined_on, d.source_id) for d in records.declined) == [
        (x, D("2026-01-20"), "declined") for x in sorted(declined)
    ]
    assert records.cerclage_placements == ()


def test_a_declined_cerclage_is_not_a_placement_and_other_not_done_ones_stay_ignored() -> None:
    not_done = fb.declined_procedure(c.CERCLAGE_VAGINAL, rid="not-done")
    not_done["statusReason"] = fb.concept(("http://snomed.info/sct", "183944003"))
    something_else = fb.declined_procedure(("http://snomed.info/sct", "34536000"), rid="amnio")
    records = read(not_done, something_else)
    assert records.declined == ()
    assert records.cerclage_placements == ()


@pytest.mark.parametrize(
    "resource",
    [
        fb.declined_medication("2026-01-21"),
        fb.declined_medication(
            "2026-01-21",
            code=c.PROGESTERONE_200MG,
            dosage=[{"route": fb.concept(c.VAGINAL_ROUTE)}],
        ),
        fb.declined_medication(effective=None, effectivePeriod={"start": "2026-01-21"}),
    ],
    ids=["cw-code", "rxnorm-vaginal", "period"],
)
def test_declined_vaginal_progesterone(resource: dict[str, Any]) -> None:
    [declined] = read(resource).declined
    assert (declined.code, declined.declined_on) == (
        DeclinableCode.VAGINAL_PROGESTERONE,
        D("2026-01-21"),
    )


def test_other_medication_statements_are_ignored() -> None:
    taken = fb.declined_medication(status="active")
    oral = fb.declined_medication(code=c.PROGESTERONE_200MG, rid="oral")
    not_refused = fb.declined_medication(statusReason=[fb.concept(c.cw("other"))], rid="why")
    assert read(taken, oral, not_refused).declined == ()


def test_a_decision_declined_after_as_of_is_not_yet_known() -> None:
    records = read(
        fb.declined_procedure(c.CERCLAGE_ABDOMINAL, "2026-02-03"),
        fb.declined_medication("2026-02-03"),
    )
    assert records.declined == ()


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        (fb.declined_procedure(c.CERCLAGE_VAGINAL, None, rid="d1"), "performedDateTime"),
        (fb.declined_procedure(c.CERCLAGE_VAGINAL, "2026-01", rid="d1"), "performedDateTime"),
        (fb.declined_medication(None, rid="d1"), "effectiveDateTime"),
        (fb.declined_medication("2026-13-01", rid="d1"), "effectiveDateTime"),
    ],
)
def test_a_declined_decision_needs_its_date(resource: dict[str, Any], field: str) -> None:
    kind = resource["resourceType"]
    assert error_of(resource).startswith(f"{kind}/d1 (entry 1): {field}: ")


# --- reviews of symptom reports (CD-07) and who reported them -----------------------------


def test_a_review_is_attached_to_the_report_it_names() -> None:
    records = read(
        fb.review(owner={"reference": "Practitioner/mw1", "display": "Midwife A. Jones"}),
        fb.symptom_report("2026-02-01", bleeding=True),
    )
    [report] = records.symptom_reports
    assert report.reviews == (
        SymptomReview(D("2026-02-01"), ReviewOutcome.SEEN_IN_TRIAGE, "Midwife A. Jones", "review"),
    )
    assert records.notes == ()


@pytest.mark.parametrize(
    "focus",
    [
        "QuestionnaireResponse/symptoms",
        "urn:uuid:00000000-0000-0000-0000-000000000002",
        "https://fhir.example.org/r4/QuestionnaireResponse/symptoms",
    ],
    ids=["relative", "full-url", "absolute"],
)
def test_a_review_names_its_report_by_id_full_url_or_absolute_url(focus: str) -> None:
    records = read(fb.review(focus), fb.symptom_report("2026-02-01", bleeding=True))
    assert [len(r.reviews) for r in records.symptom_reports] == [1]


def test_reviews_of_several_reports_go_each_to_its_own_in_date_order() -> None:
    records = read(
        fb.symptom_report("2026-01-20", rid="first", spotting=True),
        fb.symptom_report("2026-02-01", rid="second", bleeding=True),
        fb.review("QuestionnaireResponse/second", "2026-02-02", "admitted", rid="r3"),
        fb.review("QuestionnaireResponse/first", "2026-01-22", "advised-by-phone", rid="r2"),
        fb.review("QuestionnaireResponse/first", "2026-01-21", "no-action-needed", rid="r1"),
    )
    first, second = records.symptom_reports
    assert [r.source_id for r in first.reviews] == ["r1", "r2"]
    assert [(r.outcome, r.reviewer) for r in second.reviews] == [(ReviewOutcome.ADMITTED, None)]


def test_a_review_dated_after_as_of_is_kept_with_its_date() -> None:
    records = read(
        fb.symptom_report("2026-02-01", bleeding=True),
        fb.review(reviewed="2026-02-05T09:00:00+00:00"),
    )
    [report] = records.symptom_reports
    assert [r.reviewed_on for r in report.reviews] == [D("2026-02-05")]
    assert report.review_by(AS_OF) is None


def test_last_modified_dates_a_review_without_an_execution_period() -> None:
    review = fb.review(reviewed=None, lastModified="2026-02-01T23:30:00-05:00")
    records = read(review, fb.symptom_report("2026-02-01", bleeding=True))
    assert [r.reviewed_on for r in records.symptom_reports[0].reviews] == [D("2026-02-01")]


def test_a_review_of_a_report_not_yet_authored_goes_with_it_silently() -> None:
    records = read(fb.symptom_report("2026-02-03", bleeding=True), fb.review(reviewed="2026-02-03"))
    assert records.symptom_reports == ()
    assert records.notes == ()


def test_a_review_of_no_report_in_the_bundle_is_noted_and_ignored() -> None:
    records = read(fb.review("QuestionnaireResponse/elsewhere", rid="lost"))
    assert records.symptom_reports == ()
    assert records.notes == (
        "Task lost (symptom-report review) not read: its focus "
        "QuestionnaireResponse/elsewhere names no symptom report in the Bundle",
    )


def test_tasks_that_are_not_completed_reviews_are_ignored() -> None:
    records = read(
        fb.symptom_report("2026-02-01", bleeding=True),
        fb.review(status="in-progress", rid="open"),
        fb.review(code=fb.concept(c.cw("something-else")), rid="other"),
    )
    assert records.symptom_reports[0].reviews == ()


def test_a_task_for_someone_else_is_not_about_her() -> None:
    task = fb.review()
    task["for"] = {"reference": "Patient/someone-else"}
    records = read(fb.symptom_report("2026-02-01", bleeding=True), task)
    assert records.symptom_reports[0].reviews == ()
    assert "1 resource(s) not about this patient were ignored" in records.notes


@pytest.mark.parametrize(
    ("task", "field", "words"),
    [
        (fb.review(outcome="went-home", rid="t1"), "businessStatus", "CW#went-home"),
        (fb.review(outcome=None, rid="t1"), "businessStatus", "missing"),
        (
            fb.review(
                rid="t1", businessStatus=fb.concept(c.cw("admitted"), c.cw("seen-in-triage"))
            ),
            "businessStatus",
            "2 outcomes",
        ),
        (fb.review(reviewed=None, rid="t1"), "executionPeriod.end", "missing"),
        (fb.review(reviewed="2026-02-01T10:00", rid="t1"), "executionPeriod.end", "time zone"),
        (fb.review(reviewed=None, rid="t1", lastModified="2026"), "lastModified", "full date"),
    ],
)
def test_an_invalid_review_is_an_error_naming_the_task_and_field(
    task: dict[str, Any], field: str, words: str
) -> None:
    message = error_of(fb.symptom_report("2026-02-01", bleeding=True), task)
    assert message.startswith(f"Task/t1 (entry 2): {field}: ")
    assert words in message


@pytest.mark.parametrize(
    ("fields", "reported_by"),
    [
        ({"author": {"reference": "Patient/p1"}}, "the woman"),
        ({"source": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}}, "the woman"),
        (
            {"author": {"reference": "Practitioner/mw1", "display": "Midwife A. Jones"}},
            "Midwife A. Jones",
        ),
        ({"author": {"reference": "Practitioner/mw1"}}, "Practitioner/mw1"),
        (
            {"author": {"display": "Dr B. Smith"}, "source": {"reference": "Patient/p1"}},
            "Dr B. Smith",
        ),
        ({}, None),
    ],
)
def test_who_reported_the_symptoms(fields: dict[str, Any], reported_by: str | None) -> None:
    report = {**fb.symptom_report("2026-02-01", bleeding=True), **fields}
    assert [r.reported_by for r in read(report).symptom_reports] == [reported_by]

"""Small FHIR R4 resources and bundles, coded as shared/clinical/fhir-mapping.md says, for tests
of the bundle reader and the CLI.

    bundle(edd("2026-07-04"), cervical_length(22, "2026-02-02"))

is a collection Bundle holding Patient/p1 and those resources, each referring to her.
"""

from __future__ import annotations

from typing import Any

import orjson

from cervixwatch.knowledge import codes as c

Resource = dict[str, Any]
PATIENT_ID = "p1"


def concept(*codes: c.Code) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code} for system, code in codes]}


def patient(patient_id: str = PATIENT_ID) -> Resource:
    return {"resourceType": "Patient", "id": patient_id, "birthDate": "1990-05-01"}


def subject(patient_id: str = PATIENT_ID) -> dict[str, str]:
    return {"reference": f"Patient/{patient_id}"}


def bundle(
    *resources: Resource, with_patient: bool = True, bundle_type: str = "collection"
) -> Resource:
    """A Bundle of Patient/p1 (unless `with_patient` is False) and `resources`."""
    everything = ([patient()] if with_patient else []) + list(resources)
    return {
        "resourceType": "Bundle",
        "type": bundle_type,
        "entry": [
            {"fullUrl": f"urn:uuid:00000000-0000-0000-0000-{i:012d}", "resource": r}
            for i, r in enumerate(everything)
        ],
    }


def dumps(document: Resource) -> bytes:
    return orjson.dumps(document)


def observation(
    code: c.Code,
    effective: str | None = "2026-02-02",
    *,
    rid: str | None = None,
    status: str = "final",
    **fields: Any,
) -> Resource:
    resource: Resource = {
        "resourceType": "Observation",
        "status": status,
        "code": concept(code),
        "subject": subject(),
    }
    if rid is not None:
        resource["id"] = rid
    if effective is not None:
        resource["effectiveDateTime"] = effective
    resource.update(fields)
    return resource


def quantity(value: Any, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": c.UCUM, "code": unit}


def edd(value: str = "2026-07-04", effective: str = "2025-11-22", rid: str = "edd") -> Resource:
    # Two datings are two records, with two ids: one id sent twice is one record, read once.
    return observation(c.EDD, effective, rid=rid, valueDateTime=value)


def fetus_count(count: int, effective: str = "2025-11-22", rid: str = "fetuses") -> Resource:
    return observation(c.FETUS_COUNT, effective, rid=rid, valueInteger=count)


def cervical_length(
    value: Any,
    effective: str | None = "2026-02-02",
    *,
    unit: str = "mm",
    method: c.Code | None = c.TRANSVAGINAL,
    rid: str = "cl",
    status: str = "final",
    comparator: str | None = None,
    **fields: Any,
) -> Resource:
    extra: dict[str, Any] = {"valueQuantity": quantity(value, unit)}
    if comparator is not None:
        extra["valueQuantity"]["comparator"] = comparator
    if method is not None:
        extra["method"] = concept(method)
    return observation(c.CERVICAL_LENGTH, effective, rid=rid, status=status, **extra, **fields)


def dilation(cm: float, effective: str = "2026-02-02") -> Resource:
    return observation(c.DILATION, effective, rid="dilation", valueQuantity=quantity(cm, "cm"))


def membranes_exposed(exposed: bool, effective: str = "2026-02-02") -> Resource:
    return observation(c.MEMBRANES_EXPOSED, effective, rid="membranes", valueBoolean=exposed)


def prior_pregnancy(
    outcome: str = "live-birth",
    weeks: float | None = 30.0,
    onset: str | None = "spontaneous-labour",
    *,
    ended: str | None = "2023-06-14",
    cerclage: str | None = None,
    unit: str = "wk",
    rid: str = "prior",
) -> Resource:
    components: list[dict[str, Any]] = []
    if weeks is not None:
        components.append(
            {"code": concept(c.GESTATIONAL_AGE), "valueQuantity": quantity(weeks, unit)}
        )
    if onset is not None:
        components.append({"code": concept(c.ONSET), "valueCodeableConcept": concept(c.cw(onset))})
    if cerclage is not None:
        components.append(
            {"code": concept(c.PRIOR_CERCLAGE), "valueCodeableConcept": concept(c.cw(cerclage))}
        )
    return observation(
        c.PRIOR_PREGNANCY,
        ended,
        rid=rid,
        valueCodeableConcept=concept(c.cw(outcome)),
        component=components,
    )


def not_done(code: c.Code, reason: str = "not-performed", *, rid: str = "absent") -> Resource:
    """An Observation that was not made: `dataAbsentReason` and no value."""
    return observation(code, rid=rid, dataAbsentReason=concept((c.DATA_ABSENT_REASON, reason)))


def history_count(code: c.Code, number: int, *, rid: str = "count", **fields: Any) -> Resource:
    """An IPS obstetric-history count ("preterm births: 1") as valueQuantity."""
    return observation(code, "2025-11-22", rid=rid, valueQuantity={"value": number}, **fields)


def condition(
    code: c.Code,
    *,
    status: str | None = "active",
    rid: str = "condition",
    verification: str | None = None,
    **dates: str,
) -> Resource:
    """A Condition; `dates` are onsetDateTime, recordedDate, abatementDateTime by name."""
    resource: Resource = {
        "resourceType": "Condition",
        "id": rid,
        "code": concept(code),
        "subject": subject(),
    }
    if status is not None:
        resource["clinicalStatus"] = concept((c.CONDITION_CLINICAL, status))
    if verification is not None:
        resource["verificationStatus"] = concept((c.CONDITION_VERIFICATION, verification))
    resource.update(dates)
    return resource


def procedure(
    code: c.Code, performed: str, *, reason: c.Code | None = None, rid: str = "procedure"
) -> Resource:
    resource: Resource = {
        "resourceType": "Procedure",
        "id": rid,
        "status": "completed",
        "code": concept(code),
        "subject": subject(),
        "performedDateTime": performed,
    }
    if reason is not None:
        resource["reasonCode"] = [concept(reason)]
    return resource


def declined_procedure(
    code: c.Code,
    performed: str | None = "2026-01-20",
    *,
    reason: c.Code | None = None,
    rid: str = "declined",
) -> Resource:
    """A not-done Procedure the woman declined (statusReason SNOMED 105480006)."""
    resource: Resource = {
        "resourceType": "Procedure",
        "id": rid,
        "status": "not-done",
        "statusReason": concept(c.REFUSAL_BY_PATIENT),
        "code": concept(code),
        "subject": subject(),
    }
    if performed is not None:
        resource["performedDateTime"] = performed
    if reason is not None:
        resource["reasonCode"] = [concept(reason)]
    return resource


def declined_medication(
    effective: str | None = "2026-01-20",
    *,
    code: c.Code = c.VAGINAL_PROGESTERONE,
    rid: str = "declined-medication",
    **fields: Any,
) -> Resource:
    """A not-taken MedicationStatement the woman declined (statusReason SNOMED 105480006)."""
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": rid,
        "status": "not-taken",
        "statusReason": [concept(c.REFUSAL_BY_PATIENT)],
        "medicationCodeableConcept": concept(code),
        "subject": subject(),
    }
    if effective is not None:
        resource["effectiveDateTime"] = effective
    resource.update(fields)
    return resource


def review(
    focus: str = "QuestionnaireResponse/symptoms",
    reviewed: str | None = "2026-02-01T14:30:00+00:00",
    outcome: str | None = "seen-in-triage",
    *,
    owner: dict[str, str] | None = None,
    rid: str = "review",
    **fields: Any,
) -> Resource:
    """A completed `CW#symptom-report-review` Task about the report `focus` names (CD-07)."""
    resource: Resource = {
        "resourceType": "Task",
        "id": rid,
        "status": "completed",
        "intent": "order",
        "code": concept(c.SYMPTOM_REPORT_REVIEW),
        "focus": {"reference": focus},
        "for": subject(),
    }
    if reviewed is not None:
        resource["executionPeriod"] = {"start": "2026-02-01", "end": reviewed}
    if outcome is not None:
        resource["businessStatus"] = concept(c.cw(outcome))
    if owner is not None:
        resource["owner"] = owner
    resource.update(fields)
    return resource


def medication_request(
    code: c.Code, *, status: str = "active", authored: str | None = None
) -> Resource:
    resource: Resource = {
        "resourceType": "MedicationRequest",
        "id": "medication",
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": concept(code),
        "subject": subject(),
    }
    if authored is not None:
        resource["authoredOn"] = authored
    return resource


def symptom_report(authored: str, rid: str = "symptoms", **answers: bool) -> Resource:
    """A symptoms QuestionnaireResponse; keyword names are linkIds with '_' for '-'."""
    return {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "questionnaire": c.SYMPTOMS_QUESTIONNAIRE,
        "status": "completed",
        "subject": subject(),
        "authored": authored,
        "item": [
            {"linkId": name.replace("_", "-"), "answer": [{"valueBoolean": value}]}
            for name, value in answers.items()
        ],
    }


def v01_bundle() -> Resource:
    """Vignette V01 as a minimal bundle: prior sPTB at 30+0, 22 mm at 18+2 (2026-02-02), closed."""
    return bundle(
        edd(),
        fetus_count(1),
        prior_pregnancy(),
        cervical_length(22),
        dilation(0),
        membranes_exposed(False),
    )

"""`PregnancyRecords` written back as a FHIR R4 Bundle, coded as shared/clinical/fhir-mapping.md
says: the inverse of `fhir_bundle.read_bundle`, so that a bundle exported by CervixWatch and
given to `cervixwatch assess` yields the same assessment.

Each record is one resource, except previous pregnancies known only from a count, which are
written back as the counts (`history_counts.counts_of`), and a review, which is a Task beside
its report. A medication order with a stop date is written with status `stopped` and the dates
as `dosageInstruction.timing.repeat.boundsPeriod` (the reader reads active orders only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cervixwatch.clinical.records import (
    ComplicationRecord,
    DeclinableCode,
    DeclinedDecision,
    LengthMethod,
    MaternalCondition,
    MedicationOrder,
    PregnancyRecords,
    SymptomReport,
)
from cervixwatch.interop.fhir_codes import (
    CERCLAGE_CODES,
    CHORIONICITY_CODES,
    COMPLICATION_CODES,
    DATING_CODES,
    DECLINED_CERCLAGE,
    EXCISION_CODES,
    MATERNAL_CODES,
    MEDICATION_CODES,
    OBSERVATION_CATEGORIES,
    OBSERVATION_CATEGORY_SYSTEM,
)
from cervixwatch.interop.history_counts import counts_of
from cervixwatch.knowledge import codes as c


def _concept(code: c.Code) -> dict[str, Any]:
    return {"coding": [{"system": code[0], "code": code[1]}]}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": c.UCUM, "code": unit}


class _Writer:
    def __init__(self, patient_id: str) -> None:
        self.patient_id = patient_id
        self.entries: list[dict[str, Any]] = []
        self.used: set[str] = set()

    def add(self, resource: dict[str, Any], local_id: str | None, kind: str) -> str:
        """Add a resource with `local_id` (else one made from `kind`); returns the id given,
        made unique where two records share one (decisions read from one Procedure)."""
        rid = local_id or f"{kind}-{len(self.entries)}"
        key, n = f"{resource['resourceType']}/{rid}", 1
        while key in self.used:
            n += 1
            key = f"{resource['resourceType']}/{rid}-{n}"
        self.used.add(key)
        rid = key.split("/", 1)[1]
        resource = {"resourceType": resource.pop("resourceType"), "id": rid, **resource}
        self.entries.append({"fullUrl": key, "resource": resource})
        return rid

    def observation(
        self, code: c.Code, when: str | None, local_id: str | None, **values: Any
    ) -> str:
        resource: dict[str, Any] = {"resourceType": "Observation", "status": "final"}
        if (category := OBSERVATION_CATEGORIES.get(code)) is not None:
            resource["category"] = [
                {"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": category}]}
            ]
        resource["code"] = _concept(code)
        resource["subject"] = {"reference": f"Patient/{self.patient_id}"}
        if when is not None:
            resource["effectiveDateTime"] = when
        resource.update(values)
        return self.add(resource, local_id, "obs")


def bundle_from_records(
    records: PregnancyRecords,
    patient: Mapping[str, Any] | None = None,
    bundle_type: str = "collection",
) -> dict[str, Any]:
    """A Bundle holding the Patient (given, or a bare one with her id) and every record."""
    pid = records.patient_id
    w = _Writer(pid)
    patient_resource = dict(patient) if patient else {"resourceType": "Patient", "id": pid}
    if records.birth_date and "birthDate" not in patient_resource:
        patient_resource["birthDate"] = records.birth_date.isoformat()
    w.entries.append({"fullUrl": f"Patient/{pid}", "resource": patient_resource})
    subject = {"reference": f"Patient/{pid}"}

    if records.edd is not None:
        dating = DATING_CODES.get(records.dating_method, c.EDD) if records.dating_method else c.EDD
        w.observation(dating, None, "edd", valueDateTime=records.edd.isoformat())
    if records.fetuses is not None:
        w.observation(c.FETUS_COUNT, None, "fetuses", valueInteger=records.fetuses)
    if records.chorionicity is not None:
        twins = _condition(CHORIONICITY_CODES[records.chorionicity], subject)
        w.add(twins, "chorionicity", "condition")
    for i, p in enumerate(records.prior_pregnancies):
        if p.counted_as is not None:
            continue  # written below, as the count it was read from
        components: list[dict[str, Any]] = []
        if p.gestation_days is not None:
            components.append(
                {
                    "code": _concept(c.GESTATIONAL_AGE),
                    "valueQuantity": _quantity(p.gestation_days, "d"),
                }
            )
        if p.onset is not None:
            components.append(
                {"code": _concept(c.ONSET), "valueCodeableConcept": _concept(c.cw(p.onset.value))}
            )
        if p.cerclage is not None:
            components.append(
                {
                    "code": _concept(c.PRIOR_CERCLAGE),
                    "valueCodeableConcept": _concept(c.cw(p.cerclage.value)),
                }
            )
        if p.fetuses is not None:
            components.append({"code": _concept(c.FETUS_COUNT), "valueInteger": p.fetuses})
        values: dict[str, Any] = {"component": components}
        if p.outcome is not None:
            values["valueCodeableConcept"] = _concept(c.cw(p.outcome.value))
        w.observation(
            c.PRIOR_PREGNANCY,
            str(p.ended) if p.ended else None,
            p.source_id or f"prior-{i}",
            **values,
        )
    for code, count in sorted(counts_of(records.prior_pregnancies).items()):
        rid = count.source_id or f"count-{code[1]}"
        w.observation(code, None, rid, valueQuantity={"value": count.number})
    for i, e in enumerate(records.excisions):
        procedure: dict[str, Any] = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": _concept(EXCISION_CODES[e.kind]),
            "subject": subject,
        }
        if e.performed is not None:
            procedure["performedDateTime"] = str(e.performed)
        if e.depth_mm is not None:
            procedure["extension"] = [
                {"url": c.EXCISION_DEPTH_EXTENSION, "valueQuantity": _quantity(e.depth_mm, "mm")}
            ]
        w.add(procedure, e.source_id or f"excision-{i}", "procedure")
    for condition in sorted(records.maternal_conditions):
        if condition is MaternalCondition.CAESAREAN_AT_FULL_DILATATION:
            w.add(
                {
                    "resourceType": "Procedure",
                    "status": "completed",
                    "code": _concept(c.CAESAREAN_FULL_DILATATION),
                    "subject": subject,
                },
                "caesarean-full-dilatation",
                "procedure",
            )
        else:
            w.add(_condition(MATERNAL_CODES[condition], subject), condition.value, "condition")
    for i, m in enumerate(records.cervical_lengths):
        method = {
            LengthMethod.TRANSVAGINAL: c.TRANSVAGINAL,
            LengthMethod.TRANSABDOMINAL: c.TRANSABDOMINAL,
        }.get(m.method)
        values = {"valueQuantity": _quantity(m.length_mm, "mm")}
        if m.comparator is not None:
            values["valueQuantity"]["comparator"] = m.comparator.value
        if method is not None:
            values["method"] = _concept(method)
        else:  # another approach: an uncoded method, which the reader keeps as "other"
            values["method"] = {
                "text": "other approach",
                "coding": [{"system": c.CW, "code": "other"}],
            }
        w.observation(
            c.CERVICAL_LENGTH, m.measured_on.isoformat(), m.source_id or f"cl-{i}", **values
        )
    for i, exam in enumerate(records.exams):
        day = exam.examined_on.isoformat()
        if exam.dilation_cm is not None:
            w.observation(
                c.DILATION,
                day,
                f"exam-{i}-dilation",
                valueQuantity=_quantity(exam.dilation_cm, "cm"),
            )
        if exam.effacement_percent is not None:
            w.observation(
                c.EFFACEMENT,
                day,
                f"exam-{i}-effacement",
                valueQuantity=_quantity(exam.effacement_percent, "%"),
            )
        if exam.membranes_exposed is not None:
            w.observation(
                c.MEMBRANES_EXPOSED, day, f"exam-{i}-membranes", valueBoolean=exam.membranes_exposed
            )
    for i, f in enumerate(records.fibronectin):
        if f.ng_per_ml is not None:
            w.observation(
                c.FFN_QUANTITATIVE,
                f.tested_on.isoformat(),
                f.source_id or f"ffn-{i}",
                valueQuantity={
                    "value": f.ng_per_ml,
                    "unit": "ng/mL",
                    "system": c.UCUM,
                    "code": "ng/mL",
                },
            )
        elif f.positive is not None:
            w.observation(
                c.FFN_QUALITATIVE,
                f.tested_on.isoformat(),
                f.source_id or f"ffn-{i}",
                valueCodeableConcept=_concept(c.POSITIVE if f.positive else c.NEGATIVE),
            )
    for i, complication in enumerate(records.complications):
        rid = complication.source_id or f"complication-{i}"
        w.add(_complication(complication, subject), rid, "")
    for i, placement in enumerate(records.cerclage_placements):
        procedure = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": _concept(CERCLAGE_CODES[placement.route]),
            "subject": subject,
            "performedDateTime": placement.placed_on.isoformat(),
        }
        if placement.indication is not None:
            procedure["reasonCode"] = [_concept(c.cw(placement.indication.value))]
        w.add(procedure, placement.source_id or f"cerclage-{i}", "procedure")
    for i, removal in enumerate(records.cerclage_removals):
        w.add(
            {
                "resourceType": "Procedure",
                "status": "completed",
                "code": _concept(c.CERCLAGE_REMOVAL),
                "subject": subject,
                "performedDateTime": removal.removed_on.isoformat(),
            },
            removal.source_id or f"cerclage-removal-{i}",
            "procedure",
        )
    for i, order in enumerate(records.medications):
        w.add(_medication_request(order, subject), order.source_id or f"medication-{i}", "")
    for i, decision in enumerate(records.declined):
        w.add(_declined(decision, subject), decision.source_id or f"declined-{i}", "")
    for i, report in enumerate(records.symptom_reports):
        qid = w.add(_report(report, subject), report.source_id or f"symptoms-{i}", "")
        for j, review in enumerate(report.reviews):
            task: dict[str, Any] = {
                "resourceType": "Task",
                "status": "completed",
                "intent": "order",
                "code": _concept(c.SYMPTOM_REPORT_REVIEW),
                "focus": {"reference": f"QuestionnaireResponse/{qid}"},
                "for": subject,
                "executionPeriod": {"end": review.reviewed_on.isoformat()},
                "businessStatus": _concept(c.cw(review.outcome.value)),
            }
            if review.reviewer is not None:
                task["owner"] = {"display": review.reviewer}
            w.add(task, review.source_id or f"review-{i}-{j}", "")
    return {
        "resourceType": "Bundle",
        "type": bundle_type,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entry": w.entries,
    }


def _condition(code: c.Code, subject: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": c.CONDITION_CLINICAL, "code": "active"}]},
        "code": _concept(code),
        "subject": dict(subject),
    }


def _complication(record: ComplicationRecord, subject: Mapping[str, Any]) -> dict[str, Any]:
    """A complication with its dates: onset = noted, abatement (status resolved) = resolved."""
    resource = _condition(COMPLICATION_CODES[record.complication], subject)
    if record.noted_on is not None:
        resource["onsetDateTime"] = record.noted_on.isoformat()
    if record.resolved_on is not None:
        resource["clinicalStatus"] = _concept((c.CONDITION_CLINICAL, "resolved"))
        resource["abatementDateTime"] = record.resolved_on.isoformat()
    return resource


def _medication_request(order: MedicationOrder, subject: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "active" if order.stopped_on is None else "stopped",
        "intent": "order",
        "medicationCodeableConcept": _concept(MEDICATION_CODES[order.medication]),
        "subject": dict(subject),
    }
    if order.started_on is not None:
        request["authoredOn"] = order.started_on.isoformat()
    if order.stopped_on is not None:
        bounds = {"end": order.stopped_on.isoformat()}
        if order.started_on is not None:
            bounds = {"start": order.started_on.isoformat(), **bounds}
        request["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": bounds}}}]
    return request


def _declined(decision: DeclinedDecision, subject: Mapping[str, Any]) -> dict[str, Any]:
    """A declined offer as fhir-mapping.md writes it: status not-done (not-taken) and
    statusReason "refusal of treatment by patient", dated by when she declined."""
    on = decision.declined_on.isoformat()
    refusal = _concept(c.REFUSAL_BY_PATIENT)
    if decision.code is DeclinableCode.VAGINAL_PROGESTERONE:
        return {
            "resourceType": "MedicationStatement",
            "status": "not-taken",
            "statusReason": [refusal],
            "medicationCodeableConcept": _concept(c.VAGINAL_PROGESTERONE),
            "subject": dict(subject),
            "effectiveDateTime": on,
        }
    code, reason = DECLINED_CERCLAGE.get(decision.code, (c.cw(decision.code.value), None))
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "status": "not-done",
        "statusReason": refusal,
        "code": _concept(code),
        "subject": dict(subject),
        "performedDateTime": on,
    }
    if reason is not None:
        procedure["reasonCode"] = [_concept(reason)]
    return procedure


def _report(report: SymptomReport, subject: Mapping[str, Any]) -> dict[str, Any]:
    items = [
        {"linkId": s.value, "answer": [{"valueBoolean": True}]} for s in sorted(report.present)
    ] + [{"linkId": s.value, "answer": [{"valueBoolean": False}]} for s in sorted(report.absent)]
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": c.SYMPTOMS_QUESTIONNAIRE,
        "subject": dict(subject),
        "authored": report.reported_on.isoformat(),
        "item": items,
    }
    if report.reported_by == "the woman":
        resource["author"] = dict(subject)
    elif report.reported_by is not None:
        resource["author"] = {"display": report.reported_by}
    return resource

"""`PregnancyRecords` written back as a FHIR R4 Bundle, coded as shared/clinical/fhir-mapping.md
says: the inverse of `fhir_bundle.read_bundle`, so that a bundle exported by CervixWatch and
given to `cervixwatch assess` yields the same assessment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cervixwatch.clinical.records import (
    CerclageRoute,
    Complication,
    ExcisionKind,
    LengthMethod,
    MaternalCondition,
    Medication,
    PregnancyRecords,
)
from cervixwatch.knowledge import codes as c

_COMPLICATION_CODES = {
    Complication.PRETERM_LABOUR: c.PRETERM_LABOUR,
    Complication.RUPTURED_MEMBRANES: c.RUPTURED_MEMBRANES,
    Complication.CHORIOAMNIONITIS: c.CHORIOAMNIONITIS,
    Complication.VAGINAL_BLEEDING: c.VAGINAL_BLEEDING,
    Complication.FETAL_DEATH: c.FETAL_DEATH,
    Complication.LETHAL_FETAL_ANOMALY: c.LETHAL_FETAL_ANOMALY,
    Complication.PLACENTA_PRAEVIA: c.PLACENTA_PRAEVIA,
}
_MATERNAL_CODES = {
    MaternalCondition.UTERINE_ANOMALY: c.UTERINE_ANOMALY,
    MaternalCondition.INTRAUTERINE_ADHESIONS: c.INTRAUTERINE_ADHESIONS,
    MaternalCondition.CERVICAL_INSUFFICIENCY: c.CERVICAL_INSUFFICIENCY,
}
_EXCISION_CODES = {
    ExcisionKind.LLETZ: c.LLETZ,
    ExcisionKind.CONE_BIOPSY: c.CONE_BIOPSY,
    ExcisionKind.TRACHELECTOMY: c.TRACHELECTOMY,
}
_CERCLAGE_CODES = {
    CerclageRoute.TRANSVAGINAL: c.CERCLAGE_VAGINAL,
    CerclageRoute.TRANSABDOMINAL: c.CERCLAGE_ABDOMINAL,
    CerclageRoute.UNKNOWN: c.CERCLAGE_UNSPECIFIED,
}
_MEDICATION_CODES = {
    Medication.VAGINAL_PROGESTERONE: c.VAGINAL_PROGESTERONE,
    Medication.HYDROXYPROGESTERONE_CAPROATE: c.HYDROXYPROGESTERONE_CAPROATE,
}


def _concept(code: c.Code) -> dict[str, Any]:
    return {"coding": [{"system": code[0], "code": code[1]}]}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": c.UCUM, "code": unit}


class _Writer:
    def __init__(self, patient_id: str) -> None:
        self.patient_id = patient_id
        self.entries: list[dict[str, Any]] = []

    def add(self, resource: dict[str, Any], local_id: str | None, kind: str) -> None:
        rid = local_id or f"{kind}-{len(self.entries)}"
        resource = {"resourceType": resource.pop("resourceType"), "id": rid, **resource}
        self.entries.append({"fullUrl": f"{resource['resourceType']}/{rid}", "resource": resource})

    def observation(
        self, code: c.Code, when: str | None, local_id: str | None, **values: Any
    ) -> None:
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "code": _concept(code),
            "subject": {"reference": f"Patient/{self.patient_id}"},
        }
        if when is not None:
            resource["effectiveDateTime"] = when
        resource.update(values)
        self.add(resource, local_id, "obs")


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
        w.observation(c.EDD, None, "edd", valueDateTime=records.edd.isoformat())
    if records.fetuses is not None:
        w.observation(c.FETUS_COUNT, None, "fetuses", valueInteger=records.fetuses)
    for i, p in enumerate(records.prior_pregnancies):
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
    for i, e in enumerate(records.excisions):
        procedure: dict[str, Any] = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": _concept(_EXCISION_CODES[e.kind]),
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
            w.add(_condition(_MATERNAL_CODES[condition], subject), condition.value, "condition")
    for i, m in enumerate(records.cervical_lengths):
        method = {
            LengthMethod.TRANSVAGINAL: c.TRANSVAGINAL,
            LengthMethod.TRANSABDOMINAL: c.TRANSABDOMINAL,
        }.get(m.method)
        values = {"valueQuantity": _quantity(m.length_mm, "mm")}
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
    for complication in sorted(records.complications):
        w.add(
            _condition(_COMPLICATION_CODES[complication], subject), complication.value, "condition"
        )
    for i, placement in enumerate(records.cerclage_placements):
        procedure = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": _concept(_CERCLAGE_CODES[placement.route]),
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
        request: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": _concept(_MEDICATION_CODES[order.medication]),
            "subject": subject,
        }
        if order.started_on is not None:
            request["authoredOn"] = order.started_on.isoformat()
        w.add(request, order.source_id or f"medication-{i}", "medication")
    for i, report in enumerate(records.symptom_reports):
        items = [
            {"linkId": s.value, "answer": [{"valueBoolean": True}]} for s in sorted(report.present)
        ] + [
            {"linkId": s.value, "answer": [{"valueBoolean": False}]} for s in sorted(report.absent)
        ]
        w.add(
            {
                "resourceType": "QuestionnaireResponse",
                "status": "completed",
                "questionnaire": c.SYMPTOMS_QUESTIONNAIRE,
                "subject": subject,
                "authored": report.reported_on.isoformat(),
                "item": items,
            },
            report.source_id or f"symptoms-{i}",
            "questionnaire-response",
        )
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

"""What each stored row becomes as a FHIR resource, in terms a search can ask the database:
the `store.resource_index.Arm`s of each resource type, coded with the code tables the export
writes with (`interop.fhir_codes`), so a search pages in SQL what an export would write (issue
12, F1).

`tests/app/test_search_index.py` holds the index to the export: on a cohort, every resource an
export writes is found by a search of its type, code, status and date, and nothing else is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, Final

from sqlalchemy import ColumnElement, func, select

from cervixwatch.clinical.records import DeclinableCode, MaternalCondition
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
)
from cervixwatch.interop.history_counts import COUNTED_AS
from cervixwatch.knowledge import codes as c
from cervixwatch.store.mapping import MEDICATIONS
from cervixwatch.store.models import (
    AssessmentRow,
    CerclagePlacementRow,
    CerclageRemovalRow,
    CervicalExamRow,
    CervicalExcisionRow,
    CervicalLengthRow,
    ComplicationRow,
    DeclinedDecisionRow,
    FibronectinTestRow,
    MaternalConditionRow,
    MedicationRow,
    PregnancyRow,
    PriorPregnancyRow,
    SymptomReportRow,
    SymptomReviewRow,
)
from cervixwatch.store.resource_index import Arm, Values

#: The key of the resources written back as a count of previous pregnancies (their ids are
#: the ids the counts had in their source): `#count-<counted_as>`, found in an export by code.
COUNT_PREFIX: Final = "#count"


@dataclass(frozen=True, slots=True)
class Param:
    """A search parameter of a type: its name, FHIR type, what it searches ("code", "status",
    "date", a token name of the arms, or one of the common ones) and its documentation."""

    name: str
    type: str
    role: str
    documentation: str


def _always(code: Any) -> Values:
    return {code: None}


def _by_enum(column: Any, table: Mapping[Any, Any]) -> Values:
    """Each code, with the rows whose `column` holds one of the enum values coded so."""
    grouped: dict[Any, list[Enum]] = {}
    for value, code in table.items():
        grouped.setdefault(code, []).append(value)
    return {code: partial(column.in_, tuple(values)) for code, values in grouped.items()}


def _first_of_each_code() -> ColumnElement[bool]:
    # A woman's conditions are a set: one resource per code, named by its first row.
    table = MaternalConditionRow
    first = select(func.min(table.id)).group_by(table.patient_id, table.condition)
    return table.id.in_(first.scalar_subquery())


_FINAL = _always("final")
_COMPLETED = _always("completed")
_CAESAREAN = MaternalCondition.CAESAREAN_AT_FULL_DILATATION
_MEDICATION_STATEMENT = DeclinableCode.VAGINAL_PROGESTERONE
_DECLINED_PROCEDURE_CODES = {
    code: DECLINED_CERCLAGE.get(code, (c.cw(code.value), None))[0]
    for code in DeclinableCode
    if code is not _MEDICATION_STATEMENT
}


def _category(code: c.Code) -> dict[str, Values]:
    """The `category` an Observation of `code` is written with (`fhir_codes`)."""
    return {"category": _always(OBSERVATION_CATEGORIES[code])}


def _observations() -> tuple[Arm, ...]:
    exam_parts = (
        ("dilation", c.DILATION, CervicalExamRow.dilation_cm),
        ("effacement", c.EFFACEMENT, CervicalExamRow.effacement_percent),
        ("membranes", c.MEMBRANES_EXPOSED, CervicalExamRow.membranes_exposed),
    )
    ffn = FibronectinTestRow
    prior = PriorPregnancyRow
    counted = {code: partial(prior.counted_as.__eq__, words) for words, code in COUNTED_AS.items()}
    return (
        Arm(
            "Observation",
            PregnancyRow,
            "pregnancy-row",
            "edd",
            {
                c.EDD: lambda: PregnancyRow.dating_method.is_(None),
                **_by_enum(PregnancyRow.dating_method, DATING_CODES),
            },
            _FINAL,
            where=lambda: PregnancyRow.edd.is_not(None),
        ),
        Arm(
            "Observation",
            PregnancyRow,
            "pregnancy-row",
            "fetuses",
            _always(c.FETUS_COUNT),
            _FINAL,
            where=lambda: PregnancyRow.fetuses.is_not(None),
        ),
        Arm(
            "Observation",
            prior,
            "patient",
            "prior",
            _always(c.PRIOR_PREGNANCY),
            _FINAL,
            where=lambda: prior.counted_as.is_(None),
        ),
        Arm(
            "Observation",
            prior,
            "patient",
            COUNT_PREFIX,
            counted,
            _FINAL,
            where=lambda: prior.counted_as.is_not(None),
            key=lambda: prior.counted_as,
            grouped=True,
        ),
        Arm(
            "Observation",
            CervicalLengthRow,
            "pregnancy",
            "cl",
            _always(c.CERVICAL_LENGTH),
            _FINAL,
            date=lambda: CervicalLengthRow.measured_on,
            tokens=_category(c.CERVICAL_LENGTH),
        ),
        *(
            Arm(
                "Observation",
                CervicalExamRow,
                "pregnancy",
                "exam",
                _always(code),
                _FINAL,
                date=lambda: CervicalExamRow.examined_on,
                suffix=f"-{part}",
                where=partial(column.is_not, None),
                tokens=_category(code),
            )
            for part, code, column in exam_parts
        ),
        Arm(
            "Observation",
            ffn,
            "pregnancy",
            "ffn",
            {
                c.FFN_QUANTITATIVE: lambda: ffn.ng_per_ml.is_not(None),
                c.FFN_QUALITATIVE: lambda: ffn.ng_per_ml.is_(None),
            },
            _FINAL,
            date=lambda: ffn.tested_on,
            where=lambda: ffn.ng_per_ml.is_not(None) | ffn.positive.is_not(None),
            tokens=_category(c.FFN_QUANTITATIVE),
        ),
    )


def _clinical(values: Mapping[str, Any]) -> dict[str, Values]:
    return {"clinical-status": values}


def _conditions() -> tuple[Arm, ...]:
    maternal = MaternalConditionRow
    complication = ComplicationRow
    return (
        Arm(
            "Condition",
            maternal,
            "patient",
            "maternal",
            _by_enum(maternal.condition, MATERNAL_CODES),
            {},
            where=lambda: (maternal.condition != _CAESAREAN) & _first_of_each_code(),
            tokens=_clinical(_always("active")),
        ),
        Arm(
            "Condition",
            PregnancyRow,
            "pregnancy-row",
            "chorionicity",
            _by_enum(PregnancyRow.chorionicity, CHORIONICITY_CODES),
            {},
            where=lambda: PregnancyRow.chorionicity.is_not(None),
            tokens=_clinical(_always("active")),
        ),
        Arm(
            "Condition",
            complication,
            "pregnancy",
            "complication",
            _by_enum(complication.complication, COMPLICATION_CODES),
            {},
            date=lambda: complication.noted_on,
            tokens=_clinical(
                {
                    "active": lambda: complication.resolved_on.is_(None),
                    "resolved": lambda: complication.resolved_on.is_not(None),
                }
            ),
        ),
    )


def _procedures() -> tuple[Arm, ...]:
    maternal = MaternalConditionRow
    declined = DeclinedDecisionRow
    return (
        Arm(
            "Procedure",
            CervicalExcisionRow,
            "patient",
            "excision",
            _by_enum(CervicalExcisionRow.kind, EXCISION_CODES),
            _COMPLETED,
        ),
        Arm(
            "Procedure",
            maternal,
            "patient",
            "maternal",
            _always(c.CAESAREAN_FULL_DILATATION),
            _COMPLETED,
            where=lambda: (maternal.condition == _CAESAREAN) & _first_of_each_code(),
        ),
        Arm(
            "Procedure",
            CerclagePlacementRow,
            "pregnancy",
            "cerclage",
            _by_enum(CerclagePlacementRow.route, CERCLAGE_CODES),
            _COMPLETED,
            date=lambda: CerclagePlacementRow.placed_on,
        ),
        Arm(
            "Procedure",
            CerclageRemovalRow,
            "pregnancy",
            "cerclage-removal",
            _always(c.CERCLAGE_REMOVAL),
            _COMPLETED,
            date=lambda: CerclageRemovalRow.removed_on,
        ),
        Arm(
            "Procedure",
            declined,
            "pregnancy",
            "declined",
            _by_enum(declined.code, _DECLINED_PROCEDURE_CODES),
            _always("not-done"),
            date=lambda: declined.declined_on,
            where=lambda: declined.code != _MEDICATION_STATEMENT,
        ),
    )


def _medications() -> tuple[Arm, ...]:
    row = MedicationRow
    current = MEDICATIONS.current
    assert current is not None
    return (
        Arm(
            "MedicationRequest",
            row,
            "pregnancy",
            "medication",
            _by_enum(row.medication, MEDICATION_CODES),
            {
                "active": lambda: row.stopped_on.is_(None),
                "stopped": lambda: row.stopped_on.is_not(None),
            },
            date=lambda: row.started_on,
            where=current,
        ),
    )


def _statements() -> tuple[Arm, ...]:
    declined = DeclinedDecisionRow
    return (
        Arm(
            "MedicationStatement",
            declined,
            "pregnancy",
            "declined",
            _always(c.VAGINAL_PROGESTERONE),
            _always("not-taken"),
            date=lambda: declined.declined_on,
            where=lambda: declined.code == _MEDICATION_STATEMENT,
        ),
    )


def _reports() -> tuple[Arm, ...]:
    return (
        Arm(
            "QuestionnaireResponse",
            SymptomReportRow,
            "pregnancy",
            "symptoms",
            {},
            _COMPLETED,
            date=lambda: SymptomReportRow.reported_on,
            tokens={"questionnaire": _always(c.SYMPTOMS_QUESTIONNAIRE)},
        ),
        Arm(
            "Task",
            SymptomReviewRow,
            "child",
            "review",
            _always(c.SYMPTOM_REPORT_REVIEW),
            _COMPLETED,
            parent=SymptomReportRow,
            parent_column="symptom_report_id",
        ),
    )


def _assessment(resource_type: str) -> tuple[Arm, ...]:
    return (
        Arm(
            resource_type,
            AssessmentRow,
            "pregnancy",
            "assessment",
            {},
            {},
            where=(lambda: AssessmentRow.urgent.is_(True)) if resource_type == "Flag" else None,
        ),
    )


#: The arms of each record type a search pages in SQL.
ARMS: Final[Mapping[str, Sequence[Arm]]] = {
    "Observation": _observations(),
    "Condition": _conditions(),
    "Procedure": _procedures(),
    "MedicationRequest": _medications(),
    "MedicationStatement": _statements(),
    "QuestionnaireResponse": _reports()[:1],
    "Task": _reports()[1:],
    **{kind: _assessment(kind) for kind in ("GuidanceResponse", "RequestGroup", "RiskAssessment")},
    "Flag": _assessment("Flag"),
}

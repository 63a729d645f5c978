"""Reading the Conditions, Procedures, medications, symptom reports and their reviews of a
Bundle (fhir-mapping.md): each reader takes one resource about the Patient and adds what it
means to the `Reading`.

Choices (docs/clinical-interpretations.md, "Issue 10: FHIR inputs"):

- A Condition whose `verificationStatus` is provisional, differential, unconfirmed, refuted or
  entered-in-error is not a complication, maternal condition or multiple pregnancy; a note
  names it and its status.
- A complication is kept with its dates whatever `as_of` is (CD-06: the cut happens in
  `clinical/`): noted on `onsetDateTime`, else `recordedDate`; resolved on `abatementDateTime`
  when `clinicalStatus` is resolved, inactive or remission (or absent). Resolved with no
  abatement date, it is taken as resolved on the latest date it gives (the earliest day it can
  have resolved; nothing dates the resolution itself), and with no date at all it is not kept.
  An `abatementDateTime` beside an active status (invalid FHIR, con-4) is not used: the status
  stands, and a note says so. Partial dates count from their first day (I-60).
- Maternal conditions and a multiple pregnancy keep the older reading: known on `as_of` when
  noted by then, and not once resolved.
- A declined decision (status not-done / not-taken with `statusReason` SNOMED 105480006): a
  cerclage declined with no CW reason is taken as all three transvaginal cerclages declined
  (she declined "a cerclage"); an abdominal one (46681009) is `consider-abdominal-cerclage`. A
  not-done Procedure coded `CW#<code>` for any other declinable recommendation
  (`CW#serial-cervical-length`, `CW#refer-preterm-birth-clinic` ...) is that code declined, so
  every `DeclinableCode` has a FHIR form the writer can give back.
- A review (Task) is kept whatever its date (`SymptomReport.review_by` decides); reports keep
  the older cut (authored after `as_of`: not yet known).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Final

from cervixwatch.clinical.records import (
    CerclagePlacement,
    CerclageRemoval,
    CervicalExcision,
    Complication,
    ComplicationRecord,
    DeclinableCode,
    DeclinedDecision,
    ExcisionKind,
    MaternalCondition,
    Medication,
    MedicationOrder,
    PartialDate,
    ReviewOutcome,
    Symptom,
    SymptomReport,
    SymptomReview,
)
from cervixwatch.interop import fhir_values as fv
from cervixwatch.interop.fhir_codes import (
    CERCLAGE_ROUTE_OF,
    CHORIONICITY_OF,
    COMPLICATION_OF,
    DECLINED_CERCLAGE_OF,
    INDICATION_OF,
    MATERNAL_OF,
)
from cervixwatch.interop.fhir_reading import PendingReview, Reading, keys_of, name_of, who
from cervixwatch.interop.fhir_statuses import (
    INACTIVE_CONDITION,
    READ,
    SKIP,
    STATUSES,
    UNCONFIRMED_CONDITION,
    WITHDRAW,
    effect,
)
from cervixwatch.interop.fhir_values import Where, codes_of
from cervixwatch.knowledge import codes as c

SKIPPED_PROCEDURE_STATUSES: Final = STATUSES["Procedure"].having(SKIP, WITHDRAW)

#: A transvaginal cerclage declined without a reason: she declined "a cerclage".
_ANY_TRANSVAGINAL_CERCLAGE = (
    DeclinableCode.HISTORY_INDICATED_CERCLAGE,
    DeclinableCode.ULTRASOUND_INDICATED_CERCLAGE,
    DeclinableCode.EXAM_INDICATED_CERCLAGE,
)
_DECLINABLE = {c.cw(d.value): d for d in DeclinableCode}
_OUTCOMES = {c.cw(o.value): o for o in ReviewOutcome}
_SYMPTOMS = {s.value: s for s in Symptom}

Reader = Callable[[dict[str, Any], Where, str | None, Reading], None]


# --- Conditions -----------------------------------------------------------------------------


def condition(r: dict[str, Any], where: Where, _url: str | None, got: Reading) -> None:
    code = codes_of(r.get("code"))
    complications = [v for k, v in COMPLICATION_OF.items() if k in code]
    maternal = [v for k, v in MATERNAL_OF.items() if k in code]
    multiple = bool(code & c.MULTIPLE_PREGNANCY_CONDITIONS)
    if not (complications or maternal or multiple):
        return
    # The statuses' bindings are required, so their code alone says it (as app/importing reads
    # them: the command line and the server must agree).
    verification = {code for _, code in codes_of(r.get("verificationStatus"))}
    unconfirmed = sorted(verification & UNCONFIRMED_CONDITION)
    if unconfirmed:
        meaning = ", ".join(
            [x.value.replace("-", " ") for x in (*complications, *maternal)]
            + (["multiple pregnancy"] if multiple else [])
        )
        got.notes.append(
            f"Condition {name_of(r, where)} ({meaning}) not read: "
            f"verification status {unconfirmed[0]}"
        )
        return
    clinical = {code for _, code in codes_of(r.get("clinicalStatus"))}
    if complications:
        _complications(r, where, clinical, complications, got)
    if (maternal or multiple) and _known_and_current(r, where, clinical, got.as_of):
        got.maternal.update(maternal)
        got.multiple_condition = got.multiple_condition or multiple
        got.chorionicity.update(CHORIONICITY_OF[k] for k in code if k in CHORIONICITY_OF)


def _date(r: dict[str, Any], where: Where, name: str) -> dt.date | None:
    if name not in r:
        return None
    return fv.parse_partial_date(r[name], where, name).earliest()


def _complications(
    r: dict[str, Any],
    where: Where,
    clinical: set[str],
    complications: list[Complication],
    got: Reading,
) -> None:
    onset = _date(r, where, "onsetDateTime")
    recorded = _date(r, where, "recordedDate")
    abated = _date(r, where, "abatementDateTime")
    noted = onset if onset is not None else recorded
    resolved: dt.date | None = None
    if clinical & INACTIVE_CONDITION:
        if abated is not None:
            resolved = abated
        else:
            given = [d for d in (onset, recorded) if d is not None]
            if not given:
                return  # resolved, and nothing says when it was active
            resolved = max(given)
    elif abated is not None:
        if clinical:
            got.notes.append(
                f"Condition {name_of(r, where)}: abatementDateTime not used: "
                f"clinicalStatus is {sorted(clinical)[0]}"
            )
        else:
            resolved = abated
    if resolved is not None and noted is not None and resolved < noted:
        raise where.error(
            "abatementDateTime", f"{resolved.isoformat()} is before it was noted ({noted})"
        )
    rid = r.get("id")
    got.complications.extend(ComplicationRecord(x, noted, resolved, rid) for x in complications)


def _known_and_current(r: dict[str, Any], where: Where, clinical: set[str], as_of: dt.date) -> bool:
    if clinical & INACTIVE_CONDITION:
        return False
    for name in ("onsetDateTime", "recordedDate"):
        if name in r:
            noted = _date(r, where, name)
            if noted is not None and noted > as_of:
                return False
            break
    abated = _date(r, where, "abatementDateTime")
    return abated is None or abated > as_of


# --- Procedures -----------------------------------------------------------------------------


def _performed(r: dict[str, Any], where: Where) -> PartialDate | None:
    if "performedDateTime" in r:
        return fv.parse_partial_date(r["performedDateTime"], where, "performedDateTime")
    if isinstance(r.get("performedPeriod"), dict) and "start" in r["performedPeriod"]:
        return fv.parse_partial_date(r["performedPeriod"]["start"], where, "performedPeriod.start")
    return None


def procedure(r: dict[str, Any], where: Where, _url: str | None, got: Reading) -> None:
    status = r.get("status")
    if status == "not-done" and c.REFUSAL_BY_PATIENT in codes_of(r.get("statusReason")):
        _declined_procedure(r, where, got)
        return
    if status in SKIPPED_PROCEDURE_STATUSES:
        return
    performed = _performed(r, where)
    if performed is not None and performed.earliest() > got.as_of:
        return
    code = codes_of(r.get("code"))
    rid = r.get("id")
    if code & {c.LLETZ, c.CONE_BIOPSY, c.TRACHELECTOMY}:
        kind = (
            ExcisionKind.TRACHELECTOMY
            if c.TRACHELECTOMY in code
            else ExcisionKind.CONE_BIOPSY
            if c.CONE_BIOPSY in code
            else ExcisionKind.LLETZ
        )
        depth = None
        for i, ext in enumerate(fv.listed(r.get("extension"), where, "extension")):
            if isinstance(ext, dict) and ext.get("url") == c.EXCISION_DEPTH_EXTENSION:
                depth = fv.quantity(
                    ext.get("valueQuantity"),
                    where,
                    f"extension[{i}].valueQuantity",
                    c.LENGTH_UNITS_TO_MM,
                    "a length unit",
                )
        got.excisions.append(CervicalExcision(kind, depth, performed, rid))
    elif c.CAESAREAN_FULL_DILATATION in code:
        got.maternal.add(MaternalCondition.CAESAREAN_AT_FULL_DILATATION)
    elif c.CERCLAGE_REMOVAL in code:
        if performed is None or performed.day is None:
            raise where.error("performedDateTime", "a cerclage removal needs its full date")
        got.removals.append(CerclageRemoval(performed.earliest(), rid))
    elif code & set(CERCLAGE_ROUTE_OF):
        if performed is None or performed.day is None:
            raise where.error("performedDateTime", "a cerclage needs the full date it was placed")
        route = next(
            CERCLAGE_ROUTE_OF[k]
            for k in (c.CERCLAGE_VAGINAL, c.CERCLAGE_ABDOMINAL, c.CERCLAGE_UNSPECIFIED)
            if k in code
        )
        indication = None
        for reason in codes_of(r.get("reasonCode")):
            indication = INDICATION_OF.get(reason, indication)
        got.placements.append(CerclagePlacement(performed.earliest(), route, indication, rid))


def _declined_procedure(r: dict[str, Any], where: Where, got: Reading) -> None:
    code = codes_of(r.get("code"))
    declined = {_DECLINABLE[k] for k in code if k in _DECLINABLE}
    if c.CERCLAGE_ABDOMINAL in code:
        declined.add(DeclinableCode.ABDOMINAL_CERCLAGE)
    elif code & {c.CERCLAGE_VAGINAL, c.CERCLAGE_UNSPECIFIED}:
        reasons = {
            DECLINED_CERCLAGE_OF[k]
            for k in codes_of(r.get("reasonCode"))
            if k in DECLINED_CERCLAGE_OF
        }
        declined |= reasons or set(_ANY_TRANSVAGINAL_CERCLAGE)
    if not declined:
        return  # something else she declined; not a recommendation of ours
    performed = _performed(r, where)
    if performed is None:
        raise where.error("performedDateTime", "missing: a declined decision needs its date")
    if performed.day is None:
        raise where.error("performedDateTime", f"{performed} needs a full date")
    _decline(declined, performed.earliest(), r, got)


def _decline(declined: set[DeclinableCode], on: dt.date, r: dict[str, Any], got: Reading) -> None:
    if on > got.as_of:
        return
    got.declined.extend(DeclinedDecision(d, on, r.get("id")) for d in sorted(declined))


# --- Medications ----------------------------------------------------------------------------


def _medication(
    r: dict[str, Any], meds: Mapping[str, dict[str, Any]], where: Where
) -> Medication | None:
    """What a MedicationRequest or MedicationStatement is coded as (fhir-mapping.md)."""
    code = codes_of(r.get("medicationCodeableConcept"))
    ref = r.get("medicationReference")
    if isinstance(ref, dict) and isinstance(ref.get("reference"), str) and ref["reference"] in meds:
        code |= codes_of(meds[ref["reference"]].get("code"))
    routes: set[c.Code] = set()
    name = "dosageInstruction" if "dosageInstruction" in r else "dosage"
    for dosage in fv.listed(r.get(name), where, name):
        if isinstance(dosage, dict):
            routes |= codes_of(dosage.get("route"))
    if c.HYDROXYPROGESTERONE_CAPROATE in code:
        return Medication.HYDROXYPROGESTERONE_CAPROATE
    if c.VAGINAL_PROGESTERONE in code or (
        c.PROGESTERONE_200MG in code and c.VAGINAL_ROUTE in routes
    ):
        return Medication.VAGINAL_PROGESTERONE
    return None


def medication_request(r: dict[str, Any], where: Where, _url: str | None, got: Reading) -> None:
    if effect("MedicationRequest", r.get("status")) is not READ:
        return
    started = None
    if "authoredOn" in r:
        started = fv.parse_partial_date(r["authoredOn"], where, "authoredOn").earliest()
        if started > got.as_of:
            return
    medication = _medication(r, got.medications, where)
    if medication is not None:
        got.medication_orders.append(MedicationOrder(medication, started, r.get("id")))


def medication_statement(r: dict[str, Any], where: Where, _url: str | None, got: Reading) -> None:
    """Only a declined medication is read from a MedicationStatement (fhir-mapping.md)."""
    if effect(
        "MedicationStatement", r.get("status")
    ) is not READ or c.REFUSAL_BY_PATIENT not in codes_of(r.get("statusReason")):
        return
    if _medication(r, got.medications, where) is not Medication.VAGINAL_PROGESTERONE:
        return
    if "effectiveDateTime" in r:
        on = fv.parse_date(r["effectiveDateTime"], where, "effectiveDateTime")
    elif isinstance(r.get("effectivePeriod"), dict) and "start" in r["effectivePeriod"]:
        on = fv.parse_date(r["effectivePeriod"]["start"], where, "effectivePeriod.start")
    else:
        raise where.error("effectiveDateTime", "missing: a declined decision needs its date")
    _decline({DeclinableCode.VAGINAL_PROGESTERONE}, on, r, got)


# --- Symptom reports and their reviews ------------------------------------------------------


def questionnaire_response(r: dict[str, Any], where: Where, url: str | None, got: Reading) -> None:
    questionnaire = r.get("questionnaire")
    if (
        not isinstance(questionnaire, str)
        or questionnaire.split("|")[0] != c.SYMPTOMS_QUESTIONNAIRE
    ):
        return
    if effect("QuestionnaireResponse", r.get("status")) is not READ:
        return
    authored = fv.parse_date(r.get("authored"), where, "authored")
    if authored > got.as_of:
        return
    present: set[Symptom] = set()
    absent: set[Symptom] = set()
    for i, item in enumerate(fv.listed(r.get("item"), where, "item")):
        if not isinstance(item, dict):
            continue
        link = item.get("linkId")
        symptom = _SYMPTOMS.get(link) if isinstance(link, str) else None
        if symptom is None:
            continue
        for answer in fv.listed(item.get("answer"), where, f"item[{i}].answer"):
            if isinstance(answer, dict) and "valueBoolean" in answer:
                yes = fv.boolean(answer["valueBoolean"], where, f"item[{i}].answer.valueBoolean")
                (present if yes else absent).add(symptom)
    reported_by = who(r.get("author"), got.patient_keys) or who(r.get("source"), got.patient_keys)
    report = SymptomReport(
        authored, frozenset(present), frozenset(absent), r.get("id"), reported_by=reported_by
    )
    got.reports.append((frozenset(keys_of(r, url)), report))


def task(r: dict[str, Any], where: Where, _url: str | None, got: Reading) -> None:
    """A completed `CW#symptom-report-review` Task: a clinician's review of a report (CD-07)."""
    if effect("Task", r.get("status")) is not READ or c.SYMPTOM_REPORT_REVIEW not in codes_of(
        r.get("code")
    ):
        return
    period = r.get("executionPeriod")
    if isinstance(period, dict) and "end" in period:
        reviewed_on = fv.parse_date(period["end"], where, "executionPeriod.end")
    elif "lastModified" in r:
        reviewed_on = fv.parse_date(r["lastModified"], where, "lastModified")
    else:
        raise where.error("executionPeriod.end", "missing: a review needs the date it was made")
    outcome = _outcome(r, where)
    focus = r.get("focus")
    target = focus.get("reference") if isinstance(focus, dict) else None
    review = SymptomReview(reviewed_on, outcome, who(r.get("owner"), set()), r.get("id"))
    if not isinstance(target, str):
        got.notes.append(f"Task {name_of(r, where)} (symptom-report review) not read: no focus")
        return
    got.reviews.append(PendingReview(target, review, name_of(r, where)))


def _outcome(r: dict[str, Any], where: Where) -> ReviewOutcome:
    given = sorted({code for system, code in codes_of(r.get("businessStatus")) if system == c.CW})
    expected = f"expected one of {', '.join('CW#' + o.value for o in ReviewOutcome)}"
    if not given:
        raise where.error("businessStatus", f"missing: the review's outcome ({expected})")
    unknown = [code for code in given if c.cw(code) not in _OUTCOMES]
    if unknown:
        raise where.error("businessStatus", f"CW#{unknown[0]} is not a review outcome ({expected})")
    if len(given) > 1:
        raise where.error("businessStatus", f"{len(given)} outcomes given; a review has one")
    return _OUTCOMES[c.cw(given[0])]


READERS: Final[Mapping[str, Reader]] = {
    "Condition": condition,
    "Procedure": procedure,
    "MedicationRequest": medication_request,
    "MedicationStatement": medication_statement,
    "QuestionnaireResponse": questionnaire_response,
    "Task": task,
}

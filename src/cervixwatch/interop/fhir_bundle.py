"""A FHIR R4 Bundle holding one Patient and her records, coded as shared/clinical/
fhir-mapping.md says, becomes `PregnancyRecords`.

Tolerant of what it does not use (other resources, extra codings, extensions, resources about
someone else), strict about what it does: a cervical length in kg, a value that is not a
number or an impossible date is an error naming the resource and field. Anything dated after
`as_of` is left out, so an assessment "as of" a past date sees what was known then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclagePlacement,
    CerclageRemoval,
    CerclageRoute,
    CervicalExam,
    CervicalExcision,
    CervicalLengthMeasurement,
    Complication,
    ExcisionKind,
    FetalFibronectin,
    LengthMethod,
    MaternalCondition,
    Medication,
    MedicationOrder,
    Onset,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
    Symptom,
    SymptomReport,
)
from cervixwatch.interop import fhir_values as fv
from cervixwatch.interop.fhir_values import BundleError, Where, codes_of
from cervixwatch.knowledge import codes as c

BUNDLE_TYPES = frozenset({"collection", "transaction", "searchset", "document"})
SKIPPED_OBSERVATION_STATUSES = frozenset({"entered-in-error", "cancelled"})
REVISED_STATUSES = frozenset({"amended", "corrected"})
INACTIVE_CONDITION = frozenset({"inactive", "resolved", "remission"})
SKIPPED_PROCEDURE_STATUSES = frozenset(
    {"entered-in-error", "not-done", "preparation", "stopped", "unknown"}
)

_OUTCOMES = {c.cw(o.value): o for o in PriorOutcome}
_ONSETS = {c.cw(o.value): o for o in Onset} | {
    c.PAINLESS_DILATION_SNOMED: Onset.PAINLESS_CERVICAL_DILATION
}
_INDICATIONS = {c.cw(i.value): i for i in CerclageIndication}
_COMPLICATIONS = {
    c.PRETERM_LABOUR: Complication.PRETERM_LABOUR,
    c.RUPTURED_MEMBRANES: Complication.RUPTURED_MEMBRANES,
    c.CHORIOAMNIONITIS: Complication.CHORIOAMNIONITIS,
    c.VAGINAL_BLEEDING: Complication.VAGINAL_BLEEDING,
    c.FETAL_DEATH: Complication.FETAL_DEATH,
    c.LETHAL_FETAL_ANOMALY: Complication.LETHAL_FETAL_ANOMALY,
    c.PLACENTA_PRAEVIA: Complication.PLACENTA_PRAEVIA,
}
_MATERNAL = {
    c.UTERINE_ANOMALY: MaternalCondition.UTERINE_ANOMALY,
    c.INTRAUTERINE_ADHESIONS: MaternalCondition.INTRAUTERINE_ADHESIONS,
    c.CERVICAL_INSUFFICIENCY: MaternalCondition.CERVICAL_INSUFFICIENCY,
}
_CERCLAGE_ROUTES = {
    c.CERCLAGE_VAGINAL: CerclageRoute.TRANSVAGINAL,
    c.CERCLAGE_ABDOMINAL: CerclageRoute.TRANSABDOMINAL,
    c.CERCLAGE_UNSPECIFIED: CerclageRoute.UNKNOWN,
}
_SYMPTOMS = {s.value: s for s in Symptom}
_DILATION_UNITS = {"cm": 1.0, "mm": 0.1}
_PERCENT = {"%": 1.0}
_FFN_UNITS = {"ng/mL": 1.0, "ug/L": 1.0}


@dataclass(slots=True)
class _Collected:
    """Records gathered while walking the bundle, before they are frozen."""

    edd: list[tuple[dt.date, int, dt.date]] = field(default_factory=list)
    fetus_counts: list[tuple[dt.date, int, int]] = field(default_factory=list)
    multiple_condition: bool = False
    priors: list[PriorPregnancy] = field(default_factory=list)
    excisions: list[CervicalExcision] = field(default_factory=list)
    maternal: set[MaternalCondition] = field(default_factory=set)
    lengths: list[tuple[str, LengthMethod, bool, str, CervicalLengthMeasurement]] = field(
        default_factory=list
    )
    exams: list[CervicalExam] = field(default_factory=list)
    fibronectin: list[FetalFibronectin] = field(default_factory=list)
    complications: set[Complication] = field(default_factory=set)
    placements: list[CerclagePlacement] = field(default_factory=list)
    removals: list[CerclageRemoval] = field(default_factory=list)
    medications: list[MedicationOrder] = field(default_factory=list)
    reports: list[SymptomReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_bundle_json(raw: bytes | str) -> dict[str, Any]:
    """Parse bundle JSON; not JSON or not a Bundle is a BundleError."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise BundleError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise BundleError("not a FHIR resource: expected a JSON object")
    if data.get("resourceType") != "Bundle":
        raise BundleError(f"resourceType: expected 'Bundle', got {data.get('resourceType')!r}")
    return data


def read_bundle(raw: bytes | str, as_of: dt.date) -> PregnancyRecords:
    """Bundle JSON to one pregnancy's records as known on `as_of`."""
    return records_from_bundle(load_bundle_json(raw), as_of)


def _entries(bundle: Mapping[str, Any]) -> list[tuple[int, str | None, dict[str, Any]]]:
    bundle_type = bundle.get("type")
    if bundle_type not in BUNDLE_TYPES:
        raise BundleError(
            f"Bundle.type: {bundle_type!r} is not one of {', '.join(sorted(BUNDLE_TYPES))}"
        )
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise BundleError("Bundle.entry: expected a list")
    out = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise BundleError(f"Bundle.entry[{index}]: expected an entry with a resource")
        resource = entry["resource"]
        if not isinstance(resource.get("resourceType"), str):
            raise BundleError(f"Bundle.entry[{index}].resource: missing resourceType")
        full_url = entry.get("fullUrl")
        out.append((index, full_url if isinstance(full_url, str) else None, resource))
    return out


def _patient_keys(
    entries: list[tuple[int, str | None, dict[str, Any]]],
) -> tuple[int, dict[str, Any], set[str]]:
    patients = [(i, url, r) for i, url, r in entries if r["resourceType"] == "Patient"]
    if not patients:
        raise BundleError("Bundle: no Patient resource")
    if len(patients) > 1:
        raise BundleError(f"Bundle: {len(patients)} Patient resources; expected exactly one")
    index, url, patient = patients[0]
    keys: set[str] = set()
    if isinstance(patient.get("id"), str):
        keys.add(f"Patient/{patient['id']}")
    if url:
        keys.add(url)
    if not keys:
        raise BundleError(
            f"Patient (entry {index}): id: the Patient has neither an id nor a fullUrl"
        )
    return index, patient, keys


def _refers_to(resource: Mapping[str, Any], keys: set[str]) -> bool:
    for name in ("subject", "patient"):
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            target = ref["reference"]
            if target in keys:
                return True
            # An absolute URL to the same Patient (https://host/fhir/Patient/p1).
            return any(target.endswith("/" + k) for k in keys if k.startswith("Patient/"))
    return False


def records_from_bundle(bundle: Mapping[str, Any], as_of: dt.date) -> PregnancyRecords:
    entries = _entries(bundle)
    patient_index, patient, keys = _patient_keys(entries)
    got = _Collected()
    medications = {
        key: r
        for i, url, r in entries
        if r["resourceType"] == "Medication"
        for key in (url, f"Medication/{r.get('id')}")
        if key
    }
    ignored = 0
    for index, _url, resource in entries:
        kind = resource["resourceType"]
        reader = _READERS.get(kind)
        if reader is None:
            continue
        if not _refers_to(resource, keys):
            ignored += 1
            continue
        reader(resource, Where(resource, index), as_of, got, medications)
    if ignored:
        got.notes.append(f"{ignored} resource(s) not about this patient were ignored")

    birth_date = None
    if "birthDate" in patient:
        birth_date = fv.parse_partial_date(
            patient["birthDate"], Where(patient, patient_index), "birthDate"
        ).earliest()
    edd = max(got.edd)[2] if got.edd else None
    fetuses = max(got.fetus_counts)[2] if got.fetus_counts else None
    if fetuses is None and got.multiple_condition:
        fetuses = 2  # "more than one"; the count itself was not recorded
    return PregnancyRecords(
        patient_id=str(patient.get("id") or next(iter(keys))),
        edd=edd,
        fetuses=fetuses,
        birth_date=birth_date,
        prior_pregnancies=tuple(got.priors),
        excisions=tuple(got.excisions),
        maternal_conditions=frozenset(got.maternal),
        cervical_lengths=_current_lengths(got.lengths),
        exams=tuple(got.exams),
        fibronectin=tuple(got.fibronectin),
        complications=frozenset(got.complications),
        cerclage_placements=tuple(got.placements),
        cerclage_removals=tuple(got.removals),
        medications=tuple(got.medications),
        symptom_reports=tuple(got.reports),
        notes=tuple(got.notes),
    )


# --- Observations ---------------------------------------------------------------------------


def _observation(
    r: Mapping[str, Any], where: Where, as_of: dt.date, got: _Collected, _meds: Mapping[str, Any]
) -> None:
    status = r.get("status")
    if status in SKIPPED_OBSERVATION_STATUSES:
        return
    code = codes_of(r.get("code"))
    if c.PRIOR_PREGNANCY in code:
        _prior_pregnancy(r, where, as_of, got)
        return
    # Dating observations are ordered by when they were made; a month will do for that.
    dating = bool(code & c.EDD_CODES) or c.FETUS_COUNT in code
    when = fv.effective_date(r, where, precise=not dating)
    if when is not None and when > as_of:
        return
    if code & c.EDD_CODES:
        edd = fv.parse_date(r.get("valueDateTime"), where, "valueDateTime")
        got.edd.append((when or dt.date.min, len(got.edd), edd))
    elif c.FETUS_COUNT in code:
        got.fetus_counts.append((when or dt.date.min, len(got.fetus_counts), _count(r, where)))
    elif c.CERVICAL_LENGTH in code:
        _cervical_length(r, where, when, status, got)
    elif code & {c.DILATION, c.EFFACEMENT, c.MEMBRANES_EXPOSED}:
        day = _required_date(when, where)
        if c.DILATION in code:
            value = fv.quantity(
                r.get("valueQuantity"), where, "valueQuantity", _DILATION_UNITS, "a dilation unit"
            )
            if value < 0:
                raise where.error("valueQuantity.value", "dilation cannot be negative")
            got.exams.append(CervicalExam(day, dilation_cm=value, source_id=r.get("id")))
        elif c.EFFACEMENT in code:
            value = fv.quantity(
                r.get("valueQuantity"), where, "valueQuantity", _PERCENT, "a percentage"
            )
            if not 0 <= value <= 100:
                raise where.error("valueQuantity.value", "effacement must be 0-100 %")
            got.exams.append(CervicalExam(day, effacement_percent=value, source_id=r.get("id")))
        else:
            exposed = fv.boolean(r.get("valueBoolean"), where, "valueBoolean")
            got.exams.append(CervicalExam(day, membranes_exposed=exposed, source_id=r.get("id")))
    elif c.FFN_QUANTITATIVE in code:
        day = _required_date(when, where)
        value = fv.quantity(r.get("valueQuantity"), where, "valueQuantity", _FFN_UNITS, "ng/mL")
        got.fibronectin.append(FetalFibronectin(day, ng_per_ml=value, source_id=r.get("id")))
    elif c.FFN_QUALITATIVE in code:
        day = _required_date(when, where)
        result = codes_of(r.get("valueCodeableConcept"))
        positive = True if c.POSITIVE in result else False if c.NEGATIVE in result else None
        got.fibronectin.append(FetalFibronectin(day, positive=positive, source_id=r.get("id")))


def _required_date(when: dt.date | None, where: Where) -> dt.date:
    if when is None:
        raise where.error("effectiveDateTime", "missing: this observation needs a date")
    return when


def _count(r: Mapping[str, Any], where: Where) -> int:
    if "valueInteger" in r:
        value = r["valueInteger"]
        field_name = "valueInteger"
    else:
        quantity = r.get("valueQuantity")
        value = quantity.get("value") if isinstance(quantity, dict) else None
        field_name = "valueQuantity.value"
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise where.error(field_name, f"{value!r} is not a whole number of fetuses")
    if value < 1:
        raise where.error(field_name, "the number of fetuses must be at least 1")
    return int(value)


def _cervical_length(
    r: Mapping[str, Any], where: Where, when: dt.date | None, status: object, got: _Collected
) -> None:
    day = _required_date(when, where)
    length = fv.quantity(
        r.get("valueQuantity"), where, "valueQuantity", c.LENGTH_UNITS_TO_MM, "a length unit"
    )
    if length <= 0:
        raise where.error("valueQuantity.value", f"{length:g} mm is not a cervical length")
    method_codes = codes_of(r.get("method"))
    if not method_codes or method_codes & {c.TRANSVAGINAL, c.ULTRASOUND_NO_APPROACH}:
        method = LengthMethod.TRANSVAGINAL
    elif c.TRANSABDOMINAL in method_codes:
        method = LengthMethod.TRANSABDOMINAL
    else:
        method = LengthMethod.OTHER
    measurement = CervicalLengthMeasurement(day, round(length, 1), method, r.get("id"))
    moment = fv.instant_key(str(r.get("effectiveDateTime") or day.isoformat()))
    issued = str(r.get("issued") or "")
    got.lengths.append((moment, method, status in REVISED_STATUSES, issued, measurement))


def _current_lengths(
    lengths: list[tuple[str, LengthMethod, bool, str, CervicalLengthMeasurement]],
) -> tuple[CervicalLengthMeasurement, ...]:
    """An amended or corrected length stands instead of the others of the same moment and
    approach; of several revisions the latest issued (then the last in the bundle) stands."""
    revised: dict[tuple[str, LengthMethod], tuple[str, int, CervicalLengthMeasurement]] = {}
    for order, (moment, method, is_revision, issued, m) in enumerate(lengths):
        if is_revision:
            key = (moment, method)
            if key not in revised or (issued, order) >= revised[key][:2]:
                revised[key] = (issued, order, m)
    kept = [
        m
        for moment, method, is_revision, _, m in lengths
        if (moment, method) not in revised and not is_revision
    ]
    kept += [m for _, _, m in revised.values()]
    return tuple(sorted(kept, key=lambda m: m.measured_on))


def _prior_pregnancy(r: Mapping[str, Any], where: Where, as_of: dt.date, got: _Collected) -> None:
    ended: PartialDate | None = None
    if "effectiveDateTime" in r:
        ended = fv.parse_partial_date(r["effectiveDateTime"], where, "effectiveDateTime")
        if ended.earliest() > as_of:
            return
    outcome = None
    outcome_codes = codes_of(r.get("valueCodeableConcept"))
    for code in outcome_codes:
        outcome = _OUTCOMES.get(code, outcome)
    gestation_days = onset = cerclage = fetuses = None
    for i, component in enumerate(r.get("component") or ()):
        if not isinstance(component, dict):
            continue
        ccodes = codes_of(component.get("code"))
        field_name = f"component[{i}]"
        if c.GESTATIONAL_AGE in ccodes:
            days = fv.quantity(
                component.get("valueQuantity"),
                where,
                f"{field_name}.valueQuantity",
                c.GESTATION_UNITS_TO_DAYS,
                "a gestational-age unit",
            )
            if not 0 <= days <= 45 * 7:
                raise where.error(f"{field_name}.valueQuantity.value", "gestation out of range")
            gestation_days = round(days)
        elif c.ONSET in ccodes:
            for code in codes_of(component.get("valueCodeableConcept")):
                onset = _ONSETS.get(code, onset)
        elif c.PRIOR_CERCLAGE in ccodes:
            for code in codes_of(component.get("valueCodeableConcept")):
                cerclage = _INDICATIONS.get(code, cerclage)
        elif c.FETUS_COUNT in ccodes:
            fetuses = _count(component, where)
    got.priors.append(
        PriorPregnancy(ended, outcome, gestation_days, onset, cerclage, fetuses, r.get("id"))
    )


# --- Conditions, procedures, medications, symptoms -------------------------------------------


def _condition(
    r: Mapping[str, Any], where: Where, as_of: dt.date, got: _Collected, _meds: Mapping[str, Any]
) -> None:
    clinical = {code for _, code in codes_of(r.get("clinicalStatus"))}
    verification = {code for _, code in codes_of(r.get("verificationStatus"))}
    if clinical & INACTIVE_CONDITION or verification & {"entered-in-error", "refuted"}:
        return
    for name in ("onsetDateTime", "recordedDate"):
        if name in r:
            if fv.parse_partial_date(r[name], where, name).earliest() > as_of:
                return
            break
    if "abatementDateTime" in r and (
        fv.parse_partial_date(r["abatementDateTime"], where, "abatementDateTime").earliest()
        <= as_of
    ):
        return
    code = codes_of(r.get("code"))
    if code & c.MULTIPLE_PREGNANCY_CONDITIONS:
        got.multiple_condition = True
    for known, complication in _COMPLICATIONS.items():
        if known in code:
            got.complications.add(complication)
    for known, maternal in _MATERNAL.items():
        if known in code:
            got.maternal.add(maternal)


def _procedure(
    r: Mapping[str, Any], where: Where, as_of: dt.date, got: _Collected, _meds: Mapping[str, Any]
) -> None:
    if r.get("status") in SKIPPED_PROCEDURE_STATUSES:
        return
    performed: PartialDate | None = None
    if "performedDateTime" in r:
        performed = fv.parse_partial_date(r["performedDateTime"], where, "performedDateTime")
    elif isinstance(r.get("performedPeriod"), dict) and "start" in r["performedPeriod"]:
        performed = fv.parse_partial_date(
            r["performedPeriod"]["start"], where, "performedPeriod.start"
        )
    if performed is not None and performed.earliest() > as_of:
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
        for i, ext in enumerate(r.get("extension") or ()):
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
    elif code & set(_CERCLAGE_ROUTES):
        if performed is None or performed.day is None:
            raise where.error("performedDateTime", "a cerclage needs the full date it was placed")
        route = next(
            _CERCLAGE_ROUTES[k]
            for k in (c.CERCLAGE_VAGINAL, c.CERCLAGE_ABDOMINAL, c.CERCLAGE_UNSPECIFIED)
            if k in code
        )
        indication = None
        for reason in codes_of(r.get("reasonCode")):
            indication = _INDICATIONS.get(reason, indication)
        got.placements.append(CerclagePlacement(performed.earliest(), route, indication, rid))


def _medication_request(
    r: Mapping[str, Any], where: Where, as_of: dt.date, got: _Collected, meds: Mapping[str, Any]
) -> None:
    if r.get("status") != "active":
        return
    started = None
    if "authoredOn" in r:
        started = fv.parse_partial_date(r["authoredOn"], where, "authoredOn").earliest()
        if started > as_of:
            return
    code = codes_of(r.get("medicationCodeableConcept"))
    ref = r.get("medicationReference")
    if isinstance(ref, dict) and ref.get("reference") in meds:
        code |= codes_of(meds[ref["reference"]].get("code"))
    routes: set[c.Code] = set()
    for dosage in r.get("dosageInstruction") or ():
        if isinstance(dosage, dict):
            routes |= codes_of(dosage.get("route"))
    if c.HYDROXYPROGESTERONE_CAPROATE in code:
        got.medications.append(
            MedicationOrder(Medication.HYDROXYPROGESTERONE_CAPROATE, started, r.get("id"))
        )
    elif c.VAGINAL_PROGESTERONE in code or (
        c.PROGESTERONE_200MG in code and c.VAGINAL_ROUTE in routes
    ):
        got.medications.append(
            MedicationOrder(Medication.VAGINAL_PROGESTERONE, started, r.get("id"))
        )


def _questionnaire_response(
    r: Mapping[str, Any], where: Where, as_of: dt.date, got: _Collected, _meds: Mapping[str, Any]
) -> None:
    questionnaire = r.get("questionnaire")
    if (
        not isinstance(questionnaire, str)
        or questionnaire.split("|")[0] != c.SYMPTOMS_QUESTIONNAIRE
    ):
        return
    if r.get("status") in {"entered-in-error", "stopped"}:
        return
    authored = fv.parse_date(r.get("authored"), where, "authored")
    if authored > as_of:
        return
    present: set[Symptom] = set()
    absent: set[Symptom] = set()
    for i, item in enumerate(r.get("item") or ()):
        if not isinstance(item, dict):
            continue
        symptom = _SYMPTOMS.get(item.get("linkId", ""))
        if symptom is None:
            continue
        for answer in item.get("answer") or ():
            if isinstance(answer, dict) and "valueBoolean" in answer:
                yes = fv.boolean(answer["valueBoolean"], where, f"item[{i}].answer.valueBoolean")
                (present if yes else absent).add(symptom)
    got.reports.append(SymptomReport(authored, frozenset(present), frozenset(absent), r.get("id")))


_READERS = {
    "Observation": _observation,
    "Condition": _condition,
    "Procedure": _procedure,
    "MedicationRequest": _medication_request,
    "QuestionnaireResponse": _questionnaire_response,
}

"""A FHIR R4 Bundle holding one Patient and her records, coded as shared/clinical/
fhir-mapping.md says, becomes `PregnancyRecords`.

Tolerant of what it does not use (other resources, extra codings, extensions, resources about
someone else), strict about what it does: a cervical length in kg, a value that is not a
number or an impossible date is an error naming the resource and field. What is dated after
`as_of` is left out, so an assessment "as of" a past date sees what was known then; the
exceptions are complications and reviews of symptom reports, kept with their dates because
the domain decides what was known on a day (CD-06, CD-07; `fhir_care`).

Inputs an EHR really sends (issue 10; docs/clinical-interpretations.md, "Issue 10: FHIR
inputs"):

- A resource we read that carries a `modifierExtension` (anywhere in it) is refused: not read,
  with a note naming it and the extension's url; CervixWatch understands no modifier, and FHIR
  forbids processing a resource whose modifier is not understood. The rest of the Bundle is
  read. A Patient with one is an error, since every other record depends on her.
- An Observation we read with `dataAbsentReason` and no value is not read; a note says
  "cervical length <id> not performed: <reason code>" (or the Observation's own name).
- A cervical length's `valueQuantity.comparator` (<, <=, >=, >) is kept beside the number.
- Obstetric-history counts (IPS) become previous pregnancies known only from the count
  (`history_counts`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from cervixwatch.clinical.records import (
    CervicalExam,
    CervicalLengthMeasurement,
    Chorionicity,
    FetalFibronectin,
    LengthComparator,
    LengthMethod,
    Onset,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
    SymptomReport,
)
from cervixwatch.interop import fhir_values as fv
from cervixwatch.interop.fhir_care import READERS as CARE_READERS
from cervixwatch.interop.fhir_care import Reader
from cervixwatch.interop.fhir_codes import DATING_OF, INDICATION_OF
from cervixwatch.interop.fhir_entries import UnreadableBundle, bundle_entries, load_bundle
from cervixwatch.interop.fhir_reading import (
    Reading,
    absent_reason,
    keys_of,
    name_of,
    names,
)
from cervixwatch.interop.fhir_statuses import REVISED_OBSERVATION, SKIP, STATUSES, WITHDRAW
from cervixwatch.interop.fhir_values import BundleError, Where, codes_of
from cervixwatch.interop.history_counts import Count, counted_pregnancies
from cervixwatch.knowledge import codes as c

SKIPPED_OBSERVATION_STATUSES = STATUSES["Observation"].having(SKIP, WITHDRAW)
REVISED_STATUSES = REVISED_OBSERVATION

log = logging.getLogger(__name__)

_OUTCOMES = {c.cw(o.value): o for o in PriorOutcome}
_ONSETS = {c.cw(o.value): o for o in Onset} | {
    c.PAINLESS_DILATION_SNOMED: Onset.PAINLESS_CERVICAL_DILATION
}
_COMPARATORS = {x.value: x for x in LengthComparator}
_DILATION_UNITS = {"cm": 1.0, "mm": 0.1}
_PERCENT = {"%": 1.0}
_FFN_UNITS = {"ng/mL": 1.0, "ug/L": 1.0}
#: Plausible bounds of an obstetric-history count; more is a typing error, not a history.
_MOST_COUNTED: Final = 30
#: The largest fetus count believed: a larger one is a typing error, refused with the element
#: that holds it (the same bound for this pregnancy and for previous ones).
MOST_FETUSES: Final = 12
#: What a note calls an Observation that was not made, and whether it is a measurement.
_OBSERVATION_NAMES: Final = {
    c.CERVICAL_LENGTH: "cervical length",
    c.DILATION: "cervical dilation",
    c.EFFACEMENT: "cervical effacement",
    c.MEMBRANES_EXPOSED: "membranes exposed",
    c.FFN_QUANTITATIVE: "fetal fibronectin",
    c.FFN_QUALITATIVE: "fetal fibronectin",
    c.FETUS_COUNT: "number of fetuses",
    c.EDD: "estimated due date",
    c.BIRTHS_TOTAL_COUNT: "births count",
    c.TERM_BIRTHS_COUNT: "term births count",
    c.PRETERM_BIRTHS_COUNT: "preterm births count",
    c.ABORTIONS_COUNT: "abortions count",
    c.INDUCED_ABORTIONS_COUNT: "induced abortions count",
    c.SPONTANEOUS_ABORTIONS_COUNT: "miscarriages count",
}
#: Every Observation code read here besides `CW#prior-pregnancy`.
_READ_OBSERVATIONS: Final = frozenset(_OBSERVATION_NAMES) | c.EDD_CODES
_MEASUREMENTS: Final = frozenset(
    {c.CERVICAL_LENGTH, c.DILATION, c.EFFACEMENT, c.MEMBRANES_EXPOSED}
    | {c.FFN_QUANTITATIVE, c.FFN_QUALITATIVE}
)
_COUNT_WORDS: Final = {
    c.BIRTHS_TOTAL_COUNT: "births",
    c.TERM_BIRTHS_COUNT: "term births",
    c.PRETERM_BIRTHS_COUNT: "preterm births",
    c.ABORTIONS_COUNT: "abortions",
    c.INDUCED_ABORTIONS_COUNT: "induced abortions",
    c.SPONTANEOUS_ABORTIONS_COUNT: "miscarriages",
}


def load_bundle_json(raw: bytes | str) -> dict[str, Any]:
    """Parse bundle JSON; not JSON or not a Bundle is a BundleError (`UnreadableBundle`)."""
    return load_bundle(raw)


def read_bundle(raw: bytes | str, as_of: dt.date) -> PregnancyRecords:
    """Bundle JSON to one pregnancy's records as known on `as_of`."""
    # Looking for modifiers in every resource costs as much as reading it; a Bundle whose text
    # never says "modifierExtension" has none.
    if isinstance(raw, bytes):
        modifiers = b"modifierExtension" in raw
    else:
        modifiers = "modifierExtension" in raw
    return records_from_bundle(load_bundle_json(raw), as_of, modifiers=modifiers)


def _entries(bundle: dict[str, Any]) -> list[tuple[int, str | None, dict[str, Any]]]:
    """The entries whose resources are read: not those a transaction deletes (their resource,
    if sent, is what is taken away, not a record)."""
    out = [
        (e.index, e.full_url, e.resource)
        for e in bundle_entries(bundle, check_ids=False)
        if not e.deletes
    ]
    return _once_each(out)


def _once_each(
    entries: list[tuple[int, str | None, dict[str, Any]]],
) -> list[tuple[int, str | None, dict[str, Any]]]:
    """A resource sent twice under one id (a feed repeating itself) is read once, the last
    copy standing, as the server stores it once by its id: the command line and the server
    read the same Bundle alike (issue 10, item 8). Resources without an id are all kept."""
    last: dict[tuple[str, str], int] = {}
    for position, (_, _, resource) in enumerate(entries):
        rid = resource.get("id")
        if isinstance(rid, str) and resource["resourceType"] != "Patient":
            last[(resource["resourceType"], rid)] = position
    if len(last) == sum(
        1 for _, _, r in entries if isinstance(r.get("id"), str) and r["resourceType"] != "Patient"
    ):
        return entries
    return [
        entry
        for position, entry in enumerate(entries)
        if not isinstance(entry[2].get("id"), str)
        or entry[2]["resourceType"] == "Patient"
        or last[(entry[2]["resourceType"], entry[2]["id"])] == position
    ]


def _patient_keys(
    entries: list[tuple[int, str | None, dict[str, Any]]], modifiers: bool
) -> tuple[int, dict[str, Any], set[str]]:
    patients = [(i, url, r) for i, url, r in entries if r["resourceType"] == "Patient"]
    if not patients:
        raise BundleError("Bundle: no Patient resource", path="Bundle.entry")
    if len(patients) > 1:
        raise BundleError(
            f"Bundle: {len(patients)} Patient resources; expected exactly one", path="Bundle.entry"
        )
    index, url, patient = patients[0]
    keys = keys_of(patient, url)
    if not keys:
        raise Where(patient, index).error("id", "the Patient has neither an id nor a fullUrl")
    modifier = _modifier_url(patient) if modifiers else None
    if modifier is not None:
        raise Where(patient, index).error(
            "modifierExtension",
            f"{modifier} is not understood, so the Patient and her records cannot be read",
        )
    return index, patient, keys


def _refers_to(resource: dict[str, Any], keys: set[str]) -> bool:
    for name in ("subject", "patient", "for"):
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return ref["reference"] in keys or names(ref["reference"], keys)
    return False


def _modifier_url(node: object) -> str | None:
    """The url of the first `modifierExtension` anywhere in a resource, or None."""
    if isinstance(node, dict):
        modifiers = node.get("modifierExtension")
        if isinstance(modifiers, list) and modifiers:
            first = modifiers[0]
            url = first.get("url") if isinstance(first, dict) else None
            return url if isinstance(url, str) else "(an extension without a url)"
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        if isinstance(child, dict | list):
            found = _modifier_url(child)
            if found is not None:
                return found
    return None


def _refused(resource: dict[str, Any], where: Where, got: Reading) -> bool:
    """Whether a resource is refused for a modifier it carries (noted when it is)."""
    url = _modifier_url(resource)
    if url is None:
        return False
    got.notes.append(
        f"{where.label} not read: it carries modifierExtension {url}, which CervixWatch "
        "does not understand"
    )
    return True


def _chorionicity(got: Reading, fetuses: int | None) -> Chorionicity | None:
    """The twin pregnancy's chorionicity, when the Conditions state one, and only one, and the
    pregnancy is of two fetuses; otherwise none, with a note saying why."""
    if not got.chorionicity:
        return None
    if len(got.chorionicity) > 1:
        stated = " and ".join(sorted(str(x) for x in got.chorionicity))
        got.notes.append(f"chorionicity not kept: the Conditions state both {stated}")
        return None
    if fetuses != 2:
        got.notes.append(f"chorionicity not kept: it is of twins, but the fetus count is {fetuses}")
        return None
    return next(iter(got.chorionicity))


def records_from_bundle(
    bundle: dict[str, Any], as_of: dt.date, *, modifiers: bool = True
) -> PregnancyRecords:
    """A parsed Bundle to one pregnancy's records as known on `as_of`. `modifiers=False` skips
    the search for modifier extensions, for a caller who knows the Bundle has none."""
    return _records(_entries(bundle), as_of, modifiers)


def records_from_resources(
    resources: Sequence[Mapping[str, Any]], as_of: dt.date, *, modifiers: bool = True
) -> PregnancyRecords:
    """One woman's resources (a Bulk Data export's lines, grouped per woman) to her records,
    read exactly as `records_from_bundle` reads the collection Bundle holding each under the
    fullUrl `Type/id` (`Type/<its place>` without an id), without building that Bundle: a
    registry's population run reads millions of women."""
    entries: list[tuple[int, str | None, dict[str, Any]]] = []
    for index, resource in enumerate(resources):
        url = collection_url(resource, index)
        if url is None or not isinstance(resource, dict):
            # Refused as `bundle_entries` refuses such an entry, with the same message.
            at = f"Bundle.entry[{index}]"
            if not isinstance(resource, dict):
                raise UnreadableBundle(
                    f"{at}: expected an entry with a resource", path=at, code="structure"
                )
            raise UnreadableBundle(
                f"{at}.resource: missing resourceType", path=f"{at}.resource", code="structure"
            )
        entries.append((index, url, resource))
    return _records(_once_each(entries), as_of, modifiers)


def collection_url(resource: object, index: int) -> str | None:
    """The fullUrl a resource has in the collection Bundle of a woman's resources (`Type/id`,
    `Type/<its place>` without an id); None for one that is not a resource (no type)."""
    if not isinstance(resource, Mapping):
        return None
    kind = resource.get("resourceType")
    return f"{kind}/{resource.get('id', index)}" if isinstance(kind, str) else None


def _records(
    entries: list[tuple[int, str | None, dict[str, Any]]], as_of: dt.date, modifiers: bool
) -> PregnancyRecords:
    patient_index, patient, keys = _patient_keys(entries, modifiers)
    got = Reading(as_of, keys)
    medications: dict[str, dict[str, Any]] = {}
    report_keys: set[str] = set()
    for index, url, r in entries:
        if r["resourceType"] == "Medication":
            if not (modifiers and _refused(r, Where(r, index), got)):
                medications.update((k, r) for k in keys_of(r, url))
        elif r["resourceType"] == "QuestionnaireResponse":
            report_keys |= keys_of(r, url)
    got.medications = medications
    ignored = 0
    for index, url, resource in entries:
        reader = _READERS.get(resource["resourceType"])
        if reader is None:
            continue
        if not _refers_to(resource, keys):
            ignored += 1
            continue
        where = Where(resource, index)
        if modifiers and _refused(resource, where, got):
            continue
        if "status" in resource and not isinstance(resource["status"], str):
            # Every status is a code; any other JSON value is refused here, once, rather than
            # by each reader's look-up (a list cannot even be looked up).
            raise where.error("status", f"expected a code, got {type(resource['status']).__name__}")
        try:
            reader(resource, where, url, got)
        except (TypeError, AttributeError, KeyError) as error:
            # Each reader checks the elements it reads; one it did not foresee (an object
            # where a string belongs, a number where a list does) is still this resource's
            # fault, refused naming it, never a server error. Logged by type, to be found.
            log.warning("%s not read: %s in its reader", where.label, type(error).__name__)
            raise where.error(
                "resourceType",
                "an element holds the wrong kind of JSON value for FHIR R4, so the resource "
                "cannot be read",
                "structure",
            ) from None
    if ignored:
        got.notes.append(f"{ignored} resource(s) not about this patient were ignored")

    birth_date = None
    if "birthDate" in patient:
        birth_date = fv.parse_partial_date(
            patient["birthDate"], Where(patient, patient_index), "birthDate"
        ).earliest()
    # The latest EDD wins (fhir-mapping.md), with the method it was worked out by.
    latest = max(got.edd, key=lambda e: (e[0], e[1])) if got.edd else None
    edd, dating_method = (latest[2], latest[3]) if latest else (None, None)
    fetuses = max(got.fetus_counts)[2] if got.fetus_counts else None
    if fetuses is None and got.multiple_condition:
        fetuses = 2  # "more than one"; the count itself was not recorded
    chorionicity = _chorionicity(got, fetuses)
    latest_counts = {code: max(found)[2] for code, found in got.history_counts.items()}
    priors = got.priors + counted_pregnancies(latest_counts, got.priors)
    reports = _reviewed_reports(got, report_keys)  # before the notes: it may add one
    return PregnancyRecords(
        patient_id=str(patient.get("id") or next(iter(keys))),
        edd=edd,
        fetuses=fetuses,
        chorionicity=chorionicity,
        dating_method=dating_method,
        birth_date=birth_date,
        prior_pregnancies=tuple(priors),
        excisions=tuple(got.excisions),
        maternal_conditions=frozenset(got.maternal),
        cervical_lengths=_current_lengths(got.lengths),
        exams=tuple(got.exams),
        fibronectin=tuple(got.fibronectin),
        complications=tuple(got.complications),
        cerclage_placements=tuple(got.placements),
        cerclage_removals=tuple(got.removals),
        medications=tuple(got.medication_orders),
        symptom_reports=reports,
        declined=tuple(got.declined),
        notes=tuple(got.notes),
    )


def _reviewed_reports(got: Reading, in_bundle: set[str]) -> tuple[SymptomReport, ...]:
    """The reports read, each with the reviews whose Task `focus` names it. A review of a
    report in the Bundle but not read (authored after `as_of`) goes with it; one whose focus
    names no report in the Bundle is noted."""
    if not got.reviews:
        return tuple(report for _, report in got.reports)
    reviews: list[list[tuple[dt.date, str, int]]] = [[] for _ in got.reports]
    for order, pending in enumerate(got.reviews):
        report = next((i for i, (k, _) in enumerate(got.reports) if names(pending.focus, k)), None)
        if report is not None:
            reviews[report].append((pending.review.reviewed_on, pending.label, order))
        elif not names(pending.focus, in_bundle):
            got.notes.append(
                f"Task {pending.label} (symptom-report review) not read: its focus "
                f"{pending.focus} names no symptom report in the Bundle"
            )
    return tuple(
        replace(report, reviews=tuple(got.reviews[order].review for *_, order in sorted(found)))
        if found
        else report
        for (_, report), found in zip(got.reports, reviews, strict=True)
    )


# --- Observations ---------------------------------------------------------------------------


def _observation(r: dict[str, Any], where: Where, _url: str | None, got: Reading) -> None:
    status = r.get("status")
    if status in SKIPPED_OBSERVATION_STATUSES:
        return
    code = codes_of(r.get("code"))
    if c.PRIOR_PREGNANCY in code:
        _prior_pregnancy(r, where, got)
        return
    if code.isdisjoint(_READ_OBSERVATIONS):
        return
    # Dating observations and counts are ordered by when they were made; a month will do.
    ordering = bool(code & c.EDD_CODES) or bool(code & (c.HISTORY_COUNTS | {c.FETUS_COUNT}))
    when = fv.effective_date(r, where, precise=not ordering)
    if when is not None and when > got.as_of:
        return
    reason = absent_reason(r) if "dataAbsentReason" in r else None
    if reason is not None:
        named = sorted(code & _OBSERVATION_NAMES.keys())
        what = _OBSERVATION_NAMES[named[0]] if named else "estimated due date"
        done = "performed" if code & _MEASUREMENTS else "recorded"
        got.notes.append(f"{what} {name_of(r, where)} not {done}: {reason}")
        return
    if code & c.EDD_CODES:
        edd = fv.parse_date(r.get("valueDateTime"), where, "valueDateTime")
        method = next((DATING_OF[k] for k in sorted(code) if k in DATING_OF), None)
        got.edd.append((when or dt.date.min, len(got.edd), edd, method))
    elif c.FETUS_COUNT in code:
        fetuses = _count(r, where, "fetuses", 1, MOST_FETUSES)
        got.fetus_counts.append((when or dt.date.min, len(got.fetus_counts), fetuses))
    elif code & c.HISTORY_COUNTS:
        for known in sorted(code & c.HISTORY_COUNTS):
            n = _count(r, where, _COUNT_WORDS[known], 0, _MOST_COUNTED)
            found = got.history_counts.setdefault(known, [])
            found.append((when or dt.date.min, len(found), Count(n, r.get("id"))))
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


def _count(r: dict[str, Any], where: Where, what: str, least: int, most: int | None) -> int:
    """A whole number from valueInteger, or valueQuantity with a value."""
    if "valueInteger" in r:
        value = r["valueInteger"]
        field_name = "valueInteger"
    else:
        quantity = r.get("valueQuantity")
        value = quantity.get("value") if isinstance(quantity, dict) else None
        field_name = "valueQuantity.value"
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise where.error(field_name, f"{value!r} is not a whole number of {what}")
    if value < least:
        raise where.error(field_name, f"the number of {what} must be at least {least}")
    if most is not None and value > most:
        raise where.error(field_name, f"{int(value)} is not a plausible number of {what}")
    return int(value)


def _cervical_length(
    r: dict[str, Any], where: Where, when: dt.date | None, status: object, got: Reading
) -> None:
    day = _required_date(when, where)
    length = fv.quantity(
        r.get("valueQuantity"), where, "valueQuantity", c.LENGTH_UNITS_TO_MM, "a length unit"
    )
    if length <= 0:
        raise where.error("valueQuantity.value", f"{length:g} mm is not a cervical length")
    comparator = None
    if "comparator" in r["valueQuantity"]:
        given = r["valueQuantity"]["comparator"]
        comparator = _COMPARATORS.get(given) if isinstance(given, str) else None
        if comparator is None:
            raise where.error(
                "valueQuantity.comparator",
                f"{given!r} is not a length bound (expected {', '.join(_COMPARATORS)})",
            )
    method_codes = codes_of(r.get("method"))
    if not method_codes or method_codes & {c.TRANSVAGINAL, c.ULTRASOUND_NO_APPROACH}:
        method = LengthMethod.TRANSVAGINAL
    elif c.TRANSABDOMINAL in method_codes:
        method = LengthMethod.TRANSABDOMINAL
    else:
        method = LengthMethod.OTHER
    measurement = CervicalLengthMeasurement(
        day, round(length, 1), method, r.get("id"), comparator=comparator
    )
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


def _prior_pregnancy(r: dict[str, Any], where: Where, got: Reading) -> None:
    ended: PartialDate | None = None
    if "effectiveDateTime" in r:
        ended = fv.parse_partial_date(r["effectiveDateTime"], where, "effectiveDateTime")
        if ended.earliest() > got.as_of:
            return
    outcome = None
    outcome_codes = codes_of(r.get("valueCodeableConcept"))
    for code in outcome_codes:
        outcome = _OUTCOMES.get(code, outcome)
    gestation_days = onset = cerclage = fetuses = None
    for i, component in enumerate(fv.listed(r.get("component"), where, "component")):
        if not isinstance(component, dict):
            continue
        ccodes = codes_of(component.get("code"))
        field_name = f"component[{i}]"
        if absent_reason(component) is not None:
            continue  # not recorded: unknown, as if the component were not there
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
                cerclage = INDICATION_OF.get(code, cerclage)
        elif c.FETUS_COUNT in ccodes:
            fetuses = _count(component, where, "fetuses", 1, MOST_FETUSES)
    got.priors.append(
        PriorPregnancy(ended, outcome, gestation_days, onset, cerclage, fetuses, r.get("id"))
    )


_READERS: Final[Mapping[str, Reader]] = {"Observation": _observation, **CARE_READERS}

"""Build the course-of-care scenario folders, `tests/scenarios/course/<behaviour>/`.

Each scenario below is one synthetic woman, written as a FHIR R4 Bundle exactly as
`shared/clinical/fhir-mapping.md` says, and what each guideline profile must say about her on
one day (`expected.json`, read by `test_scenarios.py`). The notes cite the clinical decision
(CD-xx, `shared/clinical/decisions.md`) or rule id that decides each expectation.

The generated JSON is committed; this script is how a clinician changes or adds a case:

    uv run python tests/scenarios/build_course.py            # rewrite every course folder
    uv run python tests/scenarios/build_course.py NAME ...   # only these

Dates are written as gestational ages of the woman's pregnancy ("20+0"), so that a case reads
as the clinic would tell it; the script turns them into calendar dates from her EDD.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

COURSE = Path(__file__).parent / "course"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
CW = "https://cervixwatch.org/fhir/CodeSystem/cervixwatch"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
DEPTH = "https://cervixwatch.org/fhir/StructureDefinition/excision-depth"
SYMPTOMS = "https://cervixwatch.org/fhir/Questionnaire/symptoms"
#: Fixed, so that regenerating a folder gives the same fullUrls.
NAMESPACE = uuid.UUID("6f1c0c8e-4a43-5f1e-9d53-c0a5e1c0ce10")
#: Every symptom of the questionnaire, in its order (fhir-mapping.md).
SYMPTOM_IDS = (
    "cramping",
    "backache",
    "pelvic-pressure",
    "spotting",
    "bleeding",
    "fluid-leak",
    "discharge-change",
    "contractions",
    "fever",
)

CERCLAGES = [
    "history-indicated-cerclage",
    "ultrasound-indicated-cerclage",
    "exam-indicated-cerclage",
]
EXAM_NEEDED = "a cervical examination (dilation and whether membranes are exposed)"

Resource = dict[str, Any]
When = str | dt.date


def coding(system: str, code: str, display: str | None = None) -> Resource:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return {"coding": [out]}


def mm(value: float, comparator: str | None = None) -> Resource:
    """A UCUM quantity in millimetres, with its comparator ("<") when the value is a bound."""
    bound = {"comparator": comparator} if comparator else {}
    return {"value": value, **bound, "unit": "mm", "system": UCUM, "code": "mm"}


class Woman:
    """One synthetic woman and her current pregnancy: her FHIR resources, in the order added."""

    def __init__(self, folder: str, edd: dt.date, given: str, born: str = "1991-05-14") -> None:
        self.folder = folder
        self.pid = folder
        self.edd = edd
        self.resources: list[Resource] = [
            {
                "resourceType": "Patient",
                "id": self.pid,
                "name": [{"family": "Synthetic", "given": [given]}],
                "gender": "female",
                "birthDate": born,
            }
        ]

    # --- dates --------------------------------------------------------------------------------

    def on(self, when: When) -> dt.date:
        """A gestational age ("20+0") of this pregnancy as its date, or a date as it is."""
        if isinstance(when, dt.date):
            return when
        weeks, days = (int(x) for x in when.split("+"))
        return self.edd - dt.timedelta(days=280 - (weeks * 7 + days))

    def day(self, when: When) -> str:
        return self.on(when).isoformat()

    def ga(self, when: When) -> str:
        days = 280 - (self.edd - self.on(when)).days
        return f"{days // 7}+{days % 7}"

    def _add(self, kind: str, body: Resource) -> Resource:
        rid = f"{kind}-{len(self.resources)}"
        resource = {"resourceType": body.pop("resourceType"), "id": rid, **body}
        self.resources.append(resource)
        return resource

    def _subject(self) -> Resource:
        return {"reference": f"Patient/{self.pid}"}

    # --- dating -------------------------------------------------------------------------------

    def dating(self, booked: When = "11+0", fetuses: int = 1) -> Woman:
        """The EDD and the number of fetuses, both recorded at the dating scan."""
        self._add(
            "edd",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": coding(LOINC, "11778-8", "Delivery date Estimated"),
                "subject": self._subject(),
                "effectiveDateTime": self.day(booked),
                "valueDateTime": self.edd.isoformat(),
            },
        )
        self._add(
            "fetuses",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": coding(LOINC, "11878-6", "Number of fetuses by US"),
                "subject": self._subject(),
                "effectiveDateTime": self.day(booked),
                "valueInteger": fetuses,
            },
        )
        return self

    # --- history ------------------------------------------------------------------------------

    def prior(
        self,
        ended: str,
        outcome: str,
        weeks: float,
        onset: str | None = None,
        cerclage: str | None = None,
    ) -> Woman:
        """A previous pregnancy (CW#prior-pregnancy): outcome, gestation at the end, onset."""
        components: list[Resource] = [
            {
                "code": coding(LOINC, "11884-4", "Gestational age"),
                "valueQuantity": {"value": weeks, "unit": "wk", "system": UCUM, "code": "wk"},
            }
        ]
        if onset:
            components.append(
                {"code": coding(CW, "onset"), "valueCodeableConcept": coding(CW, onset)}
            )
        if cerclage:
            components.append(
                {"code": coding(CW, "cerclage"), "valueCodeableConcept": coding(CW, cerclage)}
            )
        self._add(
            "prior",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": coding(CW, "prior-pregnancy", "Previous pregnancy"),
                "subject": self._subject(),
                "effectiveDateTime": ended,
                "valueCodeableConcept": coding(CW, outcome),
                "component": components,
            },
        )
        return self

    def excision(self, kind: str, performed: str, depth_mm: float | None = None) -> Woman:
        """A LLETZ or cone biopsy (Procedure CW#lletz / CW#cone-biopsy), with its depth."""
        body: Resource = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": coding(CW, kind, {"lletz": "LLETZ", "cone-biopsy": "Cone biopsy"}[kind]),
            "subject": self._subject(),
            "performedDateTime": performed,
        }
        if depth_mm is not None:
            body["extension"] = [{"url": DEPTH, "valueQuantity": mm(depth_mm)}]
        self._add(kind, body)
        return self

    def count(self, code: str, display: str, n: int, on: When = "11+0") -> Woman:
        """An obstetric-history count as an IPS summary sends it (LOINC 11637-6 ...)."""
        self._add(
            "count",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": coding(LOINC, code, display),
                "subject": self._subject(),
                "effectiveDateTime": self.day(on),
                "valueInteger": n,
            },
        )
        return self

    # --- this pregnancy's cervix --------------------------------------------------------------

    def length(
        self,
        when: When,
        value: float | None,
        comparator: str | None = None,
        absent: str | None = None,
        extra: Resource | None = None,
    ) -> Woman:
        """A transvaginal cervical length in mm (LOINC 11961-0, method SNOMED 54300008)."""
        body: Resource = {
            "resourceType": "Observation",
            "status": "final",
            "code": coding(LOINC, "11961-0", "Cervix [Length] by US"),
            "subject": self._subject(),
            "effectiveDateTime": self.day(when),
        }
        if value is not None:
            body["valueQuantity"] = mm(value, comparator)
        if absent is not None:
            body["dataAbsentReason"] = coding(ABSENT, absent)
        body["method"] = coding(SNOMED, "54300008", "Trans-vaginal")
        body.update(extra or {})
        self._add("cl", body)
        return self

    def exam(self, when: When, dilation_cm: float, membranes_exposed: bool) -> Woman:
        """A cervical exam: dilation (LOINC 11786-1) and membranes at the os (CW)."""
        self._add(
            "dilation",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": coding(LOINC, "11786-1", "Cervical dilation"),
                "subject": self._subject(),
                "effectiveDateTime": self.day(when),
                "valueQuantity": {"value": dilation_cm, "unit": "cm", "system": UCUM, "code": "cm"},
            },
        )
        self._add(
            "membranes",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": coding(CW, "membranes-exposed", "Membranes visible at or through the os"),
                "subject": self._subject(),
                "effectiveDateTime": self.day(when),
                "valueBoolean": membranes_exposed,
            },
        )
        return self

    def ffn(self, when: When, ng_per_ml: float) -> Woman:
        """A quantitative fetal fibronectin (LOINC 20403-2), ng/mL."""
        self._add(
            "ffn",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": coding(LOINC, "20403-2", "Fetal fibronectin [Mass/volume]"),
                "subject": self._subject(),
                "effectiveDateTime": self.day(when),
                "valueQuantity": {
                    "value": ng_per_ml,
                    "unit": "ng/mL",
                    "system": UCUM,
                    "code": "ng/mL",
                },
            },
        )
        return self

    # --- complications --------------------------------------------------------------------------

    def condition(
        self,
        code: Resource,
        noted: When,
        resolved: When | None = None,
        verification: str | None = None,
    ) -> Woman:
        """A complication of this pregnancy with its dates (CD-06) and, when given, a
        verificationStatus."""
        body: Resource = {
            "resourceType": "Condition",
            "clinicalStatus": coding(CLINICAL, "resolved" if resolved else "active"),
        }
        if verification:
            body["verificationStatus"] = coding(VERIFICATION, verification)
        body |= {"code": code, "subject": self._subject(), "onsetDateTime": self.day(noted)}
        if resolved:
            body["abatementDateTime"] = self.day(resolved)
        self._add("condition", body)
        return self

    # --- treatment and decisions ----------------------------------------------------------------

    def cerclage(self, when: When, reason: str) -> Woman:
        """A transvaginal cerclage placed in this pregnancy (SNOMED 90442009)."""
        self._add(
            "cerclage",
            {
                "resourceType": "Procedure",
                "status": "completed",
                "code": coding(SNOMED, "90442009", "Cervical cerclage, vaginal"),
                "subject": self._subject(),
                "performedDateTime": self.day(when),
                "reasonCode": [coding(CW, reason)],
            },
        )
        return self

    def progesterone(self, when: When, modifier: str | None = None) -> Woman:
        """An active vaginal progesterone order (MedicationRequest), authored `when`."""
        body: Resource = {"resourceType": "MedicationRequest"}
        if modifier:
            body["modifierExtension"] = [{"url": modifier, "valueBoolean": True}]
        body |= {
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": coding(CW, "vaginal-progesterone", "Vaginal progesterone"),
            "subject": self._subject(),
            "authoredOn": self.day(when),
            "dosageInstruction": [{"text": "200 mg vaginally at night"}],
        }
        self._add("progesterone", body)
        return self

    def declined_progesterone(self, when: When) -> Woman:
        """Offered and declined (fhir-mapping.md): MedicationStatement not-taken, refusal."""
        self._add(
            "declined",
            {
                "resourceType": "MedicationStatement",
                "status": "not-taken",
                "statusReason": [coding(SNOMED, "105480006", "Refusal of treatment by patient")],
                "medicationCodeableConcept": coding(
                    CW, "vaginal-progesterone", "Vaginal progesterone"
                ),
                "subject": self._subject(),
                "effectiveDateTime": self.day(when),
            },
        )
        return self

    def declined_cerclage(self, when: When, reason: str) -> Woman:
        """Offered and declined (fhir-mapping.md): Procedure not-done, refusal, CW reason."""
        self._add(
            "declined",
            {
                "resourceType": "Procedure",
                "status": "not-done",
                "statusReason": coding(SNOMED, "105480006", "Refusal of treatment by patient"),
                "code": coding(SNOMED, "90442009", "Cervical cerclage, vaginal"),
                "subject": self._subject(),
                "performedDateTime": self.day(when),
                "reasonCode": [coding(CW, reason)],
            },
        )
        return self

    # --- symptoms and their reviews -------------------------------------------------------------

    def symptoms(self, when: When, *present: str) -> str:
        """A symptom report she made herself; returns its id for a review to name."""
        report = self._add(
            "symptoms",
            {
                "resourceType": "QuestionnaireResponse",
                "questionnaire": SYMPTOMS,
                "status": "completed",
                "subject": self._subject(),
                "authored": self.day(when),
                "author": self._subject(),
                "item": [
                    {"linkId": s, "answer": [{"valueBoolean": s in present}]} for s in SYMPTOM_IDS
                ],
            },
        )
        return str(report["id"])

    def review(self, report: str, when: When, outcome: str = "seen-in-triage") -> Woman:
        """A clinician's review of a report (CD-07): a completed Task."""
        self._add(
            "review",
            {
                "resourceType": "Task",
                "status": "completed",
                "intent": "order",
                "code": coding(CW, "symptom-report-review", "Review of a symptom report"),
                "focus": {"reference": f"QuestionnaireResponse/{report}"},
                "for": self._subject(),
                "executionPeriod": {"end": self.day(when)},
                "owner": {"display": "Midwife R. Synthetic"},
                "businessStatus": coding(CW, outcome),
            },
        )
        return self

    # --- out --------------------------------------------------------------------------------------

    def bundle(self) -> Resource:
        def full_url(r: Resource) -> str:
            return f"urn:uuid:{uuid.uuid5(NAMESPACE, self.folder + '/' + r['id'])}"

        return {
            "resourceType": "Bundle",
            "id": f"course-{self.pid}",
            "type": "collection",
            "entry": [{"fullUrl": full_url(r), "resource": r} for r in self.resources],
        }


Case = tuple[Woman, dict[str, Any]]
SCENARIOS: dict[str, Callable[[], Case]] = {}


def scenario(name: str) -> Callable[[Callable[[], Case]], Callable[[], Case]]:
    def register(build: Callable[[], Case]) -> Callable[[], Case]:
        SCENARIOS[name] = build
        return build

    return register


def expect(w: Woman, as_of: When, title: str, notes: str, **rest: Any) -> dict[str, Any]:
    """expected.json: title, the day, then each guideline, the top-level keys, the notes."""
    out: dict[str, Any] = {
        "title": title,
        "as_of": w.day(as_of),
        "gestational_age": w.ga(as_of),
    }
    for guideline in ("acog", "nice"):
        if guideline in rest:
            out[guideline] = rest.pop(guideline)
    xfail = rest.pop("xfail", None)
    out |= rest
    out["notes"] = notes
    if xfail:
        out["xfail"] = xfail
    return out


def nulliparous(folder: str, given: str, edd: dt.date = dt.date(2026, 9, 10)) -> Woman:
    """A woman in her first pregnancy, singleton, dated at 11+0."""
    return Woman(folder, edd, given).dating()


def prior_sptb(folder: str, given: str, weeks: float = 30, year: str = "2023") -> Woman:
    """A woman whose one previous pregnancy was a spontaneous preterm birth."""
    w = nulliparous(folder, given)
    return w.prior(year, "live-birth", weeks, "spontaneous-labour")


# === In place: what is already happening is not offered (profiles.md, "The course of care") ===


@scenario("progesterone-active-in-place")
def _() -> Case:
    w = prior_sptb("progesterone-active-in-place", "Aino")
    w.length("18+0", 22).exam("18+0", 0, False).progesterone("18+2")
    return w, expect(
        w,
        "20+0",
        "Previous sPTB at 30 weeks, length 22 mm at 18+0, vaginal progesterone since 18+2; 20+0",
        acog={
            "must": ["vaginal-progesterone", "ultrasound-indicated-cerclage"],
            "states": {"vaginal-progesterone": "in-place", "ultrasound-indicated-cerclage": "due"},
            "rules": {"vaginal-progesterone": ["FIGO-P1"]},
            "state_note_includes": {
                "vaginal-progesterone": ["the current treatment, not an offer", "34+0"]
            },
        },
        nice={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "in-place"},
            "rules": {"vaginal-progesterone": ["NICE-01"]},
            "state_note_includes": {
                "vaginal-progesterone": [
                    "the current treatment, not an offer",
                    "for one baby at least until then",
                ]
            },
        },
        current_treatments=["vaginal-progesterone"],
        notes=(
            "profiles.md, 'The course of care': an active vaginal progesterone order makes the "
            "vaginal-progesterone recommendation 'in-place', shown as her current treatment with "
            "how long it continues (acog until 34+0, AFP22-VP; nice until at least 34+0, "
            "NICE-04), never as a new offer. acog's cerclage for a previous sPTB before 34+0 "
            "with a length under 25 mm (ACOG142-04) is a separate recommendation, not a choice "
            "between the two: only a cerclage in situ withdraws it, so it stays 'due'. nice's "
            "cerclage option of NICE-01 ('a choice of either') is not checked here: the shared "
            "documents do not say what state the other option of a choice takes once one is "
            "under way (profiles.md defines in-place only as the recommended treatment itself "
            "being under way)."
        ),
    )


@scenario("progesterone-and-cerclage-in-situ-neither-offered")
def _() -> Case:
    w = prior_sptb("progesterone-and-cerclage-in-situ-neither-offered", "Beatriz")
    w.length("17+0", 20).exam("17+0", 0, False).progesterone("17+2")
    w.cerclage("18+0", "ultrasound-indicated")
    return w, expect(
        w,
        "20+0",
        "Previous sPTB at 30 weeks, length 20 mm; progesterone since 17+2 and a cerclage since "
        "18+0; 20+0",
        acog={
            "must": ["vaginal-progesterone", "no-activity-restriction"],
            "must_not": [*CERCLAGES, "serial-cervical-length", "remove-cerclage"],
            "states": {"vaginal-progesterone": "in-place"},
        },
        nice={
            "must": ["vaginal-progesterone", "no-activity-restriction"],
            "must_not": [*CERCLAGES, "serial-cervical-length", "remove-cerclage"],
            "states": {"vaginal-progesterone": "in-place"},
        },
        current_treatments=["cerclage", "vaginal-progesterone"],
        notes=(
            "Issue 10's first complaint: a woman who already has both must not be offered 'a "
            "choice of vaginal progesterone or cerclage'. profiles.md, 'The course of care': the "
            "progesterone is in place (state in-place, the current treatment); cerclage codes "
            "are not given while a cerclage is in situ (NICE-01 'no cerclage code if one is in "
            "situ'; ACOG142-04 'no cerclage in situ'), and serial scans stop with a cerclage in "
            "situ (SMFM40-02, SBL-04 row). Both treatments are listed as current treatments. "
            "Removal is not yet due at 20+0 (ACOG142-12 from 36+0, RCOG75-10 from 36+1)."
        ),
    )


@scenario("progesterone-not-started-at-37w4")
def _() -> Case:
    w = nulliparous("progesterone-not-started-at-37w4", "Chiara")
    w.length("20+0", 18).exam("20+0", 0, False)
    return w, expect(
        w,
        "37+4",
        "No previous PTB, length 18 mm at 20+0, never started progesterone; seen at 37+4",
        acog={"must_not": ["vaginal-progesterone"]},
        nice={"must_not": ["vaginal-progesterone"]},
        current_treatments=[],
        notes=(
            "Issue 10: the tool 'still recommends starting vaginal progesterone at 37+4'. "
            "profiles.md, 'The course of care': progesterone may be started only in its start "
            "window, acog before 24+0 (CW-VP-START, derived) and nice 16+0-24+0 (NICE-04). At "
            "37+4 with no order in place neither profile offers it, although the 18 mm length "
            "(SMFM70-03, NICE-03) would have indicated it in the window."
        ),
    )


@scenario("progesterone-in-place-may-stop-from-34w0")
def _() -> Case:
    w = nulliparous("progesterone-in-place-may-stop-from-34w0", "Dagny")
    w.length("20+0", 18).exam("20+0", 0, False).progesterone("20+1")
    return w, expect(
        w,
        "34+0",
        "No previous PTB, length 18 mm at 20+0, progesterone since 20+1; 34+0",
        acog={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "in-place"},
            "state_note_includes": {"vaginal-progesterone": ["May stop now", "AFP22-VP"]},
        },
        nice={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "in-place"},
            "state_note_includes": {"vaginal-progesterone": ["May stop now", "NICE-04"]},
        },
        current_treatments=["vaginal-progesterone"],
        notes=(
            "profiles.md, 'The course of care': once in place progesterone continues until 34+0 "
            "(acog, AFP22-VP) or at least 34+0 (nice, NICE-04); 'from then on the state says "
            '"may stop now" with the rule\'. At exactly 34+0 it is still in place, and the note '
            "says she may stop."
        ),
    )


@scenario("progesterone-in-place-review-stopping-from-37w0")
def _() -> Case:
    w = nulliparous("progesterone-in-place-review-stopping-from-37w0", "Elin")
    w.length("20+0", 18).exam("20+0", 0, False).progesterone("20+1")
    return w, expect(
        w,
        "37+0",
        "No previous PTB, length 18 mm at 20+0, progesterone still active at 37+0",
        acog={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "in-place"},
            "state_note_includes": {
                "vaginal-progesterone": ["Review stopping", "the preterm period is over", "CW-TERM"]
            },
        },
        nice={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "in-place"},
            "state_note_includes": {
                "vaginal-progesterone": ["Review stopping", "the preterm period is over", "CW-TERM"]
            },
        },
        current_treatments=["vaginal-progesterone"],
        notes=(
            "profiles.md, 'The course of care': 'From 37+0 (term) an active order for "
            'preterm-birth prevention is shown as "review stopping: the preterm period is '
            "over\"' (CW-TERM, derived). The order is still active, so the state is in-place; "
            "the note asks the clinician to review stopping it."
        ),
    )


@scenario("progesterone-start-window-acog-closed-at-24w0")
def _() -> Case:
    w = nulliparous("progesterone-start-window-acog-closed-at-24w0", "Farida")
    w.length("22+0", 19).exam("22+0", 0, False)
    return w, expect(
        w,
        "24+0",
        "No previous PTB, length 19 mm at 22+0, no progesterone yet; seen at 24+0",
        acog={"must_not": ["vaginal-progesterone"]},
        nice={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "due"},
            "rules": {"vaginal-progesterone": ["NICE-03"]},
        },
        notes=(
            "Start windows (profiles.md, 'The course of care'): acog starts progesterone 'before "
            "24+0' (CW-VP-START, derived from the trials' windows), so at 24+0 acog no longer "
            "offers it; nice starts it 'between 16+0 and 24+0' inclusive (NICE-04), so at 24+0 "
            "nice still offers it (NICE-03: a length of 25 mm or less at 16+0-24+0)."
        ),
    )


@scenario("progesterone-start-window-nice-closed-at-24w1")
def _() -> Case:
    w = nulliparous("progesterone-start-window-nice-closed-at-24w1", "Greta")
    w.length("22+0", 19).exam("22+0", 0, False)
    return w, expect(
        w,
        "24+1",
        "No previous PTB, length 19 mm at 22+0, no progesterone yet; seen at 24+1",
        acog={"must_not": ["vaginal-progesterone"]},
        nice={"must_not": ["vaginal-progesterone"]},
        notes=(
            "NICE-04: 'Start vaginal progesterone between 16+0 and 24+0'. At 24+1 the nice start "
            "window has closed, as the acog one closed at 24+0 (CW-VP-START): with no order in "
            "place neither profile offers it (profiles.md, 'The course of care')."
        ),
    )


# === Declined decisions ===================================================================


@scenario("declined-progesterone-stays-declined")
def _() -> Case:
    w = nulliparous("declined-progesterone-stays-declined", "Hana")
    w.length("20+0", 18).exam("20+0", 0, False).declined_progesterone("20+2")
    return w, expect(
        w,
        "21+0",
        "No previous PTB, length 18 mm at 20+0; declined vaginal progesterone at 20+2; 21+0",
        acog={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "declined"},
            "state_note_includes": {"vaginal-progesterone": ["declined on 20+2"]},
        },
        nice={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "declined"},
            "state_note_includes": {"vaginal-progesterone": ["declined on 20+2"]},
        },
        current_treatments=[],
        notes=(
            "profiles.md, 'The course of care': a decision recorded in this pregnancy (offered, "
            "declined, with its date) makes the recommendation 'declined', shown as declined and "
            "not as a task, until a different rule fires the same code on newer findings. "
            "Nothing new has been found since 20+2 (SMFM70-03 and NICE-03 fired on the day she "
            "declined), so both stay declined. FHIR: MedicationStatement not-taken with "
            "statusReason SNOMED 105480006 (fhir-mapping.md)."
        ),
    )


@scenario("declined-cerclage-stays-declined")
def _() -> Case:
    w = prior_sptb("declined-cerclage-stays-declined", "Ines", weeks=28, year="2022")
    w.length("18+0", 22).exam("18+0", 0, False)
    w.declined_cerclage("18+3", "ultrasound-indicated")
    return w, expect(
        w,
        "19+0",
        "Previous sPTB at 28 weeks, length 22 mm at 18+0; declined a cerclage at 18+3; 19+0",
        acog={
            "must": ["ultrasound-indicated-cerclage", "vaginal-progesterone"],
            "states": {"ultrasound-indicated-cerclage": "declined", "vaginal-progesterone": "due"},
            "state_note_includes": {"ultrasound-indicated-cerclage": ["declined on 18+3"]},
        },
        nice={
            "must": ["ultrasound-indicated-cerclage", "vaginal-progesterone"],
            "states": {"ultrasound-indicated-cerclage": "declined", "vaginal-progesterone": "due"},
            "state_note_includes": {"ultrasound-indicated-cerclage": ["declined on 18+3"]},
        },
        notes=(
            "profiles.md, 'The course of care' (declined) and fhir-mapping.md ('A decision: "
            "offered and declined': Procedure not-done, statusReason SNOMED 105480006, coded as "
            "a cerclage with its CW reason). She declined the ultrasound-indicated cerclage "
            "offered for a previous sPTB before 34+0 with a short cervix (ACOG142-04; NICE-01); "
            "no finding is newer than her decision, so it stays declined and is not a task. The "
            "other arm, vaginal progesterone, was not declined and stays due."
        ),
    )


@scenario("declined-progesterone-due-again-on-newer-length")
def _() -> Case:
    w = nulliparous("declined-progesterone-due-again-on-newer-length", "Jana")
    w.length("18+0", 23).exam("18+0", 0, False).declined_progesterone("18+2")
    w.length("20+0", 17)
    return w, expect(
        w,
        "20+1",
        "No previous PTB; 23 mm at 18+0, declined progesterone at 18+2; 17 mm at 20+0; 20+1",
        acog={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "due"},
            "rules": {"vaginal-progesterone": ["SMFM70-03"]},
            "state_note_includes": {"vaginal-progesterone": ["Declined on 18+2", "due again"]},
        },
        nice={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "declined"},
            "rules": {"vaginal-progesterone": ["NICE-03"]},
        },
        notes=(
            "profiles.md, 'The course of care': declined stands 'until a different rule fires "
            "the same code on newer findings (then it is due again, and says so)'. acog: on the "
            "day she declined (18+2) the 23 mm length gave shared decision-making (SMFM70-04); "
            "the 17 mm length at 20+0 now fires SMFM70-03 ('prescribe', 20 mm or less), a rule "
            "that did not fire then, so it is due again and the note says she declined on 18+2. "
            "nice: NICE-03 (25 mm or less) fired then and fires now: still declined."
        ),
    )


@scenario("decline-dated-after-as-of-not-known")
def _() -> Case:
    w = nulliparous("decline-dated-after-as-of-not-known", "Kaja")
    w.length("20+0", 18).exam("20+0", 0, False).declined_progesterone("21+0")
    return w, expect(
        w,
        "20+6",
        "No previous PTB, length 18 mm at 20+0; a decline dated 21+0, assessed as of 20+6",
        acog={"must": ["vaginal-progesterone"], "states": {"vaginal-progesterone": "due"}},
        nice={"must": ["vaginal-progesterone"], "states": {"vaginal-progesterone": "due"}},
        notes=(
            "fhir-mapping.md: 'ignore what is dated after --as-of'. On 20+6 her decision of 21+0 "
            "is not yet known, so vaginal progesterone (SMFM70-03, NICE-03) is an open offer, "
            "state due (profiles.md, 'The course of care')."
        ),
    )


# === The single screen: who it is for, and when it is overdue or missed ======================


@scenario("single-screen-not-after-20-1mm-length")
def _() -> Case:
    w = nulliparous("single-screen-not-after-20-1mm-length", "Lena")
    w.excision("cone-biopsy", "2019-06-03")
    w.length("16+3", 20.1).exam("16+3", 0, False)
    return w, expect(
        w,
        "18+2",
        "No previous PTB, cone biopsy; length 20.1 mm at 16+3; 18+2 (screening window open)",
        acog={
            "must": ["vaginal-progesterone", "cerclage-not-recommended"],
            "must_not": ["single-cervical-length-screen"],
            "rules": {"vaginal-progesterone": ["SMFM70-04"]},
        },
        nice={
            "must": ["refer-preterm-birth-clinic", "vaginal-progesterone"],
            "must_not": ["single-cervical-length-screen"],
        },
        next_scan_due=None,
        notes=(
            "Issue 10: a routine single screen for a woman 'already known to have a 20.1 mm "
            "cervix'. CD-02 and profiles.md ('A single screen is not given once a length of 25 "
            "mm or less has been measured in this pregnancy at any GA: she is past screening'): "
            "the 20.1 mm length at 16+3 is before the screening windows (acog 18+0-22+6, "
            "ACOG234-02; nice intermediate risk after a cone biopsy, 18+0-22+0, SBL-05) yet "
            "ends screening in both. She is on the short-cervix pathway instead (SMFM70-04, "
            "NICE-03), so no scan is planned."
        ),
    )


@scenario("single-screen-not-with-dilation-and-membranes")
def _() -> Case:
    w = nulliparous("single-screen-not-with-dilation-and-membranes", "Mira")
    w.excision("cone-biopsy", "2019-06-03")
    w.exam("19+0", 3, True)
    return w, expect(
        w,
        "19+0",
        "No previous PTB, cone biopsy; no length; 3 cm dilated, membranes visible at 19+0",
        acog={
            "must": ["exam-indicated-cerclage", "urgent-evaluation"],
            "must_not": ["single-cervical-length-screen"],
        },
        nice={
            "must": ["exam-indicated-cerclage", "urgent-evaluation"],
            "must_not": ["single-cervical-length-screen"],
        },
        next_scan_due=None,
        notes=(
            "CD-02: the single screen (ACOG234-02; nice SBL-05, intermediate risk after a cone "
            "biopsy) is not given when dilation or exposed membranes are recorded: she is past "
            "screening and the exam-indicated pathway applies (ACOG142-06; NICE-07, 16+0-27+6 "
            "with dilation and exposed membranes). Urgent evaluation fires (TRI-06)."
        ),
    )


@scenario("single-screen-not-with-cerclage-in-situ")
def _() -> Case:
    w = nulliparous("single-screen-not-with-cerclage-in-situ", "Nora")
    w.excision("cone-biopsy", "2018-02-12")
    w.cerclage("13+0", "history-indicated")
    return w, expect(
        w,
        "19+0",
        "No previous PTB, cone biopsy; history-indicated cerclage placed elsewhere at 13+0; 19+0",
        acog={"must_not": ["single-cervical-length-screen", *CERCLAGES]},
        nice={
            "must": ["refer-preterm-birth-clinic"],
            "must_not": ["single-cervical-length-screen", *CERCLAGES],
        },
        current_treatments=["cerclage"],
        next_scan_due=None,
        notes=(
            "CD-02: the single screen is not given when a cerclage is in situ in this pregnancy "
            "(ACOG234-02 for acog; the same exclusion for the nice intermediate-risk screen, "
            "SBL-05). The cerclage is shown as a current treatment. She is intermediate risk "
            "(cone biopsy, SBL-03), so the referral stands (SBL-05)."
        ),
    )


def _unscreened(folder: str, given: str) -> Woman:
    """No previous PTB, a cone biopsy (nice intermediate risk, SBL-03), no length yet."""
    return nulliparous(folder, given).excision("cone-biopsy", "2019-06-03")


@scenario("single-screen-nice-overdue-at-22w1")
def _() -> Case:
    w = _unscreened("single-screen-nice-overdue-at-22w1", "Olga")
    return w, expect(
        w,
        "22+1",
        "No previous PTB, cone biopsy, never scanned; 22+1",
        acog={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "due"},
        },
        nice={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "overdue"},
            "rules": {"single-cervical-length-screen": ["SBL-05"]},
            "state_note_includes": {"single-cervical-length-screen": ["Overdue"]},
        },
        scan_plan_missed=False,
        next_scan_due=w.day("18+0"),
        notes=(
            "CD-05 and profiles.md: the nice intermediate-risk screen is at 18+0-22+0 and "
            "'overdue from 22+1 to 24+0, then missed' (SBL-05); the acog screen is at "
            "18+0-22+6 (ACOG234-02), so on 22+1 it is still simply due. Both plans date the "
            "scan from 18+0."
        ),
    )


@scenario("single-screen-acog-overdue-at-23w0")
def _() -> Case:
    w = _unscreened("single-screen-acog-overdue-at-23w0", "Paula")
    return w, expect(
        w,
        "23+0",
        "No previous PTB, cone biopsy, never scanned; 23+0",
        acog={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "overdue"},
            "state_note_includes": {"single-cervical-length-screen": ["Overdue"]},
        },
        nice={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "overdue"},
        },
        scan_plan_missed=False,
        notes=(
            "CD-05: a screen whose window has closed with no length 'stays due and is shown as "
            "overdue from the day after the window closes until the last day on which a length "
            "would still change management: 23+6 for acog'. The acog window (ACOG234-02) ended "
            "at 22+6, so on 23+0 it is overdue; the nice one (SBL-05) has been overdue since "
            "22+1."
        ),
    )


@scenario("single-screen-acog-missed-at-24w0")
def _() -> Case:
    w = _unscreened("single-screen-acog-missed-at-24w0", "Quinn")
    return w, expect(
        w,
        "24+0",
        "No previous PTB, cone biopsy, never scanned; 24+0",
        acog={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "missed"},
            "state_note_includes": {"single-cervical-length-screen": ["Missed"]},
        },
        nice={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "overdue"},
        },
        scan_plan_missed=True,
        notes=(
            "CD-05: after 23+6 (acog: progesterone for a short cervix is started before 24+0) "
            "the scan plan marks the acog screen missed with the window's dates; it is shown "
            "and counted, no longer a task. nice stays overdue until 24+0 inclusive "
            "(NICE-03/04: a length at 24+0 still changes management)."
        ),
    )


@scenario("single-screen-nice-missed-at-24w1")
def _() -> Case:
    w = _unscreened("single-screen-nice-missed-at-24w1", "Rut")
    return w, expect(
        w,
        "24+1",
        "No previous PTB, cone biopsy, never scanned; 24+1",
        acog={"states": {"single-cervical-length-screen": "missed"}},
        nice={
            "states": {"single-cervical-length-screen": "missed"},
            "state_note_includes": {"single-cervical-length-screen": ["Missed", "24+0"]},
        },
        scan_plan_missed=True,
        next_scan_due=None,
        notes=(
            "CD-05: after 24+0 the nice intermediate-risk screen (SBL-05) is missed as well: "
            "both plans are marked missed with their windows, and no scan is due any more."
        ),
    )


@scenario("mtl-only-history-keeps-acog-screen")
def _() -> Case:
    w = nulliparous("mtl-only-history-keeps-acog-screen", "Sara")
    w.prior("2019", "termination", 8)
    w.prior("2020", "ectopic", 7)
    w.prior("2021", "miscarriage", 9, "spontaneous-labour")
    w.prior("2023", "miscarriage", 20, "spontaneous-labour")
    return w, expect(
        w,
        "19+0",
        "Termination, ectopic, first-trimester miscarriage and a miscarriage at 20 weeks; 19+0",
        acog={
            "must": ["single-cervical-length-screen", "no-activity-restriction"],
            "must_not": ["serial-cervical-length", "history-indicated-cerclage"],
            "states": {"single-cervical-length-screen": "due"},
            "rules": {"single-cervical-length-screen": ["ACOG234-02"]},
        },
        nice={
            "must": ["serial-cervical-length", "refer-preterm-birth-clinic"],
            "must_not": ["single-cervical-length-screen"],
        },
        risk_tier="high",
        notes=(
            "CD-02: 'Women whose only history is first-trimester miscarriage, termination or "
            'ectopic pregnancy, or a mid-trimester loss, keep it: they have "no prior sPTB" '
            "in ACOG234-02's sense (a mid-trimester loss is not a preterm birth)'. So acog gives "
            "the single screen, not serial scans (SMFM40-01 needs a previous sPTB). The 20-week "
            "loss began in labour, not painless dilation, so no history-indicated cerclage "
            "(ACOG142-03). nice: a loss at 16+0-34+0 is high risk (SBL-02), so serial scans and "
            "referral (SBL-04), not the intermediate-risk screen."
        ),
    )


@scenario("nice-screen-not-after-length-from-18w0")
def _() -> Case:
    w = _unscreened("nice-screen-not-after-length-from-18w0", "Tove")
    w.length("18+1", 31)
    return w, expect(
        w,
        "20+0",
        "No previous PTB, cone biopsy; length 31 mm at 18+1; 20+0",
        acog={"must_not": ["single-cervical-length-screen", "vaginal-progesterone"]},
        nice={
            "must": ["refer-preterm-birth-clinic"],
            "must_not": ["single-cervical-length-screen", "vaginal-progesterone"],
        },
        next_scan_due=None,
        notes=(
            "CD-03: 'The nice single screen has the same clause as acog: it is not given once a "
            "transvaginal length has been measured from 18+0 in this pregnancy. A screen that "
            "has been done is done.' The 31 mm length at 18+1 is the screen (SBL-05; "
            "ACOG234-02); nothing more is planned and no progesterone is indicated."
        ),
    )


@scenario("single-screen-still-due-after-length-before-18w0")
def _() -> Case:
    w = _unscreened("single-screen-still-due-after-length-before-18w0", "Ulla")
    w.length("17+5", 31)
    return w, expect(
        w,
        "18+2",
        "No previous PTB, cone biopsy; length 31 mm at 17+5; 18+2",
        acog={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "due"},
        },
        nice={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "due"},
        },
        next_scan_due=w.day("18+0"),
        notes=(
            "The counterpart of CD-03: a normal length (31 mm, more than 25 mm) measured before "
            "18+0 is not the screen, which is at 18+0-22+6 (ACOG234-02) or 18+0-22+0 (SBL-05); "
            "the screen is still due, from 18+0."
        ),
    )


@scenario("smfm70-04-text-bounds-20-1mm")
def _() -> Case:
    w = nulliparous("smfm70-04-text-bounds-20-1mm", "Vera")
    w.length("20+0", 20.1).exam("20+0", 0, False)
    return w, expect(
        w,
        "20+0",
        "No previous PTB, length 20.1 mm at 20+0, closed cervix",
        acog={
            "must": ["vaginal-progesterone", "cerclage-not-recommended"],
            "rules": {"vaginal-progesterone": ["SMFM70-04"]},
            "summary_includes": {"vaginal-progesterone": ["more than 20 mm", "no more than 25 mm"]},
            "summary_excludes": {"vaginal-progesterone": ["21-25", "21\u201325"]},
        },
        notes=(
            "Issue 10: '21-25 mm' was shown in a recommendation fired by 20.1 mm. profiles.md: "
            "'A recommendation's text states its own bounds exactly as evaluated (\"more than "
            '20 and up to 25 mm", not "21-25 mm" when lengths have decimals)\'. 20.1 mm is '
            "above SMFM70-03's 20 mm, so SMFM70-04 (shared decision) gives progesterone and its "
            "text says 'more than 20 mm and no more than 25 mm'."
        ),
    )


# === Serial scans ==========================================================================


@scenario("serial-scans-stop-after-length-under-25mm")
def _() -> Case:
    w = prior_sptb("serial-scans-stop-after-length-under-25mm", "Wanda", weeks=32)
    w.length("16+0", 32).length("18+0", 23).exam("18+0", 0, False)
    return w, expect(
        w,
        "18+3",
        "Previous sPTB at 32 weeks; 32 mm at 16+0, 23 mm at 18+0; 18+3",
        acog={
            "must": ["serial-cervical-length", "ultrasound-indicated-cerclage"],
            "summary_includes": {"serial-cervical-length": ["stop once a length is under 25 mm"]},
            "state_note_includes": {
                "serial-cervical-length": ["No further surveillance scan planned", "23 mm"]
            },
        },
        nice={
            "must": ["serial-cervical-length"],
            "states": {"serial-cervical-length": "due"},
        },
        next_scan_due=w.day("20+0"),
        notes=(
            "Issue 10: 'serial scans every 2 weeks' was shown beside a plan saying 'none "
            "planned'. profiles.md: the recommendations and the scan plan come from the same "
            "facts. acog's schedule (ACOG142-14, the trial protocol) ends once a length is "
            "under 25 mm; the recommendation's text says so and its state note explains why no "
            "further scan is planned (the treatment decision, ACOG142-04, takes over). nice "
            "(SBL-04) has no such stop: the next scan is due 2 weeks after the last, at 20+0."
        ),
    )


def _high_risk_scanned(folder: str, given: str) -> Woman:
    w = prior_sptb(folder, given)
    return w.length("16+0", 31)


@scenario("nice-serial-scan-due-2-weeks-after-last")
def _() -> Case:
    w = _high_risk_scanned("nice-serial-scan-due-2-weeks-after-last", "Xenia")
    return w, expect(
        w,
        "20+0",
        "Previous sPTB at 30 weeks; 31 mm at 16+0, no scan since; 20+0",
        acog={
            "must": ["serial-cervical-length"],
            "states": {"serial-cervical-length": "overdue"},
        },
        nice={
            "must": ["serial-cervical-length"],
            "states": {"serial-cervical-length": "due"},
            "state_note_includes": {"serial-cervical-length": ["18+0", "at the latest by 20+0"]},
        },
        next_scan_due=w.day("18+0"),
        notes=(
            "CD-08: 'high-risk serial scans (nice) are every 2-4 weeks from 16+0 to 24+0 (SBL "
            "v3.1): next due at 2 weeks, overdue after 4'. The next nice scan is due from 18+0; "
            "on 20+0, four weeks after the last, it is still in time. acog's schedule "
            "(ACOG142-14: every 2 weeks, weekly only after 25-29 mm) has no such grace: due at "
            "18+0, overdue from the day after (CD-05)."
        ),
    )


@scenario("nice-serial-scan-overdue-after-4-weeks")
def _() -> Case:
    w = _high_risk_scanned("nice-serial-scan-overdue-after-4-weeks", "Yrsa")
    return w, expect(
        w,
        "20+1",
        "Previous sPTB at 30 weeks; 31 mm at 16+0, no scan since; 20+1",
        nice={
            "must": ["serial-cervical-length"],
            "states": {"serial-cervical-length": "overdue"},
            "state_note_includes": {"serial-cervical-length": ["Overdue", "20+0"]},
        },
        next_scan_due=w.day("18+0"),
        notes=(
            "CD-08 (every 2-4 weeks, overdue after 4) and CD-05 (overdue from the day after it "
            "was due): the nice scan fell due at 18+0 and could wait until 20+0; on 20+1 it is "
            "overdue, and the note says by when it was due."
        ),
    )


# === Urgency lasts until someone has looked (CD-07) ============================================


@scenario("unreviewed-symptom-report-week-old-still-urgent")
def _() -> Case:
    w = nulliparous("unreviewed-symptom-report-week-old-still-urgent", "Zofia")
    w.symptoms("24+0", "pelvic-pressure", "backache")
    return w, expect(
        w,
        "25+0",
        "Reported pelvic pressure and backache at 24+0; nobody has reviewed it; 25+0",
        acog={
            "must": ["urgent-evaluation"],
            "reason_includes": {
                "urgent-evaluation": [
                    "pelvic pressure",
                    "lower backache",
                    "reported by the woman",
                    "7 days ago",
                    "not yet reviewed",
                ]
            },
        },
        nice={
            "must": ["urgent-evaluation"],
            "reason_includes": {"urgent-evaluation": ["pelvic pressure", "7 days ago"]},
        },
        notes=(
            "CD-07: 'A symptom report ... stays urgent until a clinician records a review of "
            "it ... It never lapses with the calendar: an unreviewed report from last week is "
            "still urgent, and says how old it is.' Urgent evaluation (TRI-01, TRI-05) names "
            "the symptoms, who reported them and that they have waited 7 days."
        ),
    )


@scenario("reviewed-symptom-report-not-urgent")
def _() -> Case:
    w = nulliparous("reviewed-symptom-report-not-urgent", "Agnes")
    report = w.symptoms("24+0", "pelvic-pressure", "backache")
    w.review(report, "24+1", "seen-in-triage")
    return w, expect(
        w,
        "25+0",
        "Reported pelvic pressure and backache at 24+0; seen in triage at 24+1; 25+0",
        acog={"must_not": ["urgent-evaluation"]},
        nice={"must_not": ["urgent-evaluation", "preterm-labour-diagnosed"]},
        notes=(
            "CD-07: the report is urgent until a review is recorded; in FHIR a review is a "
            "completed Task CW#symptom-report-review whose focus is the QuestionnaireResponse, "
            "dated by executionPeriod.end, outcome in businessStatus (fhir-mapping.md). Seen in "
            "triage at 24+1, it is no longer open, so urgent evaluation no longer fires."
        ),
    )


@scenario("review-dated-after-as-of-not-yet-known")
def _() -> Case:
    w = nulliparous("review-dated-after-as-of-not-yet-known", "Berit")
    report = w.symptoms("24+0", "fluid-leak")
    w.review(report, "25+1", "advised-by-phone")
    return w, expect(
        w,
        "25+0",
        "Reported leaking fluid at 24+0; the review is dated 25+1; assessed as of 25+0",
        acog={
            "must": ["urgent-evaluation"],
            "reason_includes": {"urgent-evaluation": ["leaking fluid", "7 days ago"]},
        },
        nice={"must": ["urgent-evaluation"]},
        notes=(
            "fhir-mapping.md, 'A review of a symptom report (CD-07)': 'A review dated after "
            "--as-of is not yet known.' On 25+0 nobody has looked at the report yet, so it is "
            "still urgent (TRI-01, TRI-05) and says it has waited 7 days."
        ),
    )


# === Dated complications (CD-06) ==========================================================


def _dilated_21w(folder: str, given: str) -> Woman:
    # The dates: a 2026-03-01 assessment, an infection noted on 2026-03-02.
    w = nulliparous(folder, given, edd=dt.date(2026, 7, 12))
    return w.exam(dt.date(2026, 3, 1), 2, True)


CHORIO = coding(CW, "chorioamnionitis", "Clinical chorioamnionitis")


@scenario("infection-noted-day-after-as-of-not-yet-known")
def _() -> Case:
    w = _dilated_21w("infection-noted-day-after-as-of-not-yet-known", "Cecilia")
    w.condition(CHORIO, dt.date(2026, 3, 2))
    return w, expect(
        w,
        dt.date(2026, 3, 1),
        "Dilated 2 cm with membranes visible on 2026-03-01 (21+0); infection noted 2026-03-02",
        acog={"must": ["exam-indicated-cerclage"], "must_not": ["cerclage-contraindicated"]},
        nice={"must": ["exam-indicated-cerclage"], "must_not": ["cerclage-contraindicated"]},
        notes=(
            "Issue 10: 'makes a 2026-03-01 assessment contraindicate cerclage because of an "
            "infection noted on 2026-03-02'. CD-06: a contraindication 'noted after as_of ... "
            "is not yet known'. On 2026-03-01 the exam-indicated cerclage (ACOG142-06; NICE-07) "
            "stands and is not contraindicated (ACOG142-07; NICE-06)."
        ),
    )


@scenario("infection-noted-on-as-of-contraindicates")
def _() -> Case:
    w = _dilated_21w("infection-noted-on-as-of-contraindicates", "Dorota")
    w.condition(CHORIO, dt.date(2026, 3, 2))
    return w, expect(
        w,
        dt.date(2026, 3, 2),
        "Dilated 2 cm with membranes visible on 2026-03-01; infection noted 2026-03-02; 21+1",
        acog={"must": ["cerclage-contraindicated"], "must_not": CERCLAGES},
        nice={"must": ["cerclage-contraindicated"], "must_not": CERCLAGES},
        notes=(
            "CD-06: a contraindication counts while it is active on the assessment's date. From "
            "2026-03-02 the chorioamnionitis is known and active: cerclage is contraindicated "
            "(ACOG142-07; NICE-06, RCOG75-09) and no cerclage code is given with it "
            "(profiles.md, 'Always')."
        ),
    )


@scenario("resolved-bleeding-no-longer-suppresses")
def _() -> Case:
    w = nulliparous("resolved-bleeding-no-longer-suppresses", "Eva")
    w.condition(coding(CW, "vaginal-bleeding", "Active vaginal bleeding"), "19+4", "19+6")
    w.exam("20+0", 2, True)
    return w, expect(
        w,
        "20+0",
        "Bleeding from 19+4, resolved 19+6; dilated 2 cm with membranes visible at 20+0",
        acog={"must": ["exam-indicated-cerclage"], "must_not": ["cerclage-contraindicated"]},
        nice={"must": ["exam-indicated-cerclage"], "must_not": ["cerclage-contraindicated"]},
        notes=(
            "CD-06: 'resolved before as_of, it no longer suppresses anything'. The bleeding "
            "(Condition CW#vaginal-bleeding, clinicalStatus resolved, abatementDateTime 19+6) "
            "had stopped before the 20+0 exam, so the exam-indicated cerclage (ACOG142-06; "
            "NICE-07) is not contraindicated (ACOG142-07; NICE-06)."
        ),
    )


# === Twins (CD-08, NG137) ==================================================================


@scenario("twins-nice-single-screen-16w-20w")
def _() -> Case:
    w = Woman("twins-nice-single-screen-16w-20w", dt.date(2026, 9, 10), "Frida").dating(fetuses=2)
    return w, expect(
        w,
        "17+0",
        "Twins, first pregnancy, no length yet; 17+0",
        acog={
            "must_not": [
                "single-cervical-length-screen",
                "serial-cervical-length",
                "vaginal-progesterone",
                *CERCLAGES,
            ]
        },
        nice={
            "must": ["single-cervical-length-screen"],
            "must_not": ["refer-preterm-birth-clinic", *CERCLAGES],
            "states": {"single-cervical-length-screen": "due"},
            "rules": {"single-cervical-length-screen": ["NICE-T1"]},
        },
        next_scan_due=w.day("16+0"),
        notes=(
            "CD-08: 'twins or more (nice): single cervical-length scan at 16+0-20+0' (NICE-T1, "
            "NG137 1.5.2), due from 16+0. Twins alone are not a Saving Babies' Lives referral "
            "criterion. acog: no routine screening in multiple gestation (SMFM40-02) and no "
            "progesterone or cerclage (ACOG234-06)."
        ),
    )


@scenario("twins-nice-progesterone-at-25mm-no-cerclage")
def _() -> Case:
    w = Woman("twins-nice-progesterone-at-25mm-no-cerclage", dt.date(2026, 9, 10), "Gudrun")
    w.dating(fetuses=2).length("18+0", 25).exam("18+0", 0, False)
    return w, expect(
        w,
        "18+2",
        "Twins, length 25 mm at 18+0; 18+2",
        acog={
            "must_not": ["vaginal-progesterone", "cerclage-not-recommended", *CERCLAGES],
        },
        nice={
            "must": ["vaginal-progesterone", "cerclage-not-recommended"],
            "must_not": ["single-cervical-length-screen", *CERCLAGES],
            "rules": {
                "vaginal-progesterone": ["NICE-T1"],
                "cerclage-not-recommended": ["NICE-T1"],
            },
            "states": {"vaginal-progesterone": "due"},
            "summary_includes": {"vaginal-progesterone": ["200 mg", "until 34+0"]},
        },
        current_findings_includes=["twins", "short cervix"],
        notes=(
            "CD-08 / NG137 1.5.3-1.5.6 (NICE-T1): twins with a length of 25 mm or less at "
            "16+0-24+0 are offered vaginal progesterone 200 mg nightly until 34+0, and still no "
            "cerclage (cerclage-not-recommended, NICE-T1/RCOG75-11). 25 mm is 'or less' in "
            "NICE's words. The screen has been done (a length from 16+0). acog: no progesterone "
            "or cerclage in twins (ACOG234-06); ACOG142-08's 'less than 25 mm' is not met by "
            "25 mm exactly, so acog's cerclage-not-recommended does not fire."
        ),
    )


# === Saving Babies' Lives tiers (CD-08) ======================================================


@scenario("lletz-12mm-not-intermediate")
def _() -> Case:
    w = nulliparous("lletz-12mm-not-intermediate", "Helga").excision("lletz", "2021-10-04", 12)
    return w, expect(
        w,
        "12+0",
        "First pregnancy, one LLETZ 12 mm deep; booking at 12+0",
        nice={"must_not": ["refer-preterm-birth-clinic", "single-cervical-length-screen"]},
        risk_tier="low",
        notes=(
            "CD-08: 'intermediate risk (nice): a single LLETZ counts only when deeper than 15 "
            "mm (SBL v3.1)'. A 12 mm LLETZ is not intermediate risk (SBL-03), so no referral "
            "and no intermediate-risk screen (SBL-05); the history tier is low."
        ),
    )


@scenario("lletz-16mm-intermediate")
def _() -> Case:
    w = nulliparous("lletz-16mm-intermediate", "Ida").excision("lletz", "2021-10-04", 16)
    return w, expect(
        w,
        "12+0",
        "First pregnancy, one LLETZ 16 mm deep; booking at 12+0",
        nice={
            "must": ["refer-preterm-birth-clinic", "single-cervical-length-screen"],
            "states": {
                "refer-preterm-birth-clinic": "due",
                "single-cervical-length-screen": "due",
            },
            "rules": {"single-cervical-length-screen": ["SBL-05"]},
        },
        risk_tier="intermediate",
        next_scan_due=w.day("18+0"),
        notes=(
            "CD-08 / SBL-03 (SBL v3.1): a LLETZ where more than 15 mm was removed is "
            "intermediate risk: referral to the preterm birth clinic by 12 weeks and a single "
            "transvaginal scan at 18+0-22+0 (SBL-05)."
        ),
    )


@scenario("short-cervix-alone-no-referral")
def _() -> Case:
    w = nulliparous("short-cervix-alone-no-referral", "Jorunn")
    w.length("20+0", 20).exam("20+0", 0, False)
    return w, expect(
        w,
        "20+0",
        "First pregnancy, no risk factor; length 20 mm at 20+0",
        nice={
            "must": ["vaginal-progesterone", "cerclage-not-recommended"],
            "must_not": ["refer-preterm-birth-clinic"],
            "rules": {
                "vaginal-progesterone": ["NICE-03"],
                "cerclage-not-recommended": ["RCOG75-04"],
            },
        },
        risk_tier="low",
        current_findings_includes=["short cervix: shortest transvaginal length 20 mm"],
        notes=(
            "CD-08: 'a short cervix without a risk history is not by itself a referral "
            "criterion (SBL v3.1: care is individualised); the nice progesterone and cerclage "
            "rows for it are unchanged': NICE-03 (consider progesterone) and RCOG75-04 "
            "(cerclage not recommended), no referral (SBL-02). The history tier stays low, "
            "with the short cervix shown beside it (issue 10, item 9)."
        ),
    )


@scenario("risk-tier-labelled-beside-current-findings")
def _() -> Case:
    w = prior_sptb("risk-tier-labelled-beside-current-findings", "Kirsten")
    w.length("18+0", 22).exam("18+0", 1, False)
    return w, expect(
        w,
        "18+1",
        "Previous sPTB at 30 weeks; length 22 mm and 1 cm dilated at 18+0; 18+1",
        risk_tier="high",
        current_findings_includes=[
            "short cervix: shortest transvaginal length 22 mm",
            "cervix dilated 1 cm on the latest exam",
        ],
        notes=(
            "Issue 10, item 9: the risk tier is the Saving Babies' Lives v3.1 history tier "
            "(SBL-02: high after a previous sPTB at 16-34 weeks), shown with this pregnancy's "
            "findings beside it (a short cervix, dilation) rather than as a lone word."
        ),
    )


# === Cerclage removal =====================================================================


def _cerclage_in_situ(folder: str, given: str) -> Woman:
    w = nulliparous(folder, given)
    w.prior("2023", "miscarriage", 19, "painless-cervical-dilation")
    return w.cerclage("13+2", "history-indicated")


@scenario("cerclage-removal-acog-36w0-nice-not-yet")
def _() -> Case:
    w = _cerclage_in_situ("cerclage-removal-acog-36w0-nice-not-yet", "Lise")
    return w, expect(
        w,
        "36+0",
        "Transvaginal cerclage in situ since 13+2; 36+0",
        acog={"must": ["remove-cerclage"], "states": {"remove-cerclage": "due"}},
        nice={"must_not": ["remove-cerclage"]},
        current_treatments=["cerclage"],
        notes=(
            "ACOG142-12: remove a transvaginal cerclage at 36+0-37+0. CD-08: 'cerclage removal "
            "(nice) is due from 36+1 (GTG75)' (RCOG75-10: 'usually between 36+1 and 37+0'), so "
            "at 36+0 nice does not yet ask for it."
        ),
    )


@scenario("cerclage-removal-nice-due-at-36w1")
def _() -> Case:
    w = _cerclage_in_situ("cerclage-removal-nice-due-at-36w1", "Marit")
    return w, expect(
        w,
        "36+1",
        "Transvaginal cerclage in situ since 13+2; 36+1",
        acog={"must": ["remove-cerclage"], "states": {"remove-cerclage": "due"}},
        nice={
            "must": ["remove-cerclage"],
            "states": {"remove-cerclage": "due"},
            "rules": {"remove-cerclage": ["RCOG75-10"]},
        },
        current_treatments=["cerclage"],
        notes="CD-08 / RCOG75-10: nice removal is due from 36+1 to 37+0.",
    )


@scenario("cerclage-removal-overdue-after-37w0")
def _() -> Case:
    w = _cerclage_in_situ("cerclage-removal-overdue-after-37w0", "Nanna")
    return w, expect(
        w,
        "37+1",
        "Transvaginal cerclage still in situ at 37+1",
        acog={
            "must": ["remove-cerclage"],
            "states": {"remove-cerclage": "overdue"},
            "state_note_includes": {"remove-cerclage": ["Overdue"]},
        },
        nice={
            "must": ["remove-cerclage"],
            "states": {"remove-cerclage": "overdue"},
            "state_note_includes": {"remove-cerclage": ["Overdue", "37+0"]},
        },
        current_treatments=["cerclage"],
        notes=(
            "profiles.md (remove-cerclage, nice: 'due 36+1-37+0, overdue after 37+0'; acog "
            "ACOG142-12 36+0-37+0) and CD-05 (a window that has closed without the action is "
            "overdue): on 37+1 the cerclage is still in situ, so removal is overdue in both."
        ),
    )


# === Diagnosed preterm labour (CD-08, NICE-12: NG25 1.7.4-1.7.7) =============================


def _reported(folder: str, given: str, at: str) -> Woman:
    w = nulliparous(folder, given)
    w.symptoms(at, "contractions")
    return w


@scenario("preterm-labour-diagnosed-30w0-15mm")
def _() -> Case:
    w = _reported("preterm-labour-diagnosed-30w0-15mm", "Oda", "30+0")
    w.length("30+0", 15)
    return w, expect(
        w,
        "30+0",
        "Reported contractions at 30+0; transvaginal length 15 mm the same day",
        acog={"must": ["urgent-evaluation"], "must_not": ["preterm-labour-diagnosed"]},
        nice={
            "must": ["preterm-labour-diagnosed", "urgent-evaluation"],
            "rules": {"preterm-labour-diagnosed": ["NICE-12"]},
        },
        notes=(
            "CD-08 / NG25 1.7.4 (NICE-12): 'at 30+0 or more with a current symptom report, a "
            'transvaginal length of 15 mm or less means "diagnosed preterm labour"\'. 30+0 and '
            "15 mm are both inside the bounds. The code belongs to nice only; acog gives urgent "
            "evaluation (TRI-01)."
        ),
    )


@scenario("preterm-labour-not-diagnosed-at-29w6")
def _() -> Case:
    w = _reported("preterm-labour-not-diagnosed-at-29w6", "Pia", "29+6")
    w.length("29+6", 15)
    return w, expect(
        w,
        "29+6",
        "Reported contractions at 29+6; transvaginal length 15 mm the same day",
        nice={"must": ["urgent-evaluation"], "must_not": ["preterm-labour-diagnosed"]},
        notes=(
            "NICE-12 (NG25 1.7.4) applies from 30+0: at 29+6 the woman is assessed urgently "
            "(TRI-01) but the length alone does not diagnose preterm labour."
        ),
    )


@scenario("preterm-labour-not-diagnosed-at-15-1mm")
def _() -> Case:
    w = _reported("preterm-labour-not-diagnosed-at-15-1mm", "Ragna", "30+0")
    w.length("30+0", 15.1)
    return w, expect(
        w,
        "30+0",
        "Reported contractions at 30+0; transvaginal length 15.1 mm the same day",
        nice={"must": ["urgent-evaluation"], "must_not": ["preterm-labour-diagnosed"]},
        notes=(
            "NICE-12 (NG25 1.7.4): '15 mm or less'. 15.1 mm is more than 15 mm, so preterm "
            "labour is not diagnosed by the length; she is still evaluated urgently (TRI-01)."
        ),
    )


@scenario("preterm-labour-diagnosed-by-ffn-without-length")
def _() -> Case:
    w = _reported("preterm-labour-diagnosed-by-ffn-without-length", "Signe", "30+0")
    w.ffn("30+0", 60)
    return w, expect(
        w,
        "30+1",
        "Reported contractions at 30+0; fetal fibronectin 60 ng/ml, no length since; 30+1",
        nice={
            "must": ["preterm-labour-diagnosed"],
            "rules": {"preterm-labour-diagnosed": ["NICE-12"]},
        },
        notes=(
            "NG25 1.7.5 (NICE-12): 'where no length was measured since the report, a "
            "quantitative fetal fibronectin >50 ng/ml taken since the report does the same'. "
            "60 ng/ml with no length: diagnosed preterm labour."
        ),
    )


@scenario("preterm-labour-length-and-ffn-never-combined")
def _() -> Case:
    w = _reported("preterm-labour-length-and-ffn-never-combined", "Tuva", "30+0")
    w.length("30+0", 18).ffn("30+0", 120)
    return w, expect(
        w,
        "30+0",
        "Reported contractions at 30+0; length 18 mm and fetal fibronectin 120 ng/ml",
        nice={"must": ["urgent-evaluation"], "must_not": ["preterm-labour-diagnosed"]},
        notes=(
            "NG25 1.7.7 (NICE-12): 'do not use both in combination'. A length was measured since "
            "the report and it is more than 15 mm, so it decides: not diagnosed; the raised "
            "fibronectin is used only where no length was measured."
        ),
    )


@scenario("preterm-labour-length-before-report-not-counted")
def _() -> Case:
    w = nulliparous("preterm-labour-length-before-report-not-counted", "Unni")
    w.length("29+5", 12)
    w.symptoms("30+0", "contractions")
    return w, expect(
        w,
        "30+0",
        "Length 12 mm at 29+5; reported contractions at 30+0; no length since",
        nice={"must": ["urgent-evaluation"], "must_not": ["preterm-labour-diagnosed"]},
        notes=(
            "profiles.md, preterm-labour-diagnosed (NICE-12): the length must be 'measured on "
            "or after the report's day'. The 12 mm length two days before she reported "
            "symptoms does not diagnose preterm labour; a new length (or fibronectin) is needed."
        ),
    )


# === Assumptions (CD-01) ===================================================================


@scenario("smfm70-06-no-exam-assumed-no-dilation")
def _() -> Case:
    w = nulliparous("smfm70-06-no-exam-assumed-no-dilation", "Vilde")
    w.length("20+0", 18)
    return w, expect(
        w,
        "20+0",
        "No previous PTB, length 18 mm at 20+0; no cervical exam recorded",
        acog={
            "must": ["cerclage-not-recommended", "vaginal-progesterone"],
            "must_not": CERCLAGES,
            "rules": {"cerclage-not-recommended": ["SMFM70-06"]},
            "assumptions": {
                "cerclage-not-recommended": [
                    "no cervical dilation is assumed: no cervical exam is recorded"
                ]
            },
        },
        missing_includes=[EXAM_NEEDED],
        notes=(
            "CD-01: 'When no exam of this pregnancy is recorded, cerclage-not-recommended "
            "(SMFM70-06) is given', carrying the assumption 'no cervical dilation is assumed: "
            "no cervical exam is recorded', and 'missing still asks for the exam'. The "
            "assumption leads away from an intervention, as CD-01 allows."
        ),
    )


@scenario("smfm70-06-exam-with-dilation-replaces-assumption")
def _() -> Case:
    w = nulliparous("smfm70-06-exam-with-dilation-replaces-assumption", "Wenche")
    w.length("20+0", 18).exam("20+0", 1.5, False)
    return w, expect(
        w,
        "20+0",
        "No previous PTB, length 18 mm and 1.5 cm dilated at 20+0",
        acog={
            "must": ["exam-indicated-cerclage"],
            "must_not": ["cerclage-not-recommended"],
        },
        missing_excludes=[EXAM_NEEDED],
        notes=(
            "CD-01: 'A recorded exam showing dilation or exposed membranes replaces the "
            "assumption at once (the exam-indicated pathway applies).' Dilated 1.5 cm, she is "
            "not in SMFM70-06's 'no dilation' group; exam-indicated cerclage may be considered "
            "(ACOG142-06)."
        ),
    )


# === Inputs an EHR sends (issue 10, item 8) ==================================================


@scenario("condition-provisional-not-counted")
def _() -> Case:
    w = nulliparous("condition-provisional-not-counted", "Astrid")
    w.exam("20+0", 2, True)
    w.condition(
        coding(SNOMED, "44223004", "Premature rupture of membranes"),
        "20+0",
        verification="provisional",
    )
    return w, expect(
        w,
        "20+0",
        "Dilated 2 cm, membranes visible at 20+0; ruptured membranes only provisional",
        acog={"must": ["exam-indicated-cerclage"], "must_not": ["cerclage-contraindicated"]},
        nice={"must": ["exam-indicated-cerclage"], "must_not": ["cerclage-contraindicated"]},
        notes=(
            "Issue 10, item 8: a Condition whose verificationStatus is provisional is 'not a "
            "confirmed complication'. Rupture of the membranes is only suspected, so it neither "
            "contraindicates cerclage (ACOG142-07; NICE-06) nor stops the exam-indicated "
            "pathway (ACOG142-06; NICE-07, membranes not ruptured)."
        ),
    )


@scenario("condition-refuted-not-counted")
def _() -> Case:
    w = nulliparous("condition-refuted-not-counted", "Brita")
    w.exam("20+0", 2, True)
    w.condition(CHORIO, "20+0", verification="refuted")
    return w, expect(
        w,
        "20+0",
        "Dilated 2 cm, membranes visible at 20+0; chorioamnionitis refuted",
        acog={"must": ["exam-indicated-cerclage"], "must_not": ["cerclage-contraindicated"]},
        nice={"must": ["exam-indicated-cerclage"], "must_not": ["cerclage-contraindicated"]},
        notes=(
            "Issue 10, item 8: a refuted Condition is not a complication she has. Infection was "
            "ruled out, so cerclage is not contraindicated (ACOG142-07; NICE-06) and the "
            "exam-indicated cerclage stands (ACOG142-06; NICE-07)."
        ),
    )


@scenario("length-comparator-below-10mm")
def _() -> Case:
    w = nulliparous("length-comparator-below-10mm", "Cornelia")
    w.length("20+0", 10, comparator="<").exam("20+0", 0, False)
    return w, expect(
        w,
        "20+0",
        "No previous PTB, length reported as '<10 mm' at 20+0, closed cervix",
        acog={
            "must": ["vaginal-progesterone"],
            "must_not": ["cerclage-not-recommended"],
            "rules": {"vaginal-progesterone": ["SMFM70-03"]},
        },
        nice={
            "must": ["vaginal-progesterone", "cerclage-not-recommended"],
            "rules": {"cerclage-not-recommended": ["RCOG75-04"]},
        },
        current_findings_includes=["short cervix: shortest transvaginal length <10 mm"],
        notes=(
            "Issue 10, item 8: 'a valueQuantity.comparator (<10 mm counts as under 10 mm)'. "
            "Under 10 mm is 20 mm or less (SMFM70-03: prescribe progesterone) but outside "
            "SMFM70-06's 10-25 mm (CD-04), so acog's cerclage-not-recommended does not fire. "
            "nice: 25 mm or less (NICE-03; RCOG75-04). The finding keeps its '<'."
        ),
    )


@scenario("length-comparator-above-30mm-never-short")
def _() -> Case:
    w = nulliparous("length-comparator-above-30mm-never-short", "Ditte")
    w.length("19+0", 30, comparator=">")
    return w, expect(
        w,
        "19+1",
        "No previous PTB, length reported as '>30 mm' at 19+0",
        acog={
            "must_not": [
                "single-cervical-length-screen",
                "vaginal-progesterone",
                "cerclage-not-recommended",
                "no-activity-restriction",
            ]
        },
        nice={"must_not": ["vaginal-progesterone", "cerclage-not-recommended"]},
        notes=(
            "Issue 10, item 8: '>/>= never as short'. A length over 30 mm is a normal screen "
            "(ACOG234-02 done from 18+0), and never a short cervix for SMFM70-03/04/06, NICE-03 "
            "or RCOG75-04."
        ),
    )


@scenario("length-not-performed-ignored-rest-read")
def _() -> Case:
    w = _unscreened("length-not-performed-ignored-rest-read", "Edda")
    w.length("19+0", None, absent="not-performed")
    return w, expect(
        w,
        "20+0",
        "No previous PTB, cone biopsy; a cervical length 'not performed' at 19+0; 20+0",
        acog={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "due"},
        },
        nice={
            "must": ["refer-preterm-birth-clinic", "single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "due"},
        },
        next_scan_due=w.day("18+0"),
        notes=(
            "Issue 10, item 8: 'a cervical length with dataAbsentReason (not performed: "
            "ignored, and the rest of the Bundle still read)'. The EDD, the cone biopsy "
            "(intermediate risk, SBL-03) and everything else are read; the scan that was not "
            "performed does not count as the screen, which is still due (ACOG234-02; SBL-05)."
        ),
    )


@scenario("unknown-modifier-extension-refuses-only-that-resource")
def _() -> Case:
    w = nulliparous("unknown-modifier-extension-refuses-only-that-resource", "Fanny")
    w.length("20+0", 18).exam("20+0", 0, False)
    w.progesterone("20+1", modifier="https://hospital.example/fhir/StructureDefinition/on-hold")
    return w, expect(
        w,
        "21+0",
        "No previous PTB, length 18 mm at 20+0; a progesterone order with an unknown "
        "modifierExtension; 21+0",
        acog={"must": ["vaginal-progesterone"], "states": {"vaginal-progesterone": "due"}},
        nice={"must": ["vaginal-progesterone"], "states": {"vaginal-progesterone": "due"}},
        current_treatments=[],
        notes=(
            "Issue 10, item 8: 'an unknown modifierExtension (refuse that resource with a clear "
            "message, as FHIR requires, not the whole Bundle)'. The order may mean something "
            "else (here: on hold), so it is not read and progesterone is not in place; the "
            "length and exam are read, and progesterone is still indicated and due (SMFM70-03, "
            "NICE-03)."
        ),
    )


@scenario("ips-preterm-birth-count-asks-for-details")
def _() -> Case:
    w = nulliparous("ips-preterm-birth-count-asks-for-details", "Gry")
    w.count("11637-6", "[#] Births.preterm", 1)
    return w, expect(
        w,
        "12+0",
        "An IPS summary says 'preterm births: 1' with no detail; booking at 12+0",
        missing_includes=[
            "details of 1 previous preterm birth (gestation at the end, outcome and how it started)"
        ],
        risk_tier=None,
        notes=(
            "Issue 10, item 8: obstetric-history counts (IPS LOINC 11637-6) 'counted as history "
            'whose details are unknown, so the tier and missing say "details of 1 previous '
            "preterm birth\" instead of the woman silently getting no recommendation'. Whether "
            "it was spontaneous and before 34+0 is unknown, so the tier is unknown and the "
            "history rules (SMFM40-01, SBL-02) ask for those details."
        ),
    )


# === Further behaviours of the same documents ===============================================


@scenario("declined-progesterone-nice-due-again-after-short-cervix")
def _() -> Case:
    w = prior_sptb("declined-progesterone-nice-due-again-after-short-cervix", "Hedda")
    w.declined_progesterone("14+0")
    w.length("18+0", 22).exam("18+0", 0, False)
    return w, expect(
        w,
        "18+2",
        "Previous sPTB at 30 weeks; declined progesterone at 14+0; length 22 mm at 18+0; 18+2",
        acog={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "due"},
            "rules": {"vaginal-progesterone": ["FIGO-P1"]},
            "state_note_includes": {"vaginal-progesterone": ["Declined on 14+0", "due again"]},
        },
        nice={
            "must": ["vaginal-progesterone"],
            "states": {"vaginal-progesterone": "due"},
            "rules": {"vaginal-progesterone": ["NICE-01"]},
            "state_note_includes": {"vaginal-progesterone": ["Declined on 14+0", "due again"]},
        },
        notes=(
            "profiles.md, 'The course of care' (declined, then due again on newer findings). "
            "At 14+0 she declined progesterone offered for her history alone (nice NICE-03; "
            "acog SMFM23-03, no length yet). The 22 mm length at 18+0 now fires other rules "
            "(NICE-01: a choice of progesterone or cerclage; acog FIGO-P1, derived, for a "
            "previous sPTB with a length under 25 mm), so the offer is due again and says she "
            "declined on 14+0."
        ),
    )


@scenario("urgent-reason-names-dilation-and-membranes")
def _() -> Case:
    w = nulliparous("urgent-reason-names-dilation-and-membranes", "Iben")
    w.exam("21+0", 3, True)
    return w, expect(
        w,
        "21+0",
        "First pregnancy; 3 cm dilated with membranes visible at 21+0",
        acog={
            "must": ["urgent-evaluation"],
            "reason_includes": {"urgent-evaluation": ["dilation 3 cm", "membranes exposed"]},
        },
        nice={
            "must": ["urgent-evaluation"],
            "reason_includes": {"urgent-evaluation": ["dilation 3 cm", "membranes exposed"]},
        },
        notes=(
            "CD-07 and issue 10, item 4: urgent-evaluation 'says why (which symptoms or "
            "findings ...)'. Both findings fire it (TRI-06: exposed membranes; dilation of 2 cm "
            "or more before 37+0), so the reason names both: a clinician must read that the "
            "cervix is 3 cm dilated, not only that membranes are visible. fhir-mapping.md "
            "records dilation (LOINC 11786-1) and membranes (CW#membranes-exposed) as separate "
            "Observations of the same exam."
        ),
    )


@scenario("ips-preterm-birth-count-asks-only-for-what-is-missing")
def _() -> Case:
    w = nulliparous("ips-preterm-birth-count-asks-only-for-what-is-missing", "Jette")
    w.count("11637-6", "[#] Births.preterm", 1)
    return w, expect(
        w,
        "12+0",
        "An IPS summary says 'preterm births: 1'; no LLETZ or other procedure; booking at 12+0",
        missing_includes=[
            "details of 1 previous preterm birth (gestation at the end, outcome and how it started)"
        ],
        missing_excludes=["the depth of each LLETZ"],
        notes=(
            "profiles.md, 'Always': 'missing lists the facts whose absence kept a rule from "
            "being decided'. What is unknown is the preterm birth's details (I-89); she has had "
            "no LLETZ, so the depth of a LLETZ is not missing and must not be asked for."
        ),
    )


@scenario("twins-nice-screen-overdue-at-20w1")
def _() -> Case:
    w = Woman("twins-nice-screen-overdue-at-20w1", dt.date(2026, 9, 10), "Kamilla").dating(
        fetuses=2
    )
    return w, expect(
        w,
        "20+1",
        "Twins, no length yet; 20+1",
        nice={
            "must": ["single-cervical-length-screen"],
            "states": {"single-cervical-length-screen": "overdue"},
            "rules": {"single-cervical-length-screen": ["NICE-T1"]},
        },
        scan_plan_missed=False,
        notes=(
            "CD-05: a single screen whose window has closed with no length 'is not silently "
            "dropped': the NG137 twins screen (NICE-T1, 16+0-20+0) is overdue from 20+1 until "
            "24+0, since NG137 1.5.3 still acts on a length up to 24+0 (I-86)."
        ),
    )


@scenario("nice-serial-scan-missed-after-window")
def _() -> Case:
    w = _high_risk_scanned("nice-serial-scan-missed-after-window", "Liv")
    return w, expect(
        w,
        "24+1",
        "Previous sPTB at 30 weeks; 31 mm at 16+0 and no scan since; 24+1",
        acog={"states": {"serial-cervical-length": "missed"}},
        nice={"states": {"serial-cervical-length": "missed"}},
        scan_plan_missed=True,
        notes=(
            "CD-05: 'The same holds for a serial scan: overdue from the day after it was due, "
            "missed once the surveillance window has ended without it.' The next scan was due "
            "at 18+0 (acog, ACOG142-14) or 18+0-20+0 (nice, SBL-04) and never done; both "
            "windows (to 23+6 and 24+0) have ended, so the plan should mark the scan missed, "
            "shown on the pregnancy page and counted by the audit."
        ),
    )


@scenario("cerclage-removal-without-placement-asks-for-it")
def _() -> Case:
    w = nulliparous("cerclage-removal-without-placement-asks-for-it", "Maja")
    w._add(
        "removal",
        {
            "resourceType": "Procedure",
            "status": "completed",
            "code": coding(CW, "cerclage-removal", "Removal of cervical cerclage"),
            "subject": w._subject(),
            "performedDateTime": w.day("36+2"),
        },
    )
    return w, expect(
        w,
        "36+3",
        "Cerclage removed at 36+2; its placement (elsewhere) is not recorded; 36+3",
        acog={"must_not": ["remove-cerclage"]},
        nice={"must_not": ["remove-cerclage"]},
        current_treatments=[],
        missing_includes=["the cerclage's placement (date and type)"],
        notes=(
            "CD-06: 'A cerclage removal with no recorded placement is accepted (she may have had "
            "it placed elsewhere). The assessment then lists \"the cerclage's placement (date "
            "and type)\" in missing.' The removal is read and nothing is left to remove."
        ),
    )


@scenario("nice-emergency-cerclage-wording")
def _() -> Case:
    w = nulliparous("nice-emergency-cerclage-wording", "Nelly")
    w.exam("22+0", 2, True)
    return w, expect(
        w,
        "22+0",
        "First pregnancy; 2 cm dilated with membranes visible at 22+0",
        nice={
            "must": ["exam-indicated-cerclage"],
            "rules": {"exam-indicated-cerclage": ["NICE-07"]},
            "summary_includes": {"exam-indicated-cerclage": ["emergency cerclage"]},
            "summary_excludes": {"exam-indicated-cerclage": ["rescue"]},
        },
        notes=(
            'CD-08: \'NICE says "emergency" cerclage where it used to say "rescue"\' '
            "(NG25 1.6.2-1.6.4, NICE-07)."
        ),
    )


@scenario("declined-then-started-in-place")
def _() -> Case:
    w = nulliparous("declined-then-started-in-place", "Oline")
    w.length("20+0", 18).exam("20+0", 0, False).declined_progesterone("20+1")
    w.progesterone("21+0")
    return w, expect(
        w,
        "22+0",
        "No previous PTB, 18 mm at 20+0; declined progesterone at 20+1, then started it at 21+0",
        acog={"states": {"vaginal-progesterone": "in-place"}},
        nice={"states": {"vaginal-progesterone": "in-place"}},
        current_treatments=["vaginal-progesterone"],
        notes=(
            "profiles.md, 'The course of care': 'An offer accepted is simply the treatment "
            "itself' (fhir-mapping.md). She declined at 20+1 and changed her mind: the active "
            "order from 21+0 makes the recommendation in-place (SMFM70-03, NICE-03); in place "
            "comes before declined (I-84)."
        ),
    )


@scenario("second-report-unreviewed-still-urgent")
def _() -> Case:
    w = nulliparous("second-report-unreviewed-still-urgent", "Petra")
    first = w.symptoms("24+0", "cramping")
    w.review(first, "24+0", "advised-by-phone")
    w.symptoms("24+3", "spotting")
    return w, expect(
        w,
        "25+0",
        "Cramping at 24+0 (advised by phone the same day); spotting at 24+3, not reviewed; 25+0",
        acog={
            "must": ["urgent-evaluation"],
            "reason_includes": {"urgent-evaluation": ["spotting", "4 days ago"]},
        },
        nice={
            "must": ["urgent-evaluation"],
            "reason_includes": {"urgent-evaluation": ["spotting", "4 days ago"]},
        },
        notes=(
            "CD-07: each report is open until a review of it is recorded; the Task's focus "
            "names the report it reviews (fhir-mapping.md). The review of the cramping report "
            "does not close the later report of spotting, which is still urgent (TRI-01, "
            "TRI-05) and has waited 4 days."
        ),
    )


@scenario("lletz-15mm-not-intermediate")
def _() -> Case:
    w = nulliparous("lletz-15mm-not-intermediate", "Ronja").excision("lletz", "2021-10-04", 15)
    return w, expect(
        w,
        "12+0",
        "First pregnancy, one LLETZ exactly 15 mm deep; booking at 12+0",
        nice={"must_not": ["refer-preterm-birth-clinic", "single-cervical-length-screen"]},
        risk_tier="low",
        notes=(
            "CD-08 / SBL-03: 'LLETZ where more than 15 mm depth removed'. Exactly 15 mm is not "
            "more than 15 mm: not intermediate risk, no referral and no screen (SBL-05)."
        ),
    )


# === Writing =================================================================================


def write(names: Iterable[str]) -> None:
    for name in names:
        woman, expected = SCENARIOS[name]()
        assert woman.folder == name, f"{name}: the woman is built for {woman.folder}"
        folder = COURSE / name
        folder.mkdir(parents=True, exist_ok=True)
        for file, data in (("bundle.json", woman.bundle()), ("expected.json", expected)):
            (folder / file).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def main(argv: list[str]) -> int:
    unknown = [n for n in argv if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    write(argv or SCENARIOS)
    stale = sorted(p.name for p in COURSE.iterdir() if p.is_dir() and p.name not in SCENARIOS)
    if stale:
        print(f"folders no scenario here builds: {', '.join(stale)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

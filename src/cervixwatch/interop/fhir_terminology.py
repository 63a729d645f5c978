"""CervixWatch's own definitions as FHIR R4 resources, so that its codes and questionnaire
resolve: the CodeSystem `CW` (https://cervixwatch.org/fhir/CodeSystem/cervixwatch) and the
symptom Questionnaire whose answers `fhir_care.questionnaire_response` reads.

The CodeSystem holds every code CervixWatch reads or writes under `CW`: the recommendation
codes of the contract (DESIGN.md; each defined by its meaning and the rules of the guideline
profiles in use that give it) and the codes of the records (shared/clinical/fhir-mapping.md).
A recommendation code that also names a record (`vaginal-progesterone`, an offer declined) is
one concept whose definition says both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from cervixwatch.clinical.course import SYMPTOM_WORDS
from cervixwatch.clinical.guidelines import RECOMMENDATION_CODES, GuidelineProfile
from cervixwatch.clinical.records import (
    CerclageIndication,
    DeclinableCode,
    Onset,
    PriorOutcome,
    ReviewOutcome,
    Symptom,
)
from cervixwatch.knowledge import codes as c

CODE_SYSTEM_ID: Final = "cervixwatch"
QUESTIONNAIRE_ID: Final = "symptoms"
_PUBLISHER: Final = "CervixWatch"

#: The codes of records (fhir-mapping.md), with their display and definition. The enums'
#: values are listed in full below, checked against the enums by `record_concepts`.
_RECORD_CODES: Final[Mapping[str, tuple[str, str]]] = {
    "prior-pregnancy": (
        "Previous pregnancy",
        "An Observation of one previous pregnancy, dated when it ended; its outcome, "
        "gestation, onset, cerclage and fetuses are its value and components.",
    ),
    "onset": ("How it started", "Component: how a previous pregnancy's birth or loss started."),
    "cerclage": ("Cerclage in that pregnancy", "Component: a cerclage in a previous pregnancy."),
    PriorOutcome.LIVE_BIRTH: ("Live birth", "The previous pregnancy ended in a live birth."),
    PriorOutcome.STILLBIRTH: ("Stillbirth", "The previous pregnancy ended in a stillbirth."),
    PriorOutcome.MISCARRIAGE: ("Miscarriage", "The previous pregnancy ended in a miscarriage."),
    PriorOutcome.TERMINATION: ("Termination", "The previous pregnancy was terminated."),
    PriorOutcome.ECTOPIC: ("Ectopic pregnancy", "The previous pregnancy was ectopic."),
    Onset.SPONTANEOUS_LABOUR: ("Spontaneous labour", "It started with spontaneous labour."),
    Onset.PPROM: (
        "Preterm prelabour rupture of membranes",
        "It started with the membranes rupturing before labour, preterm.",
    ),
    Onset.PAINLESS_CERVICAL_DILATION: (
        "Painless cervical dilation",
        "It started with painless dilation of the cervix (also SNOMED CT 17382005).",
    ),
    Onset.MEDICALLY_INDICATED: (
        "Medically indicated",
        "The birth was brought about for a medical reason (induction or caesarean).",
    ),
    Onset.UNKNOWN: ("Unknown", "How it started is not known."),
    CerclageIndication.HISTORY: (
        "History-indicated",
        "A cerclage placed because of the obstetric history.",
    ),
    CerclageIndication.ULTRASOUND: (
        "Ultrasound-indicated",
        "A cerclage placed because the cervix was short on ultrasound.",
    ),
    CerclageIndication.EXAM: (
        "Exam-indicated",
        "A rescue cerclage placed for painless dilation found on examination.",
    ),
    CerclageIndication.ABDOMINAL: ("Abdominal", "A transabdominal cerclage."),
    "lletz": (
        "LLETZ",
        "Large loop excision of the transformation zone; its depth in mm is the extension "
        "https://cervixwatch.org/fhir/StructureDefinition/excision-depth.",
    ),
    "cone-biopsy": ("Cone biopsy", "Cone biopsy of the cervix (knife, laser or loop)."),
    "trachelectomy": ("Trachelectomy", "Removal of the cervix."),
    "caesarean-full-dilatation": (
        "Caesarean section at full dilatation",
        "A caesarean birth at full dilatation of the cervix.",
    ),
    "uterine-anomaly": (
        "Uterine anomaly",
        "A unicornuate, bicornuate or septate uterus.",
    ),
    "intrauterine-adhesions": ("Intrauterine adhesions", "Intrauterine adhesions (Asherman)."),
    "transabdominal": (
        "Transabdominal",
        "A cervical length measured transabdominally: it can only prompt a transvaginal scan.",
    ),
    "other": ("Other approach", "A cervical length measured by an approach not otherwise coded."),
    "membranes-exposed": (
        "Membranes exposed",
        "Membranes visible at or through the external os on examination (valueBoolean).",
    ),
    "chorioamnionitis": (
        "Chorioamnionitis",
        "Clinical chorioamnionitis or intra-amniotic infection in this pregnancy.",
    ),
    "vaginal-bleeding": ("Vaginal bleeding", "Active vaginal bleeding in this pregnancy."),
    "fetal-death": ("Fetal death", "Fetal death in this pregnancy."),
    "lethal-fetal-anomaly": ("Lethal fetal anomaly", "A lethal fetal anomaly in this pregnancy."),
    "placenta-praevia": ("Placenta praevia", "Placenta praevia in this pregnancy."),
    "cerclage-removal": (
        "Removal of cerclage",
        "Removal of a cerclage (OPCS-4 R12.2 may be added).",
    ),
    "hydroxyprogesterone-caproate": (
        "Hydroxyprogesterone caproate (17-OHPC)",
        "A hydroxyprogesterone caproate order; withdrawn in the US in 2023, kept for history.",
    ),
    "symptom-report-review": (
        "Review of a symptom report",
        "A clinician's review of a symptom report (a completed Task; CD-07).",
    ),
    ReviewOutcome.SEEN_IN_TRIAGE: ("Seen in triage", "Outcome of a review: seen in triage."),
    ReviewOutcome.ADVISED_BY_PHONE: (
        "Advised by phone",
        "Outcome of a review: advised by telephone.",
    ),
    ReviewOutcome.ADMITTED: ("Admitted", "Outcome of a review: admitted."),
    ReviewOutcome.NO_ACTION_NEEDED: (
        "No action needed",
        "Outcome of a review: no action was needed.",
    ),
}
#: What a recommendation code also names as a record.
_ALSO_A_RECORD: Final = {
    "vaginal-progesterone": "As a medication (MedicationRequest, MedicationStatement): vaginal "
    "progesterone.",
}
_DECLINED: Final = (
    "Also the code of a Procedure with status not-done and statusReason SNOMED CT 105480006: "
    "an offer of it she declined."
)
#: Recommendation codes an offer declined is recorded under (progesterone: as the medication).
_DECLINABLE: Final = frozenset(d.value for d in DeclinableCode) - {"vaginal-progesterone"}


def _capitalised(words: str) -> str:
    return words[:1].upper() + words[1:]


def _given_by(code: str, profiles: Sequence[GuidelineProfile]) -> str:
    parts = []
    for profile in profiles:
        rules = list(dict.fromkeys(r.rule for r in profile.rules if r.code == code))
        if rules:
            parts.append(f"{profile.title} {profile.version}: {', '.join(rules)}")
    return f" Given by {'; '.join(parts)}." if parts else ""


def recommendation_concepts(profiles: Sequence[GuidelineProfile]) -> list[dict[str, Any]]:
    """Every recommendation code of the contract, with its meaning and the rules giving it."""
    out = []
    for code, meaning in RECOMMENDATION_CODES.items():
        definition = f"Recommendation: {meaning}.{_given_by(code, profiles)}"
        if code in _ALSO_A_RECORD:
            definition += f" {_ALSO_A_RECORD[code]}"
        if code in _DECLINABLE:
            definition += f" {_DECLINED}"
        out.append({"code": code, "display": _capitalised(meaning), "definition": definition})
    return out


def record_concepts() -> list[dict[str, Any]]:
    """The codes of records that are not recommendation codes."""
    return [
        {"code": str(code), "display": display, "definition": definition}
        for code, (display, definition) in _RECORD_CODES.items()
        if code not in RECOMMENDATION_CODES
    ]


def code_system(profiles: Sequence[GuidelineProfile], *, version: str) -> dict[str, Any]:
    """The CodeSystem `CW`, complete, at `version` (CervixWatch's)."""
    concepts = recommendation_concepts(profiles) + record_concepts()
    resource: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": CODE_SYSTEM_ID,
        "url": c.CW,
        "version": version,
        "name": "CervixWatch",
        "title": "CervixWatch codes",
        "status": "active",
        "experimental": False,
        "publisher": _PUBLISHER,
        "description": "The codes CervixWatch reads and writes where no verified standard code "
        "exists: recommendations (the assessment contract) and the records of a pregnancy "
        "(the FHIR mapping).",
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }
    return resource


def questionnaire(*, version: str) -> dict[str, Any]:
    """The symptom Questionnaire: one yes/no item per symptom, `linkId` the symptom's code, as
    the reader of QuestionnaireResponse reads them (valueBoolean answers)."""
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": c.SYMPTOMS_QUESTIONNAIRE,
        "version": version,
        "name": "CervixWatchSymptoms",
        "title": "Symptoms to report",
        "status": "active",
        "experimental": False,
        "subjectType": ["Patient"],
        "publisher": _PUBLISHER,
        "description": "Symptoms a pregnant woman under preterm-birth prevention care reports. "
        "A report with any symptom needs a same-day assessment until a clinician's review of "
        "it is recorded (CD-07).",
        "item": [
            {
                "linkId": symptom.value,
                "text": f"{_capitalised(SYMPTOM_WORDS.get(symptom.value, symptom.value))}?",
                "type": "boolean",
            }
            for symptom in Symptom
        ],
    }

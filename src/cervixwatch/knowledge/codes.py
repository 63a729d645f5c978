"""Codes CervixWatch reads and writes, each as (system, code), from shared/clinical/
fhir-mapping.md and standards.md (verified codes). Matching is by system and code, never display.
"""

from __future__ import annotations

from typing import Final

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
UCUM: Final = "http://unitsofmeasure.org"
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
CW: Final = "https://cervixwatch.org/fhir/CodeSystem/cervixwatch"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DATA_ABSENT_REASON: Final = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
EXCISION_DEPTH_EXTENSION: Final = "https://cervixwatch.org/fhir/StructureDefinition/excision-depth"
SYMPTOMS_QUESTIONNAIRE: Final = "https://cervixwatch.org/fhir/Questionnaire/symptoms"
#: HL7 v2 table 0203, identifier types: "MR" is a medical record number (a hospital number).
IDENTIFIER_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
#: The identifier system of hospital numbers unless the installation names its own
#: (`CERVIXWATCH_HOSPITAL_NUMBER_SYSTEM`).
DEFAULT_HOSPITAL_NUMBER_SYSTEM: Final = "urn:cervixwatch:hospital-number"
#: How sure a `Patient/$match` candidate is (certain, probable, possible, certainly-not).
MATCH_GRADE_EXTENSION: Final = "http://hl7.org/fhir/StructureDefinition/match-grade"

# The assessment as FHIR (interop/fhir_assessment.py, docs/fhir-api.md "The assessment")
#: Where CervixWatch's own extensions are defined.
STRUCTURE_DEFINITIONS: Final = "https://cervixwatch.org/fhir/StructureDefinition"
#: On a RequestGroup action: the recommendation's state in the course of care (valueCode due,
#: in-place, declined, overdue or missed), strength (valueCode), provenance of its source rule
#: (valueCode verified, unverified or derived), the guideline profile that gave it (valueString
#: "nice") and, repeated, each usual value it assumed for an unknown fact (valueString, CD-01).
RECOMMENDATION_STATE_EXTENSION: Final = f"{STRUCTURE_DEFINITIONS}/recommendation-state"
RECOMMENDATION_STRENGTH_EXTENSION: Final = f"{STRUCTURE_DEFINITIONS}/recommendation-strength"
RECOMMENDATION_PROVENANCE_EXTENSION: Final = f"{STRUCTURE_DEFINITIONS}/recommendation-provenance"
RECOMMENDATION_GUIDELINE_EXTENSION: Final = f"{STRUCTURE_DEFINITIONS}/recommendation-guideline"
RECOMMENDATION_ASSUMPTION_EXTENSION: Final = f"{STRUCTURE_DEFINITIONS}/recommendation-assumption"
#: On a GuidanceResponse.dataRequirement: what is missing, in words (valueString).
DATA_REQUIREMENT_TEXT_EXTENSION: Final = f"{STRUCTURE_DEFINITIONS}/data-requirement-text"
#: GuidanceResponse.moduleUri: the guideline profiles and versions that made an assessment,
#: named as their knowledge files are (`<base>/acog-2026.12,nice-2026.12`).
GUIDELINE_PROFILES: Final = "https://cervixwatch.org/fhir/knowledge"
FLAG_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/flag-category"
RISK_PROBABILITY: Final = "http://terminology.hl7.org/CodeSystem/risk-probability"
CERVIX: Final = (SNOMED, "71252005")

Code = tuple[str, str]


def cw(code: str) -> Code:
    return (CW, code)


MEDICAL_RECORD_NUMBER: Final = (IDENTIFIER_TYPE, "MR")


# Dating and the current pregnancy
EDD: Final = (LOINC, "11778-8")
#: The EDD by how it was worked out (standards.md: IPS and mAPS for the first two, DICOM
#: TID 5000's summary, CIDs 12003/12019, for the last).
EDD_FROM_LMP: Final = (LOINC, "11779-6")
EDD_FROM_OVULATION: Final = (LOINC, "11780-4")
EDD_FROM_ULTRASOUND: Final = (LOINC, "11781-2")
EDD_CODES: Final = frozenset({EDD, EDD_FROM_LMP, EDD_FROM_OVULATION, EDD_FROM_ULTRASOUND})
FETUS_COUNT: Final = (LOINC, "11878-6")
MULTIPLE_PREGNANCY_CONDITIONS: Final = frozenset(
    {(SNOMED, "65147003"), (SNOMED, "16356006"), (SNOMED, "459166009"), (SNOMED, "459167000")}
)
TWIN_PREGNANCY: Final = (SNOMED, "65147003")
#: Twin pregnancy by chorionicity (SNOMED CT, verified in standards.md: "DCDA twins / MC
#: twins", PRIMIS): each is also a multiple-pregnancy code above.
DCDA_TWIN_PREGNANCY: Final = (SNOMED, "459166009")
MC_TWIN_PREGNANCY: Final = (SNOMED, "459167000")

# Previous pregnancies
PRIOR_PREGNANCY: Final = cw("prior-pregnancy")
GESTATIONAL_AGE: Final = (LOINC, "11884-4")
ONSET: Final = cw("onset")
PRIOR_CERCLAGE: Final = cw("cerclage")
PAINLESS_DILATION_SNOMED: Final = (SNOMED, "17382005")

# Obstetric-history counts (IPS `PregnanciesSummaryUvIps`; standards.md): valueQuantity or
# valueInteger = how many. Births are counted once per birth event, as GTPAL counts them.
BIRTHS_TOTAL_COUNT: Final = (LOINC, "11640-0")
TERM_BIRTHS_COUNT: Final = (LOINC, "11639-2")
PRETERM_BIRTHS_COUNT: Final = (LOINC, "11637-6")
ABORTIONS_COUNT: Final = (LOINC, "11612-9")
INDUCED_ABORTIONS_COUNT: Final = (LOINC, "11613-7")
SPONTANEOUS_ABORTIONS_COUNT: Final = (LOINC, "11614-5")
HISTORY_COUNTS: Final = frozenset(
    {
        BIRTHS_TOTAL_COUNT,
        TERM_BIRTHS_COUNT,
        PRETERM_BIRTHS_COUNT,
        ABORTIONS_COUNT,
        INDUCED_ABORTIONS_COUNT,
        SPONTANEOUS_ABORTIONS_COUNT,
    }
)

# Other history
LLETZ: Final = cw("lletz")
CONE_BIOPSY: Final = cw("cone-biopsy")
TRACHELECTOMY: Final = cw("trachelectomy")
CAESAREAN_FULL_DILATATION: Final = cw("caesarean-full-dilatation")
UTERINE_ANOMALY: Final = cw("uterine-anomaly")
INTRAUTERINE_ADHESIONS: Final = cw("intrauterine-adhesions")
CERVICAL_INSUFFICIENCY: Final = (SNOMED, "17382005")

# This pregnancy's cervix
CERVICAL_LENGTH: Final = (LOINC, "11961-0")
TRANSVAGINAL: Final = (SNOMED, "54300008")
ULTRASOUND_NO_APPROACH: Final = (SNOMED, "278292003")
TRANSABDOMINAL: Final = cw("transabdominal")
DILATION: Final = (LOINC, "11786-1")
EFFACEMENT: Final = (LOINC, "11867-9")
MEMBRANES_EXPOSED: Final = cw("membranes-exposed")
FFN_QUANTITATIVE: Final = (LOINC, "20403-2")
FFN_QUALITATIVE: Final = (LOINC, "20404-0")
POSITIVE: Final = (SNOMED, "10828004")
NEGATIVE: Final = (SNOMED, "260385009")

# Complications
PRETERM_LABOUR: Final = (SNOMED, "6383007")
RUPTURED_MEMBRANES: Final = (SNOMED, "44223004")
CHORIOAMNIONITIS: Final = cw("chorioamnionitis")
VAGINAL_BLEEDING: Final = cw("vaginal-bleeding")
FETAL_DEATH: Final = cw("fetal-death")
LETHAL_FETAL_ANOMALY: Final = cw("lethal-fetal-anomaly")
PLACENTA_PRAEVIA: Final = cw("placenta-praevia")

# Treatment
CERCLAGE_VAGINAL: Final = (SNOMED, "90442009")
CERCLAGE_ABDOMINAL: Final = (SNOMED, "46681009")
CERCLAGE_UNSPECIFIED: Final = (SNOMED, "265636007")
CERCLAGE_REMOVAL: Final = cw("cerclage-removal")
VAGINAL_PROGESTERONE: Final = cw("vaginal-progesterone")
PROGESTERONE_200MG: Final = (RXNORM, "312641")
VAGINAL_ROUTE: Final = (SNOMED, "16857009")
HYDROXYPROGESTERONE_CAPROATE: Final = cw("hydroxyprogesterone-caproate")

# The course of care: decisions declined, reviews of symptom reports
#: `statusReason` of a not-done Procedure or not-taken MedicationStatement: the woman declined.
REFUSAL_BY_PATIENT: Final = (SNOMED, "105480006")
#: `Task.code` of a clinician's review of a symptom report (CD-07); the outcome is
#: `Task.businessStatus`, a CW code named as `ReviewOutcome` names it.
SYMPTOM_REPORT_REVIEW: Final = cw("symptom-report-review")

#: UCUM length units accepted for a cervical length, as factors to millimetres.
LENGTH_UNITS_TO_MM: Final = {"mm": 1.0, "cm": 10.0}
#: UCUM units for gestational age at the end of a previous pregnancy, as days per unit.
GESTATION_UNITS_TO_DAYS: Final = {"wk": 7.0, "d": 1.0}

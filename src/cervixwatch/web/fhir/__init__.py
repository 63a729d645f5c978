"""The FHIR R4 facade under /fhir: CapabilityStatement, transaction and collection Bundles
imported all or nothing, read and search of Patient, Observation, Condition, Procedure,
MedicationRequest and QuestionnaireResponse, her stored assessment (GuidanceResponse,
RequestGroup, RiskAssessment, Flag), CervixWatch's CodeSystem and symptom Questionnaire, and
`Patient/{id}/$everything`.

JSON only; every error is an OperationOutcome (`http.FhirRoute`).
"""

from cervixwatch.web.fhir.routes import router

__all__ = ["router"]

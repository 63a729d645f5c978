"""The stored assessment of a pregnancy as FHIR resources (GuidanceResponse, RequestGroup,
RiskAssessment and, when urgent, Flag), for the FHIR facade's read, search and `$everything`.

Which assessment: the one stored for the pregnancy an export holds (her active, else latest,
pregnancy), the one the worklist lists. It is stored as its JSON, so its resources are made
again by `assess` from the same records for the stored day (`as_of`): the same assessment,
as `assess` is a function of the records, the day and the guideline profiles. The profiles are
those in use; if the stored one was made by other versions (the knowledge was updated and the
daily refresh has not yet run), the resources are those of the versions in use, for the stored
day, and `moduleUri` names them. Their id, `assessment-<row>`, names the stored row, which is
kept (updated in place) for as long as the pregnancy is; `meta.lastUpdated` is when it was
stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy.orm import Session

from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.interop.fhir_assessment import ASSESSMENT_TYPES, assessment_resources
from cervixwatch.knowledge import bundled_evidence
from cervixwatch.store.assessments import StoredAssessment, stored_assessments
from cervixwatch.store.exports import PatientExport

__all__ = ["ASSESSMENT_PREFIX", "ASSESSMENT_TYPES", "Profiles", "assessments_as_fhir"]

#: The id prefix of an assessment's resources: `assessment-<row id of the stored assessment>`.
ASSESSMENT_PREFIX: Final = "assessment"

Profiles = Sequence[GuidelineProfile] | Mapping[str, GuidelineProfile]


def _profile_list(profiles: Profiles) -> list[GuidelineProfile]:
    return list(profiles.values() if isinstance(profiles, Mapping) else profiles)


def resources_of_stored(
    export: PatientExport, stored: StoredAssessment, profiles: Profiles
) -> list[dict[str, Any]]:
    """The resources of the assessment `stored` for the pregnancy `export` holds."""
    chosen = _profile_list(profiles)
    assessment = assess(export.records, stored.as_of, chosen, bundled_evidence())
    return assessment_resources(
        assessment,
        chosen,
        resource_id=f"{ASSESSMENT_PREFIX}-{stored.row_id}",
        last_updated=stored.computed_at,
    )


def assessments_as_fhir(
    session: Session, exports: Iterable[PatientExport], profiles: Profiles
) -> dict[str, list[dict[str, Any]]]:
    """The assessment resources of each export's pregnancy, by patient id (an export with no
    pregnancy, or whose pregnancy has no stored assessment, has none)."""
    exports = list(exports)
    stored = stored_assessments(
        session, [e.pregnancy_id for e in exports if e.pregnancy_id is not None]
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for export in exports:
        found = stored.get(export.pregnancy_id) if export.pregnancy_id is not None else None
        out[export.patient_id] = (
            resources_of_stored(export, found, profiles) if found is not None else []
        )
    return out

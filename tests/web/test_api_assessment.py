"""GET /api/pregnancies/{id}/assessment: the assessment JSON of the stored records, the same as
`cervixwatch assess --format json` gives for them, on any day and by any guideline."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from cervixwatch.clinical.assessment import assess
from cervixwatch.knowledge import bundled_evidence, bundled_profiles
from cervixwatch.store import load_records
from cervixwatch.views.json_view import assessment_json
from cervixwatch.web.api.assessment import AssessmentPublic
from tests.web.api_builders import counts, day_at, ok, prior_sptb, scan, woman
from tests.web.conftest import TODAY


def _codes(document: dict[str, object], guideline: str) -> set[str]:
    recommendations = document["recommendations"]
    assert isinstance(recommendations, list)
    return {r["code"] for r in recommendations if r["guideline"] == guideline}


def test_a_short_cervix_at_19_weeks_after_a_preterm_birth(client: TestClient) -> None:
    """Prior spontaneous preterm birth at 30+0, 22 mm at 19+0: consider ultrasound-indicated
    cerclage (ACOG 142) and discuss vaginal progesterone."""
    patient_id, pregnancy_id = woman(client, ga_today="19+0")
    prior_sptb(client, patient_id, at_days=30 * 7)
    written = scan(client, pregnancy_id, 22, TODAY)
    assert "ultrasound-indicated-cerclage" in written["assessment"]["codes"]["acog"]

    document = ok(client.get(f"/api/pregnancies/{pregnancy_id}/assessment?guideline=acog"))
    assert document["as_of"] == TODAY.isoformat()
    assert document["gestational_age"] == {"weeks": 19, "days": 0, "text": "19+0"}
    assert [g["id"] for g in document["guidelines"]] == ["acog"]
    assert {"ultrasound-indicated-cerclage", "vaginal-progesterone"} <= _codes(document, "acog")
    assert _codes(document, "nice") == set()
    assert document["cervical_lengths"] == [f"{TODAY.isoformat()} (19+0) 22 mm transvaginal"]
    assert "sPTB 30+0" in document["history"]

    both = ok(client.get(f"/api/pregnancies/{pregnancy_id}/assessment"))
    assert [g["id"] for g in both["guidelines"]] == ["acog", "nice"]
    assert {"ultrasound-indicated-cerclage", "vaginal-progesterone"} <= _codes(both, "nice")


def test_the_same_json_as_the_command_line(client: TestClient) -> None:
    patient_id, pregnancy_id = woman(client, ga_today="21+3")
    prior_sptb(client, patient_id)
    scan(client, pregnancy_id, 27, day_at("18+0", "21+3"))
    document = ok(client.get(f"/api/pregnancies/{pregnancy_id}/assessment?guideline=all"))
    profiles = list(bundled_profiles().values())
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        records = load_records(session, pregnancy_id)
    expected = assessment_json(
        assess(records, TODAY, profiles, bundled_evidence()), records, profiles
    )
    assert document == expected
    # ... and the declared response model describes it, key for key.
    parsed = AssessmentPublic.model_validate(document)
    assert not parsed.model_extra
    assert parsed.recommendations
    assert parsed.risk is not None
    for part in (*parsed.recommendations, parsed.risk, *parsed.scan_plan):
        assert not part.model_extra, part


def test_on_another_day(client: TestClient) -> None:
    """As of a day before the scan, the scan does not count; the stored assessment stays."""
    patient_id, pregnancy_id = woman(client, ga_today="19+0")
    prior_sptb(client, patient_id)
    scan(client, pregnancy_id, 22, TODAY)
    before = counts(client)
    earlier = TODAY - dt.timedelta(days=7)
    document = ok(
        client.get(f"/api/pregnancies/{pregnancy_id}/assessment?as_of={earlier.isoformat()}")
    )
    assert document["as_of"] == earlier.isoformat()
    assert document["gestational_age"]["text"] == "18+0"
    assert document["cervical_lengths"] == []
    assert "ultrasound-indicated-cerclage" not in _codes(document, "acog")
    assert counts(client) == before


def test_an_unknown_guideline_or_day_is_named(client: TestClient) -> None:
    _, pregnancy_id = woman(client)
    path = f"/api/pregnancies/{pregnancy_id}/assessment"
    for query, name in (
        ("guideline=figo", "guideline"),
        ("as_of=2026-02-31", "as_of"),
        ("as_of=yesterday", "as_of"),
        ("as_of=0001-01-01", "as_of"),
    ):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, query
        error = response.json()["detail"][0]
        assert error["loc"] == ["query", name]
        assert error["msg"]

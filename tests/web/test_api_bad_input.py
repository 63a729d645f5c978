"""Bad input answers 4xx with a message naming the field, and writes nothing: every table holds
as many rows after the request as before it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything
from tests.web.accounts import sign_in_as_clinician, test_settings
from tests.web.api_builders import at, counts, day_at, edd_for, ok, seed
from tests.web.conftest import TODAY

TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()
YESTERDAY = (TODAY - dt.timedelta(days=1)).isoformat()


@dataclass(frozen=True)
class Bad:
    id: str
    method: str
    #: {patient}, {pregnancy} and {length} are filled in with ids of stored rows.
    path: str
    #: A JSON document, or bytes sent as they are.
    body: Any
    #: The field the answer must name (the last item of detail[0].loc), None for the body.
    field: str | int | None
    status: int = 422
    content_type: str = "application/json"
    #: A word the message must hold.
    says: str = ""


LENGTHS = "/api/pregnancies/{pregnancy}/cervical-lengths"
A_SCAN = {"measured_on": YESTERDAY, "length_mm": 22}

CASES = [
    Bad(
        "malformed JSON",
        "POST",
        LENGTHS,
        b'{"measured_on": "2026-03-01", "length_mm": 2',
        None,
        says="JSON",
    ),
    Bad("a JSON array", "POST", LENGTHS, [A_SCAN], None),
    Bad("not JSON at all", "POST", LENGTHS, b"length=22", None, content_type="text/plain"),
    Bad(
        "a wrong type",
        "POST",
        LENGTHS,
        {**A_SCAN, "length_mm": "twenty"},
        "length_mm",
        says="number",
    ),
    Bad(
        "31 February",
        "POST",
        LENGTHS,
        {**A_SCAN, "measured_on": "2026-02-31"},
        "measured_on",
        says="date",
    ),
    Bad(
        "a length in the future",
        "POST",
        LENGTHS,
        {**A_SCAN, "measured_on": TOMORROW},
        "measured_on",
        says="future",
    ),
    Bad(
        "a negative length",
        "POST",
        LENGTHS,
        {**A_SCAN, "length_mm": -5},
        "length_mm",
        says="greater than 0",
    ),
    Bad("a length of 100 mm", "POST", LENGTHS, {**A_SCAN, "length_mm": 100}, "length_mm"),
    Bad("NaN", "POST", LENGTHS, b'{"measured_on": "2026-03-01", "length_mm": NaN}', "length_mm"),
    Bad(
        "an unknown method",
        "POST",
        LENGTHS,
        {**A_SCAN, "method": "transrectal"},
        "method",
        says="transvaginal",
    ),
    Bad("a missing date", "POST", LENGTHS, {"length_mm": 22}, "measured_on", says="required"),
    Bad("a misspelt field", "POST", LENGTHS, {**A_SCAN, "lenght_mm": 22}, "lenght_mm"),
    Bad(
        "a scan before the pregnancy",
        "POST",
        LENGTHS,
        {**A_SCAN, "measured_on": day_at("0+0", "19+0").replace(day=1).isoformat()},
        "measured_on",
        says="outside this pregnancy",
    ),
    Bad(
        "null for a required field",
        "PATCH",
        "/api/cervical-lengths/{length}?reason=typo",
        {"measured_on": None},
        "measured_on",
    ),
    Bad(
        "an amended length in the future",
        "PATCH",
        "/api/cervical-lengths/{length}?reason=typo",
        {"measured_on": TOMORROW},
        "measured_on",
        says="future",
    ),
    Bad(
        "dilation of 11 cm",
        "POST",
        "/api/pregnancies/{pregnancy}/cervical-exams",
        {"examined_on": YESTERDAY, "dilation_cm": 11},
        "dilation_cm",
    ),
    Bad(
        "effacement of 101 %",
        "POST",
        "/api/pregnancies/{pregnancy}/cervical-exams",
        {"examined_on": YESTERDAY, "effacement_percent": 101},
        "effacement_percent",
    ),
    Bad(
        "fibronectin without a result",
        "POST",
        "/api/pregnancies/{pregnancy}/fibronectin-tests",
        {"tested_on": YESTERDAY},
        "positive",
    ),
    Bad(
        "a symptom both present and absent",
        "POST",
        "/api/pregnancies/{pregnancy}/symptom-reports",
        {"reported_on": YESTERDAY, "present": ["fever"], "absent": ["fever"]},
        "absent",
        says="fever",
    ),
    Bad(
        "an unknown symptom",
        "POST",
        "/api/pregnancies/{pregnancy}/symptom-reports",
        {"reported_on": YESTERDAY, "present": ["headache"]},
        0,
    ),
    Bad(
        "a report time without a zone",
        "POST",
        "/api/pregnancies/{pregnancy}/symptom-reports",
        {"reported_on": YESTERDAY, "reported_at": f"{YESTERDAY}T10:00:00"},
        "reported_at",
    ),
    Bad(
        "resolved before noted",
        "POST",
        "/api/pregnancies/{pregnancy}/complications",
        {"complication": "vaginal-bleeding", "noted_on": YESTERDAY, "resolved_on": "2026-02-01"},
        "resolved_on",
        says="before",
    ),
    Bad(
        "stopped before started",
        "POST",
        "/api/pregnancies/{pregnancy}/medications",
        {"medication": "vaginal-progesterone", "started_on": YESTERDAY, "stopped_on": "2026-02-01"},
        "stopped_on",
    ),
    Bad(
        "an unknown cerclage route",
        "POST",
        "/api/pregnancies/{pregnancy}/cerclage-placements",
        {"placed_on": YESTERDAY, "route": "laparoscopic"},
        "route",
    ),
    Bad(
        "a history date of 30 February",
        "POST",
        "/api/patients/{patient}/prior-pregnancies",
        {"ended": "2021-02-30"},
        "ended",
        says="not a date",
    ),
    Bad(
        "a history date in the future",
        "POST",
        "/api/patients/{patient}/prior-pregnancies",
        {"ended": "2027"},
        "ended",
        says="future",
    ),
    Bad(
        "a negative gestation",
        "POST",
        "/api/patients/{patient}/prior-pregnancies",
        {"gestation_days": -1},
        "gestation_days",
    ),
    Bad(
        "an unknown excision",
        "POST",
        "/api/patients/{patient}/cervical-excisions",
        {"kind": "laser"},
        "kind",
    ),
    Bad(
        # Refused at the edge (issue 12, F7), before any field is read.
        "a NUL in a hospital number",
        "POST",
        "/api/patients",
        {"hospital_number": "H\u00002"},
        None,
        status=400,
        says="NUL",
    ),
    Bad(
        "another control character in a hospital number",
        "POST",
        "/api/patients",
        {"hospital_number": "H\u00012"},
        "hospital_number",
        says="control character",
    ),
    Bad(
        "a zero-width space in a hospital number",
        "POST",
        "/api/patients",
        {"hospital_number": "H\u200b2"},
        "hospital_number",
        says="U+200B",
    ),
    Bad(
        "an empty hospital number",
        "POST",
        "/api/patients",
        {"hospital_number": "  "},
        "hospital_number",
    ),
    Bad(
        "a hospital number too long",
        "POST",
        "/api/patients",
        {"hospital_number": "9" * 65},
        "hospital_number",
    ),
    Bad(
        "a birth date in the future",
        "POST",
        "/api/patients",
        {"hospital_number": "H2", "birth_date": TOMORROW},
        "birth_date",
        says="future",
    ),
    Bad(
        "an EDD of a pregnancy not yet begun",
        "PATCH",
        "/api/pregnancies/{pregnancy}",
        {"edd": (TODAY + dt.timedelta(days=300)).isoformat()},
        "edd",
    ),
    Bad(
        "an active pregnancy long past its EDD",
        "PATCH",
        "/api/pregnancies/{pregnancy}",
        {"edd": "1970-01-01"},
        "edd",
        says="44+0",
    ),
    Bad(
        "a date written as a number",
        "PATCH",
        "/api/pregnancies/{pregnancy}",
        {"edd": 0},
        "edd",
        says="YYYY-MM-DD",
    ),
    Bad(
        "a date and time for a date",
        "POST",
        LENGTHS,
        {**A_SCAN, "measured_on": f"{YESTERDAY}T00:00:00"},
        "measured_on",
    ),
    Bad(
        "false for a number of days",
        "POST",
        "/api/patients/{patient}/prior-pregnancies",
        {"gestation_days": False},
        "gestation_days",
    ),
    Bad("a length as text", "POST", LENGTHS, {**A_SCAN, "length_mm": "22"}, "length_mm"),
    Bad(
        "0 for a yes or no",
        "POST",
        "/api/pregnancies/{pregnancy}/cervical-exams",
        {"examined_on": YESTERDAY, "membranes_exposed": 0},
        "membranes_exposed",
    ),
    Bad("no fetuses", "PATCH", "/api/pregnancies/{pregnancy}", {"fetuses": 0}, "fetuses"),
    Bad(
        "an end date with an active pregnancy",
        "PATCH",
        "/api/pregnancies/{pregnancy}",
        {"ended_on": YESTERDAY},
        "ended_on",
    ),
    Bad(
        "10 MB of junk",
        "POST",
        LENGTHS,
        b"\x8f junk " * (10 * 1024 * 1024 // 7),
        None,
        status=413,
        says="larger",
    ),
]


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    """One app for the whole module, on a database holding one woman (`stored`): no test here
    may write anything, and each checks that it did not, so they can share it."""
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: TODAY)) as test_client:
        sign_in_as_clinician(test_client)
        seed(test_client, "H1", at("19+0").with_prior_sptb("30+0").with_length(30, at="18+0"))
        yield test_client
    delete_everything(engine)


@pytest.fixture
def stored(shared: TestClient) -> dict[str, str]:
    """The ids of the woman at 19+0 with a previous preterm birth and one scan."""
    found = ok(shared.get("/api/patients"))["items"][0]
    pregnancy_id = found["active_pregnancy_id"]
    lengths = ok(shared.get(f"/api/pregnancies/{pregnancy_id}/cervical-lengths"))
    return {"patient": found["id"], "pregnancy": pregnancy_id, "length": str(lengths[0]["id"])}


@pytest.mark.parametrize("bad", CASES, ids=lambda b: b.id)
def test_bad_input_is_refused_and_writes_nothing(
    shared: TestClient, stored: dict[str, str], bad: Bad
) -> None:
    client = shared
    before = counts(client)
    assessment_before = ok(client.get(f"/api/pregnancies/{stored['pregnancy']}/assessment"))
    path = bad.path.format(**stored)
    if isinstance(bad.body, bytes):
        response = client.request(
            bad.method, path, content=bad.body, headers={"content-type": bad.content_type}
        )
    else:
        response = client.request(bad.method, path, json=bad.body)

    assert response.status_code == bad.status, response.text
    detail = response.json()["detail"]
    if bad.status == 422:
        assert isinstance(detail, list), detail
        error = detail[0]
        assert error["loc"][0] == "body"
        if bad.field is not None:
            assert error["loc"][-1] == bad.field, error
        message = error["msg"]
    else:
        message = detail
    assert message
    assert bad.says in message
    assert counts(client) == before
    assert ok(client.get(f"/api/pregnancies/{stored['pregnancy']}/assessment")) == (
        assessment_before
    )


def test_a_conflict_in_one_write_leaves_no_part_of_it(
    shared: TestClient, stored: dict[str, str]
) -> None:
    """Starting a second active pregnancy fails as a whole: no pregnancy, no assessment."""
    before = counts(shared)
    response = shared.post(
        f"/api/patients/{stored['patient']}/pregnancies", json={"edd": edd_for("8+0").isoformat()}
    )
    assert response.status_code == 409
    assert counts(shared) == before


@pytest.mark.parametrize(
    "body",
    [b"NaN", b'{"hospital_number": NaN}', b'{"hospital_number": "H9", "x": -Infinity}'],
    ids=["a bare NaN", "NaN for text", "Infinity in an unknown field"],
)
def test_non_finite_numbers_are_refused_not_echoed(shared: TestClient, body: bytes) -> None:
    before = counts(shared)
    response = shared.post(
        "/api/patients", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert counts(shared) == before

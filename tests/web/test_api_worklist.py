"""GET /api/worklist: active pregnancies as of today, most pressing first; filters, orders and
pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from cervixwatch.clinical.records import Symptom
from tests.web.api_builders import at, day_at, ok, seed
from tests.web.conftest import TODAY


def _clinic(client: TestClient) -> dict[str, str]:
    """Six women; returns pregnancy id by hospital number.

    A  prior sPTB, 18+0 today, last scanned 3 weeks ago (15+0): serial scans from 16+0, overdue
    B  prior sPTB, 20+0 today, 30 mm at 17+0 (3 weeks ago): next due at 19+0, overdue
    C  no history, 12+0: single screen at 18+0-22+6, upcoming (in 6 weeks)
    D  no history, 24+0, reports fluid leaking today: urgent, no scan planned
    F  prior sPTB, 19+0, 31 mm and 26 mm scans: next scan upcoming (in a week)
    E  her pregnancy has ended: not listed
    """
    women = {
        "A": ("Adams", at("18+0").with_prior_sptb("30+0").with_length(35, at="15+0")),
        "B": ("Baker", at("20+0").with_prior_sptb("30+0").with_length(30, at="17+0")),
        "C": ("Clark", at("12+0")),
        "D": ("Davis", at("24+0").with_symptoms(Symptom.FLUID_LEAK, reported_on=TODAY)),
        "F": (
            "Fisher",
            at("19+0").with_prior_sptb("30+0").with_length(31, at="17+0").with_length(26, "19+0"),
        ),
        "E": ("Evans", at("30+0")),
    }
    ids = {
        number: seed(client, number, her, family).pregnancy_id
        for number, (family, her) in women.items()
    }
    ok(client.patch(f"/api/pregnancies/{ids['E']}", json={"status": "ended"}))
    return ids


def _numbers(page: dict[str, Any]) -> list[str]:
    return [item["hospital_number"] for item in page["items"]]


def test_most_pressing_first(client: TestClient) -> None:
    _clinic(client)
    page = ok(client.get("/api/worklist"))
    assert page["total"] == 5
    assert _numbers(page) == ["D", "A", "B", "F", "C"]
    items = {item["hospital_number"]: item for item in page["items"]}
    assert items["D"]["urgent"] is True
    assert "urgent-evaluation" in items["D"]["recommendations"]["acog"]
    assert items["A"]["overdue"] is True
    assert items["A"]["next_scan_status"] == "overdue"
    assert items["A"]["next_scan_due"] == day_at("16+0", "18+0").isoformat()
    assert items["B"]["next_scan_due"] == day_at("19+0", "20+0").isoformat()
    assert items["C"]["overdue"] is False
    assert items["C"]["next_scan_status"] == "upcoming"


def test_an_item_says_what_the_clinic_needs(client: TestClient) -> None:
    ids = _clinic(client)
    items = {i["hospital_number"]: i for i in ok(client.get("/api/worklist"))["items"]}
    fisher = items["F"]
    assert fisher["pregnancy_id"] == ids["F"]
    assert fisher["family_name"] == "Fisher"
    assert fisher["as_of"] == TODAY.isoformat()
    assert fisher["gestational_age"] == {"weeks": 19, "days": 0, "text": "19+0"}
    assert fisher["risk_tier"] == "high"
    assert "sPTB 30+0" in fisher["history"]
    assert fisher["latest_length"] == {"mm": 26.0, "measured_on": TODAY.isoformat()}
    assert fisher["shortest_length"] == {"mm": 26.0, "measured_on": TODAY.isoformat()}
    assert fisher["next_scan_status"] == "upcoming"
    assert set(fisher["recommendations"]) == {"acog", "nice"}
    assert "serial-cervical-length" in fisher["recommendations"]["acog"]
    assert items["C"]["latest_length"] is None
    assert items["C"]["risk_tier"] == "low"


#: Query -> the hospital numbers it lists, in order.
QUERIES = {
    "overdue=true": ["A", "B"],
    "overdue=false": ["D", "F", "C"],
    "urgent=true": ["D"],
    "urgent=false&overdue=false": ["F", "C"],
    "tier=high": ["A", "B", "F"],
    "tier=low&tier=intermediate": ["D", "C"],
    "tier=unknown": [],
    "guideline=nice": ["D", "A", "B", "F"],
    "search=bak": ["B"],
    "search=F fisher": ["F"],
    "search=nobody": [],
    f"due_by={(TODAY - dt.timedelta(days=1)).isoformat()}": ["A", "B"],
    "sort=ga": ["C", "A", "F", "B", "D"],
    "sort=-ga": ["D", "B", "F", "A", "C"],
    "sort=name": ["A", "B", "C", "D", "F"],
    "sort=next_scan_due": ["A", "B", "F", "C", "D"],
}


def test_filters_and_orders(client: TestClient) -> None:
    _clinic(client)
    for query, expected in QUERIES.items():
        page = ok(client.get(f"/api/worklist?{query}"))
        assert (_numbers(page), page["total"]) == (expected, len(expected)), query


def test_pages(client: TestClient) -> None:
    _clinic(client)
    pages = [ok(client.get(f"/api/worklist?page={n}&page_size=2")) for n in (1, 2, 3, 4)]
    assert [_numbers(p) for p in pages] == [["D", "A"], ["B", "F"], ["C"], []]
    assert {p["total"] for p in pages} == {5}
    assert {p["page_size"] for p in pages} == {2}


def test_a_page_is_at_most_the_largest_the_settings_allow(client: TestClient) -> None:
    _clinic(client)
    page = ok(client.get("/api/worklist?page_size=100000"))
    assert page["page_size"] == client.app.state.settings.max_page_size  # type: ignore[attr-defined]
    assert page["total"] == len(page["items"]) == 5


def test_the_worklist_is_of_today_not_of_the_day_of_the_last_write(client: TestClient) -> None:
    """Assessments stored on the day of a write are brought up to date before listing: a
    fortnight later gestational age has moved on and C's screening scan is due."""
    _clinic(client)
    later = TODAY + dt.timedelta(days=14)
    client.app.state.today = lambda: later  # type: ignore[attr-defined]
    items = {i["hospital_number"]: i for i in ok(client.get("/api/worklist"))["items"]}
    assert {i["as_of"] for i in items.values()} == {later.isoformat()}
    assert items["C"]["gestational_age"]["text"] == "14+0"
    assert items["F"]["gestational_age"]["text"] == "21+0"
    assert items["F"]["next_scan_status"] in {"due", "overdue"}


def test_bad_filters_are_named(client: TestClient) -> None:
    for query, name in (
        ("tier=extreme", "tier"),
        ("guideline=figo", "guideline"),
        ("sort=age", "sort"),
        ("overdue=perhaps", "overdue"),
        ("page=0", "page"),
        ("page_size=0", "page_size"),
        ("due_by=2026-02-30", "due_by"),
    ):
        response = client.get(f"/api/worklist?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"][0]["loc"][:2] == ["query", name], query


def test_an_item_carries_the_flags_and_the_new_filters_narrow(client: TestClient) -> None:
    """The flags of migration 0018 (issue 13, part 5) and the filters on them."""
    seed(client, "C1", at("37+4").with_prior_sptb("30+0").with_cerclage("13+0"), "Cerclo")
    seed(client, "T1", at("18+0").with_fetuses(2), "Twomey")
    seed(client, "R1", at("28+0").with_symptoms(Symptom.BLEEDING, reported_on=TODAY), "Reed")
    page = ok(client.get("/api/worklist"))
    assert _numbers(page) == ["R1", "C1", "T1"]
    reed, cerclo, twomey = page["items"]
    assert reed["urgent_detail"]["kind"] == "red-flag"
    assert reed["urgent_detail"]["since"] == TODAY.isoformat()
    assert "bleeding" in reed["urgent_detail"]["reason"]
    assert reed["last_report_on"] == TODAY.isoformat()
    assert cerclo["cerclage_in_situ"] is True
    assert cerclo["cerclage_removal"] == "overdue"
    assert {"code": "remove-cerclage", "state": "overdue"} in cerclo["actions"]["nice"]
    assert cerclo["urgent_detail"] is None
    assert twomey["fetuses"] == 2
    for query, expected in {
        "cerclage_in_situ=true": ["C1"],
        "removal_due=true": ["C1"],
        "ga_from=112&ga_to=168": ["T1"],
        "no_scan=true&ga_to=190": ["T1"],
        "search=Reed": ["R1"],
    }.items():
        assert _numbers(ok(client.get(f"/api/worklist?{query}"))) == expected, query

"""The worklist's count kept per worker (`app.worklist_counts`), on SQLite and PostgreSQL: the
right number at once after a change the worklist marker sees (a new pregnancy), within its
bound after one it does not (a woman renamed, found by a search), and the last page's count
taken from the page itself."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cervixwatch.app.worklist_counts import RecentCounts
from cervixwatch.store.worklist_search import WorklistSearch
from tests.web.api_builders import ok, woman


def test_a_count_follows_the_marker_and_its_bound(client: TestClient) -> None:
    for number, family in (("H-1", "Alder"), ("H-2", "Alder"), ("H-3", "Birch")):
        woman(client, number, family_name=family)
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    now = [0.0]
    counts = RecentCounts(max_age=5.0, clock=lambda: now[0])
    everyone, alders = WorklistSearch(), WorklistSearch(search="Alder")

    def total(where: WorklistSearch, shown: int = 1, offset: int = 0) -> int:
        with sessions() as session:
            return counts.total(session, where, shown=shown, offset=offset, limit=1)

    assert (total(everyone), total(alders)) == (3, 2)
    # A new pregnancy moves the marker: counted again at once.
    woman(client, "H-4", family_name="Alder")
    assert (total(everyone), total(alders)) == (4, 3)
    # A renamed woman does not move the marker: the count she changes is right once its
    # bound has passed.
    (birch,) = [
        p["id"] for p in ok(client.get("/api/patients", params={"search": "Birch"}))["items"]
    ]
    ok(client.patch(f"/api/patients/{birch}", json={"family_name": "Alder"}))
    assert total(alders) in (3, 4)
    now[0] += 6.0
    assert total(alders) == 4
    # A page that is not full says the count itself; beyond the last page it is counted.
    with sessions() as session:
        assert counts.total(session, everyone, shown=3, offset=10, limit=50) == 13
        assert counts.total(session, everyone, shown=0, offset=50, limit=50) == 4

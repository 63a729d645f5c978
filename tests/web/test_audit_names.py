"""The audit log carries ids, never names: a username in a path is recorded as its name."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cervixwatch.store.models import AuditEventRow, Role
from tests.web.accounts import bearer, make_user


def test_a_username_in_the_path_is_not_recorded(client: TestClient) -> None:
    _, admin = make_user(client, Role.ADMIN)
    someone, _ = make_user(client, Role.AUDITOR)
    answer = client.patch(
        f"/api/admin/users/{someone}", json={"disabled": True}, headers=bearer(admin)
    )
    assert answer.status_code == 200, answer.text
    request_id = answer.headers["x-request-id"]
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        entry = session.query(AuditEventRow).filter_by(request_id=request_id).one()
    assert entry.path == "/api/admin/users/{username}"
    assert someone not in entry.route

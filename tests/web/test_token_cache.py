"""The few seconds a bearer token's principal is remembered (`access/token_cache.py`): a change
made through the app bites at once, in this process or another (another worker, the CLI: the
access generation moved); one written to the tables by hand within the cache's seconds; and no
entry outlives its token. The same across two real worker processes:
`tests/test_serve_revocation.py`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from cervixwatch.access.principal import Principal, Role
from cervixwatch.access.token_cache import TokenCache
from cervixwatch.app import accounts
from cervixwatch.store import accounts as account_store
from cervixwatch.store.models import ApiTokenRow
from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything
from tests.web.accounts import TEAM, bearer, make_user, test_settings
from tests.web.conftest import TODAY

# Long enough that a loaded CI machine still answers within it (the test waits it out once).
CACHE_SECONDS = 3.0


def _client(engine: Engine, seconds: float) -> TestClient:
    settings = test_settings(engine, token_cache_seconds=seconds)
    return TestClient(create_app(settings, today=lambda: TODAY))


@pytest.fixture
def cached(engine: Engine) -> Iterator[TestClient]:
    delete_everything(engine)
    with _client(engine, CACHE_SECONDS) as client:
        yield client
    delete_everything(engine)


def _revoke_as_another_process_would(client: TestClient, token_id: str) -> None:
    """As another worker process or the CLI does: through the store, in a transaction of its
    own, without this process's `forget_everywhere`."""
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    with sessions.begin() as session:
        assert account_store.revoke_token(session, token_id, dt.datetime.now(dt.UTC))


def _revoke_behind_the_apps_back(client: TestClient, token_id: str) -> None:
    """By hand, in SQL, around the store (the access generation does not move)."""
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    with sessions.begin() as session:
        session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == token_id)
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )


def _token_id(client: TestClient, token: str) -> str:
    [listed] = client.get("/api/tokens", headers=bearer(token)).json()
    return str(listed["id"])


def test_a_token_revoked_by_another_process_stops_working_at_once(cached: TestClient) -> None:
    _, token = make_user(cached, Role.CLINICIAN, teams=(TEAM,))
    token_id = _token_id(cached, token)  # looked up, and now remembered
    assert cached.get("/api/worklist", headers=bearer(token)).status_code == 200
    _revoke_as_another_process_would(cached, token_id)
    assert cached.get("/api/worklist", headers=bearer(token)).status_code == 401


def test_a_care_team_left_in_another_process_is_seen_at_once(cached: TestClient) -> None:
    sessions = cached.app.state.sessions  # type: ignore[attr-defined]
    cache = cached.app.state.token_cache  # type: ignore[attr-defined]
    username, token = make_user(cached, Role.CLINICIAN, teams=(TEAM, "Second team"))
    before = accounts.token_principal(sessions, token, cache)
    assert before is not None
    assert len(before.team_ids) == 2
    with sessions.begin() as session:
        user = account_store.user_by_username(session, username)
        team = account_store.team_by_name(session, "Second team")
        assert user is not None
        assert team is not None
        account_store.remove_member(session, team.id, user.id)
    after = accounts.token_principal(sessions, token, cache)
    assert after is not None
    assert len(after.team_ids) == 1


def test_a_token_revoked_by_hand_in_sql_stops_working_within_the_cache_seconds(
    cached: TestClient,
) -> None:
    _, token = make_user(cached, Role.CLINICIAN, teams=(TEAM,))
    token_id = _token_id(cached, token)  # looked up, and now remembered
    _revoke_behind_the_apps_back(cached, token_id)
    # Within the cache's seconds this process still knows the token...
    assert cached.get("/api/worklist", headers=bearer(token)).status_code == 200
    time.sleep(CACHE_SECONDS + 0.1)
    # ...and once they have passed it asks the database again, which refuses it.
    assert cached.get("/api/worklist", headers=bearer(token)).status_code == 401


def test_with_no_cache_a_token_revoked_elsewhere_stops_at_once(engine: Engine) -> None:
    delete_everything(engine)
    with _client(engine, 0) as client:
        _, token = make_user(client, Role.CLINICIAN, teams=(TEAM,))
        _revoke_behind_the_apps_back(client, _token_id(client, token))
        assert client.get("/api/worklist", headers=bearer(token)).status_code == 401
    delete_everything(engine)


def test_changes_made_in_this_process_bite_at_once(cached: TestClient) -> None:
    sessions = cached.app.state.sessions  # type: ignore[attr-defined]
    username, token = make_user(cached, Role.CLINICIAN, teams=(TEAM,))
    assert cached.get("/api/worklist", headers=bearer(token)).status_code == 200
    # Disabled through the use case: forgotten, so refused on the very next request.
    accounts.set_disabled(sessions, username, True)
    assert cached.get("/api/worklist", headers=bearer(token)).status_code == 401
    # Disabling revoked the token for good (issue 12, F3): enabled again, she needs a new one.
    accounts.set_disabled(sessions, username, False)
    assert cached.get("/api/worklist", headers=bearer(token)).status_code == 401
    again = accounts.issue_token(sessions, username, "again", days=1)
    token = again.secret
    assert cached.get("/api/worklist", headers=bearer(token)).status_code == 200
    # Revoked through the API: refused at once, however fresh the cached entry.
    token_id = again.id
    assert cached.delete(f"/api/tokens/{token_id}", headers=bearer(token)).status_code == 204
    assert cached.get("/api/worklist", headers=bearer(token)).status_code == 401


def test_a_new_care_team_is_seen_at_once(cached: TestClient) -> None:
    sessions = cached.app.state.sessions  # type: ignore[attr-defined]
    username, token = make_user(cached, Role.CLINICIAN, teams=(TEAM,))
    before = accounts.token_principal(sessions, token, cached.app.state.token_cache)  # type: ignore[attr-defined]
    assert before is not None
    assert len(before.team_ids) == 1
    accounts.update_user(sessions, username, add_teams=["Second team"])
    after = accounts.token_principal(sessions, token, cached.app.state.token_cache)  # type: ignore[attr-defined]
    assert after is not None
    assert len(after.team_ids) == 2


_SOMEONE = Principal(user_id="u1", role=Role.CLINICIAN, via="token")


def test_an_entry_never_outlives_its_token() -> None:
    cache = TokenCache(seconds=60)
    now = dt.datetime.now(dt.UTC)
    cache.put("expired", _SOMEONE, now - dt.timedelta(seconds=1), 0)
    assert cache.get("expired", 0) is None
    cache.put("expiring", _SOMEONE, now + dt.timedelta(seconds=0.2), 0)
    assert cache.get("expiring", 0) == _SOMEONE
    time.sleep(0.3)
    assert cache.get("expiring", 0) is None


def test_a_cache_of_zero_seconds_remembers_nothing() -> None:
    cache = TokenCache(seconds=0)
    cache.put("t", _SOMEONE, dt.datetime.now(dt.UTC) + dt.timedelta(days=1), 0)
    assert cache.get("t", 0) is None


def test_a_new_generation_forgets_every_entry_and_an_old_one_is_never_kept() -> None:
    cache = TokenCache(seconds=60)
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    cache.put("a", _SOMEONE, tomorrow, 7)
    cache.put("b", _SOMEONE, tomorrow, 7)
    assert cache.get("a", 7) == _SOMEONE
    assert cache.get("b", 8) is None  # access was taken away somewhere: look it up again
    assert cache.get("a", 8) is None
    # Found under generation 7 but put after 8 was seen: it may be the revoked one.
    cache.put("a", _SOMEONE, tomorrow, 7)
    assert cache.get("a", 8) is None
    cache.put("a", _SOMEONE, tomorrow, 8)
    assert cache.get("a", 8) == _SOMEONE

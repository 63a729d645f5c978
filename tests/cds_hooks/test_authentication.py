"""Each call is authenticated as CDS Hooks 2.0 says: a JWT signed by an allow-listed EHR,
for the exact URL called, not expired, its jti never seen before. Each bad JWT is refused
(401, or 403 for a caller not trusted) and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from joserfc.jwk import ECKey, OctKey
from sqlalchemy import Engine

from cervixwatch.app.cds_auth import REFETCH_SECONDS, KeySets
from cervixwatch.store.cds_hooks import row_counts as cds_row_counts
from cervixwatch.web.app import create_app
from tests.cds_hooks.conftest import EHR_ORIGIN, TODAY, cds_app_settings
from tests.cds_hooks.ehr import (
    BASE,
    OTHER_ISSUER,
    EhrServer,
    auth,
    key_set,
    new_key,
    patient_view,
    prefetch_of,
    signed,
    woman,
)
from tests.store.tables import row_counts

SERVICE = "/cds-services/cervixwatch-patient-view"
URL = BASE + SERVICE


def counts(client: TestClient) -> dict[str, int]:
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        return {**row_counts(sessions), **cds_row_counts(session)}


BAD: dict[str, tuple[Callable[[ECKey, EhrServer], str | None], int]] = {
    "no token": (lambda key, ehr: None, 401),
    "not a JWT": (lambda key, ehr: "not-a-jwt", 401),
    "expired": (lambda key, ehr: signed(key, URL, iat=1_700_000_000, exp=1_700_000_300), 401),
    "wrongly signed": (lambda key, ehr: signed(new_key(key.kid or "k"), URL), 401),
    "another audience": (lambda key, ehr: signed(key, BASE + "/cds-services/other"), 401),
    "no jti": (lambda key, ehr: signed(key, URL, jti=None), 401),
    "HMAC": (
        lambda key, ehr: signed(
            OctKey.generate_key(256, parameters={"kid": "k"}), URL, alg="HS256"
        ),
        401,
    ),
    "unlisted issuer": (lambda key, ehr: signed(key, URL, iss=OTHER_ISSUER), 403),
    "jku not allow-listed": (
        lambda key, ehr: signed(key, URL, jku=ehr.url + "/other-jwks.json"),
        403,
    ),
}


def test_each_bad_jwt_is_refused_and_changes_nothing(
    cds: TestClient, ehr_key: ECKey, ehr: EhrServer
) -> None:
    body = patient_view(prefetch=prefetch_of(woman(TODAY)))
    for case, (make, status) in BAD.items():
        token = make(ehr_key, ehr)
        before = counts(cds)
        answer = cds.post(SERVICE, json=body, headers=auth(token) if token else {})
        assert answer.status_code == status, f"{case}: {answer.text}"
        assert "cards" not in answer.json(), case
        if status == 401:
            assert answer.headers["www-authenticate"].startswith("Bearer"), case
        assert counts(cds) == before, case
    # The same request with a good JWT is answered: the refusals were the JWTs'.
    assert cds.post(SERVICE, json=body, headers=auth(signed(ehr_key, URL))).status_code == 200


def test_a_jwt_is_accepted_once_then_refused_as_a_replay(
    cds: TestClient, ehr_key: ECKey, engine: Engine, ehr: EhrServer
) -> None:
    body = patient_view(prefetch=prefetch_of(woman(TODAY)))
    token = signed(ehr_key, URL, jti="used-once", jku=ehr.jwks_url)
    assert cds.post(SERVICE, json=body, headers=auth(token)).status_code == 200
    before = counts(cds)
    again = cds.post(SERVICE, json=body, headers=auth(token))
    assert again.status_code == 401
    assert "replay" in again.json()["detail"]
    # Another worker (another app on the same database) refuses it too.
    other = create_app(cds_app_settings(engine, ehr), today=lambda: TODAY)
    with TestClient(other) as second:
        assert second.post(SERVICE, json=body, headers=auth(token)).status_code == 401
    assert counts(cds) == before


def test_a_rotated_key_is_read_again_from_the_jwk_set_url(
    cds: TestClient, ehr_key: ECKey, ehr: EhrServer
) -> None:
    now = [0.0]
    cds.app.state.cds_key_sets = KeySets(5.0, 300.0, clock=lambda: now[0])  # type: ignore[attr-defined]
    body = patient_view(prefetch=prefetch_of(woman(TODAY)))
    assert cds.post(SERVICE, json=body, headers=auth(signed(ehr_key, URL))).status_code == 200
    rotated = new_key("ehr-key-2")
    ehr.jwks = key_set(rotated)  # the EHR publishes its new key; the old set is cached
    # Its kid is not in the set fetched a moment ago: not read again so soon.
    assert cds.post(SERVICE, json=body, headers=auth(signed(rotated, URL))).status_code == 401
    now[0] += REFETCH_SECONDS
    answer = cds.post(SERVICE, json=body, headers=auth(signed(rotated, URL)))
    assert answer.status_code == 200, answer.text
    old = cds.post(SERVICE, json=body, headers=auth(signed(ehr_key, URL)))
    assert old.status_code == 401  # the retired key is no longer published


def test_keys_configured_out_of_band_need_no_jku(
    engine: Engine, ehr_key: ECKey, ehr: EhrServer
) -> None:
    issuer = "https://offline-ehr.example.org"
    jwks: dict[str, Any] = {"keys": [ehr_key.as_dict(private=False)]}
    settings = cds_app_settings(engine, ehr, cds_hooks_clients=[{"issuer": issuer, "jwks": jwks}])
    body = patient_view(prefetch=prefetch_of(woman(TODAY)))
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        ok = client.post(SERVICE, json=body, headers=auth(signed(ehr_key, URL, iss=issuer)))
        assert ok.status_code == 200, ok.text
        # A jku naming any URL is refused for an issuer with no key URLs allowed.
        named = signed(ehr_key, URL, iss=issuer, jku=ehr.jwks_url)
        assert client.post(SERVICE, json=body, headers=auth(named)).status_code == 403


def test_cors_allows_the_configured_ehr_origin_only(cds: TestClient) -> None:
    def preflight(origin: str) -> Any:
        return cds.options(
            SERVICE,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )

    allowed = preflight(EHR_ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == EHR_ORIGIN
    other = preflight("https://elsewhere.example.com")
    assert other.headers.get("access-control-allow-origin") != "https://elsewhere.example.com"
    assert "access-control-allow-origin" not in other.headers or other.status_code == 400

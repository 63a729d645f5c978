"""An app with CDS Hooks configured for the test EHR (`ehr.ISSUER`, whose JWK Set a server in
a thread serves), on SQLite and on PostgreSQL, with the clinic's clock fixed at `TODAY`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy import Engine

from cervixwatch.web.app import create_app
from tests.cds_hooks.ehr import ISSUER, EhrServer, ehr_server, key_set, new_key
from tests.store.tables import delete_everything
from tests.web.accounts import test_settings

TODAY = dt.date(2026, 3, 2)
EHR_ORIGIN = "https://ehr.example.org"


@pytest.fixture(scope="module")
def ehr_key() -> ECKey:
    return new_key()


@pytest.fixture
def ehr(ehr_key: ECKey) -> Iterator[EhrServer]:
    with ehr_server(EhrServer(jwks=key_set(ehr_key))) as server:
        yield server


def cds_app_settings(engine: Engine, ehr: EhrServer, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "cds_hooks_clients": [{"issuer": ISSUER, "jwks_urls": [ehr.jwks_url]}],
        "cds_hooks_origins": [EHR_ORIGIN],
        "cds_hooks_guideline": "acog",
        **overrides,
    }
    return test_settings(engine, **values)


@pytest.fixture
def cds(engine: Engine, ehr: EhrServer) -> Iterator[TestClient]:
    """A client of the app, acting as the EHR (each request signs its own JWT)."""
    delete_everything(engine)
    app = create_app(cds_app_settings(engine, ehr), today=lambda: TODAY)
    with TestClient(app) as client:
        yield client
    delete_everything(engine)

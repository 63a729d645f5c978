"""A running app per database backend: every test that takes `client` runs on SQLite and on
PostgreSQL (see tests/conftest.py), with the clinic's clock fixed at `TODAY`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything
from tests.web.accounts import sign_in_as_clinician, test_settings

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """A client of an app on the shared, migrated test database, emptied around each test,
    acting for a clinician of `accounts.TEAM`."""
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: TODAY)) as test_client:
        sign_in_as_clinician(test_client)
        yield test_client
    delete_everything(engine)

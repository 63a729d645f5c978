"""A running app per database backend: every test that takes `client` runs on SQLite and on
PostgreSQL (see tests/conftest.py), with the clinic's clock fixed at `TODAY`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.settings import Settings
from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """A client of an app on the shared, migrated test database, emptied around each test."""
    delete_everything(engine)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    with TestClient(create_app(settings, today=lambda: TODAY)) as test_client:
        yield test_client
    delete_everything(engine)

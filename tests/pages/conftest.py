"""The pages' tests sign in through the form, as a browser does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything
from tests.web.accounts import test_settings
from tests.web.conftest import TODAY


@pytest.fixture
def browser(engine: Engine) -> Iterator[TestClient]:
    """A client with no bearer token: it signs in through the sign-in form, as a browser."""
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: TODAY)) as client:
        yield client
    delete_everything(engine)

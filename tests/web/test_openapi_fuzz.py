"""schemathesis against the app's own OpenAPI document, as a signed-in clinician: generated
requests for every documented operation find no server error, and every answer keeps to the
schema the operation documents (its status, content type and body).

The requests go to the real app on the real test databases (SQLite and PostgreSQL), holding
one woman of the clinician's care team, so reads of real ids and writes happen too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from sqlalchemy import Engine

from cervixwatch.settings import Settings
from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything
from tests.web.accounts import sign_in_as_clinician, test_settings
from tests.web.api_builders import at, seed
from tests.web.conftest import TODAY

#: Built only for its OpenAPI document (never started).
SCHEMA = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def fuzzed(engine: Engine) -> Iterator[TestClient]:
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: TODAY)) as client:
        sign_in_as_clinician(client)
        seed(client, "F1", at("20+0").with_prior_sptb("30+0").with_length(23, at="19+0"))
        yield client
    delete_everything(engine)


@SCHEMA.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_error_and_answers_keep_to_the_schema(
    case: schemathesis.Case[Any], fuzzed: TestClient
) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)  # no cookie parameters are documented; this client signs by token
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")  # raw bodies, as the client names them
    headers = {**fuzzed.headers, **(kwargs.pop("headers", None) or {})}
    response = fuzzed.request(headers=headers, **kwargs)
    case.validate_response(response, checks=CHECKS)

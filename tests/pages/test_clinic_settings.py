"""The clinic's settings (issue 13, part 4): read through one use case, saved by admins on
/admin/clinic and by `cervixwatch clinic`, with honest defaults (no number invented, a warning
for each one missing), bad input refused with its field named. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from cervixwatch.app import clinic_settings
from cervixwatch.app.errors import InvalidField
from cervixwatch.service_cli import service_app
from cervixwatch.store.models import AuditEventRow, Role
from cervixwatch.web.app import create_app
from tests.pages.html import post_sign_in_form
from tests.store.tables import delete_everything
from tests.web.accounts import PASSWORD, bearer, make_user, test_settings
from tests.web.conftest import TODAY

DAY = dt.date(2026, 3, 6)


@pytest.fixture
def admin_browser(engine: Engine) -> Iterator[TestClient]:
    """An admin signed in through the form, as in a browser."""
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: TODAY)) as client:
        username, _ = make_user(client, Role.ADMIN)
        assert post_sign_in_form(client, username, PASSWORD).status_code == 303
        yield client
    delete_everything(engine)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _save(client: TestClient, **values: Any) -> Any:
    page = client.get("/admin/clinic")
    form = {
        "csrf_token": _csrf(page.text),
        "date_format": "d-month-yyyy",
        "guidelines": ["acog", "nice"],
    }
    return client.post("/admin/clinic", data={**form, **values}, follow_redirects=False)


def test_unset_settings_warn_and_invent_nothing(admin_browser: TestClient) -> None:
    page = admin_browser.get("/admin/clinic")
    assert page.status_code == 200
    assert "The maternity triage number is missing" in page.text
    assert "The clinic&#39;s phone number is missing" in page.text
    assert 'value=""' in page.text  # no number filled in


def test_an_admin_saves_the_settings_and_the_change_is_audited(admin_browser: TestClient) -> None:
    saved = _save(
        admin_browser,
        clinic_name="Preterm Birth Clinic",
        phone="01632 960 001",
        triage_phone="+44 1632 960999",
        letter_address="1 Hospital Road",
        date_format="dd/mm/yyyy",
        guidelines=["nice"],
    )
    assert saved.status_code == 303, saved.text
    page = admin_browser.get(saved.headers["location"])
    assert "Saved." in page.text
    assert "missing" not in page.text.lower()
    assert 'value="01632 960 001"' in page.text
    assert re.search(r'value="nice"\s+checked', page.text)
    assert not re.search(r'value="acog"\s+checked', page.text)
    app: Any = admin_browser.app
    now = clinic_settings.read_settings(app.state.sessions)
    assert (now.clinic_name, now.triage_phone, now.guidelines) == (
        "Preterm Birth Clinic",
        "+44 1632 960999",
        ("nice",),
    )
    assert now.date(DAY) == "06/03/2026"
    # Every page's dates follow at once on this worker: the footer's day, for one.
    assert f'<span class="date">{now.date(app.state.today())}</span>' in page.text
    with app.state.sessions() as session:
        actions = list(
            session.scalars(select(AuditEventRow.action).where(AuditEventRow.method == "POST"))
        )
    assert "clinic-settings" in actions


def test_bad_input_is_refused_with_the_field_named(admin_browser: TestClient) -> None:
    _save(admin_browser, phone="01632 960 001")
    refused = _save(admin_browser, phone="call reception")
    assert refused.status_code == 400
    assert "Clinic phone number: a telephone number holds only digits" in refused.text
    assert 'id="phone" name="phone"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    no_guideline = _save(admin_browser, guidelines=[])
    assert no_guideline.status_code == 400
    assert "Guidelines shown: choose at least one guideline profile" in no_guideline.text
    app: Any = admin_browser.app
    assert clinic_settings.read_settings(app.state.sessions).phone == "01632 960 001"


def test_only_admins(engine: Engine) -> None:
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: TODAY)) as client:
        for role in (Role.CLINICIAN, Role.AUDITOR):
            _, token = make_user(client, role, teams=("T",) if role is Role.CLINICIAN else ())
            assert client.get("/admin/clinic", headers=bearer(token)).status_code == 403
        assert client.get("/admin/clinic", follow_redirects=False).status_code == 303


# --- the use case ------------------------------------------------------------------------------


def test_pages_read_the_settings_again_once_they_are_old(admin_browser: TestClient) -> None:
    """Other workers' pages take up a change within `max_age` seconds (`RecentSettings`),
    without a query per page; a change saved through this one is forgotten at once."""
    app: Any = admin_browser.app
    ticks = [0.0]
    recent = clinic_settings.RecentSettings(app.state.sessions, max_age=10, clock=lambda: ticks[0])
    assert recent.get().date_format == clinic_settings.DEFAULT_DATE_FORMAT
    assert _save(admin_browser, date_format="yyyy-mm-dd").status_code == 303
    ticks[0] = 10.0
    assert recent.get().date_format == clinic_settings.DEFAULT_DATE_FORMAT  # not old yet
    ticks[0] = 10.5
    assert recent.get().date_format == "yyyy-mm-dd"
    assert _save(admin_browser, date_format="mm/dd/yyyy").status_code == 303
    recent.forget()
    assert recent.get().date_format == "mm/dd/yyyy"


def test_date_formats_and_phone_links() -> None:
    for key, written in (
        ("d-month-yyyy", "6 March 2026"),
        ("dd/mm/yyyy", "06/03/2026"),
        ("mm/dd/yyyy", "03/06/2026"),
        ("yyyy-mm-dd", "2026-03-06"),
    ):
        assert clinic_settings.ClinicSettings(date_format=key).date(DAY) == written
    assert clinic_settings.tel_uri("+44 (0)1632 960-999") == "tel:+4401632960999"
    assert clinic_settings.tel_uri(None) is None
    assert clinic_settings.chosen(clinic_settings.ClinicSettings(), {"a": 1, "b": 2}) == [1, 2]
    assert clinic_settings.chosen(
        clinic_settings.ClinicSettings(guidelines=("b",)), {"a": 1, "b": 2}
    ) == [2]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12345", "at least 6 digits"),
        ("triage_phone", "999 ext. 4", "only digits"),
        ("clinic_name", "x" * 201, "at most 200 characters"),
        ("date_format", "dd.mm.yy", "one of d-month-yyyy"),
        ("guidelines", ["figo"], "not a profile of this installation: figo"),
    ],
)
def test_the_use_case_names_the_bad_field(
    factory: Any, field: str, value: Any, message: str
) -> None:
    values = {"guidelines": ["acog"], field: value}
    with pytest.raises(InvalidField) as raised:
        clinic_settings.save_settings(factory, values, known_guidelines=["acog", "nice"], by=None)
    assert raised.value.field == field
    assert message in raised.value.message


def test_the_command_line_sets_and_shows(engine: Engine) -> None:
    delete_everything(engine)
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    shown = runner.invoke(service_app, ["clinic", "show", "--database-url", url])
    assert shown.exit_code == 0, shown.output
    assert "Triage phone:    (not set)" in shown.output
    assert "Warning: The maternity triage number is missing" in shown.output
    changed = runner.invoke(
        service_app,
        [
            "clinic",
            "set",
            "--triage-phone",
            "01632 960999",
            "--guideline",
            "nice",
            "--database-url",
            url,
        ],
    )
    assert changed.exit_code == 0, changed.output
    assert "Triage phone:    01632 960999" in changed.output
    assert "Guidelines:      nice" in changed.output
    refused = runner.invoke(service_app, ["clinic", "set", "--phone", "abc", "--database-url", url])
    assert refused.exit_code == 2
    assert "--phone: a telephone number holds only digits" in refused.output
    delete_everything(engine)
